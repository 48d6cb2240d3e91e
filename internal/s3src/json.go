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

// walkJSONArray walks the elements of an array with json.Decoder, one element
// in memory at a time. To rewrite, it records the bytes the decoder reads so
// that the whitespace and commas between elements can be copied too: element
// i is preceded by gap i (for i > 0: whitespace, a comma, whitespace). A kept
// element is written with its own gap, except that the first element written
// takes gap 0, which holds no comma.
func walkJSONArray(r io.Reader, lead []byte, m *Matcher, w io.Writer, found func(map[string]any) error) (Counts, error) {
	var c Counts
	rec := &recorder{r: r, on: w != nil}
	dec := json.NewDecoder(rec)
	if _, err := dec.Token(); err != nil { // the '['
		return c, jsonError(err)
	}
	prev := dec.InputOffset() // the end of the '[' or of the last element
	if err := write(w, lead, rec.bytes(0, prev)); err != nil {
		return c, err
	}
	var gap0 []byte
	written := false
	for i := 0; dec.More(); i++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return c, jsonError(err)
		}
		end := dec.InputOffset()
		row, matched := m.matchJSON(raw)
		if matched {
			c.Matched++
			if found != nil {
				if err := found(row); err != nil {
					return c, err
				}
			}
		} else {
			c.Others++
		}
		if w != nil {
			gap := rec.bytes(prev, end-int64(len(raw)))
			if i == 0 {
				gap0 = bytes.Clone(gap)
			}
			if !matched {
				if !written {
					gap = gap0
				}
				if err := write(w, gap, raw); err != nil {
					return c, err
				}
				written = true
			}
		}
		rec.discard(end)
		prev = end
	}
	if _, err := dec.Token(); err != nil { // the ']'
		return c, jsonError(err)
	}
	if err := write(w, rec.bytes(prev, dec.InputOffset())); err != nil {
		return c, err
	}
	return c, trailingSpace(io.MultiReader(dec.Buffered(), r), w)
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
	if m.mayHoldJSON(data) {
		dec := json.NewDecoder(bytes.NewReader(data))
		var obj json.RawMessage
		if err := dec.Decode(&obj); err != nil {
			return Counts{}, jsonError(err)
		}
		if !blank(data[dec.InputOffset():]) {
			return Counts{}, apperr.E(apperr.Invalid, "A json S3 object holds more than one JSON value.")
		}
		if row, ok := m.matchJSON(obj); ok {
			if found != nil {
				if err := found(row); err != nil {
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
	return Counts{Others: 1}, nil
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

// recorder keeps the bytes a reader returned (when on), so that the bytes
// between two offsets of the decoder can be read back, and bounds how much may
// be read past the last discarded offset: about one element of an array.
type recorder struct {
	r     io.Reader
	on    bool
	buf   []byte
	start int64 // offset of buf[0]
	base  int64 // bytes before this offset are no longer needed
	read  int64 // bytes read so far
}

func (rc *recorder) Read(p []byte) (int, error) {
	if rc.read-rc.base > maxRecord {
		return 0, apperr.E(apperr.Invalid, "An element of a JSON array is larger than the limit.")
	}
	// Small reads keep the decoder from reading far past the element.
	if len(p) > recorderChunk {
		p = p[:recorderChunk]
	}
	n, err := rc.r.Read(p)
	rc.read += int64(n)
	if rc.on {
		rc.buf = append(rc.buf, p[:n]...)
	}
	return n, err
}

const recorderChunk = 64 << 10

// bytes returns the recorded bytes from offset from to offset to.
func (rc *recorder) bytes(from, to int64) []byte {
	if !rc.on {
		return nil
	}
	return rc.buf[from-rc.start : to-rc.start]
}

// discard forgets the bytes before offset off. The buffer is compacted only
// when most of it is forgotten, so each byte is moved about once.
func (rc *recorder) discard(off int64) {
	rc.base = off
	if dead := int(off - rc.start); rc.on && dead > len(rc.buf)/2 {
		n := copy(rc.buf, rc.buf[dead:])
		rc.buf = rc.buf[:n]
		rc.start = off
	}
}
