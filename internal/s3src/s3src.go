// Package s3src finds and erases a subject's records in the company's S3
// objects: JSON Lines, CSV and JSON, each optionally gzip-compressed.
//
// Objects are streamed, never read whole: memory depends on the longest record
// (bounded by maxRecord), not on the size of an object. A byte-level prefilter
// skips records that cannot hold any of the subject's values before anything is
// parsed. Erasure rewrites an object without the subject's records and leaves
// every other byte as it was (see Matcher.Rewrite for the one exception, JSON
// arrays). The scanning and rewriting work on an io.Reader and an io.Writer
// (Matcher), so they run, and are benchmarked, without S3.
package s3src

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/erasure"
	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/s3stream"
)

// API is the part of the S3 client this package uses.
type API interface {
	ListObjectsV2(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	GetObjectTagging(context.Context, *s3.GetObjectTaggingInput, ...func(*s3.Options)) (*s3.GetObjectTaggingOutput, error)
	CreateMultipartUpload(context.Context, *s3.CreateMultipartUploadInput, ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPart(context.Context, *s3.UploadPartInput, ...func(*s3.Options)) (*s3.UploadPartOutput, error)
	CompleteMultipartUpload(context.Context, *s3.CompleteMultipartUploadInput, ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(context.Context, *s3.AbortMultipartUploadInput, ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	DeleteObject(context.Context, *s3.DeleteObjectInput, ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	GetBucketVersioning(context.Context, *s3.GetBucketVersioningInput, ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error)
	ListObjectVersions(context.Context, *s3.ListObjectVersionsInput, ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error)
}

// Adapter reads and erases S3 sources.
type Adapter struct {
	api API
	// partSize, when set, is the size of the parts rewrites are uploaded
	// in (tests use small ones); otherwise it follows the object's size.
	partSize int
	// versioning caches, per bucket, whether it keeps object versions.
	versioning sync.Map
}

// New returns an adapter on an S3 client.
func New(api API) *Adapter { return &Adapter{api: api} }

// Find returns the subject's records from every object under the source
// prefix; for a key template source, every record of every object under the
// subject's folders. Places that may hold the subject but could not be read
// (see Doubt; an object that cannot be read at all) are findings.
func (a *Adapter) Find(ctx context.Context, src *registry.Source, ids map[string][]string) ([]map[string]any, []erasure.Finding, error) {
	m := NewMatcher(src.S3, ids)
	var rows []map[string]any
	var findings []erasure.Finding
	if m.Empty() {
		return rows, nil, nil
	}
	prefixes, err := subjectPrefixes(src.S3, ids)
	if err != nil {
		return nil, nil, err
	}
	err = a.eachObject(ctx, src.S3.Bucket, prefixes, func(key string) error {
		found, fs, err := a.scan(ctx, src, key, m)
		rows = append(rows, found...)
		findings = append(findings, fs...)
		return err
	})
	return rows, findings, err
}

// scan returns the subject's records in one object, and what it could not
// attribute there.
func (a *Adapter) scan(ctx context.Context, src *registry.Source, key string, m *Matcher) ([]map[string]any, []erasure.Finding, error) {
	obj, err := a.open(ctx, src.S3, key, nil, nil)
	if err != nil {
		return nil, nil, apperr.Wrap(apperr.Unavailable, "An S3 source is unavailable.", err)
	}
	defer obj.close()
	var rows []map[string]any
	c, err := obj.scan(m, func(row map[string]any) error {
		rows = append(rows, row)
		return nil
	})
	if f, ok := unreadable(src, key, "", err); ok {
		return rows, []erasure.Finding{f}, nil
	}
	if err != nil {
		return nil, nil, readError(err)
	}
	return rows, doubts(src, key, "", c), nil
}

// doubts are the findings of what a scan or rewrite of one object (or
// version) could not attribute.
func doubts(src *registry.Source, key, version string, c Counts) []erasure.Finding {
	var fs []erasure.Finding
	for _, d := range c.Doubts {
		fs = append(fs, erasure.Finding{SourceID: src.ID, Key: key, Version: version, Line: d.Line, Record: d.Record, RowGroup: d.RowGroup, Row: d.Row, Reason: d.Reason, Field: d.Field})
	}
	if n := c.Doubtful - len(c.Doubts); n > 0 {
		fs[len(fs)-1].More = n
	}
	return fs
}

// unreadable reports an object that cannot be read as the source says (not
// valid gzip, a record beyond the size limit, a CSV header without the
// columns matched on, not JSON) as a finding: it may hold the subject, so
// it is never passed over, and the other objects are worked on.
func unreadable(src *registry.Source, key, version string, err error) (erasure.Finding, bool) {
	var ae *apperr.Error
	var rf *readFailure
	if !errors.As(err, &ae) || ae.Kind != apperr.Invalid || errors.As(err, &rf) {
		return erasure.Finding{}, false
	}
	return erasure.Finding{SourceID: src.ID, Key: key, Version: version, Reason: erasure.FindingUnreadable, Detail: ae.Msg}, true
}

// sourceReader reads an object's body and marks its read errors, so that a
// connection cut short (io.ErrUnexpectedEOF) is an outage to retry, not a
// damaged object.
type sourceReader struct{ r io.Reader }

func (s sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		err = &readFailure{err}
	}
	return n, err
}

// readFailure is an error reading an object's body.
type readFailure struct{ err error }

func (e *readFailure) Error() string { return "reading the object: " + e.err.Error() }

// ErrEmpty means no object is under a source's prefix: a source not yet
// written to, or a misspelt prefix, which would find (and erase) nothing.
var ErrEmpty = errors.New("no object under the source's prefix: check its spelling (a source not yet written to is empty too)")

// Check reports whether the source's bucket can be listed under the part of
// its keys known without a subject, reading no object: a bucket that is
// missing or out of reach shows before a request needs it, and a prefix
// with nothing under it is ErrEmpty.
func (a *Adapter) Check(ctx context.Context, src *registry.Source) error {
	out, err := a.api.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &src.S3.Bucket, Prefix: aws.String(src.S3.ListPrefix()), MaxKeys: aws.Int32(1)})
	if err != nil {
		return apperr.Wrap(apperr.Unavailable, "An S3 source is unavailable.", err)
	}
	if len(out.Contents) == 0 {
		return ErrEmpty
	}
	if src.S3.Templated() {
		return nil // the objects are the subjects' own, each as it is
	}
	return a.checkFirstObject(ctx, src, aws.ToString(out.Contents[0].Key))
}

// checkPeekBytes is how much of the first object Check reads.
const checkPeekBytes = 64 << 10

// checkFirstObject reads the start of one object of the source and checks
// what the registry says of every object against it: gzip-compressed or
// not, and for CSV a header that names the fields the source matches on.
// Nothing read is kept or shown.
func (a *Adapter) checkFirstObject(ctx context.Context, src *registry.Source, key string) error {
	out, err := a.api.GetObject(ctx, &s3.GetObjectInput{Bucket: &src.S3.Bucket, Key: &key, Range: aws.String(fmt.Sprintf("bytes=0-%d", checkPeekBytes-1))})
	if err != nil {
		return apperr.Wrap(apperr.Unavailable, "An S3 source is unavailable.", err)
	}
	defer out.Body.Close()
	head, err := io.ReadAll(io.LimitReader(out.Body, checkPeekBytes))
	if err != nil {
		return apperr.Wrap(apperr.Unavailable, "An S3 source is unavailable.", err)
	}
	gzipped := bytes.HasPrefix(head, gzipMagic)
	switch {
	case len(head) == 0:
		return nil
	case src.S3.Format == registry.FormatParquet && !bytes.HasPrefix(head, []byte("PAR1")):
		return apperr.E(apperr.Invalid, "The source's first object is not a Parquet file (it does not start with PAR1).")
	case src.S3.Format == registry.FormatParquet:
		return nil
	case gzipped && src.S3.Compression != registry.CompressionGzip:
		return apperr.E(apperr.Invalid, "The source's objects are gzip-compressed: add compression: gzip.")
	case !gzipped && src.S3.Compression == registry.CompressionGzip:
		return apperr.E(apperr.Invalid, "The source's objects are not gzip-compressed, though the registry says gzip.")
	case src.S3.Format != registry.FormatCSV:
		return nil
	}
	var text io.Reader = bytes.NewReader(head)
	if gzipped {
		zr, err := gzip.NewReader(text)
		if err != nil {
			return apperr.Wrap(apperr.Invalid, "The source's first object is not valid gzip.", err)
		}
		text = zr
	}
	line, err := bufio.NewReader(io.LimitReader(text, checkPeekBytes)).ReadString('\n')
	if err != nil && line == "" {
		return nil // no whole header within what was read: nothing to check
	}
	header, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(line, "\ufeff"))).Read()
	if err != nil {
		return apperr.Wrap(apperr.Invalid, "The header of the source's first object is not CSV.", err)
	}
	for _, m := range src.S3.Match {
		if !slices.Contains(header, m.Field) {
			return apperr.E(apperr.Invalid, fmt.Sprintf("The header of the source's first object has no column %q, which the source matches on.", m.Field))
		}
	}
	return nil
}

