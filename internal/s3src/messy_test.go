package s3src

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/registry"
)

// TestMessyData runs the matcher over data shaped as real companies' data
// is: byte order marks, addresses in other letter case, ids as numbers where
// the identity is text, damaged lines and values in unexpected places. The
// subject is ada@example.com with the user id 1001. Each case says what the
// rewrite keeps and which doubts it reports.
func TestMessyData(t *testing.T) {
	ids := map[string][]string{"email": {"ada@example.com"}, "user_id": {"1001"}}
	byUser := []registry.Match{{Field: "user_id", Identity: "user_id"}}
	byEmail := []registry.Match{{Field: "email", Identity: "email"}}
	tests := []struct {
		name    string
		ids     map[string][]string // when not Ada's
		format  string
		match   []registry.Match
		in      string
		kept    string
		matched int
		others  int
		doubts  []Doubt
	}{
		{
			name: "jsonl: a byte order mark before the subject's first line", format: "jsonl", match: byUser,
			in:      "\ufeff{\"user_id\":\"1001\",\"page\":\"/\"}\n{\"user_id\":\"7\"}\n",
			kept:    "\ufeff{\"user_id\":\"7\"}\n",
			matched: 1, others: 1,
		},
		{
			name: "jsonl: a byte order mark inside, where two files were joined", format: "jsonl", match: byUser,
			in:      "{\"user_id\":\"7\"}\n\ufeff{\"user_id\":\"1001\"}\n",
			kept:    "{\"user_id\":\"7\"}\n",
			matched: 1, others: 1,
		},
		{
			name: "jsonl: addresses in any letter case and with spaces around", format: "jsonl", match: byEmail,
			in:      `{"email":"Ada@Example.COM"}` + "\n" + `{"email":" ada@example.com "}` + "\n" + `{"email":"bob@example.com"}` + "\n",
			kept:    `{"email":"bob@example.com"}` + "\n",
			matched: 2, others: 1,
		},
		{
			name: "jsonl: the id as a number, with a fraction, and numbers that only look alike", format: "jsonl", match: byUser,
			in:      `{"user_id":1001}` + "\n" + `{"user_id": 1001.0}` + "\n" + `{"user_id":10010}` + "\n" + `{"user_id":-1001}` + "\n" + `{"n":21001,"user_id":"x"}` + "\n",
			kept:    `{"user_id":10010}` + "\n" + `{"user_id":-1001}` + "\n" + `{"n":21001,"user_id":"x"}` + "\n",
			matched: 2, others: 3,
		},
		{
			name: "jsonl: a rule for strings doubts a number", format: "jsonl",
			match:   []registry.Match{{Field: "user_id", Identity: "user_id", Type: registry.TypeString}},
			in:      `{"user_id":"1001"}` + "\n" + `{"user_id":1001}` + "\n",
			kept:    `{"user_id":1001}` + "\n",
			matched: 1, doubts: []Doubt{{Line: 1, Reason: DoubtUnmatched, Field: "user_id"}}, // line 1 once line 1 is gone
		},
		{
			name: "jsonl: a cut-off line that holds the subject is kept and doubted", format: "jsonl", match: byUser,
			in:      `{"user_id":"7"}` + "\n\n" + `{"user_id":"1001","page":"/ch` + "\n" + `{"user_id":"8"}` + "\n" + `{"note":"broken"` + "\n",
			kept:    `{"user_id":"7"}` + "\n\n" + `{"user_id":"1001","page":"/ch` + "\n" + `{"user_id":"8"}` + "\n" + `{"note":"broken"` + "\n",
			others:  3,
			doubts:  []Doubt{{Line: 3, Reason: DoubtUnparseable}},
			matched: 0,
		},
		{
			name: "jsonl: the subject's address in a field no rule looks at", format: "jsonl", match: byUser,
			in:     `{"user_id":"7","referred_by":"ADA@example.com"}` + "\n" + `{"user_id":"8","contacts":{"ada@example.com":true}}` + "\n",
			kept:   `{"user_id":"7","referred_by":"ADA@example.com"}` + "\n" + `{"user_id":"8","contacts":{"ada@example.com":true}}` + "\n",
			doubts: []Doubt{{Line: 1, Reason: DoubtUnmatched, Field: "referred_by"}, {Line: 2, Reason: DoubtUnmatched, Field: "contacts.{email}"}},
		},
		{
			name: "jsonl: the id nested deeper than the rule looks", format: "jsonl", match: byUser,
			in:     `{"order":"o-1","customer":{"user_id":1001}}` + "\n",
			kept:   `{"order":"o-1","customer":{"user_id":1001}}` + "\n",
			doubts: []Doubt{{Line: 1, Reason: DoubtUnmatched, Field: "customer.user_id"}},
		},
		{
			name: "jsonl: letters beyond ASCII in either case", format: "jsonl",
			ids:     map[string][]string{"email": {"jörg@example.com", "kate@example.com"}},
			match:   byEmail,
			in:      `{"email":"JÖRG@EXAMPLE.COM"}` + "\n" + "{\"email\":\"\u212aate@example.com\"}\n" + `{"email":"jorg@example.com"}` + "\n",
			kept:    `{"email":"jorg@example.com"}` + "\n",
			matched: 2, others: 1,
		},
		{
			name: "csv: a byte order mark, an address in upper case, an id with a fraction", format: "csv",
			match:   []registry.Match{{Field: "email", Identity: "email"}, {Field: "user_id", Identity: "user_id"}},
			in:      "\ufeffuser_id,email\n7,ADA@EXAMPLE.COM\n1001.0,\n8,bob@example.com\n",
			kept:    "\ufeffuser_id,email\n8,bob@example.com\n",
			matched: 2, others: 1,
		},
		{
			name: "csv: broken quoting that holds the subject, after a record of two lines", format: "csv", match: byUser,
			in:      "user_id,note\n7,\"two\nlines\"\n1001,\"open\n",
			kept:    "user_id,note\n7,\"two\nlines\"\n1001,\"open\n",
			others:  1,
			doubts:  []Doubt{{Line: 4, Reason: DoubtUnparseable}},
			matched: 0,
		},
		{
			name: "csv: the subject's address in another column", format: "csv", match: byUser,
			in:     "user_id,contact\n7,ada@example.com\n",
			kept:   "user_id,contact\n7,ada@example.com\n",
			doubts: []Doubt{{Line: 2, Reason: DoubtUnmatched, Field: "contact"}},
		},
		{
			name: "json array: an element that is not an object but holds the subject", format: "json", match: byUser,
			in:      `[{"user_id":"1001"}, ["user_id","1001"], {"user_id":"7"}]`,
			kept:    `[["user_id","1001"], {"user_id":"7"}]`,
			matched: 1, others: 1,
			doubts: []Doubt{{Record: 2, Reason: DoubtUnparseable}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &registry.S3Source{Format: tt.format, Match: tt.match}
			m := NewMatcher(src, ids)
			if tt.ids != nil {
				m = NewMatcher(src, tt.ids)
			}
			var out bytes.Buffer
			c, err := m.Rewrite(strings.NewReader(tt.in), &out)
			if err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.kept {
				t.Errorf("kept %q, want %q", out.String(), tt.kept)
			}
			if c.Matched != tt.matched || c.Others != tt.others || c.Doubtful != len(tt.doubts) {
				t.Errorf("counts %d matched, %d others, %d doubtful; want %d, %d, %d", c.Matched, c.Others, c.Doubtful, tt.matched, tt.others, len(tt.doubts))
			}
			if !reflect.DeepEqual(c.Doubts, tt.doubts) {
				t.Errorf("doubts %+v, want %+v", c.Doubts, tt.doubts)
			}
			// A scan finds what the rewrite removes, and doubts the same
			// records (by their lines before any is removed).
			found := 0
			sc, err := m.Scan(strings.NewReader(tt.in), func(map[string]any) error { found++; return nil })
			if err != nil || found != tt.matched || len(sc.Doubts) != len(c.Doubts) {
				t.Errorf("scan: %d found, doubts %+v, %v", found, sc.Doubts, err)
			}
		})
	}
}

