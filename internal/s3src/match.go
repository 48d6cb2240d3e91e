package s3src

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/registry"
)

// maxRecord bounds one record (a JSON line, a CSV record, an element of a
// JSON array, a JSON object file), so a corrupt object cannot exhaust memory.
const maxRecord = 16 << 20

// Matcher decides which records of one S3 source belong to a subject: those in
// which a field the registry matches on holds, as a string, exactly one of the
// subject's values of the identity it names. It works on readers and writers,
// so it runs without S3.
type Matcher struct {
	format string
	gzip   bool
	// needles is the prefilter: every record that belongs to the subject
	// holds at least one of them byte for byte (for JSON, also records with
	// a backslash are parsed: an escape may spell a value).
	needles [][]byte
	// invalidUTF8: a value holds U+FFFD, which is what a JSON decoder makes
	// of invalid UTF-8, so records with invalid UTF-8 are parsed too.
	invalidUTF8 bool
	fields      map[string][]string // field -> identity values that match there
	// anonymize, when set, makes Rewrite keep the subject's records with
	// these fields blanked instead of removing the records.
	anonymize []string
	// whole: every record is the subject's (a key template source, whose
	// objects are all under the subject's own folder).
	whole bool
}

// Counts says what a scan or a rewrite met: the subject's records (Matched;
// removed by a rewrite) and the other records (Others; kept). A CSV header,
// blank lines and the punctuation of a JSON array are not records.
type Counts struct {
	Matched, Others int
}

// NewMatcher prepares the prefilter and the field rules of a source for the
// subject's identities. Empty values identify no one and are ignored.
func NewMatcher(src *registry.S3Source, ids map[string][]string) *Matcher {
	m := &Matcher{format: src.Format, gzip: src.Compression == registry.CompressionGzip, fields: map[string][]string{}, whole: src.Templated()}
	add := func(n string) {
		if !slices.ContainsFunc(m.needles, func(b []byte) bool { return string(b) == n }) {
			m.needles = append(m.needles, []byte(n))
		}
	}
	for _, rule := range src.Match {
		for _, v := range ids[rule.Identity] {
			if v == "" || slices.Contains(m.fields[rule.Field], v) {
				continue
			}
			m.fields[rule.Field] = append(m.fields[rule.Field], v)
			m.invalidUTF8 = m.invalidUTF8 || strings.ContainsRune(v, utf8.RuneError)
			switch m.format {
			case registry.FormatCSV:
				// CSV values are not escaped: unquoted they appear as they
				// are, quoted with every quote doubled.
				add(v)
				if strings.Contains(v, `"`) {
					add(strings.ReplaceAll(v, `"`, `""`))
				}
			default:
				// The value as it appears in JSON whose strings hold no
				// escapes. Not json.Marshal: it escapes &, < and >, which
				// most writers leave as they are.
				add(`"` + v + `"`)
			}
		}
	}
	return m
}

// Anonymizing makes Rewrite keep the subject's records with the listed
// fields blanked, instead of removing them: a JSON value becomes null, a CSV
// field empty. Every other byte of the record stays as it was.
func (m *Matcher) Anonymizing(fields []string) *Matcher {
	m.anonymize = fields
	return m
}

// Empty reports whether the subject has no value the source matches on, so
// that no record can match and no object needs reading.
func (m *Matcher) Empty() bool { return !m.whole && len(m.needles) == 0 }

// Scan reads one object's content (compressed, if the source is) and calls
// found with each of the subject's records, in order.
func (m *Matcher) Scan(r io.Reader, found func(row map[string]any) error) (Counts, error) {
	return m.stream(r, nil, found)
}

// Rewrite copies one object's content from r to w without the subject's
// records. Every other byte is copied as it was: for JSON Lines the other
// lines; for CSV the header and the other records, each with its quoting and
// line ending; for gzip the decompressed content, compressed again with the
// original gzip header. The exception is a JSON array: the kept elements keep
// their bytes and so do the whitespace and punctuation around them, except
// that a removed element goes with the separator before it (after it, for the
// first element). A JSON file that is one object is either kept whole or, when
// it is the subject's, has no other records (the caller deletes the object).
func (m *Matcher) Rewrite(r io.Reader, w io.Writer) (Counts, error) {
	return m.stream(r, w, nil)
}

// walker streams one format: it writes every byte that stays to w (when w is
// not nil) and calls found (when not nil) with the subject's records.
type walker func(r io.Reader, m *Matcher, w io.Writer, found func(map[string]any) error) (Counts, error)