// Oversized reports whether the source's prefix holds more than maxObjects
// objects, or more than maxBytes in all, listing no further than it must.
// Sources that large are worked one object per task (FindInObject,
// EraseInObject): one invocation could not read them within its time.
func (a *Adapter) Oversized(ctx context.Context, src *registry.Source, maxObjects int, maxBytes int64) (bool, error) {
	seen, bytes := 0, int64(0)
	more := errors.New("more")
	err := a.eachListed(ctx, src.S3.Bucket, []string{src.S3.Prefix}, func(obj types.Object) error {
		seen++
		bytes += aws.ToInt64(obj.Size)
		if seen > maxObjects || bytes > maxBytes {
			return more
		}
		return nil
	})
	if errors.Is(err, more) {
		return true, nil
	}
	return false, err
}

// FindInObject returns the subject's records in one object of a source
// with a fixed prefix.
func (a *Adapter) FindInObject(ctx context.Context, src *registry.Source, ids map[string][]string, key string) ([]map[string]any, []erasure.Finding, error) {
	if err := checkObjectKey(src, key); err != nil {
		return nil, nil, err
	}
	m := NewMatcher(src.S3, ids)
	if m.Empty() {
		return nil, nil, nil
	}
	return a.scan(ctx, src, key, m)
}

// EraseInObject is Erase for one object of a source with a fixed prefix.
func (a *Adapter) EraseInObject(ctx context.Context, src *registry.Source, ids map[string][]string, key string, dryRun bool, j erasure.Journal) (erasure.Result, error) {
	if err := checkObjectKey(src, key); err != nil {
		return erasure.Result{}, err
	}
	// The versions under the key may include other keys that start with it:
	// their older versions are checked for the subject too, which their own
	// tasks do as well; nothing else is touched.
	return a.erase(ctx, src, ids, dryRun, j, []string{key}, func(fn func(string) error) error { return fn(key) })
}

