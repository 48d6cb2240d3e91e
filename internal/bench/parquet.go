package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/parquet-go/parquet-go"

	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/s3src"
)

// Parquet is measured apart from the text formats: it is read by ranges, so
// the object must exist before it is read. The pool's objects are generated
// into memory; the large object into a temporary file, served by ranges as S3
// would. Its figures are in MB of the Parquet file (compressed, as S3 stores
// and bills it), with Snappy, v1 pages and dictionary-encoded low-cardinality
// columns, as lakes written by Spark or Arrow usually are.

// lakeRow is a generated row as a Parquet lake holds it: the same fields as
// the other formats' rows.
type lakeRow struct {
	TS        int64   `parquet:"ts"`
	UserID    string  `parquet:"user_id"`
	Email     string  `parquet:"email"`
	Event     string  `parquet:"event,dict"`
	Path      string  `parquet:"path"`
	UserAgent string  `parquet:"user_agent,dict"`
	Session   string  `parquet:"session"`
	Amount    float64 `parquet:"amount"`
}

// lakeRow generates one row, drawing as row does.
func (g *Generator) lakeRow() lakeRow {
	g.rows++
	n := 1 + g.rng.IntN(g.subjects)
	if g.rng.IntN(g.matchEvery) == 0 {
		n = 0
		g.matched++
	}
	id := fmt.Sprintf("%07d", n)
	r := lakeRow{TS: 1767225600 + int64(g.rows), UserID: "u-" + id, Email: "user" + id + "@example.com"}
	r.Event = events[g.rng.IntN(len(events))]
	r.UserAgent = agents[g.rng.IntN(len(agents))]
	r.Path = "/products/" + strconv.Itoa(g.rng.IntN(100000)) + "?ref=mail"
	r.Session = strconv.FormatUint(g.rng.Uint64(), 16)
	r.Amount = float64(g.rng.IntN(100000)) / 100
	return r
}

// parquetRowGroupBytes is the row group size of the large object: the
// default of Spark and parquet-mr (parquet.block.size).
const parquetRowGroupBytes = 128 << 20

// writeParquet writes a Parquet file of about size bytes to w, in row groups
// of about groupBytes, and returns its size.
func (g *Generator) writeParquet(w io.Writer, size, groupBytes int64) (int64, error) {
	// The bytes a row takes, from a sample written apart.
	sample := NewGenerator(registry.FormatParquet, 7, g.matchEvery, g.subjects)
	var b bytes.Buffer
	if err := sample.writeRows(&b, 20_000, 20_000); err != nil {
		return 0, err
	}
	perRow := max(1, int64(b.Len())/20_000)
	cw := &counting{w: w}
	err := g.writeRows(cw, max(1, size/perRow), max(1000, groupBytes/perRow))
	return cw.n, err
}