// TestDoubtsShowNoValues: a doubt names fields, never what they hold, and
// a field name that is not a plain identifier (it may be data) is hidden.
func TestDoubtsShowNoValues(t *testing.T) {
	ids := map[string][]string{"email": {"ada@example.com"}, "user_id": {"1001"}}
	m := NewMatcher(&registry.S3Source{Format: "jsonl", Match: []registry.Match{{Field: "user_id", Identity: "user_id"}}}, ids)
	in := `{"user_id":"7","by bob@example.com":{"to":"ada@example.com"}}` + "\n"
	c, err := m.Scan(strings.NewReader(in), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Doubts) != 1 || c.Doubts[0].Field != "*.to" {
		t.Fatalf("doubts %+v, want one in *.to", c.Doubts)
	}
}

// TestDoubtsAreBounded: an object full of damaged lines reports how many,
// and the first of them.
func TestDoubtsAreBounded(t *testing.T) {
	ids := map[string][]string{"user_id": {"1001"}}
	m := NewMatcher(&registry.S3Source{Format: "jsonl", Match: []registry.Match{{Field: "user_id", Identity: "user_id"}}}, ids)
	in := strings.Repeat(`{"user_id":"1001",`+"\n", maxDoubts+5)
	c, err := m.Scan(strings.NewReader(in), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Doubtful != maxDoubts+5 || len(c.Doubts) != maxDoubts || c.Doubts[maxDoubts-1].Line != maxDoubts {
		t.Fatalf("%d doubtful, %d kept, last line %d", c.Doubtful, len(c.Doubts), c.Doubts[len(c.Doubts)-1].Line)
	}
}

// TestLowerASCII compares the word-at-a-time lowering with a byte-by-byte
// one on every byte value at every position of a word.
func TestLowerASCII(t *testing.T) {
	src := make([]byte, 0, 256*9)
	for b := range 256 {
		for pad := range 9 {
			src = append(src, bytes.Repeat([]byte{'x'}, pad)...)
			src = append(src, byte(b))
		}
	}
	got := lowerASCII(nil, src)
	for i, b := range src {
		want := b
		if 'A' <= b && b <= 'Z' {
			want = b + 'a' - 'A'
		}
		if got[i] != want {
			t.Fatalf("byte %d (%#x) became %#x, want %#x", i, b, got[i], want)
		}
	}
}

// A rewrite names a doubt's line in the object as it is after the rewrite,
// where an operator looks; a scan, in the object as it is.
func TestDoubtLinesAfterRewrite(t *testing.T) {
	ids := map[string][]string{"user_id": {"1001"}}
	tests := []struct{ format, in string }{
		{"jsonl", `{"user_id":"1001"}` + "\n" + `{"user_id":"7"}` + "\n" + `{"user_id":"1001"}` + "\n" + `{"user_id":"1001",` + "\n"},
		{"csv", "user_id,note\n1001,\"two\nlines\"\n7,x\n1001,y\n1001,\"open\n"},
	}
	for _, tt := range tests {
		m := NewMatcher(&registry.S3Source{Format: tt.format, Match: []registry.Match{{Field: "user_id", Identity: "user_id"}}}, ids)
		var out bytes.Buffer
		c, err := m.Rewrite(strings.NewReader(tt.in), &out)
		if err != nil || len(c.Doubts) != 1 {
			t.Fatalf("%s: %+v, %v", tt.format, c, err)
		}
		lines := strings.Split(out.String(), "\n")
		if got := lines[c.Doubts[0].Line-1]; !strings.HasPrefix(got, "1001,\"open") && !strings.HasPrefix(got, `{"user_id":"1001",`) {
			t.Errorf("%s: the doubt names line %d of the rewritten object, which is %q", tt.format, c.Doubts[0].Line, got)
		}
		sc, _ := m.Scan(strings.NewReader(tt.in), nil)
		if lines := strings.Split(tt.in, "\n"); !strings.Contains(lines[sc.Doubts[0].Line-1], "1001") {
			t.Errorf("%s: a scan names line %d", tt.format, sc.Doubts[0].Line)
		}
	}
}
