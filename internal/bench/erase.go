package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/s3src"
)

// streamedS3 serves one object generated as it is read (the same bytes at
// each read: the generator is seeded) and takes its rewrite in parts,
// counting them and keeping nothing: an erasure of an object far larger
// than memory or a Lambda's disk, measured without S3.
type streamedS3 struct {
	s3src.API
	format        string
	size          int64
	cfg           Config
	partBytes     int64
	parts, puts   int
	lastGenerator *Generator
}

const streamedKey = "events/big.jsonl"

func (f *streamedS3) ListObjectsV2(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	return &s3.ListObjectsV2Output{Contents: []types.Object{{Key: aws.String(streamedKey)}}}, nil
}

func (f *streamedS3) GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	f.lastGenerator = NewGenerator(f.format, 42, f.cfg.MatchEvery, f.cfg.Subjects)
	return &s3.GetObjectOutput{Body: io.NopCloser(f.lastGenerator.Stream(f.size)), ETag: aws.String(`"e1"`), ContentLength: aws.Int64(f.size)}, nil
}

func (f *streamedS3) GetBucketVersioning(context.Context, *s3.GetBucketVersioningInput, ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error) {
	return &s3.GetBucketVersioningOutput{}, nil
}

func (f *streamedS3) CreateMultipartUpload(context.Context, *s3.CreateMultipartUploadInput, ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	return &s3.CreateMultipartUploadOutput{UploadId: aws.String("u")}, nil
}

func (f *streamedS3) UploadPart(_ context.Context, in *s3.UploadPartInput, _ ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	n, err := io.Copy(io.Discard, in.Body)
	f.partBytes += n
	f.parts++
	return &s3.UploadPartOutput{ETag: aws.String(fmt.Sprintf(`"p%d"`, f.parts))}, err
}

func (f *streamedS3) CompleteMultipartUpload(context.Context, *s3.CompleteMultipartUploadInput, ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	return &s3.CompleteMultipartUploadOutput{}, nil
}

func (f *streamedS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	n, err := io.Copy(io.Discard, in.Body)
	f.partBytes += n
	f.puts++
	return &s3.PutObjectOutput{}, err
}

// eraseBig erases the subject from one generated object of size bytes
// through the S3 adapter: read once to find her, again through the rewrite
// into a multipart upload. It returns the peak resident set size in MB and
// the MB of the object erased per second.
func eraseBig(cfg Config, format string, size int64) (float64, float64, error) {
	runtime.GC()
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	f := &streamedS3{format: format, size: size, cfg: cfg}
	src := &registry.Source{ID: "big", Erasure: registry.EraseDelete, S3: Source(format, "")}
	src.S3.Prefix = "events/"
	start := time.Now()
	res, err := s3src.New(f).Erase(context.Background(), src, Identities(), false, nil)
	if err != nil {
		return 0, 0, err
	}
	took := time.Since(start)
	if res.Deleted != f.lastGenerator.Matched() || f.parts < 2 || f.partBytes >= size+int64(len(f.lastGenerator.footer())) {
		return 0, 0, fmt.Errorf("bench: erased %d of the subject's %d rows in %d parts (%d bytes)", res.Deleted, f.lastGenerator.Matched(), f.parts, f.partBytes)
	}
	kb, err := vmHWM()
	if err != nil {
		return 0, 0, err
	}
	return round(float64(kb) * 1024 / 1e6), mbPerSecond(size, took), nil
}
