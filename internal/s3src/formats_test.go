package s3src

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/erasure"
	"github.com/privacy-pipeline/dsr/internal/registry"
)

// sourceOf is the test source in another format and compression.
func sourceOf(format, compression string) *registry.Source {
	src := source()
	src.S3.Format = format
	src.S3.Compression = compression
	return src
}

func gz(t testing.TB, s string) string {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Name = "data.txt"
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// gunzip returns the content of a gzip object and the name in its header.
func gunzip(t testing.TB, b []byte) (string, string) {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(out), zr.Name
}

// gzipAll compresses every object of a test table.
func gzipAll(t testing.TB, objects map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range objects {
		out[k] = gz(t, v)
	}
	return out
}

const csvHeader = "user_id,email,note\n"

func TestFindFormats(t *testing.T) {
	ids := map[string][]string{"user_id": {"u-1", "u-2"}, "email": {"ada@example.com"}}
	tests := []struct {
		name    string
		format  string
		objects map[string]string
		ids     map[string][]string // ids when not the default
		want    string              // matched rows as compact JSON, in key then record order
	}{
		{
			name:   "csv: quoted commas, doubled quotes, embedded newlines",
			format: "csv",
			objects: map[string]string{"events/a.csv": csvHeader +
				"u-1,bob@example.com,plain\n" +
				"u-3,cy@example.com,\"has, comma\"\n" +
				"\"u-2\",,\"line one\nline two\"\n" +
				"u-4,dee@example.com,\"mentions u-1 and \"\"ada@example.com\"\"\"\n" +
				"\"u-1\",\"\",\"quoted \"\"x\"\", y\"\n" +
				"u-5,\"ada@example.com\",\"a, b\"\n"},
			want: `{"email":"bob@example.com","note":"plain","user_id":"u-1"}` + "\n" +
				`{"email":"","note":"line one\nline two","user_id":"u-2"}` + "\n" +
				`{"email":"","note":"quoted \"x\", y","user_id":"u-1"}` + "\n" +
				`{"email":"ada@example.com","note":"a, b","user_id":"u-5"}`,
		},
		{
			name:   "csv: CRLF, and a CRLF inside quotes stays in the value",
			format: "csv",
			objects: map[string]string{"events/a.csv": "user_id,note\r\n" +
				"u-2,\"two\r\nlines\"\r\n" +
				"u-9,x\r\n" +
				"u-1,last"},
			want: `{"note":"two\r\nlines","user_id":"u-2"}` + "\n" + `{"note":"last","user_id":"u-1"}`,
		},
		{
			name:   "csv: the value elsewhere, inside a longer value, or an id in another case is no match",
			format: "csv",
			objects: map[string]string{"events/a.csv": csvHeader +
				"u-9,x@example.com,u-1\n" +
				"u-10,xada@example.com,\"u-1,ada@example.com\"\n" +
				"U-1,ADB@example.com,\n" +
				"\" u-1\",,\n" +
				"u-1 ,,\n"},
		},
		{
			name:   "csv: values holding quotes and commas, quoted or bare",
			format: "csv",
			objects: map[string]string{"events/a.csv": csvHeader +
				"\"a,\"\"b\",,quoted\n" +
				"q\"uote,,bare\n" +
				"\"q\"\"uote\",,quoted quote\n"},
			ids: map[string][]string{"user_id": {`a,"b`, `q"uote`}},
			want: `{"email":"","note":"quoted","user_id":"a,\"b"}` + "\n" +
				`{"email":"","note":"bare","user_id":"q\"uote"}` + "\n" +
				`{"email":"","note":"quoted quote","user_id":"q\"uote"}`,
		},
		{
			name:   "csv: header with a byte order mark, other column order, short and long rows, a name used twice",
			format: "csv",
			objects: map[string]string{"events/a.csv": "\ufeffnote,user_id,note\n" +
				"n1,u-1,n2,extra\n" +
				"n3\n" +
				"n4,u-2\n"},
			want: `{"column 3":"n2","column 4":"extra","note":"n1","user_id":"u-1"}` + "\n" + `{"note":"n4","user_id":"u-2"}`,
		},
		{
			name:   "csv: a record with broken quoting is nobody's; the next one is read",
			format: "csv",
			objects: map[string]string{"events/a.csv": csvHeader +
				"u-1,\"ada@example.com\"x,bad\n" +
				"u-1,,good\n"},
			want: `{"email":"","note":"good","user_id":"u-1"}`,
		},
		{
			name:    "csv: header only, empty object",
			format:  "csv",
			objects: map[string]string{"events/a.csv": csvHeader, "events/b.csv": ""},
		},
		{
			name:   "csv: records longer than the read buffer",
			format: "csv",
			objects: map[string]string{"events/a.csv": csvHeader +
				"u-9,," + `"` + strings.Repeat("a,\n\"\"", 100<<10) + `"` + "\n" +
				"u-1,,\"" + strings.Repeat("b", 300<<10) + "\"\n"},
			want: `{"email":"","note":"` + strings.Repeat("b", 300<<10) + `","user_id":"u-1"}`,
		},
		{
			name:   "json: an array, compact and indented, with elements that are not objects",
			format: "json",
			objects: map[string]string{
				"events/a.json": `[{"user_id":"u-1","n":1},{"user_id":"u-3"},{"email":"ada@example.com","n":2}]`,
				"events/b.json": "[\n  {\"user_id\": \"u-2\", \"n\": 3},\n  \"u-1\",\n  [\"u-1\"],\n  12,\n  null,\n  {\"nested\": {\"user_id\": \"u-1\"}}\n]\n",
				"events/c.json": `[]`,
			},
			want: `{"n":1,"user_id":"u-1"}` + "\n" + `{"email":"ada@example.com","n":2}` + "\n" + `{"n":3,"user_id":"u-2"}`,
		},
		{
			name:   "json: one object per file",
			format: "json",
			objects: map[string]string{
				"events/1.json": `{"user_id":"u-1","n":1}`,
				"events/2.json": "\n  {\"user_id\":\"u-9\",\"note\":\"u-1\"}\n",
				"events/3.json": `{"user_id":"u\u002d2","n":3}`,
				"events/4.json": "   ",
				"events/5.json": "\ufeff{\"user_id\":\"u-2\",\"n\":5}",
			},
			want: `{"n":1,"user_id":"u-1"}` + "\n" + `{"n":3,"user_id":"u-2"}` + "\n" + `{"n":5,"user_id":"u-2"}`,
		},
		{
			name:   "json: elements longer than the read buffer",
			format: "json",
			objects: map[string]string{"events/a.json": `[{"user_id":"u-9","pad":"` + strings.Repeat("p", 200<<10) + `"},` +
				`{"pad":"` + strings.Repeat("q", 200<<10) + `","user_id":"u-1"}]`},
			want: `{"pad":"` + strings.Repeat("q", 200<<10) + `","user_id":"u-1"}`,
		},
	}
	for _, tc := range tests {
		for _, compression := range []string{"", "gzip"} {
			t.Run(tc.name+"/"+compression, func(t *testing.T) {
				objects := tc.objects
				if compression == "gzip" {
					objects = gzipAll(t, objects)
				}
				want := ids
				if tc.ids != nil {
					want = tc.ids
				}
				f := newFakeS3(objects)
				rows, _, err := newAdapter(t, f).Find(context.Background(), sourceOf(tc.format, compression), want)
				if err != nil {
					t.Fatal(err)
				}
				if got := rowsJSON(t, rows); got != tc.want {
					t.Errorf("rows:\n%.500s\nwant:\n%.500s", got, tc.want)
				}
			})
		}
	}
}

func TestFindGzipJSONL(t *testing.T) {
	f := newFakeS3(map[string]string{"events/a.jsonl.gz": gz(t, `{"user_id":"u-1","n":1}`+"\n"+`{"user_id":"u-2"}`+"\n")})
	rows, _, err := newAdapter(t, f).Find(context.Background(), sourceOf("jsonl", "gzip"), map[string][]string{"user_id": {"u-1"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rowsJSON(t, rows), `{"n":1,"user_id":"u-1"}`; got != want {
		t.Errorf("rows %s, want %s", got, want)
	}
}

func TestEraseFormats(t *testing.T) {
	ids := map[string][]string{"user_id": {"u-1"}, "email": {"ada@example.com"}}
	big := strings.Repeat("z", 300<<10)
	tests := []struct {
		name        string
		format      string
		objects     map[string]string
		want        map[string]string // content afterwards (decompressed)
		wantRemoved int
		wantDeletes []string
	}{
		{
			name:   "jsonl",
			format: "jsonl",
			objects: map[string]string{"events/a.jsonl": `{"user_id":"u-2", "x" : 1}` + "\r\n" + `{"user_id":"u-1"}` + "\n" +
				`{"note":"u-1"}` + "\n"},
			want:        map[string]string{"events/a.jsonl": `{"user_id":"u-2", "x" : 1}` + "\r\n" + `{"note":"u-1"}` + "\n"},
			wantRemoved: 1,
		},
		{
			name:        "jsonl: an object of only the subject's rows and blank lines is deleted",
			format:      "jsonl",
			objects:     map[string]string{"events/a.jsonl": `{"user_id":"u-1"}` + "\n\n \t\r\n" + `{"email":"ada@example.com"}`},
			want:        map[string]string{},
			wantRemoved: 2,
			wantDeletes: []string{"events/a.jsonl"},
		},
		{
			name:   "csv: the header and the other records keep their bytes",
			format: "csv",
			objects: map[string]string{"events/a.csv": "\ufeff" + `"user_id",email,note` + "\r\n" +
				`u-2,"b@example.com","a, ""b"""` + "\r\n" +
				`"u-1",,"two` + "\r\n" + `lines"` + "\r\n" +
				`u-3,,"mentions u-1,ada@example.com"` + "\n" +
				"\r\n" +
				`u-4,ada@example.com,` + "\n" +
				`u-5,,"` + big + `"` + "\n" +
				`u-1,,last`,
				"events/b.csv": csvHeader + "u-2,,x\n"},
			want: map[string]string{"events/a.csv": "\ufeff" + `"user_id",email,note` + "\r\n" +
				`u-2,"b@example.com","a, ""b"""` + "\r\n" +
				`u-3,,"mentions u-1,ada@example.com"` + "\n" +
				"\r\n" +
				`u-5,,"` + big + `"` + "\n",
				"events/b.csv": csvHeader + "u-2,,x\n"},
			wantRemoved: 3,
		},
		{
			name:        "csv: an object of only the subject's records is deleted, header and blank lines with it",
			format:      "csv",
			objects:     map[string]string{"events/a.csv": csvHeader + "u-1,,\n\n,ada@example.com,\n"},
			want:        map[string]string{},
			wantRemoved: 2,
			wantDeletes: []string{"events/a.csv"},
		},
		{
			name:   "json: an indented array keeps its layout",
			format: "json",
			objects: map[string]string{
				"events/first.json":  "[\n  {\"user_id\": \"u-1\"},\n  {\"user_id\": \"u-2\"},\n  {\"user_id\": \"u-3\"}\n]\n",
				"events/middle.json": "\ufeff[\n  {\"user_id\": \"u-2\"},\n  {\"user_id\": \"u-1\"},\n  {\"user_id\": \"u-3\"}\n]\n",
				"events/last.json":   "[\n  {\"user_id\": \"u-2\"},\n  {\"user_id\": \"u-3\"},\n  {\"user_id\": \"u-1\"}\n]\n",
				"events/two.json":    "\t[ {\"email\":\"ada@example.com\"} , {\"user_id\":\"u-1\"},{ \"user_id\" : \"u-2\" } ,7]  ",
			},
			want: map[string]string{
				"events/first.json":  "[\n  {\"user_id\": \"u-2\"},\n  {\"user_id\": \"u-3\"}\n]\n",
				"events/middle.json": "\ufeff[\n  {\"user_id\": \"u-2\"},\n  {\"user_id\": \"u-3\"}\n]\n",
				"events/last.json":   "[\n  {\"user_id\": \"u-2\"},\n  {\"user_id\": \"u-3\"}\n]\n",
				"events/two.json":    "\t[ { \"user_id\" : \"u-2\" } ,7]  ",
			},
			wantRemoved: 5,
		},
		{
			name:   "json: a compact array, and an element longer than the read buffer",
			format: "json",
			objects: map[string]string{
				"events/a.json": `[{"user_id":"u-2","pad":"` + big + `"},{"user_id":"u-1","pad":"` + big + `"},{"user_id":"u-3"}]`,
			},
			want:        map[string]string{"events/a.json": `[{"user_id":"u-2","pad":"` + big + `"},{"user_id":"u-3"}]`},
			wantRemoved: 1,
		},
		{
			name:   "json: files of only the subject's records are deleted; others untouched",
			format: "json",
			objects: map[string]string{
				"events/mine.json":   `{"user_id":"u-1","n":1}` + "\n",
				"events/all.json":    `[{"user_id":"u-1"},{"email":"ada@example.com"}]`,
				"events/theirs.json": `{"user_id":"u-2","note":"u-1"}`,
				"events/empty.json":  `[]`,
			},
			want: map[string]string{
				"events/theirs.json": `{"user_id":"u-2","note":"u-1"}`,
				"events/empty.json":  `[]`,
			},
			wantRemoved: 3,
			wantDeletes: []string{"events/all.json", "events/mine.json"},
		},
	}
	for _, tc := range tests {
		for _, compression := range []string{"", "gzip"} {
			t.Run(tc.name+"/"+compression, func(t *testing.T) {
				objects := tc.objects
				if compression == "gzip" {
					objects = gzipAll(t, objects)
				}
				f := newFakeS3(objects)
				before := map[string]string{}
				for k := range objects {
					before[k] = f.etags[k]
				}
				a := newAdapter(t, f)
				src := sourceOf(tc.format, compression)
				res, err := a.Erase(context.Background(), src, ids, false, nil)
				if err != nil {
					t.Fatal(err)
				}
				if res.Deleted != tc.wantRemoved {
					t.Errorf("removed = %d, want %d", res.Deleted, tc.wantRemoved)
				}
				if len(f.objects) != len(tc.want) {
					t.Errorf("objects afterwards: %d, want %d", len(f.objects), len(tc.want))
				}
				for k, want := range tc.want {
					body, ok := f.objects[k]
					if !ok {
						t.Errorf("%s is gone", k)
						continue
					}
					got := string(body)
					if compression == "gzip" {
						var name string
						got, name = gunzip(t, body)
						if f.etags[k] != before[k] && name != "data.txt" {
							t.Errorf("%s: gzip name %q, want the original's", k, name)
						}
					}
					if got != want {
						t.Errorf("%s = %.300q, want %.300q", k, got, want)
					}
					if got == tc.objects[k] && f.etags[k] != before[k] {
						t.Errorf("%s was rewritten without a change", k)
					}
				}
				if deletes := slices.Sorted(slices.Values(f.deletes)); !slices.Equal(deletes, tc.wantDeletes) {
					t.Errorf("deletes = %v, want %v", deletes, tc.wantDeletes)
				}
				rows, _, err := a.Find(context.Background(), src, ids)
				if err != nil || len(rows) != 0 {
					t.Errorf("after Erase, Find = %v, %v", rows, err)
				}
			})
		}
	}
}

// Objects whose records cannot be told apart are findings, for Find and for
// Erase: the object is left as it was, for an operator, and the source's
// other objects are worked on.
func TestInvalidObjects(t *testing.T) {
	ids := map[string][]string{"user_id": {"u-1"}}
	tests := []struct {
		name        string
		format      string
		compression string
		body        string
	}{
		{"csv without a column the source matches on", "csv", "", "id,mail\nu-1,x\n"},
		{"csv header with broken quoting", "csv", "", "\"user_id\"x,email\nu-1,x\n"},
		{"csv record over the limit", "csv", "", csvHeader + "u-1,\"" + strings.Repeat("x", maxRecord+1) + "\n"},
		{"json with a second value", "json", "", `{"user_id":"u-1"} {"user_id":"u-2"}`},
		{"json array with something after it", "json", "", `[{"user_id":"u-1"}] x`},
		{"json array cut short", "json", "", `[{"user_id":"u-2"},{"user_id":"u-1"}`},
		{"json array with a syntax error", "json", "", `[{"user_id":"u-1"} {"user_id":"u-2"}]`},
		{"json that is a string", "json", "", `"u-1"`},
		{"json object that is not JSON", "json", "", `{"user_id":"u-1",}`},
		{"json object over the limit", "json", "", `{"user_id":"u-1","pad":"` + strings.Repeat("x", maxRecord) + `"}`},
		{"json element over the limit", "json", "", `[{"user_id":"u-1","pad":"` + strings.Repeat("x", maxRecord+arrayChunk) + `"}]`},
		{"a format the registry does not know", "xml", "", `<user_id>u-1</user_id>`},
		{"gzip that is not gzip", "jsonl", "gzip", `{"user_id":"u-1"}` + "\n"},
		{"gzip where the source says none", "jsonl", "", gz(t, `{"user_id":"u-1"}`+"\n")},
		{"gzip where the source says csv", "csv", "", gz(t, csvHeader+"u-1,,\n")},
		{"gzip cut short", "jsonl", "gzip", gz(t, `{"user_id":"u-1"}`+"\n"+`{"user_id":"u-2"}`+"\n")[:30]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			const key = "events/x"
			f := newFakeS3(map[string]string{key: tc.body})
			a := newAdapter(t, f)
			src := sourceOf(tc.format, tc.compression)
			check := func(step string, fs []erasure.Finding, err error) {
				t.Helper()
				if err != nil || len(fs) != 1 || fs[0].Key != key || fs[0].Reason != erasure.FindingUnreadable || fs[0].Detail == "" || fs[0].SourceID != src.ID {
					t.Errorf("%s: findings %+v, err %v; want the object unreadable", step, fs, err)
				}
			}
			_, fs, err := a.Find(context.Background(), src, ids)
			check("Find", fs, err)
			res, err := a.Erase(context.Background(), src, ids, false, nil)
			check("Erase", res.Findings, err)
			if res.Deleted != 0 || len(f.puts)+len(f.deletes) > 0 || string(f.objects[key]) != tc.body {
				t.Errorf("Erase changed the object: %+v, puts %v deletes %v", res, f.puts, f.deletes)
			}
		})
	}
}

// An unreadable object does not keep the source's other objects from being
// erased.
func TestUnreadableObjectLeavesTheOthersErased(t *testing.T) {
	f := newFakeS3(map[string]string{
		"events/a.jsonl": `{"user_id":"u-1"}` + "\n" + `{"user_id":"u-2"}` + "\n",
		"events/b.jsonl": gz(t, `{"user_id":"u-1"}`+"\n"),
		"events/c.jsonl": `{"user_id":"u-1"}` + "\n",
	})
	res, err := newAdapter(t, f).Erase(context.Background(), sourceOf("jsonl", ""), map[string][]string{"user_id": {"u-1"}}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Deleted != 2 || len(res.Findings) != 1 || res.Findings[0].Key != "events/b.jsonl" {
		t.Fatalf("result %+v", res)
	}
	if _, ok := f.objects["events/c.jsonl"]; ok || string(f.objects["events/a.jsonl"]) != `{"user_id":"u-2"}`+"\n" {
		t.Fatalf("objects afterwards: %q", f.objects)
	}
}

// The rewritten object keeps the headers S3 would otherwise drop.
func TestEraseKeepsHeaders(t *testing.T) {
	const key = "events/a.jsonl.gz"
	f := newFakeS3(map[string]string{key: gz(t, `{"user_id":"u-1"}`+"\n"+`{"user_id":"u-2"}`+"\n")})
	f.headers[key] = headers{"application/x-ndjson", "gzip", map[string]string{"owner": "analytics"}}
	if _, err := newAdapter(t, f).Erase(context.Background(), sourceOf("jsonl", "gzip"), map[string][]string{"user_id": {"u-1"}}, false, nil); err != nil {
		t.Fatal(err)
	}
	h := f.headers[key]
	if h.contentType != "application/x-ndjson" || h.contentEncoding != "gzip" || h.metadata["owner"] != "analytics" {
		t.Errorf("headers after rewrite = %+v", h)
	}
	if got, _ := gunzip(t, f.objects[key]); got != `{"user_id":"u-2"}`+"\n" {
		t.Errorf("content = %q", got)
	}
}

// A rewrite streams: an object larger than a part goes up as a multipart
// upload, part by part, never held whole; in one part or in many, the
// replacement keeps the object's headers, metadata and tags.
func TestEraseStreamsInParts(t *testing.T) {
	ids := map[string][]string{"user_id": {"u-1"}}
	var in, want strings.Builder
	for i := range 200 {
		line := fmt.Sprintf(`{"user_id":"u-%d","n":%d}`+"\n", i%7, i)
		in.WriteString(line)
		if i%7 != 1 {
			want.WriteString(line)
		}
	}
	for _, tt := range []struct {
		name      string
		partSize  int
		multipart bool
	}{
		{"one part", 0, false},
		{"many parts", 512, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			const key = "events/big.jsonl"
			f := newFakeS3(map[string]string{key: in.String()})
			f.headers[key] = headers{"application/x-ndjson", "", map[string]string{"owner": "analytics"}}
			f.setTags(key, aws.String("team=web&retention=13m"))
			a := newAdapter(t, f)
			a.partSize = tt.partSize
			var sizes []int
			f.partSizes = &sizes
			res, err := a.Erase(context.Background(), sourceOf("jsonl", ""), ids, false, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(f.objects[key]); got != want.String() || res.Deleted != 29 {
				t.Fatalf("rewrite removed %d: %d bytes, want %d", res.Deleted, len(got), want.Len())
			}
			if (f.completed == 1) != tt.multipart || len(f.uploads) != 0 {
				t.Errorf("%d multipart uploads completed, %d left", f.completed, len(f.uploads))
			}
			for _, n := range sizes {
				if n > tt.partSize {
					t.Errorf("a part of %d bytes, larger than %d", n, tt.partSize)
				}
			}
			if tt.multipart && len(sizes) < 5 {
				t.Errorf("%d parts: the object was not streamed", len(sizes))
			}
			h := f.headers[key]
			if h.contentType != "application/x-ndjson" || h.metadata["owner"] != "analytics" || f.tags[key]["team"] != "web" || f.tags[key]["retention"] != "13m" {
				t.Errorf("after the rewrite: headers %+v, tags %v", h, f.tags[key])
			}
			if f.gotIfMatches == 0 {
				t.Error("the second read was not conditional on the first's ETag")
			}
		})
	}
}

// A multipart rewrite that cannot complete (someone else wrote the object,
// a part failed) is aborted, leaving no parts behind; a conflict is read
// and rewritten again, a failure leaves the object as it was.
func TestMultipartRewriteAborts(t *testing.T) {
	ids := map[string][]string{"user_id": {"u-1"}}
	body := strings.Repeat(`{"user_id":"u-1"}`+"\n"+`{"user_id":"u-2","pad":"................"}`+"\n", 40)
	t.Run("conflict", func(t *testing.T) {
		const key = "events/a.jsonl"
		f := newFakeS3(map[string]string{key: body})
		a := newAdapter(t, f)
		a.partSize = 256
		once := true
		f.beforeComplete = func() {
			if once {
				once = false
				f.write(key, append(bytes.Clone(f.objects[key]), `{"user_id":"u-3"}`+"\n"...))
			}
		}
		if _, err := a.Erase(context.Background(), sourceOf("jsonl", ""), ids, false, nil); err != nil {
			t.Fatal(err)
		}
		if f.aborted != 1 || f.completed != 1 || len(f.uploads) != 0 || strings.Contains(string(f.objects[key]), `"u-1"`) || !strings.HasSuffix(string(f.objects[key]), `{"user_id":"u-3"}`+"\n") {
			t.Fatalf("aborted %d, completed %d, left %d; object keeps the other writer's line: %v", f.aborted, f.completed, len(f.uploads), strings.HasSuffix(string(f.objects[key]), `"u-3"}`+"\n"))
		}
	})
	t.Run("a part fails", func(t *testing.T) {
		const key = "events/a.jsonl"
		f := newFakeS3(map[string]string{key: body})
		a := newAdapter(t, f)
		a.partSize = 256
		f.failPart = 3
		if _, err := a.Erase(context.Background(), sourceOf("jsonl", ""), ids, false, nil); !apperr.Is(err, apperr.Unavailable) {
			t.Fatalf("err = %v, want Unavailable", err)
		}
		if f.aborted != 1 || len(f.uploads) != 0 || string(f.objects[key]) != body {
			t.Fatalf("aborted %d, left %d, object changed %v", f.aborted, len(f.uploads), string(f.objects[key]) != body)
		}
	})
}

// Empty identity values match nothing: an empty field is nobody's.
func TestEmptyValuesMatchNothing(t *testing.T) {
	for _, format := range registry.Formats {
		t.Run(format, func(t *testing.T) {
			m := NewMatcher(sourceOf(format, "").S3, map[string][]string{"user_id": {""}, "email": {""}})
			if !m.Empty() {
				t.Fatal("a matcher on empty values is not empty")
			}
		})
	}
	body := map[string]string{
		"jsonl": `{"user_id":"","email":"ada@example.com"}` + "\n",
		"csv":   csvHeader + ",ada@example.com,\n",
		"json":  `[{"user_id":"","email":"ada@example.com"}]`,
	}
	for format, b := range body {
		t.Run(format+" with one empty value", func(t *testing.T) {
			m := NewMatcher(sourceOf(format, "").S3, map[string][]string{"user_id": {""}, "email": {"ada@example.com"}})
			var out bytes.Buffer
			c, err := m.Rewrite(strings.NewReader(b), &out)
			if err != nil || c.Matched != 1 {
				t.Fatalf("counts %+v, err %v; want the row found by email", c, err)
			}
			m = NewMatcher(sourceOf(format, "").S3, map[string][]string{"user_id": {""}, "email": {"bob@example.com"}})
			if c, err := m.Rewrite(strings.NewReader(b), io.Discard); err != nil || c.Matched != 0 {
				t.Fatalf("counts %+v, err %v; an empty user_id matched", c, err)
			}
		})
	}
}

// A read the network cuts short is an outage to retry, not a damaged
// object: no finding, and nothing changes.
func TestCutReadIsAnOutage(t *testing.T) {
	for _, compression := range []string{"", "gzip"} {
		body := `{"user_id":"u-1"}` + "\n" + `{"user_id":"u-2"}` + "\n"
		if compression == "gzip" {
			body = gz(t, body)
		}
		f := newFakeS3(map[string]string{"events/a.jsonl": body})
		f.cut = map[string]int{"events/a.jsonl": 12}
		a := newAdapter(t, f)
		res, err := a.Erase(context.Background(), sourceOf("jsonl", compression), map[string][]string{"user_id": {"u-1"}}, false, nil)
		if !apperr.Is(err, apperr.Unavailable) || len(res.Findings) != 0 || len(f.puts) != 0 {
			t.Errorf("%q: Erase = %+v, %v; want Unavailable and no change", compression, res, err)
		}
		_, fs, err := a.Find(context.Background(), sourceOf("jsonl", compression), map[string][]string{"user_id": {"u-1"}})
		if !apperr.Is(err, apperr.Unavailable) || len(fs) != 0 {
			t.Errorf("%q: Find = %v, %v; want Unavailable", compression, fs, err)
		}
	}
}

// A finding names the line as the object is after the erasure, where an
// operator looks: lines of the subject before it are gone by then.
func TestFindingLinesAfterErasure(t *testing.T) {
	const key = "events/a.jsonl"
	f := newFakeS3(map[string]string{key: `{"user_id":"u-2"}` + "\n" + `{"user_id":"u-1"}` + "\n" + `{"user_id":"u-1","cut` + "\n" + `{"user_id":"u-3"}` + "\n"})
	res, err := newAdapter(t, f).Erase(context.Background(), sourceOf("jsonl", ""), map[string][]string{"user_id": {"u-1"}}, false, nil)
	if err != nil || len(res.Findings) != 1 {
		t.Fatalf("%+v, %v", res, err)
	}
	lines := strings.Split(string(f.objects[key]), "\n")
	if got := lines[res.Findings[0].Line-1]; got != `{"user_id":"u-1","cut` {
		t.Fatalf("the finding names line %d, which is %q", res.Findings[0].Line, got)
	}
}
