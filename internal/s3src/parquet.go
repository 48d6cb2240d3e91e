package s3src

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"

	"github.com/privacy-pipeline/dsr/internal/apperr"
)

// Parquet objects are read by ranges (io.ReaderAt): the footer first, then
// row group by row group. Within a row group the prefilter reads only the
// columns that can hold one of the subject's values (text; numbers when she
// has a number among her values), searches the text of each page as a whole
// (a dictionary page once for every page that uses it), and notes the rows
// that hold a needle. Only a row group with such rows is read row by row,
// and only those rows are assembled and judged as JSON records are (see
// parquetrow.go). A rewrite copies every other row group as it is (the
// library copies the column chunks' bytes where its configuration matches
// the file's, and encodes them again otherwise) and writes the rows of the
// others but the subject's, flushing one row group for each read.

// unreadablePage is why an object with a page that cannot be read is not
// rewritten: the page, which may be anyone's, would be lost.
const unreadablePage = "A page of the Parquet object cannot be read; a rewrite would lose it."

// pageBuffersInMemory is the largest row group whose pages a rewrite holds
// in memory as it writes them (a variable for the tests).
var pageBuffersInMemory int64 = 16 << 20

// pqReadBuffer is how much the library reads at a time from a column chunk,
// for every column of a row group at once: the row group is in memory
// already (Window), so a small buffer costs no requests.
const pqReadBuffer = 64 << 10

// windower is a reader that can hold a span of the object in memory: one
// row group, read in one request instead of many (see rangedObject).
type windower interface {
	Window(off, n int64, chunks [][2]int64)
}

// failer is a reader that remembers why a read failed (the network, not the
// object): such a failure is an outage to retry, never a damaged object.
type failer interface {
	Failure() error
}

// ScanParquet reads one Parquet object through r (of size bytes) and calls
// found with each of the subject's rows, in order.
func (m *Matcher) ScanParquet(r io.ReaderAt, size int64, found func(row map[string]any) error) (Counts, error) {
	return m.parquet(r, size, nil, found)
}

// RewriteParquet writes the Parquet object read through r to w without the
// subject's rows (or with them anonymized): the same schema, key-value
// metadata, column codecs and encodings and data page version; a row group
// for each row group read that keeps a row, holding the rows it had but the
// subject's. Statistics, page indexes and bloom filters are those of the rows
// written. The caller must not rewrite an object whose scan said it cannot be
// (Counts.Unrewritable).
func (m *Matcher) RewriteParquet(r io.ReaderAt, size int64, w io.Writer) (Counts, error) {
	return m.parquet(r, size, w, nil)
}

// pqWork is one scan or rewrite of a Parquet object.
type pqWork struct {
	m      *Matcher
	r      io.ReaderAt
	size   int64
	f      *parquet.File
	schema *pqSchema
	nums   pqNumbers
	c      Counts
	// lower is scratch space for the folded needles, check for the checks
	// of pages.
	lower []byte
	check *pageCheck
	// out, in a rewrite, is the writer, sink what it writes to, and
	// groups the row groups written.
	//lint:ignore SA1019 the schema is the file's, known only as it is read; the generic writer rewrites some files of other writers differently
	out    *parquet.Writer
	sink   *sink
	groups int
	// anon are the leaf columns to null in the subject's rows, by top-level
	// field (anonymizing).
	anon []*pqNode
}

func (m *Matcher) parquet(r io.ReaderAt, size int64, w io.Writer, found func(map[string]any) error) (c Counts, err error) {
	p := &pqWork{m: m, r: r, size: size}
	defer func() {
		// The library can panic on a damaged file; no panic may end the
		// work unnoticed, and a failure of the network is not damage.
		if v := recover(); v != nil {
			err = p.damaged(fmt.Errorf("%v", v))
			if p.out != nil {
				err = p.writeError(err)
			}
			c = p.c
		}
	}()
	if err := p.open(size); err != nil {
		return p.c, err
	}
	if w != nil {
		if err := p.writer(w); err != nil {
			return p.c, err
		}
	}
	for g, rg := range p.f.RowGroups() {
		if err := p.group(g, rg, found); err != nil {
			return p.c, err
		}
		if p.c.Unrewritable != "" && p.out != nil {
			return p.c, ErrUnrewritable
		}
	}
	if p.m.anonymize != nil && p.c.Matched > 0 && p.c.Unrewritable == "" {
		p.c.Unrewritable = p.anonymizable()
	}
	if p.out != nil {
		if err := p.out.Close(); err != nil {
			return p.c, p.writeError(err)
		}
	}
	return p.c, nil
}

