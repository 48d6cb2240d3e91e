package s3src

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/registry"
)

// The fixtures in testdata/parquet were written by other writers (Impala,
// parquet-mr, parquet-cpp and Arrow, parquet-rs, HVR): v1 and v2 data pages;
// plain, dictionary, delta, byte-stream-split and RLE encodings; nested
// lists, maps and structs, legacy list layouts; uncompressed, Snappy, gzip,
// ZSTD, LZ4 and Brotli. bad/ holds damaged files. See testdata/parquet/README.md.

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "parquet", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readableFixtures are the fixtures without damage.
var readableFixtures = []string{
	"alltypes_dictionary.parquet", "alltypes_plain.parquet", "alltypes_plain.snappy.parquet", "byte_array_decimal.parquet",
	"byte_stream_split.zstd.parquet", "concatenated_gzip_members.parquet", "data_index_bloom_encoding_stats.parquet",
	"datapage_v2.snappy.parquet", "delta_binary_packed.parquet", "delta_byte_array.parquet", "delta_length_byte_array.parquet",
	"dict-page-offset-zero.parquet", "fixed_length_decimal.parquet", "int96_from_spark.parquet", "list_columns.parquet",
	"lz4_raw_compressed.parquet", "map_no_value.parquet", "nested_lists.snappy.parquet", "nested_maps.snappy.parquet",
	"nested_structs.rust.parquet", "nonnullable.impala.parquet", "null_list.parquet", "nullable.impala.parquet",
	"old_list_structure.parquet", "plain-dict-uncompressed-checksum.parquet", "repeated_no_annotation.parquet",
	"repeated_primitive_no_list.parquet", "rle_boolean_encoding.parquet",
}

// pqFacts is what a rewrite must keep of a file, read with the library
// directly.
type pqFacts struct {
	schema   string
	kv       string
	codecs   []string // per row group, per column
	dict     []bool   // per column of the first row group: dictionary-encoded
	groups   []int64  // rows per row group
	version  int
	rowCount int64
}

func factsOf(t *testing.T, data []byte) pqFacts {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	md := f.Metadata()
	var kv []string
	for _, e := range md.KeyValueMetadata {
		kv = append(kv, e.Key+"="+e.Value)
	}
	slices.Sort(kv)
	p := pqFacts{schema: f.Schema().String(), kv: strings.Join(kv, "\n"), rowCount: md.NumRows,
		version: (&pqWork{f: f, r: bytes.NewReader(data)}).pageVersion()}
	for g, rg := range md.RowGroups {
		p.groups = append(p.groups, rg.NumRows)
		var codecs []string
		for _, cc := range rg.Columns {
			codecs = append(codecs, cc.MetaData.Codec.String())
			if g == 0 {
				p.dict = append(p.dict, slices.ContainsFunc(cc.MetaData.Encoding, func(e format.Encoding) bool {
					//lint:ignore SA1019 older writers still write it
					return e == format.PlainDictionary || e == format.RLEDictionary
				}))
			}
		}
		p.codecs = append(p.codecs, strings.Join(codecs, ","))
	}
	return p
}

// rowsOf is every row of a file as the library reads it: each value with
// its column and levels.
func rowsOf(t *testing.T, data []byte) []string {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, rg := range f.RowGroups() {
		rows := rg.Rows()
		buf := make([]parquet.Row, 16)
		for {
			n, err := rows.ReadRows(buf)
			for _, r := range buf[:n] {
				var b strings.Builder
				for _, v := range r {
					fmt.Fprintf(&b, "%d/%d/%d/%v;", v.Column(), v.RepetitionLevel(), v.DefinitionLevel(), v)
				}
				out = append(out, b.String())
			}
			if err != nil {
				break
			}
		}
		rows.Close()
	}
	return out
}

func parquetSource(fields ...registry.Match) *registry.S3Source {
	return &registry.S3Source{Bucket: "lake", Prefix: "events/", Format: registry.FormatParquet, Match: fields}
}

