package s3src

import (
	"bufio"
	"bytes"
	"io"

	"github.com/privacy-pipeline/dsr/internal/apperr"
)

// blockSize is the size of the blocks JSON Lines are read in.
const blockSize = 256 << 10

// walkJSONL streams JSON Lines. Lines that are not JSON objects are kept and
// attributed to no one, unless they hold one of the subject's values: then
// they are doubts (see Doubt), named by their line in the output of a
// rewrite (in the input of a scan). A byte order mark at the start is kept and is
// not part of the first line's record. The prefilter runs on blocks of lines,
// not line by line: each needle is searched for once per block, and only the
// lines that hold an occurrence are parsed.
func walkJSONL(r io.Reader, m *Matcher, w io.Writer, found func(map[string]any) error) (Counts, error) {
	return walkJSONLSize(r, blockSize, m, w, found)
}

// walkJSONLSize is walkJSONL with blocks of the given size.
func walkJSONLSize(r io.Reader, size int, m *Matcher, w io.Writer, found func(map[string]any) error) (Counts, error) {
	var c Counts
	br := bufio.NewReaderSize(r, len(utf8BOM))
	if bom, _ := br.Peek(len(utf8BOM)); string(bom) == utf8BOM {
		if _, err := br.Discard(len(utf8BOM)); err != nil {
			return c, err
		}
		if err := write(w, []byte(utf8BOM)); err != nil {
			return c, err
		}
	}
	h := &hits{m: m, next: make([]int, len(m.needles)+1)}
	line := 1 // the number of the block's first line
	// removed counts the lines a rewrite removed: a doubt names its line in
	// the object as it is after the rewrite, where an operator looks.
	removed := 0
	err := eachBlock(br, size, func(block []byte) error {
		h.reset(block)
		kept := 0              // block[kept:] is still to be written
		counted, at := 0, line // block[:counted] holds the lines before line number at
		for ls := 0; ls < len(block); {
			le := len(block)
			if i := bytes.IndexByte(block[ls:], '\n'); i >= 0 {
				le = ls + i + 1
			}
			rec := block[ls:le]
			if h.within(ls, le) {
				row, v, d := m.judgeHeld(rec)
				switch v {
				case subject:
					c.Matched++
					if err := write(w, block[kept:ls]); err != nil {
						return err
					}
					kept = le
					if w != nil && m.anonymize == nil {
						removed++
					}
					if m.anonymize != nil && w != nil {
						anon, err := m.anonymizeJSON(rec)
						if err != nil {
							return err
						}
						if err := write(w, anon); err != nil {
							return err
						}
					}
					if found != nil {
						if err := found(row); err != nil {
							return err
						}
					}
					ls = le
					continue
				case doubtful:
					at += bytes.Count(block[counted:ls], []byte{'\n'})
					counted = ls
					d.Line = at - removed
					c.doubt(d)
					ls = le
					continue
				}
			}
			if !isSpace(rec[0]) || !blank(rec) {
				c.Others++
			}
			ls = le
		}
		line = at + bytes.Count(block[counted:], []byte{'\n'})
		return write(w, block[kept:])
	})
	return c, err
}

// hits says which lines of a block hold a needle, a backslash or (when a
// value holds U+FFFD) possibly invalid UTF-8: the lines the prefilter passes.
// It searches each needle from where its last occurrence was, so a block is
// searched once per needle however many lines it has.
type hits struct {
	m     *Matcher
	block []byte
	lower []byte // block with ASCII letters in lower case, for folded needles
	next  []int  // per needle, then the backslash: next occurrence, len(block) if none
}

func (h *hits) reset(block []byte) {
	h.block = block
	if h.m.folded {
		h.lower = lowerASCII(h.lower, block)
	}
	for i := range h.next {
		h.next[i] = -1
	}
}

// within reports whether the prefilter passes block[from:to], one line. Lines
// are asked about in order.
func (h *hits) within(from, to int) bool {
	if h.m.invalidUTF8 || h.m.whole {
		return h.m.mayHoldJSON(h.block[from:to])
	}
	for i, at := range h.next {
		if at < from {
			k := -1
			if i < len(h.m.needles) {
				k = h.m.needles[i].find(h.block, h.lower, from)
			} else if j := bytes.IndexByte(h.block[from:], '\\'); j >= 0 {
				k = from + j
			}
			at = len(h.block)
			if k >= 0 {
				at = k
			}
			h.next[i] = at
		}
		if at < to {
			return true
		}
	}
	return false
}

// eachLine calls fn with every line of r, its line ending included, so that
// writing the lines back reproduces the input byte for byte. The line is valid
// until fn returns.
func eachLine(r io.Reader, fn func(line []byte) error) error {
	return eachLineSize(r, blockSize, fn)
}

// eachLineSize is eachLine with blocks of the given size (tests use small
// ones to reach the paths for long lines).
func eachLineSize(r io.Reader, size int, fn func(line []byte) error) error {
	return eachBlock(r, size, func(block []byte) error {
		for len(block) > 0 {
			n := len(block)
			if i := bytes.IndexByte(block, '\n'); i >= 0 {
				n = i + 1
			}
			if err := fn(block[:n]); err != nil {
				return err
			}
			block = block[n:]
		}
		return nil
	})
}

// eachBlock calls fn with r in blocks of whole lines, in order, each valid
// until fn returns: every block ends with a line ending, except the last when
// r does not. A block is about size bytes; a longer line gets a larger block,
// up to maxRecord.
func eachBlock(r io.Reader, size int, fn func(block []byte) error) error {
	buf := make([]byte, size)
	n := 0 // bytes in buf
	for {
		var err error
		for n < len(buf) && err == nil {
			var k int
			k, err = r.Read(buf[n:])
			n += k
		}
		if err == io.EOF {
			if n == 0 {
				return nil
			}
			return fn(buf[:n])
		}
		if err != nil {
			return err
		}
		j := bytes.LastIndexByte(buf, '\n')
		if j < 0 {
			if len(buf) >= maxRecord {
				return apperr.E(apperr.Invalid, "A line is longer than the limit.")
			}
			buf = append(buf, make([]byte, len(buf))...)
			continue
		}
		if err := fn(buf[:j+1]); err != nil {
			return err
		}
		n = copy(buf, buf[j+1:])
	}
}