// checkObjectKey refuses a key that is not under the source's fixed prefix:
// per-object tasks take the key from a listing of that prefix, nothing else.
func checkObjectKey(src *registry.Source, key string) error {
	if src.S3 == nil || src.S3.Templated() || !strings.HasPrefix(key, src.S3.Prefix) || key == "" {
		return apperr.E(apperr.Invalid, "The object is not one of the source's.")
	}
	return nil
}

// Erase removes the subject's records from every object under the prefix,
// or for an anonymizing source blanks the listed fields in them, and reports
// what it did. An object left without records is deleted. For a key template
// source, deleting deletes every object under the subject's folders. In a
// dry run it reads everything and changes nothing.
func (a *Adapter) Erase(ctx context.Context, src *registry.Source, ids map[string][]string, dryRun bool, j erasure.Journal) (erasure.Result, error) {
	prefixes, err := subjectPrefixes(src.S3, ids)
	if err != nil {
		return erasure.Result{}, err
	}
	return a.erase(ctx, src, ids, dryRun, j, prefixes, func(fn func(string) error) error {
		return a.eachObject(ctx, src.S3.Bucket, prefixes, fn)
	})
}

// erase erases in each object that objects yields, then in the older
// versions under prefixes.
func (a *Adapter) erase(ctx context.Context, src *registry.Source, ids map[string][]string, dryRun bool, j erasure.Journal, prefixes []string, objects func(func(key string) error) error) (erasure.Result, error) {
	m := NewMatcher(src.S3, ids)
	switch src.Erasure {
	case registry.EraseDelete:
	case registry.EraseAnonymize:
		m.Anonymizing(src.Anonymize)
	default:
		return erasure.Result{}, apperr.E(apperr.Invalid, "An S3 source's erasure mode changes nothing here.")
	}
	var res erasure.Result
	if m.Empty() {
		return res, nil
	}
	whole := src.S3.Templated() && src.Erasure == registry.EraseDelete
	err := objects(func(key string) error {
		var n int
		var action string
		var err error
		if whole {
			n, action, err = a.deleteWhole(ctx, src.S3, key, m, dryRun, j)
		} else {
			var fs []erasure.Finding
			n, action, fs, err = a.rewrite(ctx, src, key, m, dryRun, j)
			res.Findings = append(res.Findings, fs...)
		}
		if err != nil || action == "" {
			return err
		}
		res.Records += n
		if src.Erasure == registry.EraseAnonymize {
			res.Anonymized += n
		} else {
			res.Deleted += n
		}
		res.Touched = append(res.Touched, erasure.Touched{Key: key, Action: action})
		return nil
	})
	if err != nil {
		return res, err
	}
	versioned, err := a.versioned(ctx, src.S3.Bucket)
	if err != nil || !versioned {
		return res, err
	}
	removed, fs, err := a.purgeVersions(ctx, src, prefixes, m, whole, dryRun, j)
	res.Touched = append(res.Touched, removed...)
	res.Findings = append(res.Findings, fs...)
	return res, err
}