// damaged is what an error of the library means: the reader's own failure
// when it had one (an outage), else an object that cannot be read. The
// library's words are left out: they may quote the object's bytes.
func (p *pqWork) damaged(error) error {
	if f, ok := p.r.(failer); ok && f.Failure() != nil {
		return f.Failure()
	}
	return apperr.E(apperr.Invalid, "An S3 object is not a Parquet file that can be read.")
}

// writeError is what an error of the rewrite means: the upload's own
// failure, or the reader's, as they are; else the object's content, which
// the library could not read again as it copied or wrote it: an object not
// to rewrite, as if the scan had found the page (ErrUnrewritable).
func (p *pqWork) writeError(err error) error {
	if p.sink != nil && p.sink.err != nil {
		return p.sink.err
	}
	if f, ok := p.r.(failer); ok && f.Failure() != nil {
		return f.Failure()
	}
	if p.c.Unrewritable == "" {
		p.c.Unrewritable = unreadablePage
	}
	return ErrUnrewritable
}

// ErrUnrewritable means a rewrite found what its scan had not: a part of the
// object that cannot be read again. Nothing was written (the caller gives up
// the upload); the object is left as it is, for an operator.
var ErrUnrewritable = apperr.E(apperr.Invalid, unreadablePage)

// sink is the rewrite's output, keeping its error apart from the library's.
type sink struct {
	w   io.Writer
	err error
}

func (s *sink) Write(b []byte) (int, error) {
	n, err := s.w.Write(b)
	if err != nil && s.err == nil {
		s.err = err
	}
	return n, err
}

func (p *pqWork) open(size int64) error {
	f, err := parquet.OpenFile(p.r, size, parquet.SkipBloomFilters(true), parquet.ReadBufferSize(pqReadBuffer))
	if err != nil {
		return p.damaged(err)
	}
	if f.Metadata().EncryptionAlgorithm.Value != nil {
		// A plaintext footer over encrypted columns: the columns cannot be read.
		return apperr.E(apperr.Invalid, "An S3 object is an encrypted Parquet file.")
	}
	s, err := newPQSchema(f.Root())
	if err != nil {
		return p.damaged(err)
	}
	p.f, p.schema, p.nums = f, s, p.m.numbers()
	return nil
}

// writer begins the rewrite: the file's own schema (with each column's codec
// and encoding as the first row group has them), its key-value metadata, its
// data page version, and bloom filters on the columns that had them.
func (p *pqWork) writer(w io.Writer) error {
	md := p.f.Metadata()
	opts := []parquet.WriterOption{writableSchema(p.f.Schema()), parquet.DataPageVersion(p.pageVersion())}
	for _, kv := range md.KeyValueMetadata {
		opts = append(opts, parquet.KeyValueMetadata(kv.Key, kv.Value))
	}
	if len(md.RowGroups) > 0 {
		var filters []parquet.BloomFilterColumn
		for _, cc := range md.RowGroups[0].Columns {
			if cc.MetaData.BloomFilterOffset > 0 {
				filters = append(filters, parquet.SplitBlockFilter(10, cc.MetaData.PathInSchema...))
			}
		}
		if len(filters) > 0 {
			opts = append(opts, parquet.BloomFilters(filters...))
		}
	}
	for _, name := range p.m.anonymize {
		for _, n := range p.schema.root.children {
			if n.name == name {
				p.anon = append(p.anon, n)
			}
		}
	}
	if p.groupBytes() > pageBuffersInMemory {
		// The writer holds a row group's pages until the group is complete:
		// a large one's in temporary files, not in memory.
		opts = append(opts, parquet.ColumnPageBuffers(parquet.NewFileBufferPool(os.TempDir(), "dsr-parquet-*")))
	}
	cfg, err := parquet.NewWriterConfig(opts...)
	if err != nil {
		return apperr.E(apperr.Invalid, "A Parquet object cannot be written again as it is.")
	}
	p.sink = &sink{w: w}
	p.out = parquet.NewWriter(p.sink, cfg)
	return nil
}

