package s3src

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"

	"github.com/privacy-pipeline/dsr/internal/apperr"
)

// walkJSON streams a JSON file: one array whose elements are records, or one
// object that is the file's only record. Anything else, or anything but
// whitespace after the value, is an error: the records cannot be told apart.
func walkJSON(r io.Reader, m *Matcher, w io.Writer, found func(map[string]any) error) (Counts, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var bom []byte
	if b, _ := br.Peek(len(utf8BOM)); string(b) == utf8BOM {
		bom = []byte(utf8BOM) // RFC 8259 lets a reader ignore it; it is kept
		if _, err := br.Discard(len(bom)); err != nil {
			return Counts{}, err
		}
	}
	lead, first, err := leadingSpace(br)
	lead = append(bom, lead...)
	if err == io.EOF {
		if w != nil {
			_, err = w.Write(lead)
			return Counts{}, err
		}
		return Counts{}, nil
	}
	if err != nil {
		return Counts{}, err
	}
	switch first {
	case '[':
		return walkJSONArray(br, lead, m, w, found)
	case '{':
		return walkJSONObject(br, lead, m, w, found)
	default:
		return Counts{}, apperr.E(apperr.Invalid, "A json S3 object holds neither an array nor an object.")
	}
}

// leadingSpace consumes the whitespace at the start of br and returns it with
// the first byte after it, which it leaves unread.
func leadingSpace(br *bufio.Reader) ([]byte, byte, error) {
	var lead []byte
	for {
		b, err := br.ReadByte()
		if err != nil {
			return lead, 0, err
		}
		if !isSpace(b) {
			return lead, b, br.UnreadByte()
		}
		if len(lead) >= maxRecord {
			return nil, 0, apperr.E(apperr.Invalid, "A json S3 object starts with too much whitespace.")
		}
		lead = append(lead, b)
	}
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\r' || b == '\n' }

// walkJSONArray walks the elements of an array without parsing them: a
// byte-level splitter finds where each element ends (tracking strings and
// nesting), and only the elements the prefilter passes are parsed, as JSON
// Lines are. An element that holds one of the subject's values but is not a
// JSON object is a doubt, kept as it is. To rewrite, the bytes between
// elements (whitespace, a comma) are copied too: element i is preceded by gap
// i (for i > 0: whitespace, a comma, whitespace). A kept element is written
// with its own gap, except that the first element written takes gap 0, which
// holds no comma.
func walkJSONArray(r io.Reader, lead []byte, m *Matcher, w io.Writer, found func(map[string]any) error) (Counts, error) {
	var c Counts
	s := &arrayReader{r: r}
	// The '[' is the next byte: leadingSpace left it unread.
	if err := s.need(1); err != nil {
		return c, err
	}
	s.pos = 1
	if err := write(w, lead, s.data[:1]); err != nil {
		return c, err
	}
	s.drop()
	var gap0 []byte
	written := false
	next := s.pos // where the next element or the end may start
	for i := 0; ; i++ {
		at, err := s.skipSpace(next)
		if err != nil {
			return c, err
		}
		if s.data[at] == ']' {
			if i > 0 { // "[1,]": a comma before the end
				return c, errNotJSON
			}
			return c, s.finish(w, at)
		}
		end, err := s.value(at)
		if err != nil {
			return c, err
		}
		gap, elem := s.data[s.pos:at], s.data[at:end]
		row, v, d := m.judgeJSON(elem)
		matched := v == subject
		switch v {
		case subject:
			c.Matched++
			if found != nil {
				if err := found(row); err != nil {
					return c, err
				}
			}
		case doubtful:
			d.Record = i + 1
			c.doubt(d)
		default:
			c.Others++
		}
		if w != nil {
			if i == 0 {
				gap0 = bytes.Clone(gap)
			}
			keep := !matched
			if matched && m.anonymize != nil {
				anon, err := m.anonymizeJSON(elem)
				if err != nil {
					return c, err
				}
				elem = anon
				keep = true
			}
			if keep {
				if !written {
					gap = gap0
				}
				if err := write(w, gap, elem); err != nil {
					return c, err
				}
				written = true
			}
		}
		s.pos = end
		s.drop()
		// After an element: whitespace, then a comma or the end of the
		// array. Both stay unread (from pos): they are the next gap.
		sep, err := s.skipSpace(s.pos)
		if err != nil {
			return c, err
		}
		switch s.data[sep] {
		case ',':
			next = sep + 1
		case ']':
			return c, s.finish(w, sep)
		default:
			return c, errNotJSON
		}
	}
}

var errNotJSON = apperr.E(apperr.Invalid, "A json S3 object is not valid JSON.")

// arrayReader holds the unconsumed bytes of an array, from the start of the
// current gap: data[:pos] are read but not yet handed on.
type arrayReader struct {
	r    io.Reader
	data []byte
	pos  int
	eof  bool
}

// need reads until at least n bytes are buffered; io.EOF before that means
// the array was cut short.
func (s *arrayReader) need(n int) error {
	for len(s.data) < n {
		if s.eof {
			return errNotJSON
		}
		if err := s.more(); err != nil {
			return err
		}
	}
	return nil
}

// more reads one more chunk, as large as what is buffered, so that
// rescanning a long element from its start costs linear time in all.
func (s *arrayReader) more() error {
	if len(s.data) > maxRecord+arrayChunk {
		return apperr.E(apperr.Invalid, "An element of a JSON array is larger than the limit.")
	}
	want := max(arrayChunk, len(s.data))
	if cap(s.data)-len(s.data) < want {
		grown := make([]byte, len(s.data), len(s.data)+want)
		copy(grown, s.data)
		s.data = grown
	}
	n, err := io.ReadFull(s.r, s.data[len(s.data):len(s.data)+want])
	s.data = s.data[:len(s.data)+n]
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		s.eof = true
		return nil
	}
	return err
}

