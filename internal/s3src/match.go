package s3src

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"math/big"
	"regexp"
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
// which a field the registry matches on holds one of the subject's values of
// the identity it names, compared as the match rule says (letter case and
// surrounding spaces ignored for email addresses; "1001" and 1001 alike for
// ids, unless the rule asks for one type). It also notices the records it
// cannot attribute although they may be the subject's (see Doubt). It works on
// readers and writers, so it runs without S3.
type Matcher struct {
	format string
	gzip   bool
	// needles are the prefilter: every record that belongs to the subject,
	// or that raises a doubt, holds at least one of them (for JSON, also
	// records with a backslash are parsed: an escape may spell a value).
	needles []needle
	// folded: some needle is searched in the text with ASCII letters made
	// lower case.
	folded bool
	// invalidUTF8: a value holds U+FFFD, which is what a JSON decoder makes
	// of invalid UTF-8, so records with invalid UTF-8 are parsed too.
	invalidUTF8 bool
	rules       []rule
	byField     map[string][]int // field -> its rules
	// emails are the subject's addresses, trimmed and lower case: a record
	// that holds one in a field no rule matches on is a doubt.
	emails []string
	// anonymize, when set, makes Rewrite keep the subject's records with
	// these fields blanked instead of removing the records.
	anonymize []string
	// whole: every record is the subject's (a key template source, whose
	// objects are all under the subject's own folder).
	whole bool
}

// rule is one match rule with the subject's values as it compares them.
type rule struct {
	field      string
	values     []string // trimmed and lower case where the rule says
	numbers    []string // the values that are numbers, where numbers match
	fold, trim bool
	str, num   bool
}

// needle is a byte string the prefilter looks for. A folded needle is looked
// for in text whose ASCII letters were made lower case; a number needle only
// where a JSON number starts and ends (after ':', ',' or '[', and before
// anything but a digit).
type needle struct {
	b    []byte
	kind needleKind
	// anchor, for a folded needle, is the index in b of a byte that has no
	// letter case ('@', a digit): it is searched for in the text as it is,
	// and the needle compared around it. Without one (-1), the needle is
	// searched for in the lowered text.
	anchor int
}

type needleKind uint8

const (
	exactNeedle needleKind = iota
	foldedNeedle
	numberNeedle
)

// Doubt is a record that may be the subject's but that the matcher cannot
// attribute: it does not parse although it holds one of the subject's values
// (DoubtUnparseable), or it parses and holds one of them where no match rule
// looks (DoubtUnmatched: an address in another field, an id in a nested
// object or of a type the rule excludes). Line is the line the record starts
// on (JSON Lines, CSV), Record its number among the object's records (JSON
// arrays); Field names where the value is, by field names only.
type Doubt struct {
	Line   int
	Record int
	// RowGroup and Row place a row of a Parquet object, both counted from 1.
	RowGroup, Row int
	Reason        string
	Field         string
}

// Reasons for a doubt.
const (
	DoubtUnparseable = "unparseable"
	DoubtUnmatched   = "unmatched_field"
)

// maxDoubts bounds the doubts kept per object; Counts.Doubtful counts all.
const maxDoubts = 100

// Counts says what a scan or a rewrite met: the subject's records (Matched;
// removed by a rewrite), the other records (Others; kept) and the records
// that may be the subject's but could not be attributed (Doubtful, kept; the
// first maxDoubts of them in Doubts). A CSV header, blank lines and the
// punctuation of a JSON array are not records.
type Counts struct {
	Matched, Others, Doubtful int
	Doubts                    []Doubt
	// Unrewritable, when set, says why the object cannot be rewritten
	// although it may hold the subject (a Parquet page that cannot be read
	// would be lost): it is left as it is, for an operator.
	Unrewritable string
}

func (c *Counts) doubt(d Doubt) {
	c.Doubtful++
	if len(c.Doubts) < maxDoubts {
		c.Doubts = append(c.Doubts, d)
	}
}

// NewMatcher prepares the prefilter and the field rules of a source for the
// subject's identities. Empty values identify no one and are ignored.
func NewMatcher(src *registry.S3Source, ids map[string][]string) *Matcher {
	m := &Matcher{format: src.Format, gzip: src.Compression == registry.CompressionGzip, byField: map[string][]int{}, whole: src.Templated()}
	for _, mr := range src.Match {
		r := rule{field: mr.Field, fold: mr.FoldsCase(), trim: mr.TrimsSpace(), str: mr.Strings(), num: mr.Numbers()}
		for _, v := range ids[mr.Identity] {
			if v = r.normal(v); v == "" || slices.Contains(r.values, v) {
				continue
			}
			r.values = append(r.values, v)
			if r.num && isNumber(v) {
				r.numbers = append(r.numbers, v)
			}
			m.invalidUTF8 = m.invalidUTF8 || strings.ContainsRune(v, utf8.RuneError)
			m.addNeedles(r, v)
		}
		if len(r.values) > 0 {
			m.byField[r.field] = append(m.byField[r.field], len(m.rules))
			m.rules = append(m.rules, r)
		}
	}
	if len(m.rules) == 0 {
		return m // nothing to find here, and no reason to read for doubts
	}
	email := rule{fold: true, trim: true}
	for _, v := range ids[registry.StartIdentity] {
		if v = email.normal(v); v != "" && !slices.Contains(m.emails, v) {
			m.emails = append(m.emails, v)
			m.addFolded(v)
		}
	}
	return m
}