// TestParquetFixturesKeptWhole: a file without the subject is rewritten
// with every row, the schema, the key-value metadata, each column's codec
// and dictionary encoding, the data page version and the row groups.
func TestParquetFixturesKeptWhole(t *testing.T) {
	m := NewMatcher(parquetSource(registry.Match{Field: "id", Identity: "user_id"}), map[string][]string{"user_id": {"no-such-id"}, "email": {"nobody@example.com"}})
	for _, name := range readableFixtures {
		t.Run(name, func(t *testing.T) {
			in := fixture(t, name)
			c, err := m.Scan(bytes.NewReader(in), nil)
			if err != nil || c.Matched != 0 || c.Doubtful != 0 || c.Unrewritable != "" {
				t.Fatalf("scan: %+v, %v", c, err)
			}
			var out bytes.Buffer
			if _, err := m.Rewrite(bytes.NewReader(in), &out); err != nil {
				t.Fatal(err)
			}
			before, after := factsOf(t, in), factsOf(t, out.Bytes())
			before.rowCount = 0 // one writer's footer says 0 rows; the rewrite counts them
			after.rowCount = 0
			if fmt.Sprint(before) != fmt.Sprint(after) {
				t.Errorf("rewritten file differs:\n got %+v\nwant %+v", after, before)
			}
			if got, want := rowsOf(t, out.Bytes()), rowsOf(t, in); !slices.Equal(got, want) {
				t.Errorf("rows differ:\n got %q\nwant %q", got, want)
			}
		})
	}
}

// leafText is a top-level leaf's value as the tests compare it: text as
// it is, numbers in decimal.
func leafText(v parquet.Value) string {
	if v.IsNull() {
		return ""
	}
	switch v.Kind() {
	case parquet.Int32:
		return strconv.FormatInt(int64(v.Int32()), 10)
	case parquet.Int64:
		return strconv.FormatInt(v.Int64(), 10)
	case parquet.Float:
		return strconv.FormatFloat(float64(v.Float()), 'f', -1, 32)
	case parquet.Double:
		return strconv.FormatFloat(v.Double(), 'f', -1, 64)
	}
	return string(v.ByteArray())
}

// columnValues is the value of one top-level column in each row of a file.
func columnValues(t *testing.T, data []byte, column string) []string {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	leaf, ok := f.Schema().Lookup(column)
	if !ok {
		t.Fatalf("no column %s", column)
	}
	var out []string
	for _, rg := range f.RowGroups() {
		rows := rg.Rows()
		buf := make([]parquet.Row, 16)
		for {
			n, err := rows.ReadRows(buf)
			for _, r := range buf[:n] {
				for _, v := range r {
					if v.Column() == leaf.ColumnIndex {
						out = append(out, leafText(v))
						break
					}
				}
			}
			if err != nil {
				break
			}
		}
		rows.Close()
	}
	return out
}

