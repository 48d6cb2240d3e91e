package s3src

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/bits"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
	"github.com/pierrec/lz4/v4"
)

// A damaged file must never take more memory or time than a Lambda has. The
// library sizes its buffers from what the file says (a page's sizes and
// number of values, the lengths of its runs), and some of its decoders grow a
// buffer until the data fits, which a damaged page never does. So every page
// is checked before the library reads it: its header, its data decompressed
// into a buffer no larger than the header says, and the counts its levels and
// values claim. A page that fails is damage, named as a doubt; the library
// never sees it.
const (
	// maxPageBytes bounds a page as its header says it is.
	maxPageBytes = 64 << 20
	// maxPageValues bounds the values of one page: real writers end a page
	// at about 20,000 rows or one megabyte.
	maxPageValues = 4 << 20
)

// errPageDamaged is a page that fails the checks.
var errPageDamaged = errors.New("a page is damaged")

// checkPages walks the page headers of one row group's column chunks before
// the library reads them, and returns the leaf column of the first chunk it
// finds damaged; -1 when every chunk is sound.
func (p *pqWork) checkPages(g int) (int, error) {
	md := p.f.Metadata()
	rg := &md.RowGroups[g]
	for i, cc := range rg.Columns {
		meta := &cc.MetaData
		start := meta.DataPageOffset
		if d := meta.DictionaryPageOffset; d > 0 && d < start {
			start = d
		}
		end := start + meta.TotalCompressedSize
		if start < 0 || meta.TotalCompressedSize < 0 || end > p.size || i >= len(p.schema.leaves) {
			return i, nil
		}
		err := p.checkChunk(p.schema.leaves[i], start, end, meta.Codec)
		if errors.Is(err, errPageDamaged) {
			return i, nil
		}
		if err != nil {
			return i, err
		}
	}
	return -1, nil
}

// pageCheck is the scratch space of the checks, reused from page to page.
type pageCheck struct {
	body, plain []byte
}

// checkChunk checks every page of one column chunk: errPageDamaged for a
// damaged one, the reader's failure when a read fails.
func (p *pqWork) checkChunk(leaf *pqNode, start, end int64, codec format.CompressionCodec) error {
	var proto thrift.CompactProtocol
	if p.check == nil {
		p.check = &pageCheck{}
	}
	for off := start; off < end; {
		sr := io.NewSectionReader(p.r, off, end-off)
		br := bufio.NewReaderSize(sr, 1024)
		var h format.PageHeader
		if err := thrift.NewDecoder(proto.NewReader(br)).Decode(&h); err != nil {
			if f := p.failure(); f != nil {
				return f
			}
			return errPageDamaged
		}
		read, _ := sr.Seek(0, io.SeekCurrent)
		off += read - int64(br.Buffered())
		if h.CompressedPageSize < 0 || h.UncompressedPageSize < 0 || h.UncompressedPageSize > maxPageBytes ||
			h.CompressedPageSize > maxPageBytes || off+int64(h.CompressedPageSize) > end {
			return errPageDamaged
		}
		c := p.check
		c.body = grow(c.body, int(h.CompressedPageSize))
		if _, err := p.r.ReadAt(c.body, off); err != nil {
			if f := p.failure(); f != nil {
				return f
			}
			return errPageDamaged
		}
		if !c.page(leaf, &h, codec) {
			return errPageDamaged
		}
		off += int64(h.CompressedPageSize)
	}
	return nil
}

func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

// failure is the reader's own failure if it had one: a header that could
// not be read for the network is an outage, not damage.
func (p *pqWork) failure() error {
	if f, ok := p.r.(failer); ok && f.Failure() != nil {
		return f.Failure()
	}
	return nil
}

