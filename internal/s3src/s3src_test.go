package s3src

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/erasure"
	"github.com/privacy-pipeline/dsr/internal/registry"
)

const bucket = "demo-events"

// fakeS3 is one in-memory bucket. Every write gives the object a new ETag.
type fakeS3 struct {
	objects  map[string][]byte
	etags    map[string]string
	headers  map[string]headers
	version  int
	pageSize int32 // keys per ListObjectsV2 page when MaxKeys is not set

	gets, puts, deletes []string
	// afterGet runs after an object was read, to play a concurrent writer.
	afterGet func(key string)
	// cut, per key, ends the body's read after that many bytes with the
	// error a connection closed early gives.
	cut map[string]int
	// tags are the objects' tags, by key.
	tags map[string]map[string]string
	// uploads are the multipart uploads begun and not yet ended, by id;
	// completed and aborted count those ended.
	uploads            map[string]*multipart
	completed, aborted int
	// gotIfMatches counts the conditional reads; whole the reads without
	// a range.
	gotIfMatches, whole int
	// partSizes, when set, collects the size of every part uploaded;
	// failPart fails that part (by its number); beforeComplete runs before
	// a multipart upload completes, to play a concurrent writer.
	partSizes      *[]int
	failPart       int32
	beforeComplete func()
	// fault, when set, is asked before each write (PutObject, DeleteObject)
	// of key; it returns the error the write fails with and whether the
	// write is made anyway (a timeout after S3 made it).
	fault func(op, key string) (err error, made bool)

	// versioning is the bucket's versioning status; when "Enabled", every
	// write and delete keeps the replaced body as an older version.
	versioning     types.BucketVersioningStatus
	current        map[string]string    // key -> version id of the current body
	older          map[string][]version // key -> older versions, oldest first
	versionDeletes []string             // "key@version" of versions deleted
}

type version struct {
	id   string
	body []byte
}

// multipart is an upload under way: its key, settings and parts.
type multipart struct {
	key      string
	settings *s3.CreateMultipartUploadInput
	parts    map[int32][]byte
}

// headers are the object headers the fake keeps beside the body.
type headers struct {
	contentType, contentEncoding string
	metadata                     map[string]string
}

func newFakeS3(objects map[string]string) *fakeS3 {
	f := &fakeS3{objects: map[string][]byte{}, etags: map[string]string{}, headers: map[string]headers{}, pageSize: 2}
	for k, v := range objects {
		f.write(k, []byte(v))
	}
	return f
}

func (f *fakeS3) write(key string, body []byte) {
	f.keepOlder(key)
	f.version++
	f.objects[key] = body
	f.etags[key] = fmt.Sprintf(`"etag-%d"`, f.version)
	if f.current == nil {
		f.current = map[string]string{}
	}
	f.current[key] = fmt.Sprintf("v%d", f.version)
}

// keepOlder keeps the current body of key as an older version, when the
// bucket is versioned.
func (f *fakeS3) keepOlder(key string) {
	body, ok := f.objects[key]
	if !ok || f.versioning != types.BucketVersioningStatusEnabled {
		return
	}
	if f.older == nil {
		f.older = map[string][]version{}
	}
	f.older[key] = append(f.older[key], version{f.current[key], body})
}

func (f *fakeS3) GetBucketVersioning(_ context.Context, in *s3.GetBucketVersioningInput, _ ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error) {
	if err := f.checkBucket(in.Bucket); err != nil {
		return nil, err
	}
	return &s3.GetBucketVersioningOutput{Status: f.versioning}, nil
}

// ListObjectVersions lists every version in one page: the current body of
// each key first, then its older versions, newest first, as S3 does.
func (f *fakeS3) ListObjectVersions(_ context.Context, in *s3.ListObjectVersionsInput, _ ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error) {
	if err := f.checkBucket(in.Bucket); err != nil {
		return nil, err
	}
	keys := map[string]bool{}
	for k := range f.objects {
		keys[k] = true
	}
	for k := range f.older {
		keys[k] = true
	}
	out := &s3.ListObjectVersionsOutput{IsTruncated: aws.Bool(false)}
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		if !strings.HasPrefix(k, aws.ToString(in.Prefix)) {
			continue
		}
		if _, ok := f.objects[k]; ok {
			out.Versions = append(out.Versions, types.ObjectVersion{Key: aws.String(k), VersionId: aws.String(f.current[k]), IsLatest: aws.Bool(true)})
		}
		for i := len(f.older[k]) - 1; i >= 0; i-- {
			out.Versions = append(out.Versions, types.ObjectVersion{Key: aws.String(k), VersionId: aws.String(f.older[k][i].id), IsLatest: aws.Bool(false)})
		}
	}
	return out, nil
}

func (f *fakeS3) checkBucket(b *string) error {
	if aws.ToString(b) != bucket {
		return &types.NoSuchBucket{}
	}
	return nil
}

func (f *fakeS3) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	if err := f.checkBucket(in.Bucket); err != nil {
		return nil, err
	}
	var keys []string
	for k := range f.objects {
		if strings.HasPrefix(k, aws.ToString(in.Prefix)) && k > aws.ToString(in.ContinuationToken) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	limit := f.pageSize
	if in.MaxKeys != nil && *in.MaxKeys < limit {
		limit = *in.MaxKeys
	}
	out := &s3.ListObjectsV2Output{IsTruncated: aws.Bool(false)}
	if int32(len(keys)) > limit {
		keys = keys[:limit]
		out.IsTruncated = aws.Bool(true)
		out.NextContinuationToken = aws.String(keys[len(keys)-1])
	}
	for _, k := range keys {
		out.Contents = append(out.Contents, types.Object{Key: aws.String(k), Size: aws.Int64(int64(len(f.objects[k])))})
	}
	return out, nil
}

