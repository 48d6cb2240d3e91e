// Package s3mail keeps raw inbound messages in the raw-mail bucket, where the
// SES receipt rule writes them. What became of a message is a tag on its
// object, which the bucket's lifecycle rules read: quarantined and discarded
// mail expires, mail kept for a request is deleted when the request closes.
package s3mail

import (
	"bytes"
	"context"
	"errors"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/privacy-pipeline/dsr/internal/apperr"
)

// API is the part of the S3 client this package uses.
type API interface {
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	DeleteObject(context.Context, *s3.DeleteObjectInput, ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	GetObjectTagging(context.Context, *s3.GetObjectTaggingInput, ...func(*s3.Options)) (*s3.GetObjectTaggingOutput, error)
	PutObjectTagging(context.Context, *s3.PutObjectTaggingInput, ...func(*s3.Options)) (*s3.PutObjectTaggingOutput, error)
}

// DispositionTag is the tag key the lifecycle rules filter on.
const DispositionTag = "disposition"

// Store is the raw-mail bucket.
type Store struct {
	api    API
	bucket string
	prefix string
}

// New returns the store of a bucket whose messages are under prefix.
func New(api API, bucket, prefix string) *Store {
	return &Store{api: api, bucket: bucket, prefix: prefix}
}

// Key is the object key SES gives the message with this id.
func (s *Store) Key(mailID string) string { return s.prefix + mailID }

// Open returns the raw message. A missing object is NotFound.
func (s *Store) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	out, err := s.api.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		return nil, s.fail(err)
	}
	return out.Body, nil
}

// Put stores a raw message, as the receipt rule does in the cloud.
func (s *Store) Put(ctx context.Context, key string, raw []byte) error {
	_, err := s.api.PutObject(ctx, &s3.PutObjectInput{Bucket: &s.bucket, Key: &key, Body: bytes.NewReader(raw),
		ContentType: aws.String("message/rfc822")})
	if err != nil {
		return s.fail(err)
	}
	return nil
}

// Disposition returns what became of a message, "" when nothing yet.
func (s *Store) Disposition(ctx context.Context, key string) (string, error) {
	out, err := s.api.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		return "", s.fail(err)
	}
	for _, t := range out.TagSet {
		if aws.ToString(t.Key) == DispositionTag {
			return aws.ToString(t.Value), nil
		}
	}
	return "", nil
}

// SetDisposition records what became of a message.
func (s *Store) SetDisposition(ctx context.Context, key, disposition string) error {
	_, err := s.api.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: &s.bucket, Key: &key,
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String(DispositionTag), Value: &disposition}}}})
	if err != nil {
		return s.fail(err)
	}
	return nil
}

// Delete removes a message; one already gone is no error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if _, err := s.api.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: &key}); err != nil {
		return s.fail(err)
	}
	return nil
}

func (s *Store) fail(err error) error {
	// Only GetObject models NoSuchKey; the tagging calls report it by code.
	var api smithy.APIError
	if errors.As(err, &api) && (api.ErrorCode() == "NoSuchKey" || api.ErrorCode() == "NotFound") {
		return apperr.Wrap(apperr.NotFound, "No such message.", err)
	}
	return apperr.Wrap(apperr.Unavailable, "The raw-mail bucket is unavailable.", err)
}
