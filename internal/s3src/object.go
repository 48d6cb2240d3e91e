package s3src

import (
	"context"
	"io"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/privacy-pipeline/dsr/internal/registry"
)

// object is one S3 object (or version) opened for reading as its format
// needs: a stream for the text formats, ranged reads for Parquet, which
// needs its footer first.
type object struct {
	// out is the answer to the first GET: the object's headers (for Parquet,
	// ContentLength is the whole object's size) and, for a stream, its body.
	out    *s3.GetObjectOutput
	ranged *rangedObject
}

// open makes the first GET of an object, of one version, or of the
// version with the ETag ifMatch. Its errors are the SDK's.
func (a *Adapter) open(ctx context.Context, src *registry.S3Source, key string, version, ifMatch *string) (*object, error) {
	if src.Format == registry.FormatParquet {
		r, err := openRanged(ctx, a.api, src.Bucket, key, version, ifMatch)
		if err != nil {
			return nil, err
		}
		return &object{out: r.head, ranged: r}, nil
	}
	out, err := a.api.GetObject(ctx, &s3.GetObjectInput{Bucket: &src.Bucket, Key: &key, VersionId: version, IfMatch: ifMatch})
	if err != nil {
		return nil, err
	}
	return &object{out: out}, nil
}

func (o *object) close() {
	if o.ranged == nil {
		o.out.Body.Close()
	}
}

// scan is Matcher.Scan of the object.
func (o *object) scan(m *Matcher, found func(map[string]any) error) (Counts, error) {
	if o.ranged != nil {
		return m.ScanParquet(o.ranged, o.ranged.size, found)
	}
	return m.Scan(sourceReader{o.out.Body}, found)
}

// rewrite is Matcher.Rewrite of the object.
func (o *object) rewrite(m *Matcher, w io.Writer) (Counts, error) {
	if o.ranged != nil {
		return m.RewriteParquet(o.ranged, o.ranged.size, w)
	}
	return m.Rewrite(sourceReader{o.out.Body}, w)
}