// page reports whether one page (its header h, its bytes in c.body) is sound.
func (c *pageCheck) page(leaf *pqNode, h *format.PageHeader, codec format.CompressionCodec) bool {
	size := int(h.UncompressedPageSize)
	switch {
	case h.DictionaryPageHeader.Valid:
		d := h.DictionaryPageHeader.V
		_, ok := c.decompress(codec, c.body, size)
		return ok && d.NumValues >= 0 && d.NumValues <= maxPageValues
	case h.DataPageHeader.Valid:
		d := h.DataPageHeader.V
		n := int(d.NumValues)
		if n < 0 || n > maxPageValues {
			return false
		}
		data, ok := c.decompress(codec, c.body, size)
		if !ok {
			return false
		}
		if leaf.rep > 0 {
			if data, ok = levelsV1(data, d.RepetitionLevelEncoding, leaf.rep, n); !ok {
				return false
			}
		}
		if leaf.def > 0 {
			if data, ok = levelsV1(data, d.DefinitionLevelEncoding, leaf.def, n); !ok {
				return false
			}
		}
		return valuesSound(data, d.Encoding, n)
	case h.DataPageHeaderV2.Valid:
		d := h.DataPageHeaderV2.V
		n := int(d.NumValues)
		repLen, defLen := int(d.RepetitionLevelsByteLength), int(d.DefinitionLevelsByteLength)
		if n < 0 || n > maxPageValues || d.NumNulls < 0 || int(d.NumNulls) > n || d.NumRows < 0 || int(d.NumRows) > n ||
			repLen < 0 || defLen < 0 || repLen+defLen > len(c.body) || repLen+defLen > size {
			return false
		}
		if leaf.rep > 0 && !runsSound(c.body[:repLen], uint(bits.Len(uint(leaf.rep))), n) {
			return false
		}
		if leaf.def > 0 && !runsSound(c.body[repLen:repLen+defLen], uint(bits.Len(uint(leaf.def))), n) {
			return false
		}
		data := c.body[repLen+defLen:]
		if !d.IsCompressed.Valid || d.IsCompressed.V {
			var ok bool
			if data, ok = c.decompress(codec, data, size-repLen-defLen); !ok {
				return false
			}
		}
		return valuesSound(data, d.Encoding, n-int(d.NumNulls))
	}
	return true // an index page, or one the library skips
}

// decompress decompresses a page into at most size bytes, as its header
// says it decompresses to; ok is false when it does not. A codec the library
// does not read is left to it (it fails the page).
func (c *pageCheck) decompress(codec format.CompressionCodec, src []byte, size int) ([]byte, bool) {
	switch codec {
	case format.Uncompressed:
		return src, true
	case format.Snappy:
		n, err := snappy.DecodedLen(src)
		if err != nil || n > size {
			return nil, false
		}
		c.plain = grow(c.plain, n)
		out, err := snappy.Decode(c.plain, src)
		return out, err == nil
	case format.Lz4Raw:
		c.plain = grow(c.plain, size)
		if len(src) == 0 {
			return c.plain[:0], size == 0
		}
		n, err := lz4.UncompressBlock(src, c.plain)
		return c.plain[:n], err == nil && n == size
	case format.Zstd:
		d, err := zstdDecoder()
		if err != nil {
			return nil, false
		}
		out, err := d.DecodeAll(src, c.plain[:0])
		if cap(out) > cap(c.plain) {
			c.plain = out
		}
		return out, err == nil && len(out) <= size
	case format.Gzip:
		r, err := gzip.NewReader(bytes.NewReader(src))
		if err != nil {
			return nil, false
		}
		return c.readAtMost(r, size)
	case format.Brotli:
		return c.readAtMost(brotli.NewReader(bytes.NewReader(src)), size)
	}
	return nil, false
}

// readAtMost reads r whole into at most size bytes.
func (c *pageCheck) readAtMost(r io.Reader, size int) ([]byte, bool) {
	c.plain = grow(c.plain, size+1)
	n, err := io.ReadFull(r, c.plain)
	if n > size || (err != nil && err != io.ErrUnexpectedEOF && err != io.EOF) {
		return nil, false
	}
	return c.plain[:n], true
}

// zstdDecoder is one decoder for every check: it refuses a frame that says it
// decompresses to more than a page may.
var zstdDecoder = sync.OnceValues(func() (*zstd.Decoder, error) {
	return zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxPageBytes), zstd.WithDecoderLowmem(true))
})