// subjectPrefixes are the prefixes to list for the subject. An identity value
// that cannot be part of a key stops the work: the subject's objects cannot
// be told apart safely, so an operator must look.
func subjectPrefixes(src *registry.S3Source, ids map[string][]string) ([]string, error) {
	prefixes, err := src.SubjectPrefixes(ids)
	if errors.Is(err, registry.ErrKeyValue) {
		return nil, apperr.Wrap(apperr.Invalid, "One of the subject's identity values cannot be part of an S3 key.", err)
	}
	if err != nil {
		return nil, apperr.Wrap(apperr.Invalid, "The subject's folders in an S3 source cannot be listed.", err)
	}
	return prefixes, nil
}

// deleteWhole deletes one object under the subject's folder, all of which is
// the subject's, and reports its records. A record it cannot parse is the
// subject's too: it goes with the object, uncounted.
func (a *Adapter) deleteWhole(ctx context.Context, src *registry.S3Source, key string, m *Matcher, dryRun bool, j erasure.Journal) (int, string, error) {
	bucket := src.Bucket
	o, err := a.open(ctx, src, key, nil, nil)
	if isNoSuchKey(err) {
		return 0, "", nil // deleted since it was listed
	}
	if err != nil {
		return 0, "", apperr.Wrap(apperr.Unavailable, "An S3 source is unavailable.", err)
	}
	obj := o.out
	c, err := o.scan(m, nil)
	o.close()
	var ae *apperr.Error
	if err != nil && !errors.As(err, &ae) {
		return 0, "", apperr.Wrap(apperr.Unavailable, "An S3 source is unavailable.", err)
	}
	if !dryRun {
		step := erasure.Step{Key: key, Action: erasure.ActionDeleted, Records: c.Matched, Before: aws.ToString(obj.ETag)}
		if err := erasure.Begin(ctx, j, step); err != nil {
			return 0, "", err
		}
		if _, err := a.api.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: &key}); err != nil {
			return 0, "", apperr.Wrap(apperr.Unavailable, "An S3 object could not be deleted.", err)
		}
		if err := erasure.Done(ctx, j, step); err != nil {
			return 0, "", err
		}
	}
	return c.Matched, erasure.ActionDeleted, nil
}

