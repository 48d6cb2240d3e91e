package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/privacy-pipeline/dsr/internal/devstack"
)

// parquetLines is a Parquet object of the demo lake as JSON Lines: each row,
// in order, as the JSON of the lake's schema.
func parquetLines(t *testing.T, key string, b []byte) []byte {
	t.Helper()
	r := parquet.NewGenericReader[devstack.DemoLakeSession](bytes.NewReader(b))
	defer r.Close()
	var out bytes.Buffer
	rows := make([]devstack.DemoLakeSession, 16)
	for {
		n, err := r.Read(rows)
		for _, row := range rows[:n] {
			line, _ := json.Marshal(row)
			out.Write(append(line, '\n'))
		}
		if errors.Is(err, io.EOF) {
			return out.Bytes()
		}
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
	}
}

// checkParquetKept: the Parquet object rewritten without the subject's rows
// keeps its schema, its writer's key-value metadata and each column's codec;
// its row groups are those it had, less her rows.
func checkParquetKept(t *testing.T, before, after []byte, groups []int64) {
	t.Helper()
	if before == nil || after == nil {
		t.Fatalf("the lake's object: %d bytes before, %d after", len(before), len(after))
	}
	facts := func(b []byte) (schema, kv, codecs string, rows []int64) {
		f, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		md := f.Metadata()
		var pairs, cs []string
		for _, e := range md.KeyValueMetadata {
			pairs = append(pairs, e.Key+"="+e.Value)
		}
		for _, rg := range md.RowGroups {
			rows = append(rows, rg.NumRows)
			for _, c := range rg.Columns {
				cs = append(cs, c.MetaData.Codec.String())
			}
		}
		slices.Sort(pairs)
		return f.Schema().String(), strings.Join(pairs, ","), strings.Join(slices.Compact(cs), ","), rows
	}
	s1, kv1, c1, _ := facts(before)
	s2, kv2, c2, rows := facts(after)
	if s1 != s2 || kv1 != kv2 || c1 != c2 || fmt.Sprint(rows) != fmt.Sprint(groups) {
		t.Errorf("the lake after erasure: schema %s, metadata %s, codecs %s, row groups %v; before: schema %s, metadata %s, codecs %s; want row groups %v",
			s2, kv2, c2, rows, s1, kv1, c1, groups)
	}
}
