package s3src

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// Reading by ranges: a Parquet object is read where its reader asks, with
// ranged GETs, never downloaded whole. The first GET asks for the object's
// last bytes (its footer, which holds the schema and where every row group
// is) and gives its size, ETag and headers; every later GET asks for the same
// bytes: the version read first, or If-Match on its ETag (a changed object
// fails the read with 412, which the rewrite retries as it does for the
// other formats). A row group is read in one GET into memory before it is
// worked (Window), up to maxWindow bytes; a larger one column chunk by column
// chunk, each read ahead by a block of its own (all of them together
// chunkBudget bytes), as the library reads its columns side by side; other
// reads go through a small cache of blocks.
const (
	tailBytes  = 64 << 10
	blockBytes = 1 << 20
	maxBlocks  = 8
	// chunkBudget bounds the read-ahead of a larger row group's columns;
	// each column reads ahead at least minChunkBlock, at most maxChunkBlock.
	chunkBudget   = 32 << 20
	minChunkBlock = 256 << 10
	maxChunkBlock = 8 << 20
)

// rangedObject is an io.ReaderAt over one S3 object (or one version of it).
type rangedObject struct {
	ctx         context.Context
	api         API
	bucket, key string
	version     *string
	etag        *string
	size        int64
	// head is the answer to the first GET (its headers; its body is read).
	head *s3.GetObjectOutput

	window block
	// chunks are the column chunks of a row group too large for a window,
	// with a block read ahead in each; chunkBlock is its size.
	chunks     []chunkAhead
	chunkBlock int64
	blocks     []block // most recently used last
	// gets counts the GETs made; failure is the first read that failed.
	gets    int
	failure error
}

type block struct {
	off int64
	b   []byte
}

// chunkAhead is one column chunk, [start, end), and its read-ahead block.
type chunkAhead struct {
	start, end int64
	ahead      block
}

func (b block) holds(off, n int64) bool {
	return b.b != nil && off >= b.off && off+n <= b.off+int64(len(b.b))
}

// maxWindow bounds the memory a row group read whole takes (a variable for
// the tests).
var maxWindow int64 = 32 << 20

// openRanged makes the first GET. Its errors are the SDK's (NoSuchKey, a
// 412 on ifMatch), for the caller to tell apart.
func openRanged(ctx context.Context, api API, bucket, key string, version, ifMatch *string) (*rangedObject, error) {
	r := &rangedObject{ctx: ctx, api: api, bucket: bucket, key: key, version: version}
	out, err := api.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key, VersionId: version, IfMatch: ifMatch,
		Range: aws.String(fmt.Sprintf("bytes=-%d", tailBytes))})
	if isInvalidRange(err) {
		// An empty object has no last bytes to ask for.
		out, err = api.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key, VersionId: version, IfMatch: ifMatch})
	}
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	body, err := io.ReadAll(io.LimitReader(out.Body, tailBytes+1))
	if err != nil {
		return nil, &readFailure{err}
	}
	r.gets = 1
	total, ok := totalOf(aws.ToString(out.ContentRange))
	switch {
	case ok && int64(len(body)) <= min(total, tailBytes):
		r.size = total
	case !ok && len(body) <= tailBytes:
		r.size = int64(len(body)) // the whole object, smaller than its last bytes asked for
	default:
		return nil, &readFailure{errors.New("the answer to a ranged read does not add up")}
	}
	r.etag, r.head = out.ETag, out
	if version == nil {
		r.version = out.VersionId
		if r.version == nil || aws.ToString(r.version) == "null" {
			r.version = nil // not versioned: every read on the ETag instead
		}
	}
	r.blocks = append(r.blocks, block{off: r.size - int64(len(body)), b: body})
	r.head.ContentLength = aws.Int64(r.size)
	return r, nil
}

// totalOf reads the object's size from a Content-Range: "bytes 0-99/1234".
func totalOf(cr string) (int64, bool) {
	i := strings.LastIndexByte(cr, '/')
	if i < 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(cr[i+1:], 10, 64)
	return n, err == nil
}

func isInvalidRange(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == "InvalidRange"
}

// Size is the object's size in bytes.
func (r *rangedObject) Size() int64 { return r.size }

// Failure is the first read that failed, if one did: the network or a
// changed object, never its content.
func (r *rangedObject) Failure() error { return r.failure }