// versioned reports whether a bucket keeps older versions of objects: its
// versioning is enabled, or suspended (the versions made before stay). It is
// asked once per bucket for the life of the adapter.
func (a *Adapter) versioned(ctx context.Context, bucket string) (bool, error) {
	if v, ok := a.versioning.Load(bucket); ok {
		return v.(bool), nil
	}
	out, err := a.api.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: &bucket})
	if err != nil {
		return false, apperr.Wrap(apperr.Unavailable, "An S3 source is unavailable.", err)
	}
	v := out.Status == types.BucketVersioningStatusEnabled || out.Status == types.BucketVersioningStatusSuspended
	a.versioning.Store(bucket, v)
	return v, nil
}

// purgeVersions deletes, for good, every older version under the prefixes
// that holds one of the subject's records (under the subject's own folder,
// every version: all of it is the subject's), so that after erasure no
// version of any object holds the subject. The current versions were
// rewritten or deleted just before and are left alone; in a dry run they
// still hold the subject and are reported too, since the erasure would turn
// them into older versions and delete them.
func (a *Adapter) purgeVersions(ctx context.Context, src *registry.Source, prefixes []string, m *Matcher, whole, dryRun bool, j erasure.Journal) ([]erasure.Touched, []erasure.Finding, error) {
	bucket := src.S3.Bucket
	var removed []erasure.Touched
	var findings []erasure.Finding
	for _, prefix := range prefixes {
		p := s3.NewListObjectVersionsPaginator(a.api, &s3.ListObjectVersionsInput{Bucket: &bucket, Prefix: aws.String(prefix)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, nil, apperr.Wrap(apperr.Unavailable, "An S3 source is unavailable.", err)
			}
			for _, v := range page.Versions {
				if aws.ToBool(v.IsLatest) && !dryRun {
					continue
				}
				key, id := aws.ToString(v.Key), aws.ToString(v.VersionId)
				if !whole {
					holds, fs, err := a.versionHolds(ctx, src, key, id, m)
					if err != nil {
						return nil, nil, err
					}
					if !aws.ToBool(v.IsLatest) { // the rewrite reports the current one's
						findings = append(findings, fs...)
					}
					if !holds {
						continue
					}
				}
				if !dryRun {
					step := erasure.Step{Key: key, Version: id, Action: erasure.ActionVersionDeleted}
					if err := erasure.Begin(ctx, j, step); err != nil {
						return nil, nil, err
					}
					if _, err := a.api.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: &key, VersionId: &id}); err != nil {
						return nil, nil, apperr.Wrap(apperr.Unavailable, "An S3 object version could not be deleted.", err)
					}
					if err := erasure.Done(ctx, j, step); err != nil {
						return nil, nil, err
					}
				}
				removed = append(removed, erasure.Touched{Key: key, Version: id, Action: erasure.ActionVersionDeleted})
			}
		}
	}
	return removed, findings, nil
}

// versionHolds reports whether one version of an object holds a record of
// the subject, and what it could not attribute in it. A version that holds
// one is deleted whole, doubts and all.
func (a *Adapter) versionHolds(ctx context.Context, src *registry.Source, key, versionID string, m *Matcher) (bool, []erasure.Finding, error) {
	obj, err := a.open(ctx, src.S3, key, &versionID, nil)
	if err != nil {
		return false, nil, apperr.Wrap(apperr.Unavailable, "An S3 object version could not be read.", err)
	}
	defer obj.close()
	c, err := obj.scan(m, nil)
	if f, ok := unreadable(src, key, versionID, err); ok {
		return false, []erasure.Finding{f}, nil
	}
	if err != nil {
		return false, nil, readError(err)
	}
	if c.Matched > 0 {
		return true, nil, nil
	}
	return false, doubts(src, key, versionID, c), nil
}

// maxConflicts bounds how often one object is read and rewritten again
// after someone else changed it between the read and the write.
const maxConflicts = 5