func (f *fakeS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	if err := f.checkBucket(in.Bucket); err != nil {
		return nil, err
	}
	key := aws.ToString(in.Key)
	body, ok := f.objects[key]
	if in.VersionId != nil && *in.VersionId != f.current[key] {
		i := slices.IndexFunc(f.older[key], func(v version) bool { return v.id == *in.VersionId })
		if i < 0 {
			return nil, &types.NoSuchKey{}
		}
		body, cr, err := ranged(f.older[key][i].body, in.Range)
		if err != nil {
			return nil, err
		}
		return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(bytes.Clone(body))), VersionId: in.VersionId, ContentRange: cr}, nil
	}
	if !ok {
		return nil, &types.NoSuchKey{}
	}
	f.gets = append(f.gets, key)
	if in.IfMatch != nil {
		f.gotIfMatches++
		if *in.IfMatch != f.etags[key] {
			return nil, errPrecondition
		}
	}
	h := f.headers[key]
	if in.Range == nil {
		f.whole++
	}
	body, cr, err := ranged(body, in.Range)
	if err != nil {
		return nil, err
	}
	var r io.Reader = bytes.NewReader(bytes.Clone(body))
	if n, ok := f.cut[key]; ok {
		r = io.MultiReader(io.LimitReader(r, int64(n)), iotest.ErrReader(io.ErrUnexpectedEOF))
	}
	out := &s3.GetObjectOutput{Body: io.NopCloser(r), ETag: aws.String(f.etags[key]), ContentLength: aws.Int64(int64(len(body))), ContentRange: cr,
		TagCount: aws.Int32(int32(len(f.tags[key]))), VersionId: nonEmpty(f.current[key]),
		ContentType: nonEmpty(h.contentType), ContentEncoding: nonEmpty(h.contentEncoding), Metadata: h.metadata}
	if f.afterGet != nil {
		f.afterGet(key)
	}
	return out, nil
}

// ranged is the part of body a Range header asks for ("bytes=a-b",
// "bytes=a-", "bytes=-n"), with its Content-Range, as S3 answers it.
func ranged(body []byte, rng *string) ([]byte, *string, error) {
	if rng == nil {
		return body, nil, nil
	}
	spec, ok := strings.CutPrefix(*rng, "bytes=")
	from, to, ok2 := strings.Cut(spec, "-")
	if !ok || !ok2 {
		return nil, nil, &smithy.GenericAPIError{Code: "InvalidArgument"}
	}
	n := int64(len(body))
	var a, b int64
	switch {
	case from == "":
		k, _ := strconv.ParseInt(to, 10, 64)
		if n == 0 || k == 0 {
			return nil, nil, &smithy.GenericAPIError{Code: "InvalidRange"}
		}
		a, b = max(0, n-k), n-1
	default:
		a, _ = strconv.ParseInt(from, 10, 64)
		b = n - 1
		if to != "" {
			b, _ = strconv.ParseInt(to, 10, 64)
		}
		if a >= n {
			return nil, nil, &smithy.GenericAPIError{Code: "InvalidRange"}
		}
		b = min(b, n-1)
	}
	return body[a : b+1], aws.String(fmt.Sprintf("bytes %d-%d/%d", a, b, n)), nil
}

var errPrecondition = &smithy.GenericAPIError{Code: "PreconditionFailed", Message: "At least one of the pre-conditions you specified did not hold"}

func (f *fakeS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	if err := f.checkBucket(in.Bucket); err != nil {
		return nil, err
	}
	key := aws.ToString(in.Key)
	if f.fault != nil {
		if err, made := f.fault("put", key); err != nil {
			if made {
				fault := f.fault
				f.fault = nil
				_, _ = f.PutObject(context.Background(), in)
				f.fault = fault
			}
			return nil, err
		}
	}
	f.puts = append(f.puts, key)
	if in.IfMatch != nil && *in.IfMatch != f.etags[key] {
		return nil, errPrecondition
	}
	body, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, err
	}
	f.write(key, body)
	f.headers[key] = headers{aws.ToString(in.ContentType), aws.ToString(in.ContentEncoding), in.Metadata}
	f.setTags(key, in.Tagging)
	return &s3.PutObjectOutput{ETag: aws.String(f.etags[key])}, nil
}

func (f *fakeS3) setTags(key string, tagging *string) {
	if f.tags == nil {
		f.tags = map[string]map[string]string{}
	}
	delete(f.tags, key)
	if tagging == nil {
		return
	}
	q, _ := url.ParseQuery(*tagging)
	f.tags[key] = map[string]string{}
	for k := range q {
		f.tags[key][k] = q.Get(k)
	}
}

func (f *fakeS3) GetObjectTagging(_ context.Context, in *s3.GetObjectTaggingInput, _ ...func(*s3.Options)) (*s3.GetObjectTaggingOutput, error) {
	out := &s3.GetObjectTaggingOutput{}
	for _, k := range slices.Sorted(maps.Keys(f.tags[aws.ToString(in.Key)])) {
		out.TagSet = append(out.TagSet, types.Tag{Key: aws.String(k), Value: aws.String(f.tags[aws.ToString(in.Key)][k])})
	}
	return out, nil
}