func (g *Generator) writeRows(w io.Writer, rows, perGroup int64) error {
	pw := parquet.NewGenericWriter[lakeRow](w, parquet.Compression(&parquet.Snappy), parquet.DataPageVersion(1),
		parquet.KeyValueMetadata("writer", "bench"))
	batch := make([]lakeRow, 0, 1024)
	inGroup := int64(0)
	for i := int64(0); i < rows; i++ {
		batch = append(batch, g.lakeRow())
		inGroup++
		if len(batch) == cap(batch) || i == rows-1 || inGroup == perGroup {
			if _, err := pw.Write(batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
		if inGroup == perGroup {
			if err := pw.Flush(); err != nil {
				return err
			}
			inGroup = 0
		}
	}
	return pw.Close()
}

type counting struct {
	w io.Writer
	n int64
}

func (c *counting) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// newParquetPool generates the pool's Parquet objects, each one row group.
func newParquetPool(cfg Config) (*pool, error) {
	p := &pool{src: Source(registry.FormatParquet, "")}
	for i := int64(0); i*int64(cfg.ObjectBytes) < cfg.PoolBytes; i++ {
		g := NewGenerator(registry.FormatParquet, uint64(i+1), cfg.MatchEvery, cfg.Subjects)
		var b bytes.Buffer
		n, err := g.writeParquet(&b, int64(cfg.ObjectBytes), int64(cfg.ObjectBytes)*2)
		if err != nil {
			return nil, err
		}
		p.objects = append(p.objects, b.Bytes())
		p.sizes = append(p.sizes, n)
		p.matched = append(p.matched, g.Matched())
	}
	return p, nil
}

// runParquet reports the Parquet figures: the peak RSS of finding and of
// erasing the subject in one large object through the S3 adapter (ranged
// reads, a multipart upload that keeps nothing) and the erasure's MB/s; then
// the pool's scan and rewrite throughput, as for the other formats.
func runParquet(cfg Config, report func(Figure)) error {
	f, err := os.CreateTemp("", "bench-*.parquet")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	g := NewGenerator(registry.FormatParquet, 42, cfg.MatchEvery, cfg.Subjects)
	size, err := g.writeParquet(f, cfg.BigObject, parquetRowGroupBytes)
	if err != nil {
		return err
	}
	big := &rangedFileS3{f: f, size: size}
	name := mbName(cfg.BigObject) + "_parquet_object"
	rss, _, err := big.measure(g.Matched(), false)
	if err != nil {
		return err
	}
	report(Figure{"peak_rss_scan_" + name, rss, "MB"})
	rss, mbs, err := big.measure(g.Matched(), true)
	if err != nil {
		return err
	}
	report(Figure{"peak_rss_erase_" + name, rss, "MB"})
	report(Figure{"erase_" + name, mbs, "MB/s"})

	pool, err := newParquetPool(cfg)
	if err != nil {
		return err
	}
	mbs, cpu, err := pool.scan(cfg.ScanBytes, 1)
	if err != nil {
		return err
	}
	report(Figure{"scan_parquet_per_core", mbs, "MB/s"})
	report(Figure{"scan_parquet_per_cpu_second", cpu, "MB/s"})
	if cfg.Workers > 1 {
		mbs, _, err := pool.scan(cfg.ScanBytes, cfg.Workers)
		if err != nil {
			return err
		}
		report(Figure{fmt.Sprintf("scan_parquet_%d_workers_per_core", cfg.Workers), mbs, "MB/s"})
	}
	if mbs, err = pool.rewrite(cfg.ScanBytes); err != nil {
		return err
	}
	report(Figure{"rewrite_parquet", mbs, "MB/s"})
	return nil
}

// rangedFileS3 serves one Parquet object from a file, by ranges, and takes
// its rewrite, counting the bytes and keeping nothing.
type rangedFileS3 struct {
	s3src.API
	f         *os.File
	size      int64
	partBytes int64
}

const parquetKey = "lake/big.parquet"

// measure finds (or erases) the subject in the object through the adapter
// and returns the peak RSS in MB meanwhile and the MB of the object per
// second.
func (r *rangedFileS3) measure(matched int, erase bool) (float64, float64, error) {
	runtime.GC()
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	src := &registry.Source{ID: "lake", Erasure: registry.EraseDelete, S3: Source(registry.FormatParquet, "")}
	src.S3.Prefix = "lake/"
	a := s3src.New(r)
	start := time.Now()
	var found int
	if erase {
		res, err := a.Erase(context.Background(), src, Identities(), false, nil)
		if err != nil {
			return 0, 0, err
		}
		found = res.Deleted
	} else {
		rows, _, err := a.Find(context.Background(), src, Identities())
		if err != nil {
			return 0, 0, err
		}
		found = len(rows)
	}
	took := time.Since(start)
	if found != matched || (erase && (r.partBytes == 0 || r.partBytes >= r.size)) {
		return 0, 0, fmt.Errorf("bench: found %d of the subject's %d rows in the Parquet object (%d bytes rewritten of %d)", found, matched, r.partBytes, r.size)
	}
	kb, err := vmHWM()
	if err != nil {
		return 0, 0, err
	}
	return round(float64(kb) * 1024 / 1e6), mbPerSecond(r.size, took), nil
}

func (r *rangedFileS3) ListObjectsV2(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	return &s3.ListObjectsV2Output{Contents: []types.Object{{Key: aws.String(parquetKey), Size: aws.Int64(r.size)}}}, nil
}

func (r *rangedFileS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	from, to := int64(0), r.size-1
	if in.Range != nil {
		spec := strings.TrimPrefix(aws.ToString(in.Range), "bytes=")
		a, b, _ := strings.Cut(spec, "-")
		if a == "" {
			n, _ := strconv.ParseInt(b, 10, 64)
			from = max(0, r.size-n)
		} else {
			from, _ = strconv.ParseInt(a, 10, 64)
			if b != "" {
				to, _ = strconv.ParseInt(b, 10, 64)
				to = min(to, r.size-1)
			}
		}
	}
	out := &s3.GetObjectOutput{Body: io.NopCloser(io.NewSectionReader(r.f, from, to-from+1)), ETag: aws.String(`"e1"`), ContentLength: aws.Int64(to - from + 1)}
	if in.Range != nil {
		out.ContentRange = aws.String(fmt.Sprintf("bytes %d-%d/%d", from, to, r.size))
	}
	return out, nil
}

func (r *rangedFileS3) GetBucketVersioning(context.Context, *s3.GetBucketVersioningInput, ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error) {
	return &s3.GetBucketVersioningOutput{}, nil
}

func (r *rangedFileS3) CreateMultipartUpload(context.Context, *s3.CreateMultipartUploadInput, ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	return &s3.CreateMultipartUploadOutput{UploadId: aws.String("u")}, nil
}

func (r *rangedFileS3) UploadPart(_ context.Context, in *s3.UploadPartInput, _ ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	n, err := io.Copy(io.Discard, in.Body)
	r.partBytes += n
	return &s3.UploadPartOutput{ETag: aws.String(`"p"`)}, err
}

func (r *rangedFileS3) CompleteMultipartUpload(context.Context, *s3.CompleteMultipartUploadInput, ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	return &s3.CompleteMultipartUploadOutput{}, nil
}

func (r *rangedFileS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	n, err := io.Copy(io.Discard, in.Body)
	r.partBytes += n
	return &s3.PutObjectOutput{}, err
}