// pageVersion is the data page version the file's first column chunk uses:
// from its encoding statistics, or else its first page header.
func (p *pqWork) pageVersion() int {
	md := p.f.Metadata()
	if len(md.RowGroups) == 0 || len(md.RowGroups[0].Columns) == 0 {
		return 1
	}
	meta := md.RowGroups[0].Columns[0].MetaData
	for _, s := range meta.EncodingStats {
		switch s.PageType {
		case format.DataPage:
			return 1
		case format.DataPageV2:
			return 2
		}
	}
	// Some writers point the data page offset at the dictionary page: the
	// first data page is after it.
	off := meta.DataPageOffset
	for range 2 {
		sr := io.NewSectionReader(p.r, off, 64<<10)
		br := bufio.NewReader(sr)
		var h format.PageHeader
		var proto thrift.CompactProtocol
		if err := thrift.NewDecoder(proto.NewReader(br)).Decode(&h); err != nil {
			return 1
		}
		switch h.Type {
		case format.DataPageV2:
			return 2
		case format.DictionaryPage:
			read, _ := sr.Seek(0, io.SeekCurrent)
			off += read - int64(br.Buffered()) + int64(h.CompressedPageSize)
			continue
		}
		return 1
	}
	return 1
}

// rowGroupSpan is where a row group's column chunks are in the file: all
// of them, and each.
func (p *pqWork) rowGroupSpan(g int) (int64, int64, [][2]int64) {
	rg := &p.f.Metadata().RowGroups[g]
	start, end := int64(-1), int64(0)
	spans := make([][2]int64, 0, len(rg.Columns))
	for _, cc := range rg.Columns {
		off := cc.MetaData.DataPageOffset
		if d := cc.MetaData.DictionaryPageOffset; d > 0 && d < off {
			off = d
		}
		if start < 0 || off < start {
			start = off
		}
		end = max(end, off+cc.MetaData.TotalCompressedSize)
		spans = append(spans, [2]int64{off, off + cc.MetaData.TotalCompressedSize})
	}
	return max(start, 0), end, spans
}

// groupBytes is the size of the file's largest row group.
func (p *pqWork) groupBytes() int64 {
	largest := int64(0)
	for g := range p.f.Metadata().RowGroups {
		start, end, _ := p.rowGroupSpan(g)
		largest = max(largest, end-start)
	}
	return largest
}

// group scans (and in a rewrite writes) one row group.
func (p *pqWork) group(g int, rg parquet.RowGroup, found func(map[string]any) error) error {
	if win, ok := p.r.(windower); ok {
		start, end, spans := p.rowGroupSpan(g)
		win.Window(start, end-start, spans)
	}
	if leaf, err := p.checkPages(g); err != nil || leaf >= 0 {
		if err != nil {
			return err
		}
		field := ""
		if leaf < len(p.schema.leaves) {
			field = p.schema.leaves[leaf].path
		}
		p.c.doubt(Doubt{RowGroup: g + 1, Reason: DoubtUnparseable, Field: field})
		p.c.Unrewritable = unreadablePage
		return nil
	}
	var candidates []int64
	if p.m.whole {
		candidates = nil // every row; see rows
	} else {
		var ok bool
		var err error
		if candidates, ok, err = p.prefilter(g, rg); err != nil || !ok {
			return err
		}
	}
	if !p.m.whole && len(candidates) == 0 {
		p.c.Others += int(rg.NumRows())
		if p.out != nil {
			return p.copyGroup(rg)
		}
		return nil
	}
	if p.out == nil && !p.m.whole {
		return p.seekRows(g, rg, candidates, found)
	}
	return p.rows(g, rg, candidates, found)
}