func (f *fakeS3) CreateMultipartUpload(_ context.Context, in *s3.CreateMultipartUploadInput, _ ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	if f.uploads == nil {
		f.uploads = map[string]*multipart{}
	}
	id := fmt.Sprintf("upload-%d", len(f.uploads)+f.completed+f.aborted+1)
	f.uploads[id] = &multipart{key: aws.ToString(in.Key), settings: in, parts: map[int32][]byte{}}
	return &s3.CreateMultipartUploadOutput{UploadId: &id}, nil
}

func (f *fakeS3) UploadPart(_ context.Context, in *s3.UploadPartInput, _ ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	u, ok := f.uploads[aws.ToString(in.UploadId)]
	if !ok {
		return nil, errors.New("NoSuchUpload")
	}
	if aws.ToInt32(in.PartNumber) == f.failPart {
		return nil, &smithy.GenericAPIError{Code: "SlowDown", Message: "Please reduce your request rate."}
	}
	b, err := io.ReadAll(in.Body)
	if f.partSizes != nil {
		*f.partSizes = append(*f.partSizes, len(b))
	}
	if err != nil {
		return nil, err
	}
	u.parts[aws.ToInt32(in.PartNumber)] = b
	return &s3.UploadPartOutput{ETag: aws.String(fmt.Sprintf(`"part-%d"`, aws.ToInt32(in.PartNumber)))}, nil
}

// CompleteMultipartUpload joins the parts listed, on If-Match as S3 does.
func (f *fakeS3) CompleteMultipartUpload(_ context.Context, in *s3.CompleteMultipartUploadInput, _ ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	u, ok := f.uploads[aws.ToString(in.UploadId)]
	if !ok {
		return nil, errors.New("NoSuchUpload")
	}
	key := u.key
	if f.beforeComplete != nil {
		f.beforeComplete()
	}
	if in.IfMatch != nil && *in.IfMatch != f.etags[key] {
		return nil, errPrecondition
	}
	var body []byte
	for i, p := range in.MultipartUpload.Parts {
		if aws.ToInt32(p.PartNumber) != int32(i+1) || u.parts[int32(i+1)] == nil {
			return nil, errors.New("InvalidPart")
		}
		body = append(body, u.parts[int32(i+1)]...)
	}
	delete(f.uploads, aws.ToString(in.UploadId))
	f.completed++
	f.puts = append(f.puts, key)
	f.write(key, body)
	f.headers[key] = headers{aws.ToString(u.settings.ContentType), aws.ToString(u.settings.ContentEncoding), u.settings.Metadata}
	f.setTags(key, u.settings.Tagging)
	return &s3.CompleteMultipartUploadOutput{ETag: aws.String(f.etags[key])}, nil
}

func (f *fakeS3) AbortMultipartUpload(_ context.Context, in *s3.AbortMultipartUploadInput, _ ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error) {
	delete(f.uploads, aws.ToString(in.UploadId))
	f.aborted++
	return &s3.AbortMultipartUploadOutput{}, nil
}

func (f *fakeS3) HeadObject(_ context.Context, in *s3.HeadObjectInput, _ ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	if err := f.checkBucket(in.Bucket); err != nil {
		return nil, err
	}
	key := aws.ToString(in.Key)
	if in.VersionId != nil && *in.VersionId != f.current[key] {
		if !slices.ContainsFunc(f.older[key], func(v version) bool { return v.id == *in.VersionId }) {
			return nil, &types.NotFound{}
		}
		return &s3.HeadObjectOutput{VersionId: in.VersionId}, nil
	}
	if _, ok := f.objects[key]; !ok {
		return nil, &types.NotFound{}
	}
	return &s3.HeadObjectOutput{ETag: aws.String(f.etags[key])}, nil
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (f *fakeS3) DeleteObject(_ context.Context, in *s3.DeleteObjectInput, _ ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
	if err := f.checkBucket(in.Bucket); err != nil {
		return nil, err
	}
	key := aws.ToString(in.Key)
	if f.fault != nil {
		if err, made := f.fault("delete", key); err != nil {
			if made {
				fault := f.fault
				f.fault = nil
				_, _ = f.DeleteObject(context.Background(), in)
				f.fault = fault
			}
			return nil, err
		}
	}
	if in.VersionId != nil {
		f.versionDeletes = append(f.versionDeletes, key+"@"+*in.VersionId)
		if *in.VersionId == f.current[key] {
			return nil, errors.New("the fake does not delete current versions by id")
		}
		f.older[key] = slices.DeleteFunc(f.older[key], func(v version) bool { return v.id == *in.VersionId })
		return &s3.DeleteObjectOutput{}, nil
	}
	f.deletes = append(f.deletes, key)
	if in.IfMatch != nil && *in.IfMatch != f.etags[key] {
		return nil, errPrecondition
	}
	f.keepOlder(key)
	delete(f.objects, key)
	delete(f.current, key)
	delete(f.etags, key)
	delete(f.headers, key)
	return &s3.DeleteObjectOutput{}, nil
}

func source() *registry.Source {
	return &registry.Source{ID: "events", Erasure: registry.EraseDelete, S3: &registry.S3Source{
		Bucket: bucket, Prefix: "events/", Format: "jsonl",
		Match: []registry.Match{{Field: "user_id", Identity: "user_id"}, {Field: "email", Identity: "email"}},
	}}
}

func newAdapter(t *testing.T, f *fakeS3) *Adapter {
	a := New(f)
	return a
}

// rowsJSON renders found rows one per line for comparison.
func rowsJSON(t *testing.T, rows []map[string]any) string {
	t.Helper()
	var lines []string
	for _, r := range rows {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, string(b))
	}
	return strings.Join(lines, "\n")
}

