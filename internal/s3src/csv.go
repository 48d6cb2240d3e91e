package s3src

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/privacy-pipeline/dsr/internal/apperr"
)

// walkCSV streams CSV (RFC 4180): the first record names the fields; quoted
// fields may hold commas, doubled quotes and line breaks; lines end in LF or
// CRLF. Field values are the bytes between the quotes with each doubled quote
// made one, nothing else changed (a CRLF inside quotes stays CRLF). A record
// whose quoting is broken cannot be attributed to anyone and is kept. An
// object whose header names none of the fields the source matches on is an
// error: its records could belong to the subject and cannot be told apart.
func walkCSV(r io.Reader, m *Matcher, w io.Writer, found func(map[string]any) error) (Counts, error) {
	var c Counts
	rr := newRecordReader(r)
	// A byte order mark (spreadsheets write one) is not part of the header.
	if bom, _ := rr.br.Peek(len(utf8BOM)); string(bom) == utf8BOM {
		if _, err := rr.br.Discard(len(utf8BOM)); err != nil {
			return c, err
		}
		if err := write(w, []byte(utf8BOM)); err != nil {
			return c, err
		}
	}
	rec, err := rr.next()
	if err == io.EOF {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	if w != nil {
		if _, err := w.Write(rec); err != nil {
			return c, err
		}
	}
	names, ok := parseRecord(rec, nil)
	if !ok {
		return c, apperr.E(apperr.Invalid, "The header row of a CSV object cannot be read.")
	}
	cols := m.columns(names)
	if len(cols) == 0 && !m.whole {
		return c, apperr.E(apperr.Invalid, "A CSV object has no column the registry matches on.")
	}
	var anon []int // the columns to blank in the subject's records
	for i, n := range names {
		if slices.Contains(m.anonymize, n) {
			anon = append(anon, i)
		}
	}
	var fields []string
	var lower []byte
	removed := 0 // lines a rewrite removed before the record
	for {
		line := rr.line
		rec, err := rr.next()
		if err == io.EOF {
			return c, nil
		}
		if err != nil {
			return c, err
		}
		var v verdict
		var d Doubt
		fields, lower, v, d = m.judgeCSV(rec, names, cols, fields, lower)
		switch v {
		case subject:
			c.Matched++
			if found != nil {
				if err := found(csvRow(names, fields)); err != nil {
					return c, err
				}
			}
			if m.anonymize != nil && w != nil {
				if _, err := w.Write(blankFields(rec, anon)); err != nil {
					return c, err
				}
			} else if w != nil {
				removed += bytes.Count(rec, []byte{'\n'})
			}
			continue
		case doubtful:
			d.Line = line - removed
			c.doubt(d)
		default:
			if len(trimEOL(rec)) > 0 {
				c.Others++
			}
		}
		if w != nil {
			if _, err := w.Write(rec); err != nil {
				return c, err
			}
		}
	}
}

const utf8BOM = "\ufeff"

// csvColumn is a column the source matches on, with its rules.
type csvColumn struct {
	index int
	rules []int
}

// columns returns the columns, by header, that the source matches on. A name
// used by several columns matches in each of them.
func (m *Matcher) columns(names []string) []csvColumn {
	var cols []csvColumn
	for i, n := range names {
		if rules, ok := m.byField[n]; ok {
			cols = append(cols, csvColumn{index: i, rules: rules})
		}
	}
	return cols
}

// judgeCSV decides about rec, one raw record, parsing it into fields
// (reusing their space, and lower's for the prefilter) only when it holds
// one of the needles. A record whose quoting is broken is doubtful if it
// holds one; a record that holds one of the subject's addresses in a column
// no rule matches on is doubtful too.
func (m *Matcher) judgeCSV(rec []byte, names []string, cols []csvColumn, fields []string, lower []byte) ([]string, []byte, verdict, Doubt) {
	if m.whole {
		fields, ok := parseRecord(rec, fields)
		switch {
		case len(trimEOL(rec)) == 0:
			return fields, lower, others, Doubt{}
		case !ok:
			return fields, lower, doubtful, Doubt{Reason: DoubtUnparseable}
		}
		return fields, lower, subject, Doubt{}
	}
	held, lower := m.holds(rec, lower)
	if !held {
		return fields, lower, others, Doubt{}
	}
	fields, ok := parseRecord(rec, fields)
	if !ok {
		return fields, lower, doubtful, Doubt{Reason: DoubtUnparseable}
	}
	for _, col := range cols {
		if col.index >= len(fields) {
			continue
		}
		for _, i := range col.rules {
			if m.rules[i].matchesText(fields[col.index]) {
				return fields, lower, subject, Doubt{}
			}
		}
	}
	email := rule{fold: true, trim: true}
	for i, f := range fields {
		if slices.Contains(m.emails, email.normal(f)) {
			name := fmt.Sprintf("column %d", i+1)
			if i < len(names) {
				name = fieldName(names[i])
			}
			return fields, lower, doubtful, Doubt{Reason: DoubtUnmatched, Field: name}
		}
	}
	return fields, lower, others, Doubt{}
}

// matchesText reports whether f, a field of text (CSV), is one of the rule's
// values: as text, or where the rule takes numbers, as a number of the same
// value (1001.0 for 1001).
func (r rule) matchesText(f string) bool {
	if slices.Contains(r.values, r.normal(f)) {
		return true
	}
	if r.num && isNumber(f) {
		for _, n := range r.numbers {
			if sameNumber(f, n) {
				return true
			}
		}
	}
	return false
}

// csvRow names the fields of a record by the header. Fields beyond the header,
// and second uses of a name, are named by their column ("column 7").
func csvRow(names, fields []string) map[string]any {
	row := make(map[string]any, len(fields))
	for i, f := range fields {
		name := fmt.Sprintf("column %d", i+1)
		if i < len(names) {
			if _, dup := row[names[i]]; !dup {
				name = names[i]
			}
		}
		row[name] = f
	}
	return row
}

// recordReader splits CSV into raw records: each record's bytes as they are,
// its line ending included, so that writing the records back reproduces the
// input byte for byte. A line break inside a quoted field continues the record.
type recordReader struct {
	br  *bufio.Reader
	rec []byte
	// line is the number of the line the next record starts on.
	line int
}

func newRecordReader(r io.Reader) *recordReader { return newRecordReaderSize(r, 256<<10) }

// newRecordReaderSize is newRecordReader with a read buffer of the given size
// (tests use small ones to reach the paths for records longer than it).
func newRecordReaderSize(r io.Reader, size int) *recordReader {
	return &recordReader{br: bufio.NewReaderSize(r, size), line: 1}
}

// Where the record reader is: outside quotes, inside a quoted field, or inside
// one just after a quote, which either ends the field or, doubled, is a quote.
const (
	outsideQuotes = iota
	insideQuotes
	afterQuote
)

// next returns the next raw record, valid until the next call, or io.EOF.
func (rr *recordReader) next() ([]byte, error) {
	rec, err := rr.read()
	rr.line += bytes.Count(rec, []byte{'\n'})
	return rec, err
}

func (rr *recordReader) read() ([]byte, error) {
	rr.rec = rr.rec[:0]
	state := outsideQuotes
	for {
		chunk, err := rr.br.ReadSlice('\n')
		full := errors.Is(err, bufio.ErrBufferFull)
		if err != nil && !full && err != io.EOF {
			return nil, err
		}
		// Most records are one line without quotes: no copy.
		if len(rr.rec) == 0 && !full && bytes.IndexByte(chunk, '"') < 0 {
			if len(chunk) == 0 {
				return nil, io.EOF
			}
			return chunk, nil
		}
		from := len(rr.rec)
		rr.rec = append(rr.rec, chunk...)
		if len(rr.rec) > maxRecord {
			return nil, apperr.E(apperr.Invalid, "A CSV record is longer than the limit.")
		}
		state = quoteState(rr.rec, from, state)
		if full || (state == insideQuotes && err == nil) {
			continue
		}
		if len(rr.rec) == 0 {
			return nil, io.EOF
		}
		return rr.rec, nil // at io.EOF, a record without a line ending
	}
}

// quoteState scans rec from i on, starting in state, and returns the state at
// its end. A quote opens a quoted field only at the start of a field; elsewhere
// outside quotes it is an ordinary byte.
func quoteState(rec []byte, i, state int) int {
	for i < len(rec) {
		switch state {
		case outsideQuotes:
			j := bytes.IndexByte(rec[i:], '"')
			if j < 0 {
				return outsideQuotes
			}
			i += j
			if i == 0 || rec[i-1] == ',' {
				state = insideQuotes
			}
			i++
		case insideQuotes:
			j := bytes.IndexByte(rec[i:], '"')
			if j < 0 {
				return insideQuotes
			}
			i += j + 1
			state = afterQuote
		case afterQuote:
			if rec[i] == '"' {
				state = insideQuotes
				i++
			} else {
				state = outsideQuotes
			}
		}
	}
	return state
}

// trimEOL removes a record's line ending (LF or CRLF).
func trimEOL(rec []byte) []byte {
	rec = bytes.TrimSuffix(rec, []byte("\n"))
	return bytes.TrimSuffix(rec, []byte("\r"))
}

// parseRecord splits one raw record into its fields, reusing dst. It reports
// false for a record whose quoting is broken: a quoted field that does not end,
// or that ends with something other than a comma or the end of the record. A
// quote inside an unquoted field is an ordinary byte.
func parseRecord(rec []byte, dst []string) ([]string, bool) {
	rec = trimEOL(rec)
	fields := dst[:0]
	var buf []byte
	for i := 0; ; {
		if i < len(rec) && rec[i] == '"' {
			buf = buf[:0]
			i++
			for {
				j := bytes.IndexByte(rec[i:], '"')
				if j < 0 {
					return fields, false
				}
				buf = append(buf, rec[i:i+j]...)
				i += j + 1
				if i < len(rec) && rec[i] == '"' {
					buf = append(buf, '"')
					i++
					continue
				}
				break
			}
			fields = append(fields, string(buf))
			if i == len(rec) {
				return fields, true
			}
			if rec[i] != ',' {
				return fields, false
			}
			i++
			continue
		}
		j := bytes.IndexByte(rec[i:], ',')
		if j < 0 {
			return append(fields, string(rec[i:])), true
		}
		fields = append(fields, string(rec[i:i+j]))
		i += j + 1
	}
}

// blankFields returns rec, one raw record whose quoting is sound, with the
// fields at the given columns made empty (a quoted field loses its quotes
// too). Every other byte, the line ending included, stays as it was.
func blankFields(rec []byte, columns []int) []byte {
	body := trimEOL(rec)
	var out []byte
	col, start := 0, 0 // the current field starts at body[start]
	for i := 0; ; {
		end := fieldEnd(body, i)
		if slices.Contains(columns, col) {
			out = append(out, body[start:i]...)
			start = end
		}
		if end >= len(body) {
			break
		}
		i = end + 1 // past the comma
		col++
	}
	out = append(out, body[start:]...)
	return append(out, rec[len(body):]...)
}

// fieldEnd returns where the field starting at body[i] ends: the index of
// the comma after it, or len(body).
func fieldEnd(body []byte, i int) int {
	if i < len(body) && body[i] == '"' {
		for i++; i < len(body); i++ {
			if body[i] == '"' {
				if i+1 < len(body) && body[i+1] == '"' {
					i++
					continue
				}
				i++
				break
			}
		}
	}
	if j := bytes.IndexByte(body[i:], ','); j >= 0 {
		return i + j
	}
	return len(body)
}