// seekRows judges the candidates of a row group in a scan, reading only
// them: the other rows hold none of the needles.
func (p *pqWork) seekRows(g int, rg parquet.RowGroup, candidates []int64, found func(map[string]any) error) error {
	rows := rg.Rows()
	defer rows.Close()
	buf := make([]parquet.Row, 1)
	cols := make([][]parquet.Value, len(p.schema.leaves))
	var c Counts // this group's, added to the object's once the group is read
	at := int64(0)
	for _, row := range candidates {
		var err error
		if row != at {
			err = rows.SeekToRow(row)
		}
		n := 0
		if err == nil {
			// A row read with io.EOF is a row; none read, a doubt.
			n, _ = rows.ReadRows(buf)
		}
		if n == 0 {
			if f := p.failure(); f != nil {
				return f
			}
			p.c.doubt(Doubt{RowGroup: g + 1, Row: int(row) + 1, Reason: DoubtUnparseable})
			p.c.Unrewritable = unreadablePage
			return nil
		}
		at = row + 1
		v, d, fields := p.judge(buf[0], cols)
		switch v {
		case subject:
			c.Matched++
			if found != nil {
				if err := found(fields); err != nil {
					return err
				}
			}
		case doubtful:
			d.RowGroup, d.Row = g+1, int(row)+1
			c.doubt(d)
		default:
			c.Others++
		}
	}
	p.c.Matched += c.Matched
	p.c.Others += c.Others + int(rg.NumRows()) - len(candidates)
	for _, d := range c.Doubts {
		p.c.doubt(d)
	}
	p.c.Doubtful += c.Doubtful - len(c.Doubts)
	return nil
}

// copyGroup writes a row group without any of the subject's rows as it is.
func (p *pqWork) copyGroup(rg parquet.RowGroup) error {
	n, err := p.out.WriteRowGroup(rg)
	if err == nil && n != rg.NumRows() {
		// The footer counts rows the columns do not hold: not a copy.
		err = errRowShape
	}
	if err != nil {
		return p.writeError(err)
	}
	if n > 0 {
		p.groups++
	}
	return nil
}

// prefilter returns the rows of a row group that hold one of the needles in
// a column that can hold the subject's values. A page that cannot be read
// makes a doubt (its row group and first row, by column) and the object one
// that cannot be rewritten; ok is false then.
func (p *pqWork) prefilter(g int, rg parquet.RowGroup) ([]int64, bool, error) {
	var rows []int64
	ok := true
	for i, chunk := range rg.ColumnChunks() {
		if i >= len(p.schema.leaves) {
			return nil, false, p.damaged(errors.New("more column chunks than columns"))
		}
		leaf := p.schema.leaves[i]
		switch leaf.class {
		case hitNever:
			continue
		case hitNumber:
			if p.nums.empty() {
				continue
			}
		}
		hits, next, err := p.scanChunk(leaf, chunk)
		rows = append(rows, hits...)
		if err == nil && next != rg.NumRows() {
			// The column holds more or fewer rows than the row group says.
			err = errRowShape
		}
		if err != nil {
			if f, isF := p.r.(failer); isF && f.Failure() != nil {
				return nil, false, f.Failure()
			}
			p.c.doubt(Doubt{RowGroup: g + 1, Row: int(next) + 1, Reason: DoubtUnparseable, Field: leaf.path})
			p.c.Unrewritable = unreadablePage
			ok = false
		}
	}
	slices.Sort(rows)
	return slices.Compact(rows), ok, nil
}

// scanChunk returns the rows of one column chunk whose values hold a needle,
// and on an error, the row the page that failed begins at.
func (p *pqWork) scanChunk(leaf *pqNode, chunk parquet.ColumnChunk) (hits []int64, next int64, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%v", v)
		}
	}()
	pages := chunk.Pages()
	defer pages.Close()
	row := int64(-1) // the row of the last value seen
	dictHits := map[parquet.Dictionary]bool{}
	for {
		page, err := pages.ReadPage()
		if err == io.EOF {
			return hits, row + 1, nil
		}
		if err != nil {
			return hits, row + 1, err
		}
		hits, row, err = p.scanPage(leaf, chunk.Type(), page, row, hits, dictHits)
		parquet.Release(page)
		if err != nil {
			return hits, row + 1, err
		}
	}
}