func TestFind(t *testing.T) {
	subject := map[string][]string{"user_id": {"u-1", "u-2"}, "email": {"ada@example.com"}}
	tests := []struct {
		name    string
		objects map[string]string
		ids     map[string][]string
		want    string // matched rows as compact JSON, in key then line order
		noReads bool
	}{
		{
			name: "match on either field",
			objects: map[string]string{"events/a.jsonl": `{"user_id":"u-1","e":"login"}` + "\n" +
				`{"user_id":"u-3","e":"login"}` + "\n" +
				`{"email":"ada@example.com","e":"signup"}` + "\n" +
				`{"user_id":"u-2","e":"logout"}`},
			ids:  subject,
			want: `{"e":"login","user_id":"u-1"}` + "\n" + `{"e":"signup","email":"ada@example.com"}` + "\n" + `{"e":"logout","user_id":"u-2"}`,
		},
		{
			name: "value in another field or inside a longer value is no match",
			objects: map[string]string{"events/a.jsonl": `{"note":"ask u-1"}` + "\n" +
				`{"note":"u-1","user_id":"u-9"}` + "\n" +
				`{"user_id":"u-10"}` + "\n" +
				`{"user_id":"xu-1"}` + "\n" +
				`{"user_id":"U-1"}` + "\n" +
				`{"email":"u-1"}` + "\n" +
				`{"user_id":["u-1"]}` + "\n" +
				`{"user":{"user_id":"u-1"}}` + "\n"},
			ids: subject,
		},
		{
			name: "lines that are not JSON objects are skipped",
			objects: map[string]string{"events/a.jsonl": `user_id="u-1"` + "\n" +
				`["u-1"]` + "\n" +
				`"u-1"` + "\n" +
				`{"user_id":"u-1"` + "\n" +
				"\n" +
				`{"user_id":"u-1","ok":true}` + "\n"},
			ids:  subject,
			want: `{"ok":true,"user_id":"u-1"}`,
		},
		{
			name:    "numbers keep their digits",
			objects: map[string]string{"events/a.jsonl": `{"user_id":"u-1","amount":12345678901234567890.10}` + "\n"},
			ids:     subject,
			want:    `{"amount":12345678901234567890.10,"user_id":"u-1"}`,
		},
		{
			name: "only objects under the prefix, across pages",
			objects: map[string]string{
				"events/1.jsonl": `{"user_id":"u-1","n":1}` + "\n",
				"events/2.jsonl": `{"user_id":"u-1","n":2}` + "\n",
				"events/3.jsonl": `{"user_id":"u-1","n":3}` + "\n",
				"events/4.jsonl": `{"user_id":"u-1","n":4}` + "\n",
				"events/5.jsonl": `{"user_id":"u-1","n":5}` + "\n",
				"other/1.jsonl":  `{"user_id":"u-1","n":6}` + "\n",
				"events":         `{"user_id":"u-1","n":7}` + "\n",
			},
			ids:  subject,
			want: `{"n":1,"user_id":"u-1"}` + "\n" + `{"n":2,"user_id":"u-1"}` + "\n" + `{"n":3,"user_id":"u-1"}` + "\n" + `{"n":4,"user_id":"u-1"}` + "\n" + `{"n":5,"user_id":"u-1"}`,
		},
		{
			name: "values with characters JSON writers escape",
			objects: map[string]string{"events/a.jsonl": `{"email":"tom&jerry@example.com","w":"plain"}` + "\n" +
				`{"email":"tom\u0026jerry@example.com","w":"go"}` + "\n" +
				`{"email":"jos\u00e9@example.com","w":"python"}` + "\n" +
				`{"email":"josé@example.com","w":"utf8"}` + "\n" +
				`{"user_id":"a\/b","w":"slash"}` + "\n" +
				`{"user_id":"q\"uote","w":"quote"}` + "\n"},
			ids: map[string][]string{"email": {"tom&jerry@example.com", "josé@example.com"}, "user_id": {"a/b", `q"uote`}},
			want: `{"email":"tom\u0026jerry@example.com","w":"plain"}` + "\n" + `{"email":"tom\u0026jerry@example.com","w":"go"}` + "\n" +
				`{"email":"josé@example.com","w":"python"}` + "\n" + `{"email":"josé@example.com","w":"utf8"}` + "\n" +
				`{"user_id":"a/b","w":"slash"}` + "\n" + `{"user_id":"q\"uote","w":"quote"}`,
		},
		{
			name:    "no identity the source matches on: nothing is read",
			objects: map[string]string{"events/a.jsonl": `{"phone":"+441234","user_id":"u-1"}` + "\n"},
			ids:     map[string][]string{"phone": {"+441234"}},
			noReads: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeS3(tc.objects)
			rows, _, err := newAdapter(t, f).Find(context.Background(), source(), tc.ids)
			if err != nil {
				t.Fatal(err)
			}
			if got := rowsJSON(t, rows); got != tc.want {
				t.Errorf("rows:\n%s\nwant:\n%s", got, tc.want)
			}
			if tc.noReads && len(f.gets) > 0 {
				t.Errorf("read %v", f.gets)
			}
			if len(f.puts)+len(f.deletes) > 0 {
				t.Errorf("Find wrote: puts %v deletes %v", f.puts, f.deletes)
			}
		})
	}
}