// TestParquetFixturesErased: in files of other writers, the rows whose
// column holds the value of the first row's are the subject's: the scan
// finds exactly them, and the rewrite keeps every other row, in order, with
// the file's schema, codecs and row groups (less her rows).
func TestParquetFixturesErased(t *testing.T) {
	for _, tc := range []struct {
		file, column, identity string
	}{
		{"alltypes_plain.parquet", "string_col", "user_id"}, // Impala, text without an annotation, dictionary
		{"alltypes_dictionary.parquet", "string_col", "user_id"},
		{"alltypes_plain.snappy.parquet", "id", "customer_no"}, // a number
		{"datapage_v2.snappy.parquet", "a", "user_id"},         // parquet-mr, v2 pages, Snappy
		{"delta_byte_array.parquet", "c_email_address", "email"},
		{"delta_length_byte_array.parquet", "FRUIT", "user_id"}, // ZSTD
		{"lz4_raw_compressed.parquet", "c1", "user_id"},
		{"plain-dict-uncompressed-checksum.parquet", "binary_field", "user_id"},
		{"concatenated_gzip_members.parquet", "long_col", "customer_no"}, // gzip, unsigned
		{"data_index_bloom_encoding_stats.parquet", "String", "user_id"}, // bloom filter, page index
		{"dict-page-offset-zero.parquet", "l_partkey", "customer_no"},
		{"delta_binary_packed.parquet", "int_value", "customer_no"},
		{"nullable.impala.parquet", "id", "customer_no"}, // nested lists, maps and structs beside it
		{"nested_lists.snappy.parquet", "b", "customer_no"},
		{"nested_maps.snappy.parquet", "b", "customer_no"},
		{"byte_stream_split.zstd.parquet", "f64", "customer_no"}, // a double
		{"nonnullable.impala.parquet", "ID", "customer_no"},      // her only row: an empty file
	} {
		t.Run(tc.file, func(t *testing.T) {
			in := fixture(t, tc.file)
			values := columnValues(t, in, tc.column)
			value := values[0]
			id := value
			if tc.identity == "email" {
				id = strings.ToLower(value) // as a request has it
			}
			var wantRows []string
			all := rowsOf(t, in)
			subject := 0
			for i, v := range values {
				if v == value {
					subject++
				} else {
					wantRows = append(wantRows, all[i])
				}
			}
			m := NewMatcher(parquetSource(registry.Match{Field: tc.column, Identity: tc.identity}), map[string][]string{tc.identity: {id}})
			var found []map[string]any
			c, err := m.Scan(bytes.NewReader(in), func(row map[string]any) error {
				found = append(found, row)
				return nil
			})
			if err != nil || c.Matched != subject || c.Others != len(values)-subject || c.Doubtful != 0 {
				t.Fatalf("scan: %+v, %v; want %d of %d rows", c, err, subject, len(values))
			}
			for _, row := range found {
				if got := fmt.Sprint(row[tc.column]); got != value {
					t.Fatalf("found a row whose %s is %q", tc.column, got)
				}
			}
			var out bytes.Buffer
			rc, err := m.Rewrite(bytes.NewReader(in), &out)
			if err != nil || rc.Matched != c.Matched || rc.Others != c.Others {
				t.Fatalf("rewrite: %+v, %v", rc, err)
			}
			if got := rowsOf(t, out.Bytes()); !slices.Equal(got, wantRows) {
				t.Fatalf("rows after the rewrite:\n got %q\nwant %q", got, wantRows)
			}
			before, after := factsOf(t, in), factsOf(t, out.Bytes())
			if after.schema != before.schema || after.kv != before.kv || (len(wantRows) > 0 && after.version != before.version) {
				t.Errorf("schema, metadata or page version changed:\n got %+v\nwant %+v", after, before)
			}
			if len(wantRows) > 0 && (after.codecs[0] != before.codecs[0] || fmt.Sprint(after.dict) != fmt.Sprint(before.dict) ||
				after.groups[0] != before.groups[0]-int64(subject)) {
				t.Errorf("codecs, encodings or row groups changed:\n got %+v\nwant %+v", after, before)
			}
		})
	}
}

// TestParquetDamaged: a page that cannot be read, in a file of another
// writer or one damaged on purpose, is a doubt named by row group, row and
// column, and the object is one not to rewrite; a file that is not
// Parquet, or is encrypted, cannot be read at all.
func TestParquetDamaged(t *testing.T) {
	m := NewMatcher(parquetSource(registry.Match{Field: "id", Identity: "user_id"}), map[string][]string{"user_id": {"x"}})
	for _, tc := range []struct {
		file, field string
		row         int
	}{
		{"hadoop_lz4_compressed.parquet", "c0", 0},                            // a codec framing the library does not read: the whole group
		{"nation.dict-malformed.parquet", "name", 0},                          // a dictionary page cut short
		{"rle-dict-uncompressed-corrupt-checksum.parquet", "binary_field", 1}, // a page whose checksum fails
		{"bad/ARROW-RS-GH-6229-DICTHEADER.parquet", "nation_key", 0},          // a page beyond its column chunk: the whole group
		{"bad/ARROW-RS-GH-6229-LEVELS.parquet", "outer.list.item.c", 1},
	} {
		t.Run(tc.file, func(t *testing.T) {
			c, err := m.Scan(bytes.NewReader(fixture(t, tc.file)), nil)
			if err != nil || c.Unrewritable == "" || len(c.Doubts) == 0 {
				t.Fatalf("scan: %+v, %v", c, err)
			}
			d := c.Doubts[0]
			if d.RowGroup != 1 || d.Row != tc.row || d.Reason != DoubtUnparseable || d.Field != tc.field {
				t.Errorf("doubt %+v", d)
			}
		})
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"encrypted", fixture(t, "uniform_encryption.parquet.encrypted")},
		{"json", []byte(`[{"id":"x"}]`)},
		{"empty", nil},
		{"cut off", fixture(t, "alltypes_plain.parquet")[:900]},
	} {
		_, err := m.Scan(bytes.NewReader(tc.data), nil)
		if !apperr.Is(err, apperr.Invalid) {
			t.Errorf("%s: %v, want an object that cannot be read", tc.name, err)
		}
	}
}

