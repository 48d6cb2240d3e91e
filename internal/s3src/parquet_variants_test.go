package s3src

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
)

// plainLakeRow is lakeRow with every column PLAIN-encoded.
type plainLakeRow struct {
	UserID     string            `parquet:"user_id"`
	Email      *string           `parquet:"email,optional"`
	CustomerNo int64             `parquet:"customer_no"`
	Event      string            `parquet:"event"`
	Profile    *lakeProfile      `parquet:"profile,optional"`
	Tags       []string          `parquet:"tags,list"`
	Attrs      map[string]string `parquet:"attrs"`
}

// deltaLakeRow is lakeRow with delta encodings where parquet-go has them.
type deltaLakeRow struct {
	UserID     string            `parquet:"user_id,delta"`
	Email      *string           `parquet:"email,optional"`
	CustomerNo int64             `parquet:"customer_no,delta"`
	Event      string            `parquet:"event,dict"`
	Profile    *lakeProfile      `parquet:"profile,optional"`
	Tags       []string          `parquet:"tags,list"`
	Attrs      map[string]string `parquet:"attrs"`
}

// lakeVariant is one way of writing the lake.
type lakeVariant struct {
	encoding string // dict, plain or delta
	version  int    // data page version
	codec    compress.Codec
	pageSize int // bytes a page is cut at: small makes many pages
}

func (v lakeVariant) String() string {
	return fmt.Sprintf("%s-v%d-%s-%d", v.encoding, v.version, v.codec, v.pageSize)
}

var lakeVariants = func() []lakeVariant {
	var vs []lakeVariant
	for _, enc := range []string{"dict", "plain", "delta"} {
		for _, version := range []int{1, 2} {
			for _, codec := range []compress.Codec{&parquet.Uncompressed, &parquet.Snappy, &parquet.Gzip, &parquet.Zstd, &parquet.Lz4Raw, &parquet.Brotli} {
				vs = append(vs, lakeVariant{enc, version, codec, 256})
			}
		}
	}
	return vs
}()

// write writes groups as the variant says.
func (v lakeVariant) write(t testing.TB, groups [][]lakeRow) []byte {
	t.Helper()
	var b bytes.Buffer
	opts := []parquet.WriterOption{parquet.Compression(v.codec), parquet.DataPageVersion(v.version), parquet.PageBufferSize(v.pageSize),
		parquet.KeyValueMetadata("writer.note", v.String())}
	var err error
	switch v.encoding {
	case "plain":
		err = writeAs(&b, groups, func(r lakeRow) plainLakeRow { return plainLakeRow(r) }, opts)
	case "delta":
		err = writeAs(&b, groups, func(r lakeRow) deltaLakeRow { return deltaLakeRow(r) }, opts)
	default:
		err = writeAs(&b, groups, func(r lakeRow) lakeRow { return r }, opts)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func writeAs[T any](b *bytes.Buffer, groups [][]lakeRow, conv func(lakeRow) T, opts []parquet.WriterOption) error {
	w := parquet.NewGenericWriter[T](b, opts...)
	for _, g := range groups {
		rows := make([]T, len(g))
		for i, r := range g {
			rows[i] = conv(r)
		}
		if _, err := w.Write(rows); err != nil {
			return err
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return w.Close()
}

// TestParquetVariants: the lake written with each encoding (dictionary,
// plain, delta), page version and codec, in pages of a few rows: the scan
// finds her rows and the doubt, the rewrite keeps every other row as it was
// and the file's schema, metadata, codecs, page version and encodings.
func TestParquetVariants(t *testing.T) {
	m := NewMatcher(lakeSource(), lakeIdentities)
	for _, v := range lakeVariants {
		t.Run(v.String(), func(t *testing.T) {
			in := v.write(t, lakeGroups())
			c, err := m.Scan(bytes.NewReader(in), nil)
			if err != nil || c.Matched != 3 || c.Others != 6 || c.Doubtful != 1 || c.Unrewritable != "" {
				t.Fatalf("scan: %+v, %v", c, err)
			}
			var out bytes.Buffer
			if _, err := m.Rewrite(bytes.NewReader(in), &out); err != nil {
				t.Fatal(err)
			}
			// Her rows: the second group's second row, the third group's only
			// row, and the fourth group's refund under her customer number.
			all := rowsOf(t, in)
			want := append(append(append([]string{}, all[:4]...), all[5:7]...), all[8])
			if got := rowsOf(t, out.Bytes()); !slices.Equal(got, want) {
				t.Errorf("rows after the rewrite:\n got %q\nwant %q", got, want)
			}
			before, after := factsOf(t, in), factsOf(t, out.Bytes())
			if after.schema != before.schema || after.kv != before.kv || after.version != before.version ||
				after.codecs[0] != before.codecs[0] || fmt.Sprint(after.dict) != fmt.Sprint(before.dict) || fmt.Sprint(after.groups) != "[3 3 1]" {
				t.Errorf("rewritten: %+v\nbefore: %+v", after, before)
			}
		})
	}
}