func TestFindUnavailable(t *testing.T) {
	src := source()
	src.S3.Bucket = "missing"
	_, _, err := newAdapter(t, newFakeS3(nil)).Find(context.Background(), src, map[string][]string{"user_id": {"u-1"}})
	if !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("err = %v, want Unavailable", err)
	}
}

func TestErase(t *testing.T) {
	ids := map[string][]string{"user_id": {"u-1"}, "email": {"ada@example.com"}}
	mine := `{"user_id":"u-1","e":"x"}`
	long := `{"user_id":"u-9","pad":"` + strings.Repeat("p", 1<<20) + `"}`
	longMine := `{"pad":"` + strings.Repeat("q", 1<<20) + `","email":"ada@example.com"}`
	tests := []struct {
		name        string
		objects     map[string]string
		want        map[string]string // objects afterwards
		wantRemoved int
		wantPuts    []string
		wantDeletes []string
	}{
		{
			name: "other lines keep their bytes",
			objects: map[string]string{
				"events/lf.jsonl":   `{"user_id":"u-2", "spaced" : 1 }` + "\n" + mine + "\n" + "\n" + `not json u-1` + "\n" + `{"user_id":"u-3"}`,
				"events/crlf.jsonl": `{"user_id":"u-2"}` + "\r\n" + mine + "\r\n" + `{"email":"ADB@example.com"}` + "\r\n",
				"events/last.jsonl": `{"user_id":"u-2"}` + "\n" + mine,
			},
			want: map[string]string{
				"events/lf.jsonl":   `{"user_id":"u-2", "spaced" : 1 }` + "\n" + "\n" + `not json u-1` + "\n" + `{"user_id":"u-3"}`,
				"events/crlf.jsonl": `{"user_id":"u-2"}` + "\r\n" + `{"email":"ADB@example.com"}` + "\r\n",
				"events/last.jsonl": `{"user_id":"u-2"}` + "\n",
			},
			wantRemoved: 3,
			wantPuts:    []string{"events/crlf.jsonl", "events/last.jsonl", "events/lf.jsonl"},
		},
		{
			name: "an object of only the subject's rows is deleted",
			objects: map[string]string{
				"events/all.jsonl":  mine + "\n" + `{"email":"ada@example.com"}` + "\r\n" + mine,
				"events/none.jsonl": `{"user_id":"u-2"}` + "\n",
			},
			want:        map[string]string{"events/none.jsonl": `{"user_id":"u-2"}` + "\n"},
			wantRemoved: 3,
			wantDeletes: []string{"events/all.jsonl"},
		},
		{
			name: "objects without matches are not touched",
			objects: map[string]string{
				"events/a.jsonl": `{"note":"u-1"}` + "\n" + `{"user_id":"u-10"}` + "\n",
				"events/b.jsonl": "",
				"other/c.jsonl":  mine + "\n",
			},
			want: map[string]string{
				"events/a.jsonl": `{"note":"u-1"}` + "\n" + `{"user_id":"u-10"}` + "\n",
				"events/b.jsonl": "",
				"other/c.jsonl":  mine + "\n",
			},
		},
		{
			name: "lines longer than the read buffer",
			objects: map[string]string{
				"events/long.jsonl": long + "\n" + longMine + "\n" + mine + "\n" + long,
			},
			want:        map[string]string{"events/long.jsonl": long + "\n" + long},
			wantRemoved: 2,
			wantPuts:    []string{"events/long.jsonl"},
		},
		{
			name: "counts rows across pages",
			objects: map[string]string{
				"events/1.jsonl": mine + "\n" + `{"k":1}` + "\n",
				"events/2.jsonl": `{"k":2}` + "\n" + mine + "\n" + mine + "\n",
				"events/3.jsonl": `{"k":3}` + "\n",
				"events/4.jsonl": mine + "\n",
				"events/5.jsonl": `{"k":5}` + "\n" + mine,
			},
			want: map[string]string{
				"events/1.jsonl": `{"k":1}` + "\n",
				"events/2.jsonl": `{"k":2}` + "\n",
				"events/3.jsonl": `{"k":3}` + "\n",
				"events/5.jsonl": `{"k":5}` + "\n",
			},
			wantRemoved: 5,
			wantPuts:    []string{"events/1.jsonl", "events/2.jsonl", "events/5.jsonl"},
			wantDeletes: []string{"events/4.jsonl"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeS3(tc.objects)
			before := map[string]string{}
			for k := range tc.objects {
				before[k] = f.etags[k]
			}
			a := newAdapter(t, f)
			res, err := a.Erase(context.Background(), source(), ids, false, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.Deleted != tc.wantRemoved || res.Records != tc.wantRemoved || res.Anonymized != 0 {
				t.Errorf("result %+v, want %d removed", res, tc.wantRemoved)
			}
			var touched []string
			for _, k := range res.Touched {
				touched = append(touched, k.Key+" "+k.Action)
			}
			var wantTouched []string
			for _, k := range tc.wantPuts {
				wantTouched = append(wantTouched, k+" "+erasure.ActionRewritten)
			}
			for _, k := range tc.wantDeletes {
				wantTouched = append(wantTouched, k+" "+erasure.ActionDeleted)
			}
			if slices.Sort(touched); !slices.Equal(touched, slices.Sorted(slices.Values(wantTouched))) {
				t.Errorf("touched %v, want %v", touched, wantTouched)
			}
			if len(f.objects) != len(tc.want) {
				t.Errorf("objects afterwards: %d, want %d", len(f.objects), len(tc.want))
			}
			for k, want := range tc.want {
				got, ok := f.objects[k]
				if !ok {
					t.Errorf("%s is gone", k)
					continue
				}
				if string(got) != want {
					t.Errorf("%s = %.200q, want %.200q", k, got, want)
				}
			}
			puts := slices.Sorted(slices.Values(f.puts))
			if !slices.Equal(puts, tc.wantPuts) {
				t.Errorf("puts = %v, want %v", puts, tc.wantPuts)
			}
			if !slices.Equal(f.deletes, tc.wantDeletes) {
				t.Errorf("deletes = %v, want %v", f.deletes, tc.wantDeletes)
			}
			for k, etag := range before {
				if !slices.Contains(tc.wantPuts, k) && f.etags[k] != "" && f.etags[k] != etag {
					t.Errorf("%s was rewritten", k)
				}
			}
			// What Erase leaves, Find no longer returns.
			rows, _, err := a.Find(context.Background(), source(), ids)
			if err != nil || len(rows) != 0 {
				t.Errorf("after Erase, Find = %v, %v", rows, err)
			}
		})
	}
}

// An object changed by someone else between read and write keeps the other
// writer's change: the replace and the delete are both conditional, and on a
// conflict the object is read and erased again as it now is.
func TestEraseConcurrentChange(t *testing.T) {
	ids := map[string][]string{"user_id": {"u-1"}}
	mine := `{"user_id":"u-1"}` + "\n"
	tests := []struct {
		name    string
		initial string
		changes int // how many times the other writer changes the object after a read
		want    string
		wantErr bool
		// wantWrites counts the conditional puts and deletes tried: a rewrite
		// reads the object again on If-Match before it writes, so a change
		// between the two reads is seen before any write.
		wantWrites int
	}{
		{name: "rewrite", initial: mine + `{"user_id":"u-2"}` + "\n", changes: 1,
			want: `{"user_id":"u-2"}` + "\n" + `{"user_id":"u-3"}` + "\n", wantWrites: 1},
		{name: "delete becomes a rewrite", initial: mine, changes: 1, want: `{"user_id":"u-3"}` + "\n", wantWrites: 2},
		// Changed after every read, the refusals' looks at it included:
		// the second read, on the ETag of the first, is refused each time,
		// so nothing is ever written.
		{name: "gives up on an object that keeps changing", initial: mine + `{"user_id":"u-2"}` + "\n", changes: 1000,
			wantErr: true, wantWrites: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			const key = "events/a.jsonl"
			f := newFakeS3(map[string]string{key: tc.initial})
			left := tc.changes
			f.afterGet = func(k string) {
				if k == key && left > 0 {
					left--
					f.write(k, append(bytes.Clone(f.objects[k]), `{"user_id":"u-3"}`+"\n"...))
				}
			}
			res, err := newAdapter(t, f).Erase(context.Background(), source(), ids, false, nil)
			if tc.wantErr {
				if !apperr.Is(err, apperr.Unavailable) {
					t.Fatalf("err = %v, want Unavailable", err)
				}
				if !strings.Contains(string(f.objects[key]), `"u-1"`) {
					t.Fatal("the subject's row went without a successful conditional write")
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if got := string(f.objects[key]); got != tc.want {
					t.Errorf("object = %q, want %q", got, tc.want)
				}
				if res.Deleted != 1 {
					t.Errorf("result %+v, want 1 deleted", res)
				}
			}
			if len(f.puts)+len(f.deletes) != tc.wantWrites {
				t.Errorf("puts %v deletes %v", f.puts, f.deletes)
			}
		})
	}
}

// An anonymizing source keeps the subject's records with the listed fields
// blanked; every other byte of every object stays, and nothing is deleted.
func TestEraseAnonymize(t *testing.T) {
	ids := map[string][]string{"user_id": {"u-1"}, "email": {"ada@example.com"}}
	tests := []struct {
		name    string
		format  string
		objects map[string]string
		want    map[string]string
		records int
	}{
		{
			name:   "jsonl",
			format: "jsonl",
			objects: map[string]string{"events/a.jsonl": `{"user_id":"u-2","ip":"10.0.0.2"}` + "\n" +
				`{ "ts" : 1, "user_id" : "u-1", "ip":"10.0.0.1","nested":{"user_id":"u-1"}, "page":"/a" }` + "\r\n" +
				`{"user_id":"u-1"}`,
				"events/b.jsonl": `{"user_id":"u-1","ip":null,"email":"ada@example.com"}` + "\n"},
			want: map[string]string{"events/a.jsonl": `{"user_id":"u-2","ip":"10.0.0.2"}` + "\n" +
				`{ "ts" : 1, "user_id" : null, "ip":null,"nested":{"user_id":"u-1"}, "page":"/a" }` + "\r\n" +
				`{"user_id":null}`,
				"events/b.jsonl": `{"user_id":null,"ip":null,"email":null}` + "\n"},
			records: 3,
		},
		{
			name:   "csv",
			format: "csv",
			objects: map[string]string{"events/a.csv": "ts,user_id,ip,email,page\r\n" +
				"1,u-2,10.0.0.2,bob@example.com,/a\r\n" +
				"2,u-1,\"10.0.0.1\",\"ada@example.com\",\"/b, \"\"quoted\"\"\"\r\n" +
				"3,u-3,,ada@example.com,/c\n" +
				"4,\"u-1\",10.0.0.9,,\"/d\nsecond line\""},
			want: map[string]string{"events/a.csv": "ts,user_id,ip,email,page\r\n" +
				"1,u-2,10.0.0.2,bob@example.com,/a\r\n" +
				"2,,,,\"/b, \"\"quoted\"\"\"\r\n" +
				"3,,,,/c\n" +
				"4,,,,\"/d\nsecond line\""},
			records: 3,
		},
		{
			name:   "json array and object",
			format: "json",
			objects: map[string]string{
				"events/a.json": "[\n  {\"user_id\": \"u-1\", \"ip\": \"10.0.0.1\", \"n\": 1},\n  {\"user_id\": \"u-2\"}\n]\n",
				"events/b.json": " {\"email\": \"ada@example.com\", \"ip\": [1, 2], \"keep\": true}\n",
			},
			want: map[string]string{
				"events/a.json": "[\n  {\"user_id\": null, \"ip\": null, \"n\": 1},\n  {\"user_id\": \"u-2\"}\n]\n",
				"events/b.json": " {\"email\": null, \"ip\": null, \"keep\": true}\n",
			},
			records: 2,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := source()
			src.S3.Format = tc.format
			src.Erasure, src.Anonymize = registry.EraseAnonymize, []string{"user_id", "email", "ip"}
			for _, dryRun := range []bool{true, false} {
				f := newFakeS3(tc.objects)
				a := newAdapter(t, f)
				res, err := a.Erase(context.Background(), src, ids, dryRun, nil)
				if err != nil {
					t.Fatal(err)
				}
				if res.Records != tc.records || res.Anonymized != tc.records || res.Deleted != 0 {
					t.Errorf("dry run %v: result %+v, want %d anonymized", dryRun, res, tc.records)
				}
				for _, k := range res.Touched {
					if k.Action != erasure.ActionAnonymized {
						t.Errorf("touched %+v", k)
					}
				}
				want := tc.want
				if dryRun {
					want = tc.objects
					if len(f.puts)+len(f.deletes) != 0 {
						t.Errorf("a dry run wrote: puts %v deletes %v", f.puts, f.deletes)
					}
				}
				for k, body := range want {
					if got := string(f.objects[k]); got != body {
						t.Errorf("dry run %v: %s =\n%q\nwant\n%q", dryRun, k, got, body)
					}
				}
				if len(f.deletes) != 0 {
					t.Errorf("deleted %v", f.deletes)
				}
				if !dryRun {
					if rows, _, err := a.Find(context.Background(), src, ids); err != nil || len(rows) != 0 {
						t.Errorf("after anonymizing, Find = %v, %v", rows, err)
					}
				}
			}
		})
	}
}