// levelsV1 checks the levels at the start of a v1 page's data (a length,
// then the levels) and returns the data after them.
func levelsV1(data []byte, enc format.Encoding, maxLevel, n int) ([]byte, bool) {
	if len(data) < 4 {
		return nil, false
	}
	l := int64(binary.LittleEndian.Uint32(data))
	if l > int64(len(data)-4) {
		return nil, false
	}
	levels := data[4 : 4+l]
	if enc == format.RLE && !runsSound(levels, uint(bits.Len(uint(maxLevel))), n) {
		return nil, false
	}
	return data[4+l:], true
}

// valuesSound checks what the values of a page claim where the library
// trusts it: the runs of dictionary indexes and of RLE booleans, the number
// of values a delta encoding says it holds.
func valuesSound(data []byte, enc format.Encoding, n int) bool {
	switch enc {
	//lint:ignore SA1019 older writers still write it
	case format.PlainDictionary, format.RLEDictionary:
		if len(data) == 0 {
			return true
		}
		return data[0] <= 32 && runsSound(data[1:], uint(data[0]), n)
	case format.RLE:
		if len(data) < 4 {
			return len(data) == 0
		}
		l := int64(binary.LittleEndian.Uint32(data))
		return l <= int64(len(data)-4) && runsSound(data[4:4+l], 1, n)
	case format.DeltaBinaryPacked, format.DeltaLengthByteArray:
		_, ok := deltaSound(data, n)
		return ok
	case format.DeltaByteArray:
		// The prefix lengths, then the suffixes with their lengths first.
		rest, ok := deltaSound(data, n)
		if !ok {
			return false
		}
		_, ok = deltaSound(rest, n)
		return ok
	}
	return true
}

// runsSound reports whether the RLE/bit-packed hybrid runs in src hold no
// more values than a page of n values may (bit-packed runs are padded to
// eight values).
func runsSound(src []byte, bitWidth uint, n int) bool {
	if bitWidth > 32 {
		return false
	}
	limit := uint64(n) + 8
	total := uint64(0)
	for i := 0; i < len(src); {
		u, k := binary.Uvarint(src[i:])
		if k <= 0 {
			return false
		}
		i += k
		count := u >> 1
		if u&1 != 0 {
			count *= 8
			size := (count*uint64(bitWidth) + 7) / 8
			if size > uint64(len(src)-i) {
				return false
			}
			i += int(size)
		} else {
			i += int(bitWidth+7) / 8
		}
		if total += count; total > limit {
			return false
		}
	}
	return true
}

// deltaSound checks one DELTA_BINARY_PACKED stream at the start of data: its
// count of values no more than n, its blocks within data; it returns the data
// after the stream.
func deltaSound(data []byte, n int) ([]byte, bool) {
	var vals [3]uint64 // block size, mini-blocks per block, values
	i := 0
	for j := range vals {
		u, k := binary.Uvarint(data[i:])
		if k <= 0 {
			return nil, false
		}
		vals[j], i = u, i+k
	}
	if _, k := binary.Varint(data[i:]); k <= 0 {
		return nil, false
	} else {
		i += k
	}
	blockSize, miniBlocks, total := vals[0], vals[1], vals[2]
	if total > uint64(n) || blockSize == 0 || blockSize%128 != 0 || blockSize > 1<<16 ||
		miniBlocks == 0 || blockSize%miniBlocks != 0 || (blockSize/miniBlocks)%32 != 0 {
		return nil, false
	}
	perMini := blockSize / miniBlocks
	// The first value is in the header; the others in blocks, each a minimum
	// delta, the bit widths of its mini-blocks, and the mini-blocks that
	// hold values.
	for left := int64(total) - 1; left > 0; left -= int64(blockSize) {
		if _, k := binary.Varint(data[i:]); k <= 0 {
			return nil, false
		} else {
			i += k
		}
		if uint64(len(data)-i) < miniBlocks {
			return nil, false
		}
		widths := data[i : i+int(miniBlocks)]
		i += int(miniBlocks)
		for m, w := range widths {
			if int64(m)*int64(perMini) >= left {
				break
			}
			if w > 64 {
				return nil, false
			}
			size := perMini * uint64(w) / 8
			if size > uint64(len(data)-i) {
				return nil, false
			}
			i += int(size)
		}
	}
	return data[i:], true
}