// normal is v as the rule compares it.
func (r rule) normal(v string) string {
	if r.trim {
		v = strings.TrimSpace(v)
	}
	if r.fold {
		v = strings.ToLower(v)
	}
	return v
}

// addNeedles adds the needles that find v, a value of r, in the source's format.
func (m *Matcher) addNeedles(r rule, v string) {
	if r.fold || r.trim {
		m.addFolded(v)
	} else if m.format == registry.FormatCSV || m.format == registry.FormatParquet {
		// CSV values are not escaped: unquoted they appear as they are,
		// quoted with every quote doubled. Parquet's are not either.
		m.add(needle{b: []byte(v)})
		if strings.Contains(v, `"`) {
			m.add(needle{b: []byte(strings.ReplaceAll(v, `"`, `""`))})
		}
	} else {
		// The value as it appears in JSON whose strings hold no escapes.
		// Not json.Marshal: it escapes &, < and >, which most writers
		// leave as they are. A rule for numbers only still looks for it:
		// a string where a number belongs is a doubt.
		m.add(needle{b: []byte(`"` + v + `"`)})
	}
	if isNumber(v) && m.format != registry.FormatCSV && m.format != registry.FormatParquet {
		m.add(needle{b: []byte(v), kind: numberNeedle})
	}
}

// addFolded adds a needle for v (lower case) in text whose ASCII letters are
// made lower case: the longest run of v's ASCII bytes, since letters beyond
// ASCII may be written in either case. Two letters beyond ASCII become ASCII
// letters in lower case (U+0130 and the Kelvin sign): a record holding one
// is parsed too.
func (m *Matcher) addFolded(v string) {
	run, best := 0, ""
	for i := 0; i <= len(v); i++ {
		if i < len(v) && v[i] < utf8.RuneSelf {
			continue
		}
		if i-run > len(best) {
			best = v[run:i]
		}
		run = i + 1
	}
	if best == "" {
		m.add(needle{b: []byte{}}) // every record may hold v
		return
	}
	n := needle{b: []byte(best), kind: foldedNeedle, anchor: anchorIn(best)}
	m.folded = m.folded || n.anchor < 0
	m.add(n)
	if strings.ContainsAny(v, "ik") {
		m.add(needle{b: []byte("\u0130")})
		m.add(needle{b: []byte("\u212a")})
	}
}

// anchorIn picks the byte of a folded needle to search for first: an '@'
// (rare in text, and in every address), else a digit, else any other byte
// that is not a letter; -1 if every byte is a letter.
func anchorIn(v string) int {
	if i := strings.IndexByte(v, '@'); i >= 0 {
		return i
	}
	if i := strings.IndexAny(v, "0123456789"); i >= 0 {
		return i
	}
	return strings.IndexFunc(v, func(r rune) bool { return !('a' <= r && r <= 'z') })
}

