// Package s3src finds and erases a subject's rows in the company's S3 objects
// (JSON Lines today). Objects are streamed, never read whole: a byte-level
// prefilter skips lines that cannot match before any JSON is parsed. Erasure
// rewrites an object without the subject's rows and leaves every other byte as
// it was.
package s3src

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/registry"
)

// API is the part of the S3 client this package uses.
type API interface {
	ListObjectsV2(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	DeleteObject(context.Context, *s3.DeleteObjectInput, ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

// Adapter reads and erases S3 sources.
type Adapter struct {
	api API
	// tempDir holds rewritten objects before upload (Lambda's /tmp).
	tempDir string
}

// New returns an adapter on an S3 client.
func New(api API) *Adapter { return &Adapter{api: api, tempDir: os.TempDir()} }

// maxLine bounds one JSON line, so a corrupt object cannot exhaust memory.
const maxLine = 16 << 20

// matcher decides whether a line belongs to the subject.
type matcher struct {
	needles [][]byte            // identity values in quotes: the prefilter
	fields  map[string][]string // field -> identity values that match there
}

func newMatcher(src *registry.S3Source, ids map[string][]string) *matcher {
	m := &matcher{fields: map[string][]string{}}
	for _, rule := range src.Match {
		for _, v := range ids[rule.Identity] {
			m.fields[rule.Field] = append(m.fields[rule.Field], v)
			// The value as it appears in a line whose strings hold no
			// escapes. Not json.Marshal: it escapes &, < and >, which most
			// writers leave as they are.
			m.needles = append(m.needles, []byte(`"`+v+`"`))
		}
	}
	return m
}

// match reports whether line is one of the subject's rows. Lines without any
// identity value as a JSON string are skipped without parsing, unless they
// hold a backslash: an escape (\u00e9, \/, \u0026) may spell a value.
func (m *matcher) match(line []byte) (map[string]any, bool) {
	hit := bytes.IndexByte(line, '\\') >= 0
	for i := 0; !hit && i < len(m.needles); i++ {
		hit = bytes.Contains(line, m.needles[i])
	}
	if !hit {
		return nil, false
	}
	var row map[string]any
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if err := dec.Decode(&row); err != nil {
		return nil, false // not a JSON object: cannot be attributed to anyone
	}
	for field, values := range m.fields {
		if s, ok := row[field].(string); ok {
			for _, v := range values {
				if s == v {
					return row, true
				}
			}
		}
	}
	return nil, false
}

// Find returns the subject's rows from every object under the source prefix.
func (a *Adapter) Find(ctx context.Context, src *registry.Source, ids map[string][]string) ([]map[string]any, error) {
	m := newMatcher(src.S3, ids)
	var rows []map[string]any
	if len(m.needles) == 0 {
		return rows, nil
	}
	err := a.eachObject(ctx, src.S3, func(key string) error {
		body, _, err := a.get(ctx, src.S3.Bucket, key)
		if err != nil {
			return err
		}
		defer body.Close()
		return eachLine(body, func(line []byte) error {
			if row, ok := m.match(line); ok {
				rows = append(rows, row)
			}
			return nil
		})
	})
	return rows, err
}

// Erase rewrites every object under the prefix that holds the subject's rows,
// without them, and deletes objects left empty. It reports the rows removed.
func (a *Adapter) Erase(ctx context.Context, src *registry.Source, ids map[string][]string) (int, error) {
	m := newMatcher(src.S3, ids)
	if len(m.needles) == 0 {
		return 0, nil
	}
	removed := 0
	err := a.eachObject(ctx, src.S3, func(key string) error {
		n, err := a.rewrite(ctx, src.S3.Bucket, key, m)
		removed += n
		return err
	})
	return removed, err
}

// rewrite copies an object to a temporary file without the subject's lines and,
// if any were removed, replaces the object, provided it has not changed since
// it was read (If-Match on the ETag).
func (a *Adapter) rewrite(ctx context.Context, bucket, key string, m *matcher) (int, error) {
	body, etag, err := a.get(ctx, bucket, key)
	if err != nil {
		return 0, err
	}
	defer body.Close()
	tmp, err := os.CreateTemp(a.tempDir, "rewrite-*")
	if err != nil {
		return 0, apperr.Wrap(apperr.Internal, "No space to rewrite an object.", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	w := bufio.NewWriterSize(tmp, 1<<20)
	removed, kept := 0, 0
	err = eachLine(body, func(line []byte) error {
		if _, ok := m.match(line); ok {
			removed++
			return nil
		}
		kept++
		_, err := w.Write(line)
		return err
	})
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		return 0, apperr.Wrap(apperr.Unavailable, "An S3 object could not be rewritten.", err)
	}
	if removed == 0 {
		return 0, nil
	}
	if kept == 0 {
		if _, err := a.api.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: &key, IfMatch: etag}); err != nil {
			return 0, apperr.Wrap(apperr.Unavailable, "An S3 object could not be deleted.", err)
		}
		return removed, nil
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return 0, apperr.Wrap(apperr.Internal, "A rewritten object could not be read back.", err)
	}
	_, err = a.api.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: tmp, IfMatch: etag})
	if err != nil {
		return 0, apperr.Wrap(apperr.Unavailable, "A rewritten S3 object could not be stored.", err)
	}
	return removed, nil
}

func (a *Adapter) get(ctx context.Context, bucket, key string) (io.ReadCloser, *string, error) {
	out, err := a.api.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return nil, nil, apperr.Wrap(apperr.Unavailable, "An S3 source is unavailable.", err)
	}
	return out.Body, out.ETag, nil
}

func (a *Adapter) eachObject(ctx context.Context, src *registry.S3Source, fn func(key string) error) error {
	p := s3.NewListObjectsV2Paginator(a.api, &s3.ListObjectsV2Input{Bucket: &src.Bucket, Prefix: aws.String(src.Prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return apperr.Wrap(apperr.Unavailable, "An S3 source is unavailable.", err)
		}
		for _, obj := range page.Contents {
			if err := fn(aws.ToString(obj.Key)); err != nil {
				return err
			}
		}
	}
	return nil
}

// eachLine calls fn with every line of r, its line ending included, so that
// writing the lines back reproduces the input byte for byte.
func eachLine(r io.Reader, fn func(line []byte) error) error {
	br := bufio.NewReaderSize(r, 256<<10)
	var long []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long, chunk...)
			if len(long) > maxLine {
				return apperr.E(apperr.Invalid, "A line is longer than the limit.")
			}
			continue
		}
		line := chunk
		if long != nil {
			line = append(long, chunk...)
			long = nil
		}
		if len(line) > 0 {
			if ferr := fn(line); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