// Window reads [off, off+n), a row group whose column chunks are spans, in
// one GET and serves reads within it from memory until the next Window; a
// row group larger than maxWindow is read ahead column chunk by column chunk.
func (r *rangedObject) Window(off, n int64, spans [][2]int64) {
	r.window, r.chunks = block{}, nil
	if n <= 0 || off < 0 || off+n > r.size || r.failure != nil {
		return
	}
	if n > maxWindow {
		r.chunkBlock = min(maxChunkBlock, max(minChunkBlock, chunkBudget/int64(max(1, len(spans)))))
		for _, s := range spans {
			if s[0] >= 0 && s[1] > s[0] && s[1] <= r.size {
				r.chunks = append(r.chunks, chunkAhead{start: s[0], end: s[1]})
			}
		}
		return
	}
	b, err := r.get(off, n)
	if err != nil {
		return // reads fail on their own, each with the failure
	}
	r.window = block{off: off, b: b}
}

func (r *rangedObject) ReadAt(p []byte, off int64) (int, error) {
	if r.failure != nil {
		return 0, r.failure
	}
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	if off >= r.size {
		return 0, io.EOF
	}
	n := min(int64(len(p)), r.size-off)
	if r.window.holds(off, n) {
		copy(p, r.window.b[off-r.window.off:])
	} else if err := r.fill(p[:n], off); err != nil {
		return 0, err
	}
	if n < int64(len(p)) {
		return int(n), io.EOF
	}
	return int(n), nil
}

// fill reads p at off through the cache of blocks: a read that a block
// holds is served from it; a small read fetches the block around it; a
// large one is fetched as it is.
func (r *rangedObject) fill(p []byte, off int64) error {
	n := int64(len(p))
	for i := range r.chunks {
		if c := &r.chunks[i]; off >= c.start && off+n <= c.end {
			return r.fillAhead(c, p, off)
		}
	}
	for i := len(r.blocks) - 1; i >= 0; i-- {
		if b := r.blocks[i]; b.holds(off, n) {
			copy(p, b.b[off-b.off:])
			r.blocks = append(append(r.blocks[:i:i], r.blocks[i+1:]...), b)
			return nil
		}
	}
	if n >= blockBytes {
		b, err := r.get(off, n)
		if err != nil {
			return err
		}
		copy(p, b)
		return nil
	}
	start := off
	end := min(r.size, start+blockBytes)
	if end < off+n {
		end = off + n
	}
	b, err := r.get(start, end-start)
	if err != nil {
		return err
	}
	copy(p, b[off-start:])
	if len(r.blocks) == maxBlocks {
		r.blocks = r.blocks[1:]
	}
	r.blocks = append(r.blocks, block{off: start, b: b})
	return nil
}

// fillAhead reads p at off within one column chunk, through its block:
// from it when it holds the read, else by reading ahead from off.
func (r *rangedObject) fillAhead(c *chunkAhead, p []byte, off int64) error {
	n := int64(len(p))
	if !c.ahead.holds(off, n) {
		c.ahead = block{}
		b, err := r.get(off, max(n, min(r.chunkBlock, c.end-off)))
		if err != nil {
			return err
		}
		c.ahead = block{off: off, b: b}
	}
	copy(p, c.ahead.b[off-c.ahead.off:])
	return nil
}

// get reads n bytes at off in one ranged GET of the same object.
func (r *rangedObject) get(off, n int64) ([]byte, error) {
	in := &s3.GetObjectInput{Bucket: &r.bucket, Key: &r.key, Range: aws.String(fmt.Sprintf("bytes=%d-%d", off, off+n-1))}
	if r.version != nil {
		in.VersionId = r.version
	} else {
		in.IfMatch = r.etag
	}
	r.gets++
	out, err := r.api.GetObject(r.ctx, in)
	if err != nil {
		if changedMeanwhile(err) || isNoSuchKey(err) {
			r.failure = &smithy.GenericAPIError{Code: "PreconditionFailed", Message: "the object changed while it was read"}
		} else {
			r.failure = &readFailure{err}
		}
		return nil, r.failure
	}
	defer out.Body.Close()
	b := make([]byte, n)
	if _, err := io.ReadFull(out.Body, b); err != nil {
		r.failure = &readFailure{err}
		return nil, r.failure
	}
	return b, nil
}