// rewrite rewrites one object (see rewriteOnce). When the object changed
// since it was read, the write fails on its ETag and the object is read and
// rewritten again as it now is, so the other writer's change is kept.
func (a *Adapter) rewrite(ctx context.Context, src *registry.Source, key string, m *Matcher, dryRun bool, j erasure.Journal) (int, string, []erasure.Finding, error) {
	for attempt := 1; ; attempt++ {
		n, action, fs, err := a.rewriteOnce(ctx, src, key, m, dryRun, j)
		if !changedMeanwhile(err) {
			return n, action, fs, err
		}
		if attempt == maxConflicts {
			return 0, "", nil, apperr.Wrap(apperr.Unavailable, "An S3 object kept changing while it was rewritten.", err)
		}
	}
}

// changedMeanwhile reports whether a conditional write failed because the
// object changed (412), or a concurrent conditional write won (409).
func changedMeanwhile(err error) bool {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return false
	}
	switch api.ErrorCode() {
	case "PreconditionFailed", "ConditionalRequestConflict":
		return true
	}
	return false
}

// rewriteOnce rewrites an object without the subject's records (or with
// them anonymized), if it holds any, and reports them and the action. It
// reads the object twice, streaming, never holding it or writing it to
// disk: once to find whether it holds the subject (most objects do not,
// and are read once), then, holding her records, again (If-Match on the
// ETag first read, so the same bytes) through the rewrite into the
// replacement (s3stream: one PutObject, or a multipart upload, also on
// If-Match). The replacement keeps the object's settings (settingsOf).
// An object left without records is deleted, on the same condition. A
// conflict is returned as the SDK's error, for rewrite to retry.
func (a *Adapter) rewriteOnce(ctx context.Context, src *registry.Source, key string, m *Matcher, dryRun bool, j erasure.Journal) (int, string, []erasure.Finding, error) {
	bucket := src.S3.Bucket
	o, err := a.open(ctx, src.S3, key, nil, nil)
	if isNoSuchKey(err) {
		return 0, "", nil, nil // deleted since it was listed: nothing of anyone's left
	}
	if err != nil {
		return 0, "", nil, apperr.Wrap(apperr.Unavailable, "An S3 source is unavailable.", err)
	}
	obj := o.out
	c, err := o.scan(m, nil)
	o.close()
	if f, ok := unreadable(src, key, "", err); ok {
		return 0, "", []erasure.Finding{f}, nil // left as it is, for an operator
	}
	if changedMeanwhile(err) {
		return 0, "", nil, err // read again from the start
	}
	if err != nil {
		return 0, "", nil, readError(err)
	}
	fs := doubts(src, key, "", c)
	if c.Matched == 0 {
		return 0, "", fs, nil
	}
	if c.Unrewritable != "" {
		// Her rows are there, but so is a part that a rewrite would lose:
		// the object is left as it is, for an operator.
		return 0, "", append(fs, unrewritable(src, key, c.Unrewritable)), nil
	}
	action := erasure.ActionRewritten
	switch {
	case m.anonymize != nil:
		action = erasure.ActionAnonymized
	case c.Others == 0 && c.Doubtful == 0:
		action = erasure.ActionDeleted
	}
	if dryRun {
		return c.Matched, action, fs, nil
	}
	// Written down before the change: a retry after a crash between the
	// change and Done tells by the ETag whether it was made (Applied).
	step := erasure.Step{Key: key, Action: action, Records: c.Matched, Before: aws.ToString(obj.ETag)}
	if err := erasure.Begin(ctx, j, step); err != nil {
		return 0, "", nil, err
	}
	if action == erasure.ActionDeleted {
		err = a.deleteIfUnchanged(ctx, bucket, key, obj.ETag)
	} else {
		var rewritten Counts
		rewritten, err = a.replace(ctx, src.S3, key, obj, m, c)
		// A doubt names its line in the object as rewritten, where an
		// operator will look.
		fs = doubts(src, key, "", rewritten)
	}
	if changedMeanwhile(err) {
		made, now, rerr := a.refused(ctx, src, m, j, step, err)
		if !made {
			return 0, "", nil, rerr
		}
		if action != erasure.ActionDeleted {
			fs = doubts(src, key, "", now) // what the write made holds
		}
		err = nil
	}
	if errors.Is(err, ErrUnrewritable) {
		// The rewrite met a part its scan had not read and gave up the
		// upload: the object is as it was, for an operator.
		if err := erasure.Drop(ctx, j, step); err != nil {
			return 0, "", nil, err
		}
		return 0, "", append(doubts(src, key, "", c), unrewritable(src, key, unreadablePage)), nil
	}
	if err != nil {
		return 0, "", nil, err
	}
	return c.Matched, action, fs, erasure.Done(ctx, j, step)
}

