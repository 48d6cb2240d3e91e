package s3src

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// FuzzCSVRecords checks the record reader and the parser: the records put
// back together are the input; a record ends only at a line break outside
// quotes; where encoding/csv reads the input, the fields are the same; and the
// prefilter never skips a record one of whose fields is the value sought.
func FuzzCSVRecords(f *testing.F) {
	for _, s := range []string{
		"", "a,b\nc,d\n", "a,b\r\nc,d", "\"a,b\",\"c\"\"d\"\n", "\"a\nb\"\r\nc\n", "a\"b,\"c\n",
		"\"a\"b\n\"", "\n\n\r\n", "\"\"\"\"", "x,\"y\r\n\"\r\n", "q\"uote,\"q\"\"uote\"\n",
		"\ufeffuser_id,email\nu-1,ada@example.com\n",
	} {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, input string, mode uint8) {
		var r io.Reader = strings.NewReader(input)
		if mode%2 == 1 {
			r = iotest.OneByteReader(r)
		}
		recs := readRecords(t, r, 16)
		if got := strings.Join(recs, ""); got != input {
			t.Fatalf("records %q do not reassemble the input %q", recs, input)
		}
		var parsed [][]string
		for i, rec := range recs {
			if rec == "" {
				t.Fatalf("empty record")
			}
			// Every line break but the record's last is inside quotes.
			for j := 0; j < len(rec)-1; j++ {
				if rec[j] == '\n' && quoteState([]byte(rec[:j]), 0, outsideQuotes) != insideQuotes {
					t.Fatalf("record %q breaks at %d outside quotes", rec, j)
				}
			}
			if i < len(recs)-1 && !strings.HasSuffix(rec, "\n") {
				t.Fatalf("record %q before the last has no line ending", rec)
			}
			fields, ok := parseRecord([]byte(rec), nil)
			if !ok {
				continue
			}
			if len(trimEOL([]byte(rec))) > 0 {
				norm := make([]string, len(fields))
				for k, v := range fields {
					norm[k] = strings.ReplaceAll(v, "\r\n", "\n")
				}
				parsed = append(parsed, norm)
			}
			for k, v := range fields {
				if v == "" {
					continue
				}
				m := NewMatcher(sourceOf("csv", "").S3, map[string][]string{"user_id": {v}})
				if _, _, v, _ := m.judgeCSV([]byte(rec), nil, []csvColumn{{index: k, rules: m.byField["user_id"]}}, nil, nil); v != subject {
					t.Fatalf("record %q: field %d %q was not matched", rec, k, v)
				}
			}
		}
		cr := csv.NewReader(strings.NewReader(input))
		cr.FieldsPerRecord = -1
		want, err := cr.ReadAll()
		if err != nil {
			return // encoding/csv rejects it: nothing to compare
		}
		if len(want) != len(parsed) {
			t.Fatalf("input %q: %d records, encoding/csv %d:\n%q\n%q", input, len(parsed), len(want), parsed, want)
		}
		for i := range want {
			if !slices.Equal(parsed[i], want[i]) {
				t.Fatalf("input %q: record %d = %q, encoding/csv %q", input, i, parsed[i], want[i])
			}
		}
	})
}