const arrayChunk = 256 << 10

// drop forgets data[:pos]. Bytes move only when most of the buffer is dead,
// so each byte moves about once.
func (s *arrayReader) drop() {
	if s.pos > len(s.data)/2 {
		n := copy(s.data, s.data[s.pos:])
		s.data = s.data[:n]
		s.pos = 0
	}
}

// skipSpace returns the index of the first byte at or after i that is not
// whitespace, reading as needed.
func (s *arrayReader) skipSpace(i int) (int, error) {
	for {
		for ; i < len(s.data); i++ {
			if !isSpace(s.data[i]) {
				return i, nil
			}
		}
		if i-s.pos > maxRecord {
			return 0, apperr.E(apperr.Invalid, "A JSON array holds too much whitespace.")
		}
		if err := s.need(i + 1); err != nil {
			return 0, err
		}
	}
}

// value returns the end of the JSON value that starts at start, reading as
// needed. It checks only the structure the split depends on: strings, and
// brackets that nest and match.
func (s *arrayReader) value(start int) (int, error) {
	for {
		end, ok, err := valueEnd(s.data, start, s.eof)
		if err != nil {
			return 0, err
		}
		if ok && end-start <= maxRecord {
			return end, nil
		}
		if end-start > maxRecord || len(s.data)-start > maxRecord {
			return 0, apperr.E(apperr.Invalid, "An element of a JSON array is larger than the limit.")
		}
		if err := s.more(); err != nil {
			return 0, err
		}
	}
}

// valueEnd scans the value at data[start:]. ok is false when data ends first
// and more may follow (eof not set); end is then how far it got.
func valueEnd(data []byte, start int, eof bool) (end int, ok bool, err error) {
	var stack []byte // the closing brackets expected, innermost last
	compound := data[start] == '{' || data[start] == '[' || data[start] == '"'
	i := start
	for i < len(data) {
		switch b := data[i]; {
		case b == '"':
			j := stringEnd(data, i+1)
			if j < 0 {
				return short(i, eof)
			}
			i = j
		case b == '{' || b == '[':
			stack = append(stack, b+2) // '}' is '{'+2, ']' is '['+2
			i++
		case b == '}' || b == ']':
			if len(stack) == 0 { // the end of a number, true, false or null
				return i, i > start, emptyValue(i > start)
			}
			if stack[len(stack)-1] != b {
				return 0, false, errNotJSON
			}
			stack = stack[:len(stack)-1]
			i++
		case len(stack) == 0 && (b == ',' || isSpace(b)):
			return i, i > start, emptyValue(i > start)
		default:
			i++
		}
		if compound && len(stack) == 0 {
			return i, true, nil
		}
	}
	return short(i, eof)
}

