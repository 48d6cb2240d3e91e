package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/s3src"
)

// TestRewriteStreamsLargeObjects: an object larger than a part is rewritten
// through a multipart upload on the local S3, conditional on its ETag, and
// keeps its content type, metadata and tags; no upload is left behind.
func TestRewriteStreamsLargeObjects(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s3c := s3.NewFromConfig(stack.AWS, func(o *s3.Options) { o.UsePathStyle = true })
	const bucket, key = "rewrite-test", "events/big.jsonl"
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	var body, want bytes.Buffer
	pad := strings.Repeat("x", 200)
	for i := 0; body.Len() < 20<<20; i++ { // 20 MiB: three parts
		line := fmt.Sprintf(`{"user_id":"u-%d","n":%d,"pad":%q}`+"\n", i%50, i, pad)
		body.WriteString(line)
		if i%50 != 7 {
			want.WriteString(line)
		}
	}
	_, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body.Bytes()),
		ContentType: aws.String("application/x-ndjson"), Metadata: map[string]string{"owner": "analytics"}, Tagging: aws.String("team=web&retention=13m")})
	if err != nil {
		t.Fatal(err)
	}
	src := &registry.Source{ID: "big", Erasure: registry.EraseDelete, S3: &registry.S3Source{Bucket: bucket, Prefix: "events/", Format: "jsonl",
		Match: []registry.Match{{Field: "user_id", Identity: "user_id"}}}}
	res, err := s3src.New(s3c).Erase(ctx, src, map[string][]string{"user_id": {"u-7"}}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if !bytes.Equal(got, want.Bytes()) || res.Deleted == 0 {
		t.Fatalf("rewrite removed %d records; %d bytes left, want %d", res.Deleted, len(got), want.Len())
	}
	if aws.ToString(out.ContentType) != "application/x-ndjson" || out.Metadata["owner"] != "analytics" {
		t.Errorf("content type %q, metadata %v", aws.ToString(out.ContentType), out.Metadata)
	}
	if !strings.Contains(aws.ToString(out.ETag), "-") {
		t.Errorf("ETag %s: not a multipart upload", aws.ToString(out.ETag))
	}
	tags, err := s3c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil || len(tags.TagSet) != 2 {
		t.Fatalf("tags %+v, %v", tags, err)
	}
	uploads, err := s3c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil || len(uploads.Uploads) != 0 {
		t.Fatalf("uploads left: %+v, %v", uploads, err)
	}

	// The local S3 refuses to complete an upload over an object that
	// changed since (If-Match), as S3 does: the rewrite relies on it.
	up, err := s3c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	part, err := s3c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("x\n")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader("changed\n")}); err != nil {
		t.Fatal(err)
	}
	_, err = s3c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId,
		IfMatch: out.ETag, MultipartUpload: &s3types.CompletedMultipartUpload{Parts: []s3types.CompletedPart{{ETag: part.ETag, PartNumber: aws.Int32(1)}}}})
	if err == nil || !strings.Contains(err.Error(), "PreconditionFailed") {
		t.Fatalf("completing over a changed object: %v, want PreconditionFailed", err)
	}
}