// lakeRow is a row of the generated analytics lake.
type lakeRow struct {
	UserID     string            `parquet:"user_id,dict"`
	Email      *string           `parquet:"email,optional"`
	CustomerNo int64             `parquet:"customer_no"`
	Event      string            `parquet:"event,dict"`
	Profile    *lakeProfile      `parquet:"profile,optional"`
	Tags       []string          `parquet:"tags,list"`
	Attrs      map[string]string `parquet:"attrs"`
}

type lakeProfile struct {
	Email string `parquet:"email"`
	Plan  string `parquet:"plan"`
}

// lakeFile writes rows in row groups of the given sizes, with zstd, v1 pages
// and key-value metadata.
func lakeFile(t *testing.T, groups [][]lakeRow) []byte {
	t.Helper()
	var b bytes.Buffer
	w := parquet.NewGenericWriter[lakeRow](&b, parquet.Compression(&parquet.Zstd), parquet.DataPageVersion(1),
		parquet.KeyValueMetadata("writer.note", "analytics lake v3"))
	for _, g := range groups {
		if _, err := w.Write(g); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func ptr[T any](v T) *T { return &v }

func lakeGroups() [][]lakeRow {
	row := func(id, email string, no int64) lakeRow {
		return lakeRow{UserID: id, Email: ptr(email), CustomerNo: no, Event: "page_view", Tags: []string{"web"}, Attrs: map[string]string{"ref": "mail"}}
	}
	jane := row("u-1001", " Jane.Doe@Example.COM", 1001)
	jane.Profile = &lakeProfile{Email: "jane.doe@example.com", Plan: "pro"}
	// John's row holds Jane's address where no rule looks: a doubt.
	john := row("u-1002", "john.roe@example.com", 1002)
	john.Attrs = map[string]string{"shared_with": "jane.doe@example.com"}
	return [][]lakeRow{
		{row("u-1003", "ana.lima@example.org", 1003), row("u-10010", "look.alike@example.org", 10010), row("u-1004", "li.wei@example.net", 1004)},
		{row("u-1002", "john.roe@example.com", 1002), jane, row("u-1003", "ana.lima@example.org", 1003), john},
		{row("u-1001", "jane.doe@example.com", 1001)}, // hers only: the group goes
		{row("u-1004", "li.wei@example.net", 1004), {UserID: "u-1005", CustomerNo: 1001, Event: "refund"}},
	}
}

var lakeIdentities = map[string][]string{"email": {"jane.doe@example.com"}, "user_id": {"u-1001"}, "customer_no": {"1001"}}

func lakeSource() *registry.S3Source {
	return parquetSource(
		registry.Match{Field: "user_id", Identity: "user_id"},
		registry.Match{Field: "email", Identity: "email"},
		registry.Match{Field: "customer_no", Identity: "customer_no"},
	)
}

// TestParquetLake: the rules of the other formats on a nested file: an
// address in any case and with spaces, a customer number as a number; her
// address in a map where no rule looks is a doubt, named in the rewritten
// object by row group and row; the rows are exported as JSON records are;
// a row group of hers alone goes, the others keep their sizes less her rows.
func TestParquetLake(t *testing.T) {
	in := lakeFile(t, lakeGroups())
	m := NewMatcher(lakeSource(), lakeIdentities)
	var found []string
	c, err := m.Scan(bytes.NewReader(in), func(row map[string]any) error {
		b, err := json.Marshal(row)
		found = append(found, string(b))
		return err
	})
	if err != nil || c.Matched != 3 || c.Others != 6 || c.Doubtful != 1 {
		t.Fatalf("scan: %+v, %v", c, err)
	}
	if d := c.Doubts[0]; d.RowGroup != 2 || d.Row != 4 || d.Field != "attrs.shared_with" || d.Reason != DoubtUnmatched {
		t.Errorf("doubt in the scan: %+v", d)
	}
	want := `{"attrs":{"ref":"mail"},"customer_no":1001,"email":" Jane.Doe@Example.COM","event":"page_view","profile":{"email":"jane.doe@example.com","plan":"pro"},"tags":["web"],"user_id":"u-1001"}`
	if len(found) != 3 || found[0] != want {
		t.Errorf("found %s\nwant first %s", found, want)
	}
	var out bytes.Buffer
	rc, err := m.Rewrite(bytes.NewReader(in), &out)
	if err != nil || rc.Matched != 3 {
		t.Fatalf("rewrite: %+v, %v", rc, err)
	}
	// Where an operator finds it: the second row group, now its third row.
	if d := rc.Doubts[0]; d.RowGroup != 2 || d.Row != 3 {
		t.Errorf("doubt in the rewrite: %+v", d)
	}
	after, before := factsOf(t, out.Bytes()), factsOf(t, in)
	if fmt.Sprint(after.groups) != "[3 3 1]" || after.schema != before.schema || after.kv != before.kv || after.codecs[0] != before.codecs[0] || after.version != 1 {
		t.Errorf("rewritten: %+v\nbefore: %+v", after, before)
	}
	ids := columnValues(t, out.Bytes(), "user_id")
	if strings.Join(ids, ",") != "u-1003,u-10010,u-1004,u-1002,u-1003,u-1002,u-1004" {
		t.Errorf("rows kept: %v", ids)
	}
	again, err := m.Scan(bytes.NewReader(out.Bytes()), nil)
	if err != nil || again.Matched != 0 || again.Others != 6 || again.Doubtful != 1 {
		t.Errorf("scan after the rewrite: %+v, %v", again, err)
	}
}

// TestParquetAnonymize: the listed fields of her rows become null; every
// other value stays. A field the schema requires cannot be null: the
// object is one not to rewrite.
func TestParquetAnonymize(t *testing.T) {
	in := lakeFile(t, lakeGroups())
	m := NewMatcher(lakeSource(), lakeIdentities).Anonymizing([]string{"email", "profile"})
	var out bytes.Buffer
	c, err := m.Rewrite(bytes.NewReader(in), &out)
	if err != nil || c.Matched != 3 || c.Unrewritable != "" {
		t.Fatalf("rewrite: %+v, %v", c, err)
	}
	if got := strings.Join(columnValues(t, out.Bytes(), "email"), ","); got != "ana.lima@example.org,look.alike@example.org,li.wei@example.net,john.roe@example.com,,ana.lima@example.org,john.roe@example.com,,li.wei@example.net," {
		t.Errorf("emails after: %s", got)
	}
	if got := strings.Join(columnValues(t, out.Bytes(), "user_id"), ","); got != "u-1003,u-10010,u-1004,u-1002,u-1001,u-1003,u-1002,u-1001,u-1004,u-1005" {
		t.Errorf("ids after: %s", got)
	}
	if bytes.Contains(out.Bytes(), []byte("Jane.Doe@Example")) {
		t.Error("the rewritten file still holds her address")
	}
	c, err = NewMatcher(lakeSource(), lakeIdentities).Anonymizing([]string{"user_id"}).Scan(bytes.NewReader(in), nil)
	if err != nil || c.Unrewritable == "" {
		t.Errorf("anonymizing a required field: %+v, %v", c, err)
	}
}

// TestParquetWhole: under a key template every row of every object is the
// subject's.
func TestParquetWhole(t *testing.T) {
	src := &registry.S3Source{Bucket: "lake", Prefix: "users/", KeyTemplate: "{user_id}/", Format: registry.FormatParquet}
	m := NewMatcher(src, map[string][]string{"user_id": {"u-1001"}})
	if !m.whole {
		t.Skip("the source did not load its template")
	}
	c, err := m.Scan(bytes.NewReader(lakeFile(t, lakeGroups())), nil)
	if err != nil || c.Matched != 10 {
		t.Errorf("scan: %+v, %v", c, err)
	}
}

// TestParquetReadFailure: a read that fails (the network, not the object) is
// the reader's error, never a doubt.
func TestParquetReadFailure(t *testing.T) {
	in := lakeFile(t, lakeGroups())
	m := NewMatcher(lakeSource(), lakeIdentities)
	for cut := 100; cut < len(in); cut += len(in) / 7 {
		r := &failingAt{data: in, at: int64(cut)}
		_, err := m.ScanParquet(r, int64(len(in)), nil)
		if !errors.Is(err, errNetwork) {
			t.Errorf("reads failing from %d: %v", cut, err)
		}
	}
}

var errNetwork = errors.New("connection reset")

// failingAt reads data, but fails every read that reaches at.
type failingAt struct {
	data   []byte
	at     int64
	failed error
}

func (f *failingAt) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > f.at && off < int64(len(f.data)) {
		f.failed = errNetwork
		return 0, f.failed
	}
	return bytes.NewReader(f.data).ReadAt(p, off)
}

func (f *failingAt) Failure() error { return f.failed }

// FuzzParquet reads damaged and random variations of the fixtures and of
// generated files: the
// reader never panics, reports an object it cannot read as such (never as
// another error), and where it can read and rewrite one, the rewritten
// object holds none of the subject's rows and every other row.
func FuzzParquet(f *testing.F) {
	names, _ := filepath.Glob(filepath.Join("testdata", "parquet", "*.parquet*"))
	bad, _ := filepath.Glob(filepath.Join("testdata", "parquet", "bad", "*.parquet"))
	for _, name := range append(names, bad...) {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	// And files of this library's writer: each encoding, page version and
	// codec, nested columns, pages of a few rows.
	for _, v := range lakeVariants {
		f.Add(v.write(f, lakeGroups()))
	}
	m := NewMatcher(parquetSource(
		registry.Match{Field: "string_col", Identity: "user_id"},
		registry.Match{Field: "a", Identity: "user_id"},
		registry.Match{Field: "id", Identity: "customer_no"},
		registry.Match{Field: "user_id", Identity: "user_id"},
		registry.Match{Field: "email", Identity: "email"},
	), map[string][]string{"user_id": {"abc", "1", "u-1001"}, "customer_no": {"1", "1001"}, "email": {"jane.doe@example.com"}})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := m.Scan(bytes.NewReader(data), nil)
		if err != nil {
			if !apperr.Is(err, apperr.Invalid) {
				t.Fatalf("scan: %v, want an object that cannot be read", err)
			}
			return
		}
		if c.Unrewritable != "" {
			if len(c.Doubts) == 0 {
				t.Fatal("an object not to rewrite, without a doubt that says where")
			}
			return
		}
		var out bytes.Buffer
		rc, err := m.Rewrite(bytes.NewReader(data), &out)
		if errors.Is(err, ErrUnrewritable) && rc.Unrewritable != "" {
			return // the rewrite found damage the scan had not read
		}
		if err != nil {
			t.Fatalf("rewrite of an object the scan read: %v", err)
		}
		if rc.Matched != c.Matched || rc.Others != c.Others || rc.Doubtful != c.Doubtful {
			t.Fatalf("rewrite %+v, scan %+v", rc, c)
		}
		again, err := m.Scan(bytes.NewReader(out.Bytes()), nil)
		if err != nil || again.Matched != 0 || again.Others != c.Others || again.Doubtful != c.Doubtful {
			t.Fatalf("the rewritten object: %+v, %v; the scan before %+v", again, err, c)
		}
	})
}

