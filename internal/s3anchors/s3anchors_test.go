package s3anchors

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/erasure"
)

// fakeS3 keeps object versions by key, in pages of two versions.
type fakeS3 struct {
	versions []string // keys, one per version, in order
	puts     []*s3.PutObjectInput
}

func (f *fakeS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	f.puts = append(f.puts, in)
	f.versions = append(f.versions, aws.ToString(in.Key))
	return &s3.PutObjectOutput{}, nil
}

func (f *fakeS3) ListObjectVersions(_ context.Context, in *s3.ListObjectVersionsInput, _ ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error) {
	start := 0
	if in.KeyMarker != nil {
		for i, k := range f.versions {
			if k == *in.KeyMarker {
				start = i + 1
			}
		}
	}
	end := min(start+2, len(f.versions))
	out := &s3.ListObjectVersionsOutput{}
	for _, k := range f.versions[start:end] {
		if strings.HasPrefix(k, aws.ToString(in.Prefix)) {
			out.Versions = append(out.Versions, types.ObjectVersion{Key: aws.String(k)})
		}
	}
	if end < len(f.versions) {
		out.IsTruncated, out.NextKeyMarker, out.NextVersionIdMarker = aws.Bool(true), aws.String(f.versions[end-1]), aws.String("v")
	}
	return out, nil
}

var hash = strings.Repeat("ab", 32)

func TestPutAndAll(t *testing.T) {
	f := &fakeS3{}
	s := New(f, "anchors-bucket")
	ctx := context.Background()
	for _, a := range []erasure.Anchor{{Seq: 1, Hash: hash}, {Seq: 2, Hash: strings.Repeat("cd", 32)}, {Seq: 1, Hash: hash}} {
		if err := s.Put(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if k := aws.ToString(f.puts[0].Key); k != "anchors/000000000001-"+hash || aws.ToString(f.puts[0].Bucket) != "anchors-bucket" {
		t.Fatalf("put %s", k)
	}
	all, strangers, err := s.All(ctx)
	if err != nil || strangers != 0 {
		t.Fatal(strangers, err)
	}
	if len(all) != 2 || all[0] != (erasure.Anchor{Seq: 1, Hash: hash}) || all[1].Seq != 2 {
		t.Fatalf("anchors %v, want 1 and 2, each once", all)
	}
}

func TestPutRefusesWhatIsNoAnchor(t *testing.T) {
	s := New(&fakeS3{}, "b")
	for _, a := range []erasure.Anchor{{Seq: 0, Hash: hash}, {Seq: 1, Hash: "abc"}, {Seq: 1, Hash: strings.Repeat("AB", 32)}, {Seq: 1, Hash: hash + "/../x"}} {
		if err := s.Put(context.Background(), a); apperr.KindOf(err) != apperr.Invalid {
			t.Errorf("Put(%+v) = %v, want Invalid", a, err)
		}
	}
}

func TestAllCountsStrangers(t *testing.T) {
	f := &fakeS3{versions: []string{"anchors/000000000001-" + hash, "anchors/notes.txt", "anchors/000000000002-" + hash + "x"}}
	all, strangers, err := New(f, "b").All(context.Background())
	if err != nil || strangers != 2 || len(all) != 1 || all[0].Seq != 1 {
		t.Fatalf("anchors %v, strangers %d, err %v; want 1 anchor and 2 strangers", all, strangers, err)
	}
}