// FuzzEachLine checks the JSON Lines splitter: the lines put back together
// are the input, each line ends at its only line break, and the prefilter never
// skips a line that holds the value sought as a string field.
func FuzzEachLine(f *testing.F) {
	for _, s := range []string{
		"", "a", "a\n", "a\r\nb\n", "\n\n", `{"user_id":"u-1"}` + "\n" + `{"user_id":"u\u002d1"}`,
		`{"email":"tom&jerry@example.com"}`, `{"user_id":"q\"uote"}` + "\r\n",
	} {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, input string, mode uint8) {
		var r io.Reader = strings.NewReader(input)
		if mode%2 == 1 {
			r = iotest.OneByteReader(r)
		}
		var out bytes.Buffer
		err := eachLineSize(r, 16, func(line []byte) error {
			if len(line) == 0 {
				t.Fatal("empty line")
			}
			if i := bytes.IndexByte(line, '\n'); i >= 0 && i != len(line)-1 {
				t.Fatalf("line %q holds a line break before its end", line)
			}
			out.Write(line)
			row, ok := decodeRow(line)
			if !ok {
				return nil
			}
			for k, v := range row {
				s, ok := v.(string)
				if !ok || s == "" {
					continue
				}
				m := NewMatcher(sourceOf("jsonl", "").S3, map[string][]string{"user_id": {s}})
				m.byField = map[string][]int{k: m.byField["user_id"]}
				if _, ok := m.matchJSON(line); !ok {
					t.Fatalf("line %q: field %q = %q was not matched", line, k, s)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if out.String() != input {
			t.Fatalf("lines %q do not reassemble the input %q", out.String(), input)
		}
		checkWalkJSONL(t, input)
	})
}

// checkWalkJSONL compares the rewrite of JSON Lines, in small blocks, with
// what parsing every line says: it removes exactly the lines whose "user_id"
// is the value, here the first one the input holds (or "u-1").
func checkWalkJSONL(t *testing.T, input string) {
	value := "u-1"
	for line := range strings.Lines(input) {
		if row, ok := decodeRow([]byte(line)); ok {
			if s, ok := row["user_id"].(string); ok && s != "" {
				value = s
				break
			}
		}
	}
	var want strings.Builder
	matched := 0
	for line := range strings.Lines(input) {
		if row, ok := decodeRow([]byte(line)); ok && row["user_id"] == value {
			matched++
			continue
		}
		want.WriteString(line)
	}
	m := NewMatcher(sourceOf("jsonl", "").S3, map[string][]string{"user_id": {value}})
	var got bytes.Buffer
	c, err := walkJSONLSize(strings.NewReader(input), 16, m, &got, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() || c.Matched != matched {
		t.Fatalf("rewrite of %q without user_id %q: %q (%d removed), want %q (%d)", input, value, got.String(), c.Matched, want.String(), matched)
	}
}

// FuzzJSONArrayRewrite checks the rewrite of JSON arrays: the output is valid
// JSON holding exactly the elements that are not the subject's, each with its
// bytes, and an array without the subject's elements is copied as it was.
func FuzzJSONArrayRewrite(f *testing.F) {
	for _, s := range []string{
		`[]`, `[{"user_id":"u-1"}]`, "[\n  {\"user_id\": \"u-1\"},\n  {\"user_id\": \"u-2\"}\n]\n",
		` [ 1 , {"user_id":"u-1"} ,"x",{"a":[{"user_id":"u-1"}]}, {"user_id":"u\u002d1"} ] `,
		`[{"user_id":"u-2"},{"user_id":"u-1"}]`,
	} {
		f.Add(s)
	}
	m := NewMatcher(sourceOf("json", "").S3, map[string][]string{"user_id": {"u-1"}})
	f.Fuzz(func(t *testing.T, input string) {
		var elems []json.RawMessage
		if !strings.HasPrefix(strings.TrimLeft(input, " \t\r\n"), "[") || json.Unmarshal([]byte(input), &elems) != nil {
			return
		}
		var want []string
		for _, e := range elems {
			if _, ok := m.matchJSON(e); !ok {
				want = append(want, string(e))
			}
		}
		var out bytes.Buffer
		c, err := m.Rewrite(strings.NewReader(input), &out)
		if err != nil {
			t.Fatalf("%q: %v", input, err)
		}
		if c.Others+c.Doubtful != len(want) || c.Matched != len(elems)-len(want) {
			t.Fatalf("%q: counts %+v, want %d kept of %d", input, c, len(want), len(elems))
		}
		if c.Matched == 0 && out.String() != input {
			t.Fatalf("%q copied as %q", input, out.String())
		}
		var kept []json.RawMessage
		if err := json.Unmarshal(out.Bytes(), &kept); err != nil {
			t.Fatalf("%q rewritten as %q, not JSON: %v", input, out.String(), err)
		}
		var got []string
		for _, e := range kept {
			got = append(got, string(e))
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%q rewritten as %q: elements %q, want %q", input, out.String(), got, want)
		}
	})
}

// FuzzJSONArrayReads checks that the array splitter does not depend on how
// the reader splits its input: one byte at a time or all at once, any input
// (valid or not) gives the same counts, the same output and the same error.
func FuzzJSONArrayReads(f *testing.F) {
	for _, s := range []string{
		`[]`, `[{"user_id":"u-1"},2]`, `[{"a":"]"},"\\\"",[[]],{"user_id":"u-1"}]`, `[1,]`, `[{"a":[}]`,
		`[{"user_id":"u-1"} 1]`, `["u-1`, `[tru"e",{"user_id":"u-1"}]`, "[\n\t{\"user_id\" : \"u-1\"} ,\r\n 7 ] x",
	} {
		f.Add(s)
	}
	m := NewMatcher(sourceOf("json", "").S3, map[string][]string{"user_id": {"u-1"}})
	f.Fuzz(func(t *testing.T, input string) {
		var whole, bytewise bytes.Buffer
		c1, err1 := m.Rewrite(strings.NewReader(input), &whole)
		c2, err2 := m.Rewrite(iotest.OneByteReader(strings.NewReader(input)), &bytewise)
		if !reflect.DeepEqual(c1, c2) || (err1 == nil) != (err2 == nil) {
			t.Fatalf("%q: whole %+v %v, byte by byte %+v %v", input, c1, err1, c2, err2)
		}
		if err1 == nil && whole.String() != bytewise.String() {
			t.Fatalf("%q: whole %q, byte by byte %q", input, whole.String(), bytewise.String())
		}
	})
}