// scanPage adds the rows of one page that hold a needle to hits.
func (p *pqWork) scanPage(leaf *pqNode, t parquet.Type, page parquet.Page, row int64, hits []int64, dictHits map[parquet.Dictionary]bool) ([]int64, int64, error) {
	reps, defs := page.RepetitionLevels(), page.DefinitionLevels()
	if dict := page.Dictionary(); dict != nil {
		hit, seen := dictHits[dict]
		if !seen {
			hit = p.dictionaryHit(leaf, t, dict)
			dictHits[dict] = hit
		}
		if !hit {
			return hits, row + pageRows(page, reps, defs), nil
		}
	} else if leaf.class == hitText {
		// Plain text: the page's values searched as one buffer.
		if data := page.Data(); data.Kind() == encoding.ByteArray {
			values, offsets := data.ByteArray()
			idx := p.textHits(values, offsets)
			return mapHits(idx, page, reps, defs, leaf.def, row, hits)
		}
	}
	// Everything else value by value.
	vr := page.Values()
	buf := make([]parquet.Value, 256)
	for {
		n, err := vr.ReadValues(buf)
		for _, v := range buf[:n] {
			if v.RepetitionLevel() == 0 {
				row++
			}
			if !v.IsNull() && p.valueHit(leaf, t, v) && (len(hits) == 0 || hits[len(hits)-1] != row) {
				hits = append(hits, row)
			}
		}
		if err == io.EOF {
			return hits, row, nil
		}
		if err != nil {
			return hits, row, err
		}
	}
}

// pageRows counts the rows a page begins: the values whose repetition level
// is zero.
func pageRows(page parquet.Page, reps, defs []byte) int64 {
	switch {
	case len(reps) > 0:
		return int64(bytes.Count(reps, []byte{0}))
	case len(defs) > 0:
		return int64(len(defs))
	}
	return page.NumValues()
}

// mapHits turns the indexes of the non-null values that hold a needle into
// their rows, given the page's levels; row is the row before the page.
func mapHits(idx []int, page parquet.Page, reps, defs []byte, maxDef int, row int64, hits []int64) ([]int64, int64, error) {
	if len(reps) == 0 && len(defs) == 0 {
		for _, i := range idx {
			hits = append(hits, row+1+int64(i))
		}
		return hits, row + page.NumValues(), nil
	}
	levels := max(len(reps), len(defs))
	j, next := 0, 0 // the value index, and the next hit in idx
	for k := 0; k < levels; k++ {
		if len(reps) == 0 || reps[k] == 0 {
			row++
		}
		if len(defs) == 0 || int(defs[k]) == maxDef {
			if next < len(idx) && idx[next] == j {
				if len(hits) == 0 || hits[len(hits)-1] != row {
					hits = append(hits, row)
				}
				next++
			}
			j++
		}
	}
	if next < len(idx) {
		return hits, row, errRowShape
	}
	return hits, row, nil
}

// textHits returns the indexes of the values (concatenated in values, with
// offsets) that hold a needle within them.
func (p *pqWork) textHits(values []byte, offsets []uint32) []int {
	if len(offsets) < 2 {
		return nil
	}
	if p.m.folded {
		p.lower = lowerASCII(p.lower, values)
	}
	var idx []int
	for _, n := range p.m.needles {
		if len(n.b) == 0 { // a needle that every value holds
			idx = idx[:0]
			for i := 0; i < len(offsets)-1; i++ {
				idx = append(idx, i)
			}
			return idx
		}
		for from := 0; from < len(values); {
			at := n.find(values, p.lower, from)
			if at < 0 {
				break
			}
			i := sort.Search(len(offsets)-1, func(i int) bool { return int(offsets[i+1]) > at })
			if i >= len(offsets)-1 {
				break
			}
			if at+len(n.b) <= int(offsets[i+1]) {
				idx = append(idx, i)
				from = int(offsets[i+1])
			} else {
				from = at + 1
			}
		}
	}
	slices.Sort(idx)
	return slices.Compact(idx)
}