// A dry run reads every object and reports what erasure would do, writing
// nothing.
func TestEraseDryRun(t *testing.T) {
	ids := map[string][]string{"user_id": {"u-1"}}
	objects := map[string]string{
		"events/mixed.jsonl": `{"user_id":"u-1"}` + "\n" + `{"user_id":"u-2"}` + "\n",
		"events/mine.jsonl":  `{"user_id":"u-1"}` + "\n",
		"events/none.jsonl":  `{"user_id":"u-2"}` + "\n",
	}
	f := newFakeS3(objects)
	res, err := newAdapter(t, f).Erase(context.Background(), source(), ids, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(res.Records, res.Deleted, res.Touched)
	if want := "2 2 [{events/mine.jsonl  deleted} {events/mixed.jsonl  rewritten}]"; got != want {
		t.Errorf("dry run reports %s, want %s", got, want)
	}
	if len(f.puts)+len(f.deletes) != 0 {
		t.Errorf("a dry run wrote: puts %v deletes %v", f.puts, f.deletes)
	}
	for k, body := range objects {
		if string(f.objects[k]) != body {
			t.Errorf("%s changed", k)
		}
	}
}

func TestEachLine(t *testing.T) {
	buf := 256 << 10 // the reader's buffer size
	tests := []struct {
		name  string
		input string
		lines int
	}{
		{"empty", "", 0},
		{"one line without newline", "a", 1},
		{"one line", "a\n", 1},
		{"last line without newline", "a\nb", 2},
		{"crlf", "a\r\nb\r\n", 2},
		{"mixed endings", "a\r\nb\nc\r", 3},
		{"blank lines", "\n\n\n", 3},
		{"line filling the buffer less one", strings.Repeat("x", buf-1) + "\nz", 2},
		{"line filling the buffer", strings.Repeat("x", buf) + "\nz", 2},
		{"line one over the buffer", strings.Repeat("x", buf+1) + "\nz", 2},
		{"1 MB line between short ones", "a\n" + strings.Repeat("y", 1<<20) + "\nb\n", 3},
		{"1 MB last line without newline", "a\n" + strings.Repeat("y", 1<<20), 2},
		{"two long lines in a row", strings.Repeat("y", 3*buf) + "\n" + strings.Repeat("w", 2*buf+7) + "\n", 2},
	}
	readers := map[string]func(string) io.Reader{
		"whole":    func(s string) io.Reader { return strings.NewReader(s) },
		"one byte": func(s string) io.Reader { return iotest.OneByteReader(strings.NewReader(s)) },
		"half":     func(s string) io.Reader { return iotest.HalfReader(strings.NewReader(s)) },
	}
	for _, tc := range tests {
		for rname, reader := range readers {
			if rname == "one byte" && len(tc.input) > 4*buf {
				continue // slow and adds nothing
			}
			t.Run(tc.name+"/"+rname, func(t *testing.T) {
				var out bytes.Buffer
				n := 0
				err := eachLine(reader(tc.input), func(line []byte) error {
					n++
					if i := bytes.IndexByte(line, '\n'); i >= 0 && i != len(line)-1 {
						t.Errorf("line %d holds a newline before its end", n)
					}
					out.Write(line)
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if out.String() != tc.input {
					t.Errorf("lines do not reproduce the input (%d bytes from %d)", out.Len(), len(tc.input))
				}
				if n != tc.lines {
					t.Errorf("%d lines, want %d", n, tc.lines)
				}
			})
		}
	}
}

func TestEachLineErrors(t *testing.T) {
	stop := errors.New("stop")
	readErr := errors.New("connection reset")
	tests := []struct {
		name    string
		r       io.Reader
		fn      func([]byte) error
		want    error
		invalid bool
	}{
		{"callback error stops", strings.NewReader("a\nb\n"), func(l []byte) error {
			if string(l) == "a\n" {
				return stop
			}
			panic("called after an error")
		}, stop, false},
		{"read error", io.MultiReader(strings.NewReader("a\n"), iotest.ErrReader(readErr)), func([]byte) error { return nil }, readErr, false},
		{"line over the limit", strings.NewReader(strings.Repeat("z", maxRecord+1<<20) + "\n"), func([]byte) error { return nil }, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := eachLine(tc.r, tc.fn)
			if tc.invalid {
				if !apperr.Is(err, apperr.Invalid) {
					t.Fatalf("err = %v, want Invalid", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// In a versioned bucket no version of any object holds the subject after
// erasure: the older versions that hold her are deleted for good, those that
// do not are kept, and a dry run reports the same and changes nothing.
func TestEraseVersionedBucket(t *testing.T) {
	ids := map[string][]string{"user_id": {"u-1"}}
	for _, mode := range []string{registry.EraseDelete, registry.EraseAnonymize} {
		for _, dryRun := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s dry run %v", mode, dryRun), func(t *testing.T) {
				f := newFakeS3(nil)
				f.versioning = types.BucketVersioningStatusEnabled
				f.write("events/a.jsonl", []byte(`{"user_id":"u-2"}`+"\n"))                          // v1: not hers
				f.write("events/a.jsonl", []byte(`{"user_id":"u-2"}`+"\n"+`{"user_id":"u-1"}`+"\n")) // v2: hers
				f.write("events/a.jsonl", []byte(`{"user_id":"u-2"}`+"\n"+`{"user_id":"u-3"}`+"\n")) // v3, current: not hers
				f.write("events/b.jsonl", []byte(`{"user_id":"u-1"}`+"\n"))                          // v4, current: only hers
				f.write("other/c.jsonl", []byte(`{"user_id":"u-1"}`+"\n"))                           // v5: another prefix
				f.write("other/c.jsonl", []byte(`{"user_id":"u-4"}`+"\n"))                           // v6
				src := source()
				if mode == registry.EraseAnonymize {
					src.Erasure, src.Anonymize = mode, []string{"user_id", "email"}
				}
				res, err := newAdapter(t, f).Erase(context.Background(), src, ids, dryRun, nil)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, k := range res.Touched {
					got = append(got, k.Key+"@"+k.Version+" "+k.Action)
				}
				slices.Sort(got)
				bAction := erasure.ActionDeleted
				if mode == registry.EraseAnonymize {
					bAction = erasure.ActionAnonymized
				}
				want := []string{"events/a.jsonl@v2 version_deleted", "events/b.jsonl@ " + bAction, "events/b.jsonl@v4 version_deleted"}
				if !slices.Equal(got, want) {
					t.Errorf("touched\n got %v\nwant %v", got, want)
				}
				if dryRun {
					if len(f.versionDeletes)+len(f.puts)+len(f.deletes) != 0 {
						t.Errorf("a dry run changed the bucket: %v %v %v", f.versionDeletes, f.puts, f.deletes)
					}
					return
				}
				if want := []string{"events/a.jsonl@v2", "events/b.jsonl@v4"}; !slices.Equal(slices.Sorted(slices.Values(f.versionDeletes)), want) {
					t.Errorf("versions deleted %v, want %v", f.versionDeletes, want)
				}
				for key, versions := range f.older {
					for _, v := range versions {
						if strings.HasPrefix(key, "events/") && strings.Contains(string(v.body), `"u-1"`) {
							t.Errorf("version %s@%s still holds the subject", key, v.id)
						}
					}
				}
				if len(f.older["other/c.jsonl"]) != 1 || len(f.older["events/a.jsonl"]) != 1 || f.older["events/a.jsonl"][0].id != "v1" {
					t.Errorf("versions that do not hold the subject, or are outside the source, were deleted: %v", f.older)
				}
			})
		}
	}
}

// An unversioned bucket is not asked for versions.
func TestEraseUnversionedBucketListsNoVersions(t *testing.T) {
	f := newFakeS3(map[string]string{"events/a.jsonl": `{"user_id":"u-1"}` + "\n"})
	f.older = map[string][]version{"events/a.jsonl": {{"v0", []byte(`{"user_id":"u-1"}`)}}} // would be found if asked
	res, err := newAdapter(t, f).Erase(context.Background(), source(), map[string][]string{"user_id": {"u-1"}}, false, nil)
	if err != nil || len(res.Touched) != 1 || len(f.versionDeletes) != 0 {
		t.Fatalf("Erase = %+v, %v; version deletes %v", res, err, f.versionDeletes)
	}
}
