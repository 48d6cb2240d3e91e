// Package s3exports keeps the pipeline's work files and access packages in the
// exports bucket. Keys are built only from request ids and source ids, both
// validated to a safe alphabet before they get here.
package s3exports

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/resources"
	"github.com/privacy-pipeline/dsr/internal/s3stream"
)

// API is the part of the S3 client this package uses.
type API interface {
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	DeleteObject(context.Context, *s3.DeleteObjectInput, ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	DeleteObjects(context.Context, *s3.DeleteObjectsInput, ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error)
	HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	ListObjectsV2(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	CopyObject(context.Context, *s3.CopyObjectInput, ...func(*s3.Options)) (*s3.CopyObjectOutput, error)
	s3stream.API
}

// Store is the exports bucket.
type Store struct {
	api     API
	presign *s3.PresignClient
	bucket  string
}

// New returns a store on bucket.
func New(client *s3.Client, bucket string) *Store {
	return &Store{api: client, presign: s3.NewPresignClient(client), bucket: bucket}
}

func partKey(requestID, sourceID string) string {
	return resources.WorkPrefix + requestID + "/" + sourceID + ".json"
}

// objectResultsPrefix holds what per-object tasks found or did in a large
// source. A result is named by a hash of its object's key: object keys are
// the company's and may hold anything.
func objectResultsPrefix(requestID, sourceID string) string {
	return resources.WorkPrefix + requestID + "/objects/" + sourceID + "/"
}

func objectResultKey(requestID, sourceID, objectKey string) string {
	sum := sha256.Sum256([]byte(objectKey))
	return objectResultsPrefix(requestID, sourceID) + hex.EncodeToString(sum[:]) + ".json"
}

// PutObjectResult stores what a per-object task found or did in one object
// of a source. Storing it again (a retried task) replaces it.
func (s *Store) PutObjectResult(ctx context.Context, requestID, sourceID, objectKey string, result []byte) error {
	return s.put(ctx, objectResultKey(requestID, sourceID, objectKey), bytes.NewReader(result), "application/json")
}

// resultReaders is how many object results are read at once: a subject
// found in tens of thousands of objects has as many results.
const resultReaders = 32

// ObjectResults returns every object result stored for a source.
func (s *Store) ObjectResults(ctx context.Context, requestID, sourceID string) ([][]byte, error) {
	var keys []string
	err := s.eachKey(ctx, objectResultsPrefix(requestID, sourceID), func(key string) error {
		keys = append(keys, key)
		return nil
	})
	if err != nil {
		return nil, err
	}
	results := make([][]byte, len(keys))
	errs := make([]error, len(keys))
	slots := make(chan struct{}, resultReaders)
	var wg sync.WaitGroup
	for i, key := range keys {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			results[i], errs[i] = s.get(ctx, key)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return results, nil
}

func (s *Store) get(ctx context.Context, key string) ([]byte, error) {
	out, err := s.api.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		return nil, apperr.Wrap(apperr.Unavailable, "The exports bucket is unavailable.", err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, apperr.Wrap(apperr.Unavailable, "The exports bucket is unavailable.", err)
	}
	return b, nil
}

// maxDeleteKeys is how many keys one DeleteObjects call takes.
const maxDeleteKeys = 1000

// DeleteObjectResults removes a source's object results once they are
// merged, a thousand at a time.
func (s *Store) DeleteObjectResults(ctx context.Context, requestID, sourceID string) error {
	var batch []types.ObjectIdentifier
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		out, err := s.api.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &s.bucket, Delete: &types.Delete{Objects: batch, Quiet: aws.Bool(true)}})
		if err == nil && len(out.Errors) > 0 {
			err = errors.New(aws.ToString(out.Errors[0].Code))
		}
		if err != nil {
			return apperr.Wrap(apperr.Unavailable, "The exports bucket is unavailable.", err)
		}
		batch = batch[:0]
		return nil
	}
	err := s.eachKey(ctx, objectResultsPrefix(requestID, sourceID), func(key string) error {
		batch = append(batch, types.ObjectIdentifier{Key: aws.String(key)})
		if len(batch) == maxDeleteKeys {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// heldMarkKey is where per-object tasks note that a legal hold kept them
// from erasing in some object of a source: one mark per request and source,
// outside the results.
func heldMarkKey(requestID, sourceID string) string {
	return resources.WorkPrefix + requestID + "/held/" + sourceID
}

// MarkHeld notes that a legal hold kept a per-object task from erasing in
// the source. Marking again changes nothing.
func (s *Store) MarkHeld(ctx context.Context, requestID, sourceID string) error {
	return s.put(ctx, heldMarkKey(requestID, sourceID), bytes.NewReader(nil), "application/octet-stream")
}

// Held reports whether the source is marked held.
func (s *Store) Held(ctx context.Context, requestID, sourceID string) (bool, error) {
	key := heldMarkKey(requestID, sourceID)
	_, err := s.api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: &key})
	var missing *types.NotFound
	switch {
	case errors.As(err, &missing):
		return false, nil
	case err != nil:
		return false, apperr.Wrap(apperr.Unavailable, "The exports bucket is unavailable.", err)
	}
	return true, nil
}

// ClearHeld removes the marks of the sources, before they are worked again.
func (s *Store) ClearHeld(ctx context.Context, requestID string, sourceIDs []string) error {
	for _, id := range sourceIDs {
		key := heldMarkKey(requestID, id)
		if _, err := s.api.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: &key}); err != nil {
			return apperr.Wrap(apperr.Unavailable, "The exports bucket is unavailable.", err)
		}
	}
	return nil
}