func (m *Matcher) add(n needle) {
	for _, o := range m.needles {
		if o.kind == n.kind && bytes.Equal(o.b, n.b) {
			return
		}
	}
	m.needles = append(m.needles, n)
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
func (m *Matcher) Empty() bool { return !m.whole && len(m.rules) == 0 }

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
	if m.format == registry.FormatParquet {
		return m.parquetStream(r, w, found)
	}
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

// parquetStream scans or rewrites a Parquet object given as a reader that
// can also be read at any offset (a bytes.Reader, a file): Parquet is read
// by ranges, never as a stream (the adapter reads S3 objects by ranges).
func (m *Matcher) parquetStream(r io.Reader, w io.Writer, found func(map[string]any) error) (Counts, error) {
	ra, ok := r.(interface {
		io.ReaderAt
		io.Seeker
	})
	if !ok {
		return Counts{}, apperr.E(apperr.Internal, "A Parquet object is read by ranges, not as a stream.")
	}
	size, err := ra.Seek(0, io.SeekEnd)
	if err != nil {
		return Counts{}, err
	}
	if w == nil {
		return m.ScanParquet(ra, size, found)
	}
	return m.RewriteParquet(ra, size, w)
}

func gzipError(err error) error {
	if errors.Is(err, gzip.ErrHeader) || errors.Is(err, gzip.ErrChecksum) || errors.Is(err, io.ErrUnexpectedEOF) {
		return apperr.Wrap(apperr.Invalid, "An S3 object is not valid gzip.", err)
	}
	return err
}

// find returns the index of the first occurrence of n in data at or after
// from, or -1. lower is data with its ASCII letters made lower case (for
// folded needles; nil when the matcher has none).
func (n needle) find(data, lower []byte, from int) int {
	switch n.kind {
	case foldedNeedle:
		if n.anchor >= 0 {
			return n.findAnchored(data, from)
		}
		if k := bytes.Index(lower[from:], n.b); k >= 0 {
			return from + k
		}
		return -1
	case numberNeedle:
		for from <= len(data) {
			k := bytes.Index(data[from:], n.b)
			if k < 0 {
				return -1
			}
			at := from + k
			if numberAt(data, at, at+len(n.b)) {
				return at
			}
			from = at + 1
		}
		return -1
	}
	if k := bytes.Index(data[from:], n.b); k >= 0 {
		return from + k
	}
	return -1
}

// findAnchored finds a folded needle by its anchor byte.
func (n needle) findAnchored(data []byte, from int) int {
	a := n.b[n.anchor]
	for i := from + n.anchor; i < len(data); {
		k := bytes.IndexByte(data[i:], a)
		if k < 0 {
			return -1
		}
		at := i + k - n.anchor
		if at+len(n.b) <= len(data) && equalLowerASCII(data[at:at+len(n.b)], n.b) {
			return at
		}
		i += k + 1
	}
	return -1
}

// equalLowerASCII reports whether text, with its ASCII letters made lower
// case, is lower.
func equalLowerASCII(text, lower []byte) bool {
	for i, b := range text {
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if b != lower[i] {
			return false
		}
	}
	return true
}

// numberAt reports whether data[from:to] may be the start of a JSON number
// value: after ':', ',' or '[' (and whitespace) and not followed by a digit.
func numberAt(data []byte, from, to int) bool {
	if to < len(data) && data[to] >= '0' && data[to] <= '9' {
		return false
	}
	for i := from - 1; i >= 0; i-- {
		switch data[i] {
		case ' ', '\t', '\r', '\n':
			continue
		case ':', ',', '[':
			return true
		}
		return false
	}
	return false
}

// lowerASCII writes src to dst (grown as needed) with its ASCII letters made
// lower case, and returns dst. It works on eight bytes at a time: for each
// byte below 0x80, adding 0x80-'A' sets its top bit when it is at least 'A',
// adding 0x80-'Z'-1 when it is above 'Z'; an upper-case letter gets 0x20.
func lowerASCII(dst, src []byte) []byte {
	dst = slices.Grow(dst[:0], len(src))[:len(src)]
	const (
		ones = 0x0101010101010101
		high = 0x8080808080808080
	)
	i := 0
	for ; i+8 <= len(src); i += 8 {
		w := binary.LittleEndian.Uint64(src[i:])
		low := w &^ high
		upper := (low + ones*(0x80-'A')) &^ (low + ones*(0x80-'Z'-1)) &^ w & high
		binary.LittleEndian.PutUint64(dst[i:], w|upper>>2)
	}
	for ; i < len(src); i++ {
		b := src[i]
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		dst[i] = b
	}
	return dst
}

// holds reports whether rec holds one of the needles. lower is scratch space
// for the folded needles; it is returned, grown as needed.
func (m *Matcher) holds(rec, lower []byte) (bool, []byte) {
	if m.folded {
		lower = lowerASCII(lower, rec)
	}
	for _, n := range m.needles {
		if n.find(rec, lower, 0) >= 0 {
			return true, lower
		}
	}
	return false, lower
}

// mayHoldJSON is the prefilter for JSON records: a record without any of the
// needles and without a backslash cannot hold the subject's values (nor,
// unless a value holds U+FFFD, can one with invalid UTF-8).
func (m *Matcher) mayHoldJSON(rec []byte) bool {
	if m.whole || bytes.IndexByte(rec, '\\') >= 0 {
		return true
	}
	if ok, _ := m.holds(rec, nil); ok {
		return true
	}
	return m.invalidUTF8 && !utf8.Valid(rec)
}

// verdict is what the matcher makes of one record.
type verdict uint8

const (
	others   verdict = iota // nobody the matcher looks for
	subject                 // the subject's
	doubtful                // maybe the subject's (see Doubt)
)

// judgeJSON decides about rec, one JSON value: the subject's (with the
// record parsed), someone else's, or doubtful (with the doubt's reason and
// field). Records the prefilter rejects are others' unparsed.
func (m *Matcher) judgeJSON(rec []byte) (map[string]any, verdict, Doubt) {
	if !m.mayHoldJSON(rec) {
		return nil, others, Doubt{}
	}
	return m.judgeHeld(rec)
}

// judgeHeld is judgeJSON for a record the prefilter let through.
func (m *Matcher) judgeHeld(rec []byte) (map[string]any, verdict, Doubt) {
	row, ok := decodeRow(rec)
	if !ok {
		if blank(rec) {
			return nil, others, Doubt{}
		}
		if m.whole {
			return nil, doubtful, Doubt{Reason: DoubtUnparseable}
		}
		if held, _ := m.holds(rec, nil); held {
			return nil, doubtful, Doubt{Reason: DoubtUnparseable}
		}
		return nil, others, Doubt{}
	}
	if m.whole || m.isSubject(row) {
		return row, subject, Doubt{}
	}
	if field, ok := m.holder(row); ok {
		return nil, doubtful, Doubt{Reason: DoubtUnmatched, Field: field}
	}
	return nil, others, Doubt{}
}

// matchJSON reports whether rec, one JSON value, is one of the subject's
// records. Values that are not JSON objects cannot be attributed to anyone.
func (m *Matcher) matchJSON(rec []byte) (map[string]any, bool) {
	row, v, _ := m.judgeJSON(rec)
	return row, v == subject
}

// isSubject reports whether a field a rule names holds one of the subject's
// values as the rule compares them.
func (m *Matcher) isSubject(row map[string]any) bool {
	for field, idx := range m.byField {
		v, ok := row[field]
		if !ok {
			continue
		}
		for _, i := range idx {
			if m.rules[i].matches(v, false) {
				return true
			}
		}
	}
	return false
}

// matches reports whether v, a JSON value decoded with numbers as they are,
// is one of the rule's values. Loose matching ignores the rule's type.
func (r rule) matches(v any, loose bool) bool {
	switch v := v.(type) {
	case string:
		return (r.str || loose) && slices.Contains(r.values, r.normal(v))
	case json.Number:
		if !r.num && !loose {
			return false
		}
		for _, n := range r.numbers {
			if sameNumber(string(v), n) {
				return true
			}
		}
		if loose { // a number where the rule wants a string
			return slices.Contains(r.values, string(v))
		}
	}
	return false
}

// maxHolderDepth bounds how deep holder looks into nested values.
const maxHolderDepth = 16

// holder reports whether a record that is not the subject's still holds one
// of her values where no rule looks: one of her addresses anywhere (as a
// value or as a field name), or a field a rule names, nested deeper or
// holding a value of a type the rule excludes. It returns where, by field
// names; a name that is not a plain identifier is shown as "*", so that
// no value is ever shown.
func (m *Matcher) holder(row map[string]any) (string, bool) {
	var walk func(v any, path string, depth int) (string, bool)
	walk = func(v any, path string, depth int) (string, bool) {
		if depth > maxHolderDepth {
			return "", false
		}
		switch v := v.(type) {
		case string:
			email := rule{fold: true, trim: true}
			if slices.Contains(m.emails, email.normal(v)) {
				return path, true
			}
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(v)) {
				name := fieldName(k)
				if slices.Contains(m.emails, strings.ToLower(strings.TrimSpace(k))) {
					return join(path, "{email}"), true
				}
				for _, i := range m.byField[k] {
					if m.rules[i].matches(v[k], true) {
						return join(path, name), true
					}
				}
				if p, ok := walk(v[k], join(path, name), depth+1); ok {
					return p, true
				}
			}
		case []any:
			for _, e := range v {
				if p, ok := walk(e, path+"[]", depth+1); ok {
					return p, true
				}
			}
		}
		return "", false
	}
	return walk(row, "", 0)
}

var plainName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// fieldName is a field's name as a doubt shows it.
func fieldName(k string) string {
	if plainName.MatchString(k) {
		return k
	}
	return "*"
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// sameNumber compares two decimal numbers by value (1001 and 1001.0).
func sameNumber(a, b string) bool {
	if a == b {
		return true
	}
	if !isNumber(a) || !isNumber(b) {
		return false // and no exponent reaches big.Rat
	}
	x, okx := new(big.Rat).SetString(a)
	y, oky := new(big.Rat).SetString(b)
	return okx && oky && x.Cmp(y) == 0
}

// isNumber reports whether s is a decimal number as JSON writes one, without
// an exponent: -?digits(.digits)?, at most 40 digits.
func isNumber(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" || len(s) > 41 {
		return false
	}
	dot := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
		case c == '.' && !dot && i > 0 && i < len(s)-1:
			dot = true
		default:
			return false
		}
	}
	return true
}

// decodeRow decodes the JSON object at the start of rec, numbers as they
// are. A byte order mark before it (files joined together keep theirs) is
// not part of it.
func decodeRow(rec []byte) (map[string]any, bool) {
	rec = bytes.TrimPrefix(bytes.TrimLeft(rec, " \t\r\n"), []byte(utf8BOM))
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
