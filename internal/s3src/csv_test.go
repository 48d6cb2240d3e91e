package s3src

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/privacy-pipeline/dsr/internal/apperr"
)

// readRecords splits s with a record reader of the given buffer size.
func readRecords(t testing.TB, r io.Reader, size int) []string {
	t.Helper()
	rr := newRecordReaderSize(r, size)
	var recs []string
	for {
		rec, err := rr.next()
		if err == io.EOF {
			return recs
		}
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, string(rec))
	}
}

func TestRecordReader(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []string
	}{
		{"empty", "", nil},
		{"one record without line ending", "a,b", []string{"a,b"}},
		{"lf", "a,b\nc,d\n", []string{"a,b\n", "c,d\n"}},
		{"crlf", "a,b\r\nc,d\r\n", []string{"a,b\r\n", "c,d\r\n"}},
		{"blank lines are records of their own", "a\n\n\r\nb", []string{"a\n", "\n", "\r\n", "b"}},
		{"quoted comma", `a,"b,c",d` + "\n" + "e\n", []string{`a,"b,c",d` + "\n", "e\n"}},
		{"newline inside quotes", "a,\"b\nc\"\nd\n", []string{"a,\"b\nc\"\n", "d\n"}},
		{"crlf inside quotes", "\"b\r\n\r\nc\"\r\nd\r\n", []string{"\"b\r\n\r\nc\"\r\n", "d\r\n"}},
		{"doubled quotes do not close", "\"a\"\"\nb\"\nc\n", []string{"\"a\"\"\nb\"\n", "c\n"}},
		{"doubled quotes at the end of a field", "\"a\"\"\",\"\"\nc\n", []string{"\"a\"\"\",\"\"\n", "c\n"}},
		{"a quote inside an unquoted field is a byte", "a\"b\nc\"\n", []string{"a\"b\n", "c\"\n"}},
		{"a quote after a closed quoted field is a byte", "\"a\"b\"\nc\n", []string{"\"a\"b\"\n", "c\n"}},
		{"an unterminated quote runs to the end", "a\n\"b\nc\n", []string{"a\n", "\"b\nc\n"}},
		{"last record in quotes without line ending", "a\n\"b\nc\"", []string{"a\n", "\"b\nc\""}},
		{"empty quoted fields", "\"\",\"\"\n\"\"\n", []string{"\"\",\"\"\n", "\"\"\n"}},
		{"long quoted field with newlines", "x,\"" + strings.Repeat("ab\n\"\"", 300) + "\"\ny\n", []string{"x,\"" + strings.Repeat("ab\n\"\"", 300) + "\"\n", "y\n"}},
		{"long unquoted line", strings.Repeat("z", 1000) + "\nq", []string{strings.Repeat("z", 1000) + "\n", "q"}},
	}
	readers := map[string]func(string) io.Reader{
		"whole":    func(s string) io.Reader { return strings.NewReader(s) },
		"one byte": func(s string) io.Reader { return iotest.OneByteReader(strings.NewReader(s)) },
		"half":     func(s string) io.Reader { return iotest.HalfReader(strings.NewReader(s)) },
	}
	for _, tc := range tests {
		for rname, reader := range readers {
			for _, size := range []int{16, 256 << 10} {
				t.Run(tc.name+"/"+rname, func(t *testing.T) {
					got := readRecords(t, reader(tc.input), size)
					if !slices.Equal(got, tc.want) {
						t.Errorf("buffer %d: records\n%q\nwant\n%q", size, got, tc.want)
					}
				})
			}
		}
	}
}

func TestRecordReaderErrors(t *testing.T) {
	readErr := errors.New("connection reset")
	rr := newRecordReader(io.MultiReader(strings.NewReader("a\n\"b\n"), iotest.ErrReader(readErr)))
	if rec, err := rr.next(); err != nil || string(rec) != "a\n" {
		t.Fatalf("first record %q, %v", rec, err)
	}
	if _, err := rr.next(); !errors.Is(err, readErr) {
		t.Fatalf("err = %v, want the read error", err)
	}
	rr = newRecordReader(strings.NewReader("\"" + strings.Repeat("x\n", maxRecord/2+1)))
	if _, err := rr.next(); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("err = %v, want Invalid for a record over the limit", err)
	}
}

func TestParseRecord(t *testing.T) {
	tests := []struct {
		rec  string
		want []string // nil: broken quoting
	}{
		{"", []string{""}},
		{"\n", []string{""}},
		{"\r\n", []string{""}},
		{"a", []string{"a"}},
		{"a,b,c\n", []string{"a", "b", "c"}},
		{"a,,\r\n", []string{"a", "", ""}},
		{",", []string{"", ""}},
		{`"a,b",c`, []string{"a,b", "c"}},
		{`"a""b",""""` + "\n", []string{`a"b`, `"`}},
		{`""`, []string{""}},
		{"\"a\r\nb\"\r\n", []string{"a\r\nb"}},
		{`a"b,c"`, []string{`a"b`, `c"`}},
		{` "a"`, []string{` "a"`}},
		{`"a" `, nil},
		{`"a"b`, nil},
		{`"a`, nil},
		{`x,"a""`, nil},
	}
	for _, tc := range tests {
		got, ok := parseRecord([]byte(tc.rec), nil)
		if tc.want == nil {
			if ok {
				t.Errorf("parseRecord(%q) = %q, want broken quoting", tc.rec, got)
			}
			continue
		}
		if !ok || !slices.Equal(got, tc.want) {
			t.Errorf("parseRecord(%q) = %q, %v, want %q", tc.rec, got, ok, tc.want)
		}
	}
}
