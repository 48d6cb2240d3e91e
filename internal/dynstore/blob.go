package dynstore

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
)

// Receipts and erasure outcomes list every hashed key erasure touched: for a
// subject found in tens of thousands of objects or items, far more than one
// DynamoDB item holds (400 KB). They are stored gzip-compressed and, when
// that is still too large, split into chunks: the first in the item itself,
// the others in items of their own, written in the same transaction (which
// takes up to 4 MB).
const (
	// chunkBytes leaves each item room for its keys and other attributes.
	chunkBytes = 350 << 10
	// maxChunks keeps one value's items within a transaction's 4 MB.
	maxChunks = 10
	// maxUnpacked bounds what reading a stored value may inflate to.
	maxUnpacked = 256 << 20
)

// errTooLarge means a value does not fit even in maxChunks chunks.
var errTooLarge = errors.New("the value is too large to store, even compressed")

// pack compresses b and splits it into chunks of at most chunkBytes.
func pack(b []byte) ([][]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	z := buf.Bytes()
	var chunks [][]byte
	for len(z) > chunkBytes {
		chunks = append(chunks, z[:chunkBytes])
		z = z[chunkBytes:]
	}
	chunks = append(chunks, z)
	if len(chunks) > maxChunks {
		return nil, fmt.Errorf("%w: %d bytes compressed", errTooLarge, buf.Len())
	}
	return chunks, nil
}

// unpack joins chunks and decompresses them.
func unpack(chunks [][]byte) ([]byte, error) {
	zr, err := gzip.NewReader(io.MultiReader(readers(chunks)...))
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(zr, maxUnpacked+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxUnpacked {
		return nil, errTooLarge
	}
	return b, nil
}

func readers(chunks [][]byte) []io.Reader {
	rs := make([]io.Reader, len(chunks))
	for i, c := range chunks {
		rs[i] = bytes.NewReader(c)
	}
	return rs
}