// unrewritable is the finding of an object that holds the subject's records
// but cannot be rewritten without losing a part of it (see
// Counts.Unrewritable): it is left as it is.
func unrewritable(src *registry.Source, key, why string) erasure.Finding {
	return erasure.Finding{SourceID: src.ID, Key: key, Reason: erasure.FindingUnreadable, Detail: "It holds the subject's records but cannot be rewritten. " + why}
}

func (a *Adapter) deleteIfUnchanged(ctx context.Context, bucket, key string, etag *string) error {
	_, err := a.api.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: &key, IfMatch: etag})
	if err != nil && !changedMeanwhile(err) {
		return apperr.Wrap(apperr.Unavailable, "An S3 object could not be deleted.", err)
	}
	return err
}

// replace streams the object read (obj, found to hold the subject as c
// says) through the rewrite into its replacement, and returns what the
// rewrite met.
func (a *Adapter) replace(ctx context.Context, src *registry.S3Source, key string, obj *s3.GetObjectOutput, m *Matcher, c Counts) (Counts, error) {
	bucket := src.Bucket
	settings, err := a.settingsOf(ctx, bucket, key, obj)
	if err != nil {
		return Counts{}, apperr.Wrap(apperr.Unavailable, "An S3 source is unavailable.", err)
	}
	again, err := a.open(ctx, src, key, nil, obj.ETag)
	if changedMeanwhile(err) || isNoSuchKey(err) {
		return Counts{}, &smithy.GenericAPIError{Code: "PreconditionFailed", Message: "the object changed between its two reads"}
	}
	if err != nil {
		return Counts{}, apperr.Wrap(apperr.Unavailable, "An S3 source is unavailable.", err)
	}
	defer again.close()
	partSize := a.partSize
	if partSize == 0 {
		partSize = s3stream.PartSizeFor(aws.ToInt64(obj.ContentLength))
	}
	settings.IfMatch = obj.ETag
	up := s3stream.New(ctx, a.api, bucket, key, partSize, settings)
	rewritten, err := again.rewrite(m, up)
	if err == nil && (rewritten.Matched != c.Matched || rewritten.Others != c.Others) {
		err = apperr.E(apperr.Internal, "An S3 object read twice gave two different counts.")
	}
	if err == nil {
		err = up.Close()
	}
	if err == nil {
		return rewritten, nil
	}
	up.Abort()
	var ae *apperr.Error
	var rf *readFailure
	if changedMeanwhile(err) || (errors.As(err, &ae) && !errors.As(err, &rf)) {
		return Counts{}, err
	}
	return Counts{}, apperr.Wrap(apperr.Unavailable, "A rewritten S3 object could not be stored.", err)
}

// isNoSuchKey reports whether err says the object is gone.
func isNoSuchKey(err error) bool {
	var nk *types.NoSuchKey
	return errors.As(err, &nk) || notFound(err)
}

// refused settles a conditional write that S3 refused. Another writer may
// have changed the object first: then it still holds the subject's records,
// the step is forgotten and the conflict returned, for rewrite to read the
// object again. Or the write was made and only its answer lost: the SDK
// retried it, and S3 refused the retry because of the write itself; then
// the subject's records are gone, and the step was made (true). A failure
// to tell or to forget is returned instead, so that the step is never
// taken for made, or not, without looking. Made, now is what the object
// holds.
func (a *Adapter) refused(ctx context.Context, src *registry.Source, m *Matcher, j erasure.Journal, step erasure.Step, conflict error) (made bool, now Counts, err error) {
	made, now, err = a.rewritten(ctx, src, m, step)
	if err != nil || made {
		return made, now, err
	}
	if err := erasure.Drop(ctx, j, step); err != nil {
		return false, Counts{}, err
	}
	return false, Counts{}, conflict
}

