// Package s3stream writes an S3 object as a stream: a part at a time, never
// holding the object whole or writing it to disk. An object that fits in one
// part is written with one PutObject; a larger one through a multipart
// upload. Memory is one part whatever the object's size.
package s3stream

import (
	"bytes"
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// API is the part of the S3 client a Writer uses.
type API interface {
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	CreateMultipartUpload(context.Context, *s3.CreateMultipartUploadInput, ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPart(context.Context, *s3.UploadPartInput, ...func(*s3.Options)) (*s3.UploadPartOutput, error)
	CompleteMultipartUpload(context.Context, *s3.CompleteMultipartUploadInput, ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(context.Context, *s3.AbortMultipartUploadInput, ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
}

// Parts: 8 MiB, or more for an object so large that 9,000 parts of 8 MiB
// would not hold it (S3 allows 10,000 parts; 5 TB gets parts of about
// 580 MB). S3 needs parts of at least 5 MiB but the last.
const (
	MinPartSize = 8 << 20
	maxParts    = 9000
)

// PartSizeFor is the part size for an object of about size bytes; the
// margin to S3's 10,000 parts covers an object somewhat larger.
func PartSizeFor(size int64) int {
	n := max(int64(MinPartSize), (size+maxParts-1)/maxParts)
	return int(min(n, 5<<30)) // S3's largest part
}

// Settings are what the object carries besides its bytes, and the
// condition it is written on.
type Settings struct {
	ContentType, ContentEncoding, ContentDisposition, ContentLanguage, CacheControl *string
	Expires                                                                         *time.Time
	WebsiteRedirectLocation                                                         *string
	Metadata                                                                        map[string]string
	// Tagging is URL-encoded (a=1&b=2).
	Tagging              *string
	ServerSideEncryption types.ServerSideEncryption
	SSEKMSKeyID          *string
	BucketKeyEnabled     *bool
	StorageClass         types.StorageClass
	// IfMatch, when set, writes the object only if it still has this ETag:
	// S3 refuses the PutObject or the CompleteMultipartUpload otherwise.
	IfMatch *string
}

// Writer writes one object. Write sends a part whenever one is full; Close
// makes what was written the object; Abort gives it up. Its methods return
// the SDK's errors as they are.
type Writer struct {
	ctx         context.Context
	api         API
	bucket, key string
	settings    Settings
	partSize    int

	buf   []byte
	id    *string // the multipart upload, once begun
	parts []types.CompletedPart
}

// New returns a Writer of bucket/key in parts of partSize bytes.
func New(ctx context.Context, api API, bucket, key string, partSize int, s Settings) *Writer {
	return &Writer{ctx: ctx, api: api, bucket: bucket, key: key, settings: s, partSize: partSize}
}

func (w *Writer) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		take := min(w.partSize-len(w.buf), len(p))
		w.buf = append(w.buf, p[:take]...)
		p = p[take:]
		if len(w.buf) == w.partSize {
			if err := w.sendPart(); err != nil {
				return n - len(p), err
			}
		}
	}
	return n, nil
}

// sendPart sends what is buffered as the next part, beginning the
// multipart upload with the first.
func (w *Writer) sendPart() error {
	if w.id == nil {
		s := w.settings
		out, err := w.api.CreateMultipartUpload(w.ctx, &s3.CreateMultipartUploadInput{
			Bucket: &w.bucket, Key: &w.key,
			ContentType: s.ContentType, ContentEncoding: s.ContentEncoding, ContentDisposition: s.ContentDisposition,
			ContentLanguage: s.ContentLanguage, CacheControl: s.CacheControl, Expires: s.Expires,
			WebsiteRedirectLocation: s.WebsiteRedirectLocation, Metadata: s.Metadata, Tagging: s.Tagging,
			ServerSideEncryption: s.ServerSideEncryption, SSEKMSKeyId: s.SSEKMSKeyID, BucketKeyEnabled: s.BucketKeyEnabled, StorageClass: s.StorageClass,
		})
		if err != nil {
			return err
		}
		w.id = out.UploadId
	}
	number := aws.Int32(int32(len(w.parts) + 1))
	out, err := w.api.UploadPart(w.ctx, &s3.UploadPartInput{Bucket: &w.bucket, Key: &w.key, UploadId: w.id, PartNumber: number, Body: bytes.NewReader(w.buf)})
	if err != nil {
		return err
	}
	w.parts = append(w.parts, types.CompletedPart{ETag: out.ETag, PartNumber: number,
		ChecksumCRC32: out.ChecksumCRC32, ChecksumCRC32C: out.ChecksumCRC32C, ChecksumCRC64NVME: out.ChecksumCRC64NVME,
		ChecksumSHA1: out.ChecksumSHA1, ChecksumSHA256: out.ChecksumSHA256})
	w.buf = w.buf[:0]
	return nil
}

// Close makes what was written the object (on Settings.IfMatch).
func (w *Writer) Close() error {
	if w.id == nil {
		s := w.settings
		_, err := w.api.PutObject(w.ctx, &s3.PutObjectInput{
			Bucket: &w.bucket, Key: &w.key, Body: bytes.NewReader(w.buf), IfMatch: s.IfMatch,
			ContentType: s.ContentType, ContentEncoding: s.ContentEncoding, ContentDisposition: s.ContentDisposition,
			ContentLanguage: s.ContentLanguage, CacheControl: s.CacheControl, Expires: s.Expires,
			WebsiteRedirectLocation: s.WebsiteRedirectLocation, Metadata: s.Metadata, Tagging: s.Tagging,
			ServerSideEncryption: s.ServerSideEncryption, SSEKMSKeyId: s.SSEKMSKeyID, BucketKeyEnabled: s.BucketKeyEnabled, StorageClass: s.StorageClass,
		})
		return err
	}
	if len(w.buf) > 0 {
		if err := w.sendPart(); err != nil {
			return err
		}
	}
	_, err := w.api.CompleteMultipartUpload(w.ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &w.bucket, Key: &w.key, UploadId: w.id, IfMatch: w.settings.IfMatch,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: w.parts},
	})
	return err
}

// Abort ends a multipart upload that will not complete, so its parts do not
// linger; it runs even when the writer's context has ended. A killed process
// cannot abort: buckets should expire incomplete uploads with a lifecycle
// rule.
func (w *Writer) Abort() {
	if w.id == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), 10*time.Second)
	defer cancel()
	_, _ = w.api.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &w.bucket, Key: &w.key, UploadId: w.id})
}