// dictionaryHit reports whether any value of a dictionary holds a needle.
func (p *pqWork) dictionaryHit(leaf *pqNode, t parquet.Type, dict parquet.Dictionary) bool {
	for i := 0; i < dict.Len(); i++ {
		if p.valueHit(leaf, t, dict.Index(int32(i))) {
			return true
		}
	}
	return false
}

// valueHit is the prefilter for one value of a leaf.
func (p *pqWork) valueHit(leaf *pqNode, t parquet.Type, v parquet.Value) bool {
	switch leaf.class {
	case hitText:
		var ok bool
		ok, p.lower = p.m.hitText(v.ByteArray(), p.lower)
		return ok
	case hitNumber:
		return p.nums.hit(leaf, t, v)
	case hitRender:
		var ok bool
		ok, p.lower = p.m.hitText([]byte(renderedText(leaf.render(v))), p.lower)
		return ok
	}
	return false
}

// rows reads a row group row by row (it holds candidates, or every row is
// the subject's), judges the candidates and, in a rewrite, writes the rows
// that stay.
func (p *pqWork) rows(g int, rg parquet.RowGroup, candidates []int64, found func(map[string]any) error) error {
	rows := rg.Rows()
	defer rows.Close()
	buf := make([]parquet.Row, 64)
	cols := make([][]parquet.Value, len(p.schema.leaves))
	var keep []parquet.Row
	removed := 0
	var c Counts // this group's, added to the object's once the group is read
	next := 0    // the next candidate
	for i := int64(0); i < rg.NumRows(); {
		n, err := rows.ReadRows(buf)
		if n == 0 && err == nil {
			err = io.ErrUnexpectedEOF
		}
		if n == 0 && err != nil {
			if errors.Is(err, io.EOF) && i == rg.NumRows() {
				break
			}
			if f, ok := p.r.(failer); ok && f.Failure() != nil {
				return f.Failure()
			}
			// The rows from here cannot be read: nothing of this group is
			// judged, and the object cannot be rewritten.
			p.c.doubt(Doubt{RowGroup: g + 1, Row: int(i) + 1, Reason: DoubtUnparseable})
			p.c.Unrewritable = unreadablePage
			return nil
		}
		if i+int64(n) > rg.NumRows() {
			// More rows than the row group says it holds: which to trust
			// is not certain.
			p.c.doubt(Doubt{RowGroup: g + 1, Row: int(rg.NumRows()) + 1, Reason: DoubtUnparseable})
			p.c.Unrewritable = unreadablePage
			return nil
		}
		keep = keep[:0]
		for _, row := range buf[:n] {
			judge := p.m.whole
			if !judge && next < len(candidates) && candidates[next] == i {
				judge = true
				next++
			}
			v, d, fields := others, Doubt{}, map[string]any(nil)
			if judge {
				v, d, fields = p.judge(row, cols)
			}
			switch v {
			case subject:
				c.Matched++
				if found != nil {
					if err := found(fields); err != nil {
						return err
					}
				}
				if p.anon != nil {
					keep = append(keep, p.anonymized(row))
				} else if p.out != nil {
					removed++
				}
			case doubtful:
				// Where an operator finds it: in a rewrite, in the
				// object as rewritten.
				d.RowGroup, d.Row = g+1, int(i)+1-removed
				if p.out != nil {
					d.RowGroup = p.groups + 1
				}
				c.doubt(d)
				keep = append(keep, row)
			default:
				c.Others++
				keep = append(keep, row)
			}
			i++
		}
		if p.out != nil && len(keep) > 0 {
			if _, err := p.out.WriteRows(keep); err != nil {
				return p.writeError(err)
			}
		}
		if err != nil && !errors.Is(err, io.EOF) {
			if f, ok := p.r.(failer); ok && f.Failure() != nil {
				return f.Failure()
			}
			p.c.doubt(Doubt{RowGroup: g + 1, Row: int(i) + 1, Reason: DoubtUnparseable})
			p.c.Unrewritable = unreadablePage
			return nil
		}
	}
	p.c.Matched += c.Matched
	p.c.Others += c.Others
	for _, d := range c.Doubts {
		p.c.doubt(d)
	}
	p.c.Doubtful += c.Doubtful - len(c.Doubts)
	if p.out != nil {
		if err := p.out.Flush(); err != nil {
			return p.writeError(err)
		}
		if int(rg.NumRows())-removed > 0 {
			p.groups++
		}
	}
	return nil
}