var walkers = map[string]walker{
	registry.FormatJSONL: walkJSONL,
	registry.FormatCSV:   walkCSV,
	registry.FormatJSON:  walkJSON,
}

func (m *Matcher) stream(r io.Reader, w io.Writer, found func(map[string]any) error) (Counts, error) {
	walk, ok := walkers[m.format]
	if !ok {
		return Counts{}, apperr.E(apperr.Invalid, "The format of an S3 source is not supported.")
	}
	if !m.gzip {
		// Compressed data read as text would match nothing, silently.
		br := bufio.NewReader(r)
		if magic, _ := br.Peek(2); bytes.Equal(magic, gzipMagic) {
			return Counts{}, apperr.E(apperr.Invalid, "An S3 object is gzip-compressed but its source does not say so.")
		}
		return walk(br, m, w, found)
	}
	zr, err := gzip.NewReader(r)
	if errors.Is(err, io.EOF) {
		return Counts{}, nil // an empty object
	}
	if err != nil {
		return Counts{}, gzipError(err)
	}
	defer zr.Close()
	var zw *gzip.Writer
	if w != nil {
		zw = gzip.NewWriter(w)
		zw.Header = zr.Header
		w = zw
	}
	c, err := walk(zr, m, w, found)
	if err != nil {
		return c, gzipError(err)
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return c, err
		}
	}
	return c, nil
}

var gzipMagic = []byte{0x1f, 0x8b}

func gzipError(err error) error {
	if errors.Is(err, gzip.ErrHeader) || errors.Is(err, gzip.ErrChecksum) || errors.Is(err, io.ErrUnexpectedEOF) {
		return apperr.Wrap(apperr.Invalid, "An S3 object is not valid gzip.", err)
	}
	return err
}

// mayHoldJSON is the prefilter for JSON records: a record without any of the
// needles and without a backslash cannot hold the subject's values as strings
// (nor, unless a value holds U+FFFD, can one with invalid UTF-8).
func (m *Matcher) mayHoldJSON(rec []byte) bool {
	if m.whole || bytes.IndexByte(rec, '\\') >= 0 {
		return true
	}
	for _, n := range m.needles {
		if bytes.Contains(rec, n) {
			return true
		}
	}
	return m.invalidUTF8 && !utf8.Valid(rec)
}

// matchJSON reports whether rec, one JSON value, is one of the subject's
// records. Values that are not JSON objects cannot be attributed to anyone.
func (m *Matcher) matchJSON(rec []byte) (map[string]any, bool) {
	if !m.mayHoldJSON(rec) {
		return nil, false
	}
	row, ok := decodeRow(rec)
	if !ok {
		return nil, false
	}
	if m.whole {
		return row, true
	}
	for field, values := range m.fields {
		if s, ok := row[field].(string); ok && slices.Contains(values, s) {
			return row, true
		}
	}
	return nil, false
}

// decodeRow decodes the JSON object at the start of rec, numbers as they are.
func decodeRow(rec []byte) (map[string]any, bool) {
	var row map[string]any
	dec := json.NewDecoder(bytes.NewReader(rec))
	dec.UseNumber()
	if err := dec.Decode(&row); err != nil || row == nil {
		return nil, false
	}
	return row, true
}

// blank reports whether b holds nothing but JSON whitespace.
func blank(b []byte) bool { return len(bytes.TrimLeft(b, " \t\r\n")) == 0 }

// anonymizeJSON returns rec, one JSON object (with whatever whitespace
// surrounds it), with the values of the fields to anonymize made null. Only
// those values change; every other byte stays. Nested objects are values:
// a listed top-level field that holds one becomes null as a whole.
func (m *Matcher) anonymizeJSON(rec []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(rec))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, apperr.E(apperr.Invalid, "A record to anonymize is not a JSON object.")
	}
	var spans [][2]int64
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, jsonError(err)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, jsonError(err)
		}
		end := dec.InputOffset()
		if key, _ := t.(string); slices.Contains(m.anonymize, key) && string(raw) != "null" {
			spans = append(spans, [2]int64{end - int64(len(raw)), end})
		}
	}
	out := make([]byte, 0, len(rec))
	prev := int64(0)
	for _, s := range spans {
		out = append(append(out, rec[prev:s[0]]...), "null"...)
		prev = s[1]
	}
	return append(out, rec[prev:]...), nil
}