// TestParquetDamagedBounded: files damaged where the library trusts them (a
// run of dictionary indexes of two billion values, a page or delta header
// that claims as many, an LZ4_RAW page that never decompresses) are found
// damaged before the library reads them: each takes little memory and ends.
func TestParquetDamagedBounded(t *testing.T) {
	m := NewMatcher(parquetSource(registry.Match{Field: "string_col", Identity: "user_id"}, registry.Match{Field: "id", Identity: "customer_no"}),
		map[string][]string{"user_id": {"abc", "1"}, "customer_no": {"1"}})
	for _, name := range []string{"fuzzed-rle-run.parquet", "fuzzed-page-values.parquet", "fuzzed-delta-count.parquet", "fuzzed-lz4-raw.parquet"} {
		t.Run(name, func(t *testing.T) {
			data := fixture(t, filepath.Join("bad", name))
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			c, err := m.Scan(bytes.NewReader(data), nil)
			runtime.ReadMemStats(&after)
			if err == nil && (c.Unrewritable == "" || len(c.Doubts) == 0) {
				t.Errorf("scan: %+v, want a doubt and an object not to rewrite", c)
			}
			if err != nil && !apperr.Is(err, apperr.Invalid) {
				t.Errorf("scan: %v, want an object that cannot be read", err)
			}
			if n := after.TotalAlloc - before.TotalAlloc; n > 64<<20 {
				t.Errorf("the scan allocated %d MB", n>>20)
			}
		})
	}
}