// short is valueEnd's answer when the data ends inside a value.
func short(i int, eof bool) (int, bool, error) {
	if eof {
		return 0, false, errNotJSON
	}
	return i, false, nil
}

func emptyValue(nonEmpty bool) error {
	if nonEmpty {
		return nil
	}
	return errNotJSON
}

// stringEnd returns the index after the quote that closes the string whose
// body starts at from, or -1 if data ends first.
func stringEnd(data []byte, from int) int {
	for {
		q := bytes.IndexByte(data[from:], '"')
		if q < 0 {
			return -1
		}
		q += from
		escapes := 0
		for k := q - 1; k >= from && data[k] == '\\'; k-- {
			escapes++
		}
		if escapes%2 == 0 {
			return q + 1
		}
		from = q + 1
	}
}

// finish writes the ']' at end and copies what follows, which must be
// whitespace.
func (s *arrayReader) finish(w io.Writer, end int) error {
	if err := write(w, s.data[s.pos:end+1]); err != nil {
		return err
	}
	return trailingSpace(io.MultiReader(bytes.NewReader(s.data[end+1:]), s.r), w)
}

// write writes each of bs to w, unless w is nil.
func write(w io.Writer, bs ...[]byte) error {
	if w == nil {
		return nil
	}
	for _, b := range bs {
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// walkJSONObject handles a file that is one JSON object, read whole (up to
// maxRecord): it is the subject's record or nobody's.
func walkJSONObject(r io.Reader, lead []byte, m *Matcher, w io.Writer, found func(map[string]any) error) (Counts, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxRecord+1))
	if err != nil {
		return Counts{}, err
	}
	if len(data) > maxRecord {
		return Counts{}, apperr.E(apperr.Invalid, "A json S3 object holding one object is larger than the limit.")
	}
	var c Counts
	if m.mayHoldJSON(data) {
		dec := json.NewDecoder(bytes.NewReader(data))
		var obj json.RawMessage
		if err := dec.Decode(&obj); err != nil {
			return Counts{}, jsonError(err)
		}
		if !blank(data[dec.InputOffset():]) {
			return Counts{}, apperr.E(apperr.Invalid, "A json S3 object holds more than one JSON value.")
		}
		row, v, d := m.judgeJSON(obj)
		if v == doubtful {
			d.Record = 1
			c.doubt(d)
		}
		if v == subject {
			if found != nil {
				if err := found(row); err != nil {
					return Counts{}, err
				}
			}
			if m.anonymize != nil && w != nil {
				anon, err := m.anonymizeJSON(data)
				if err != nil {
					return Counts{}, err
				}
				if err := write(w, lead, anon); err != nil {
					return Counts{}, err
				}
			}
			return Counts{Matched: 1}, nil
		}
	}
	if w != nil {
		if _, err := w.Write(lead); err != nil {
			return Counts{}, err
		}
		if _, err := w.Write(data); err != nil {
			return Counts{}, err
		}
	}
	if c.Doubtful == 0 {
		c.Others = 1
	}
	return c, nil
}

// trailingSpace copies what follows the array, which must be whitespace.
func trailingSpace(r io.Reader, w io.Writer) error {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if !blank(buf[:n]) {
			return apperr.E(apperr.Invalid, "A json S3 object holds more than one JSON value.")
		}
		if w != nil && n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// jsonError reports broken JSON as an invalid object and passes read errors on.
func jsonError(err error) error {
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return apperr.Wrap(apperr.Invalid, "A json S3 object is not valid JSON.", err)
	}
	return err
}