func (s *Store) eachKey(ctx context.Context, prefix string, fn func(key string) error) error {
	p := s3.NewListObjectsV2Paginator(s.api, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return apperr.Wrap(apperr.Unavailable, "The exports bucket is unavailable.", err)
		}
		for _, obj := range page.Contents {
			if err := fn(aws.ToString(obj.Key)); err != nil {
				return err
			}
		}
	}
	return nil
}

// PackageKey is where the access package of a request is stored.
func PackageKey(requestID string) string {
	return resources.PackagesPrefix + requestID + "/" + requestID + ".zip"
}

// PutPart stores the records collected from one source.
func (s *Store) PutPart(ctx context.Context, requestID, sourceID string, records []map[string]any) error {
	b, err := json.Marshal(records)
	if err != nil {
		return apperr.Wrap(apperr.Internal, "Collected records could not be encoded.", err)
	}
	return s.put(ctx, partKey(requestID, sourceID), bytes.NewReader(b), "application/json")
}

// Part returns the records collected from one source; NotFound if none were stored.
func (s *Store) Part(ctx context.Context, requestID, sourceID string) ([]map[string]any, error) {
	records := []map[string]any{}
	err := s.EachRecord(ctx, requestID, sourceID, func(r map[string]any) error {
		records = append(records, r)
		return nil
	})
	return records, err
}

// HasPart reports whether records collected from one source are stored;
// it reads none of them.
func (s *Store) HasPart(ctx context.Context, requestID, sourceID string) (bool, error) {
	out, err := s.api.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: aws.String(partKey(requestID, sourceID))})
	var nsk *types.NoSuchKey
	switch {
	case errors.As(err, &nsk):
		return false, nil
	case err != nil:
		return false, apperr.Wrap(apperr.Unavailable, "The exports bucket is unavailable.", err)
	}
	out.Body.Close()
	return true, nil
}

// EachRecord reads the records collected from one source, one at a time,
// and gives each to yield; NotFound if none were stored.
func (s *Store) EachRecord(ctx context.Context, requestID, sourceID string, yield func(map[string]any) error) error {
	out, err := s.api.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: aws.String(partKey(requestID, sourceID))})
	if err != nil {
		var nsk *types.NoSuchKey
		if errors.As(err, &nsk) {
			return apperr.Wrap(apperr.NotFound, "A source's records were not collected.", err)
		}
		return apperr.Wrap(apperr.Unavailable, "The exports bucket is unavailable.", err)
	}
	defer out.Body.Close()
	dec := json.NewDecoder(out.Body)
	dec.UseNumber()
	switch t, err := dec.Token(); {
	case err == nil && t == nil:
		return nil // null: a source that held none
	case err != nil || t != json.Delim('['):
		return apperr.E(apperr.Internal, "Collected records could not be read.")
	}
	for dec.More() {
		var r map[string]any
		if err := dec.Decode(&r); err != nil {
			return apperr.Wrap(apperr.Internal, "Collected records could not be read.", err)
		}
		if err := yield(r); err != nil {
			return err
		}
	}
	return nil
}

// DeletePart removes a work file once it is packaged.
func (s *Store) DeletePart(ctx context.Context, requestID, sourceID string) error {
	_, err := s.api.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: aws.String(partKey(requestID, sourceID))})
	if err != nil {
		return apperr.Wrap(apperr.Unavailable, "The exports bucket is unavailable.", err)
	}
	return nil
}

// Tagging of a permission whose request is closed, which the bucket's
// lifecycle rule deletes the retention's days after it was last written.
const (
	ClosedTagKey   = "permission"
	ClosedTagValue = "closed"
)

// PermissionKey is where the signed permission of an agent's request is
// kept: derived from the request id alone, never from what the agent sent,
// and the same whatever the document's type (its Content-Type says), so a
// new upload replaces the one before and no older document is left.
func PermissionKey(requestID string) string {
	return resources.PermissionsPrefix + requestID + "/permission"
}

// PutPermission stores an agent's signed permission, in place of any sent
// before; the bucket's default encryption (SSE-KMS with the pipeline's key)
// encrypts it.
func (s *Store) PutPermission(ctx context.Context, requestID, mediaType string, body []byte) (string, error) {
	key := PermissionKey(requestID)
	return key, s.put(ctx, key, bytes.NewReader(body), mediaType)
}

// DeletePermission deletes a permission; one already gone is no error.
func (s *Store) DeletePermission(ctx context.Context, key string) error {
	if _, err := s.api.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: &key}); err != nil {
		return apperr.Wrap(apperr.Unavailable, "The exports bucket is unavailable.", err)
	}
	return nil
}