// rewritten reports whether the object a rewrite step began on no longer
// holds the subject's records: gone, or changed since (another ETag) and
// without them. Only this request removes its subject's records; other
// writers keep them. It returns what the object now holds.
func (a *Adapter) rewritten(ctx context.Context, src *registry.Source, m *Matcher, s erasure.Step) (bool, Counts, error) {
	obj, err := a.api.GetObject(ctx, &s3.GetObjectInput{Bucket: &src.S3.Bucket, Key: &s.Key})
	if notFound(err) {
		return true, Counts{}, nil
	}
	if err != nil {
		return false, Counts{}, apperr.Wrap(apperr.Unavailable, "An S3 source is unavailable.", err)
	}
	defer obj.Body.Close()
	if aws.ToString(obj.ETag) == s.Before {
		return false, Counts{}, nil
	}
	c, err := m.Scan(sourceReader{obj.Body}, nil)
	if f, ok := unreadable(src, s.Key, "", err); ok {
		return false, Counts{}, apperr.E(apperr.Invalid, "An object erasure rewrote can no longer be read: "+f.Detail)
	}
	if err != nil {
		return false, Counts{}, readError(err)
	}
	return c.Matched == 0, c, nil
}

// Applied reports whether a change that erasure began but did not mark done
// (the attempt failed, timed out or was stopped in between) was made: a
// deleted object or version is gone; a rewritten object no longer holds the
// subject's records (see rewritten: its ETag alone cannot tell a rewrite
// made from one refused because someone else wrote first). An object
// deleted by someone else counts as deleted: the subject's records are
// gone either way.
func (a *Adapter) Applied(ctx context.Context, src *registry.Source, ids map[string][]string, s erasure.Step) (bool, error) {
	in := &s3.HeadObjectInput{Bucket: &src.S3.Bucket, Key: &s.Key}
	if s.Version != "" {
		in.VersionId = &s.Version
	}
	out, err := a.api.HeadObject(ctx, in)
	if notFound(err) {
		return true, nil
	}
	if err != nil {
		return false, apperr.Wrap(apperr.Unavailable, "An S3 source is unavailable.", err)
	}
	if s.Version != "" || aws.ToString(out.ETag) == s.Before {
		return false, nil
	}
	// Changed since: a delete that did not happen leaves an object that a
	// conditional delete would have refused; the step after reads it again.
	if s.Action == erasure.ActionDeleted {
		return false, nil
	}
	m := NewMatcher(src.S3, ids)
	if src.Erasure == registry.EraseAnonymize {
		m.Anonymizing(src.Anonymize)
	}
	made, _, err := a.rewritten(ctx, src, m, s)
	return made, err
}

// notFound reports whether err says the object or version does not exist.
func notFound(err error) bool {
	var nf *types.NotFound
	var nk *types.NoSuchKey
	var re *awshttp.ResponseError
	return errors.As(err, &nf) || errors.As(err, &nk) || (errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound)
}

// readError keeps the errors of the format readers (invalid objects) and
// reports every other failure while reading as the source being unavailable.
func readError(err error) error {
	var ae *apperr.Error
	var rf *readFailure
	if err == nil || (errors.As(err, &ae) && !errors.As(err, &rf)) {
		return err
	}
	return apperr.Wrap(apperr.Unavailable, "An S3 source is unavailable.", err)
}

func (a *Adapter) eachObject(ctx context.Context, bucket string, prefixes []string, fn func(key string) error) error {
	return a.eachListed(ctx, bucket, prefixes, func(obj types.Object) error { return fn(aws.ToString(obj.Key)) })
}

// eachListed calls fn for every object listed under the prefixes.
func (a *Adapter) eachListed(ctx context.Context, bucket string, prefixes []string, fn func(obj types.Object) error) error {
	for _, prefix := range prefixes {
		p := s3.NewListObjectsV2Paginator(a.api, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: aws.String(prefix)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return apperr.Wrap(apperr.Unavailable, "An S3 source is unavailable.", err)
			}
			for _, obj := range page.Contents {
				if err := fn(obj); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