// judge assembles a row and decides whose it is.
func (p *pqWork) judge(row parquet.Row, cols [][]parquet.Value) (verdict, Doubt, map[string]any) {
	clear(cols)
	bad := false
	row.Range(func(i int, vs []parquet.Value) bool {
		if i < 0 || i >= len(cols) {
			bad = true
			return false
		}
		cols[i] = vs
		return true
	})
	fields, err := p.schema.row(cols)
	if bad || err != nil || fields == nil {
		return doubtful, Doubt{Reason: DoubtUnparseable}, nil
	}
	if p.m.whole || p.m.isSubject(fields) {
		return subject, Doubt{}, fields
	}
	if field, ok := p.m.holder(fields); ok {
		return doubtful, Doubt{Reason: DoubtUnmatched, Field: field}, nil
	}
	return others, Doubt{}, nil
}

// anonymized returns row with the values of the fields to anonymize made
// null: each leaf under such a field holds one null value, at the levels of
// a field that is absent. The scan refused the object if a field cannot be
// null (anonymizable).
func (p *pqWork) anonymized(row parquet.Row) parquet.Row {
	out := make(parquet.Row, 0, len(row))
	for _, v := range row {
		col := v.Column()
		var field *pqNode
		for _, n := range p.anon {
			if col >= n.first && col < n.first+n.n {
				field = n
			}
		}
		switch {
		case field == nil:
			out = append(out, v)
		case v.RepetitionLevel() == 0:
			out = append(out, parquet.Value{}.Level(0, 0, col))
		}
	}
	return out
}

// anonymizable reports why the fields to anonymize cannot be made null in
// this file: a field the schema requires.
func (p *pqWork) anonymizable() string {
	for _, name := range p.m.anonymize {
		for _, n := range p.schema.root.children {
			if n.name == name && !n.optional && !n.repeated {
				return "A field to anonymize cannot be null in the Parquet object's schema."
			}
		}
	}
	return ""
}

// parquetRows assembles up to n rows from the start of a Parquet object (the
// first row group), as a scan would: for sampling values, never to decide
// whose a row is.
func parquetRows(r io.ReaderAt, size int64, n int) (rows []map[string]any, err error) {
	defer func() {
		if v := recover(); v != nil {
			rows, err = nil, fmt.Errorf("%v", v)
		}
	}()
	f, err := parquet.OpenFile(r, size, parquet.SkipBloomFilters(true), parquet.ReadBufferSize(pqReadBuffer))
	if err != nil {
		return nil, err
	}
	s, err := newPQSchema(f.Root())
	if err != nil || len(f.RowGroups()) == 0 {
		return nil, err
	}
	rg := f.RowGroups()[0]
	if win, ok := r.(windower); ok {
		p := &pqWork{f: f}
		start, end, spans := p.rowGroupSpan(0)
		win.Window(start, end-start, spans)
	}
	rr := rg.Rows()
	defer rr.Close()
	buf := make([]parquet.Row, min(n, int(rg.NumRows())))
	k, err := rr.ReadRows(buf)
	cols := make([][]parquet.Value, len(s.leaves))
	for _, row := range buf[:k] {
		clear(cols)
		row.Range(func(i int, vs []parquet.Value) bool {
			if i < len(cols) {
				cols[i] = vs
			}
			return true
		})
		if m, err := s.row(cols); err == nil && m != nil {
			rows = append(rows, m)
		}
	}
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return rows, err
}