// ExpirePermission tags a closed request's permission for the bucket's
// lifecycle rule, which deletes it a number of days after it was written.
// S3 counts those days from the object's creation, so it is copied onto
// itself: they count from now, the close, not from the upload. One already
// gone is no error.
func (s *Store) ExpirePermission(ctx context.Context, key, mediaType string) error {
	_, err := s.api.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket: &s.bucket, Key: &key, CopySource: aws.String(url.PathEscape(s.bucket) + "/" + key),
		// A copy onto itself must change something: the metadata is
		// replaced, so the media type is given again.
		MetadataDirective: types.MetadataDirectiveReplace, ContentType: &mediaType,
		Metadata:         map[string]string{"request-closed": "true"},
		TaggingDirective: types.TaggingDirectiveReplace,
		Tagging:          aws.String(url.QueryEscape(ClosedTagKey) + "=" + url.QueryEscape(ClosedTagValue)),
	})
	// CopyObject has no modelled error for a missing source: S3 answers
	// with the code alone.
	var api smithy.APIError
	if err != nil && !(errors.As(err, &api) && api.ErrorCode() == "NoSuchKey") {
		return apperr.Wrap(apperr.Unavailable, "The exports bucket is unavailable.", err)
	}
	return nil
}

// PackageWriter is where a request's access package is written, as a
// stream (s3stream): Close stores it, Abort gives it up.
type PackageWriter interface {
	io.Writer
	Close() error
	Abort()
}

// NewPackage returns the writer of a request's access package and the key
// it is stored under; the bucket's default encryption (SSE-KMS with the
// pipeline's key) encrypts it.
func (s *Store) NewPackage(ctx context.Context, requestID string) (PackageWriter, string) {
	key := PackageKey(requestID)
	return &packageWriter{s3stream.New(ctx, s.api, s.bucket, key, s3stream.MinPartSize, s3stream.Settings{ContentType: aws.String("application/zip")})}, key
}

// packageWriter maps the stream's errors to the error model.
type packageWriter struct{ w *s3stream.Writer }

func (p *packageWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	if err != nil {
		return n, apperr.Wrap(apperr.Unavailable, "The exports bucket is unavailable.", err)
	}
	return n, nil
}

func (p *packageWriter) Close() error {
	if err := p.w.Close(); err != nil {
		return apperr.Wrap(apperr.Unavailable, "The exports bucket is unavailable.", err)
	}
	return nil
}

func (p *packageWriter) Abort() { p.w.Abort() }

// PresignPackage returns a GET URL for key that works for ttl.
func (s *Store) PresignPackage(ctx context.Context, key string, ttl time.Duration) (string, error) {
	req, err := s.presign.PresignGetObject(ctx, &s3.GetObjectInput{
		Bucket:                     &s.bucket,
		Key:                        &key,
		ResponseContentDisposition: aws.String(`attachment; filename="your-data.zip"`),
	}, s3.WithPresignExpires(ttl))
	if err != nil {
		return "", apperr.Wrap(apperr.Internal, "A download link could not be made.", err)
	}
	return req.URL, nil
}

func (s *Store) put(ctx context.Context, key string, body io.ReadSeeker, contentType string) error {
	_, err := s.api.PutObject(ctx, &s3.PutObjectInput{Bucket: &s.bucket, Key: &key, Body: body, ContentType: &contentType})
	if err != nil {
		return apperr.Wrap(apperr.Unavailable, "The exports bucket is unavailable.", err)
	}
	return nil
}

// ManualExportKey is where the export a manual source's owner uploaded for a
// request is kept until the package is built: named by the request, the
// source and the type found in its content.
func ManualExportKey(requestID, sourceID, ext string) string {
	return resources.ManualExportsPrefix + requestID + "/" + sourceID + "." + ext
}

// PutManualExport stores an owner's export (checked by manualtask) and
// returns its key.
func (s *Store) PutManualExport(ctx context.Context, requestID, sourceID, ext, mediaType string, body []byte) (string, error) {
	key := ManualExportKey(requestID, sourceID, ext)
	return key, s.put(ctx, key, bytes.NewReader(body), mediaType)
}

// ManualExport opens an owner's export.
func (s *Store) ManualExport(ctx context.Context, key string) (io.ReadCloser, error) {
	out, err := s.api.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		var nsk *types.NoSuchKey
		if errors.As(err, &nsk) {
			return nil, apperr.Wrap(apperr.NotFound, "A manual source's export is gone.", err)
		}
		return nil, apperr.Wrap(apperr.Unavailable, "The exports bucket is unavailable.", err)
	}
	return out.Body, nil
}

// DeleteManualExport removes an owner's export once it is packaged.
func (s *Store) DeleteManualExport(ctx context.Context, key string) error {
	if _, err := s.api.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: &key}); err != nil {
		return apperr.Wrap(apperr.Unavailable, "The exports bucket is unavailable.", err)
	}
	return nil
}
