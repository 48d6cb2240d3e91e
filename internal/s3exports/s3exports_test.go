package s3exports

import (
	"bytes"
	"context"
	"errors"
	"io"
	"maps"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/privacy-pipeline/dsr/internal/apperr"
)

type object struct {
	body        []byte
	contentType string
}

// fakeS3 is a bucket without versions: a put replaces what the key held.
type fakeS3 struct {
	objects map[string]object
	copies  []*s3.CopyObjectInput
	copyErr error
}

func (f *fakeS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	b, _ := io.ReadAll(in.Body)
	f.objects[aws.ToString(in.Key)] = object{body: b, contentType: aws.ToString(in.ContentType)}
	return &s3.PutObjectOutput{}, nil
}

// The exports bucket is written in parts only by packages larger than a
// part; these tests write none, and a call is a mistake.
func (f *fakeS3) CreateMultipartUpload(context.Context, *s3.CreateMultipartUploadInput, ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	return nil, errors.New("unexpected multipart upload")
}

func (f *fakeS3) UploadPart(context.Context, *s3.UploadPartInput, ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	return nil, errors.New("unexpected multipart upload")
}

func (f *fakeS3) CompleteMultipartUpload(context.Context, *s3.CompleteMultipartUploadInput, ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	return nil, errors.New("unexpected multipart upload")
}

func (f *fakeS3) AbortMultipartUpload(context.Context, *s3.AbortMultipartUploadInput, ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error) {
	return nil, errors.New("unexpected multipart upload")
}

func (f *fakeS3) DeleteObject(_ context.Context, in *s3.DeleteObjectInput, _ ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
	delete(f.objects, aws.ToString(in.Key))
	return &s3.DeleteObjectOutput{}, nil
}

func (f *fakeS3) CopyObject(_ context.Context, in *s3.CopyObjectInput, _ ...func(*s3.Options)) (*s3.CopyObjectOutput, error) {
	f.copies = append(f.copies, in)
	return &s3.CopyObjectOutput{}, f.copyErr
}

func (f *fakeS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	o, ok := f.objects[aws.ToString(in.Key)]
	if !ok {
		return nil, &types.NoSuchKey{}
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(o.body))}, nil
}

func (f *fakeS3) DeleteObjects(context.Context, *s3.DeleteObjectsInput, ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error) {
	return nil, errors.New("not used")
}

func (f *fakeS3) HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	return nil, errors.New("not used")
}

func (f *fakeS3) ListObjectsV2(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	return nil, errors.New("not used")
}

// TestPermissionReplacesTheOneBefore: whatever their types, an agent's
// uploads for one request are kept under one key, so a new one leaves no
// older document behind, and deleting it leaves nothing.
func TestPermissionReplacesTheOneBefore(t *testing.T) {
	ctx := context.Background()
	f := &fakeS3{objects: map[string]object{}}
	s := &Store{api: f, bucket: "exports"}
	uploads := []struct{ mediaType, body string }{
		{"application/pdf", "%PDF-1.7 first"},
		{"image/png", "\x89PNG\r\n\x1a\n second"},
		{"image/jpeg", "\xff\xd8\xff third"},
	}
	var keys []string
	for _, u := range uploads {
		key, err := s.PutPermission(ctx, "dsr-20260302-abc", u.mediaType, []byte(u.body))
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, key)
	}
	if keys[0] != "agents/dsr-20260302-abc/permission" || keys[1] != keys[0] || keys[2] != keys[0] {
		t.Fatalf("keys %v, want one, derived from the request id", keys)
	}
	if got := slices.Collect(maps.Keys(f.objects)); len(got) != 1 {
		t.Fatalf("objects %v, want the last upload alone", got)
	}
	if o := f.objects[keys[0]]; o.contentType != "image/jpeg" || !bytes.Equal(o.body, []byte(uploads[2].body)) {
		t.Fatalf("kept %q %q, want the last upload", o.contentType, o.body)
	}
	if err := s.DeletePermission(ctx, keys[0]); err != nil {
		t.Fatal(err)
	}
	if len(f.objects) != 0 {
		t.Fatalf("left %v", f.objects)
	}
}

// TestExpirePermission: a permission kept after its request closed is
// copied onto itself with the closed tag, so the lifecycle rule counts its
// days from the close; one already gone is done; an outage is reported.
func TestExpirePermission(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		err     error
		wantErr apperr.Kind
	}{
		{"kept", nil, -1},
		{"already gone", &smithy.GenericAPIError{Code: "NoSuchKey"}, -1},
		{"outage", &smithy.GenericAPIError{Code: "ServiceUnavailable"}, apperr.Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeS3{objects: map[string]object{}, copyErr: tt.err}
			s := &Store{api: f, bucket: "exports"}
			err := s.ExpirePermission(ctx, "agents/dsr-1/permission", "image/png")
			if tt.wantErr >= 0 {
				if !apperr.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c := f.copies[0]
			if aws.ToString(c.Key) != "agents/dsr-1/permission" || aws.ToString(c.CopySource) != "exports/agents/dsr-1/permission" {
				t.Errorf("copy of %s to %s, want onto itself", aws.ToString(c.CopySource), aws.ToString(c.Key))
			}
			if aws.ToString(c.Tagging) != "permission=closed" || c.TaggingDirective != types.TaggingDirectiveReplace {
				t.Errorf("tagging %q (%s), want permission=closed", aws.ToString(c.Tagging), c.TaggingDirective)
			}
			if c.MetadataDirective != types.MetadataDirectiveReplace || aws.ToString(c.ContentType) != "image/png" {
				t.Errorf("metadata %s, content type %q: the copy must change its metadata and keep its type", c.MetadataDirective, aws.ToString(c.ContentType))
			}
		})
	}
}

// A package is streamed into the bucket and stored when the writer closes.
func TestNewPackage(t *testing.T) {
	f := &fakeS3{objects: map[string]object{}}
	s := &Store{api: f, bucket: "exports"}
	w, key := s.NewPackage(context.Background(), "dsr-20261207-abc")
	if _, err := io.WriteString(w, "PK..."); err != nil {
		t.Fatal(err)
	}
	if len(f.objects) != 0 {
		t.Fatal("stored before the writer closed")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if o := f.objects[key]; string(o.body) != "PK..." || o.contentType != "application/zip" || key != PackageKey("dsr-20261207-abc") {
		t.Fatalf("stored %q as %q under %s", o.body, o.contentType, key)
	}
}

// A part is read a record at a time; a source that held none was stored as
// null, which reads as no record.
func TestEachRecord(t *testing.T) {
	for body, want := range map[string]int{`[{"a":1},{"a":2}]`: 2, `null`: 0, `[]`: 0} {
		f := &fakeS3{objects: map[string]object{partKey("dsr-1", "users"): {body: []byte(body)}}}
		s := &Store{api: f, bucket: "exports"}
		n := 0
		if err := s.EachRecord(context.Background(), "dsr-1", "users", func(map[string]any) error { n++; return nil }); err != nil || n != want {
			t.Errorf("%s: %d records, %v; want %d", body, n, err, want)
		}
	}
}
