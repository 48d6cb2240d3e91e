package s3stream

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// fakeS3 keeps what was put or uploaded, and fails the parts it is told to.
type fakeS3 struct {
	object             []byte
	puts, creates      int
	parts              map[int32][]byte
	ifMatch            *string
	tagging            *string
	failPart           int32
	completed, aborted int
}

func (f *fakeS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	f.puts++
	f.object, _ = io.ReadAll(in.Body)
	f.ifMatch, f.tagging = in.IfMatch, in.Tagging
	return &s3.PutObjectOutput{}, nil
}

func (f *fakeS3) CreateMultipartUpload(_ context.Context, in *s3.CreateMultipartUploadInput, _ ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	f.creates++
	f.parts, f.tagging = map[int32][]byte{}, in.Tagging
	return &s3.CreateMultipartUploadOutput{UploadId: aws.String("u-1")}, nil
}

func (f *fakeS3) UploadPart(_ context.Context, in *s3.UploadPartInput, _ ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	if aws.ToInt32(in.PartNumber) == f.failPart {
		return nil, errors.New("SlowDown")
	}
	f.parts[aws.ToInt32(in.PartNumber)], _ = io.ReadAll(in.Body)
	return &s3.UploadPartOutput{ETag: aws.String("p")}, nil
}

func (f *fakeS3) CompleteMultipartUpload(_ context.Context, in *s3.CompleteMultipartUploadInput, _ ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	f.completed++
	f.ifMatch = in.IfMatch
	f.object = nil
	for i := range in.MultipartUpload.Parts {
		f.object = append(f.object, f.parts[int32(i+1)]...)
	}
	return &s3.CompleteMultipartUploadOutput{}, nil
}

func (f *fakeS3) AbortMultipartUpload(context.Context, *s3.AbortMultipartUploadInput, ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error) {
	f.aborted++
	return &s3.AbortMultipartUploadOutput{}, nil
}

func TestWriter(t *testing.T) {
	settings := Settings{Tagging: aws.String("a=1"), IfMatch: aws.String(`"e1"`)}
	tests := []struct {
		name          string
		size          int
		puts, creates int
		parts         int
	}{
		{"empty", 0, 1, 0, 0},
		{"smaller than a part", 99, 1, 0, 0},
		{"exactly a part", 100, 0, 1, 1},
		{"parts and a rest", 1050, 0, 1, 11},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeS3{}
			w := New(context.Background(), f, "b", "k", 100, settings)
			want := strings.Repeat("x", tt.size)
			// Written in odd pieces: parts do not follow the writes.
			for rest := want; len(rest) > 0; {
				n := min(37, len(rest))
				if _, err := io.WriteString(w, rest[:n]); err != nil {
					t.Fatal(err)
				}
				rest = rest[n:]
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if string(f.object) != want || f.puts != tt.puts || f.creates != tt.creates || len(f.parts) != tt.parts {
				t.Fatalf("%d bytes, %d puts, %d uploads, %d parts", len(f.object), f.puts, f.creates, len(f.parts))
			}
			for n, p := range f.parts {
				if len(p) > 100 || (int(n) < len(f.parts) && len(p) != 100) {
					t.Errorf("part %d has %d bytes", n, len(p))
				}
			}
			if aws.ToString(f.ifMatch) != `"e1"` || aws.ToString(f.tagging) != "a=1" {
				t.Errorf("condition %v, tagging %v", aws.ToString(f.ifMatch), aws.ToString(f.tagging))
			}
		})
	}
}

func TestWriterAborts(t *testing.T) {
	f := &fakeS3{failPart: 2}
	w := New(context.Background(), f, "b", "k", 10, Settings{})
	_, err := w.Write(bytes.Repeat([]byte("x"), 35))
	if err == nil {
		t.Fatal("a failed part is no error")
	}
	w.Abort()
	if f.aborted != 1 || f.completed != 0 {
		t.Fatalf("aborted %d, completed %d", f.aborted, f.completed)
	}
	w = New(context.Background(), &fakeS3{}, "b", "k", 10, Settings{})
	w.Abort() // nothing begun: nothing to abort
}

func TestPartSizeFor(t *testing.T) {
	for _, tt := range []struct {
		size int64
		want int
	}{{0, MinPartSize}, {1 << 30, MinPartSize}, {5 << 40, 610839794}} {
		if got := PartSizeFor(tt.size); got != tt.want || int64(got)*10000 < tt.size {
			t.Errorf("PartSizeFor(%d) = %d, want %d", tt.size, got, tt.want)
		}
	}
}
