package s3src

import (
	"context"
	"net/http"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/privacy-pipeline/dsr/internal/s3stream"
)

// settingsOf is what a rewrite keeps of an object, read from its GetObject
// answer and its tags (asked for only when it has some): content headers,
// user metadata, tags, encryption, storage class, expiry and redirect. Object
// Lock retention and legal holds belong to versions: a rewritten object is a
// new version, under the bucket's default retention. ACLs are not copied
// (S3 disables them on new buckets).
func (a *Adapter) settingsOf(ctx context.Context, bucket, key string, obj *s3.GetObjectOutput) (s3stream.Settings, error) {
	s := s3stream.Settings{
		ContentType: obj.ContentType, ContentEncoding: obj.ContentEncoding, ContentDisposition: obj.ContentDisposition,
		ContentLanguage: obj.ContentLanguage, CacheControl: obj.CacheControl,
		WebsiteRedirectLocation: obj.WebsiteRedirectLocation, Metadata: obj.Metadata,
		ServerSideEncryption: obj.ServerSideEncryption, SSEKMSKeyID: obj.SSEKMSKeyId, BucketKeyEnabled: obj.BucketKeyEnabled, StorageClass: obj.StorageClass,
	}
	if t, err := http.ParseTime(aws.ToString(obj.ExpiresString)); err == nil {
		s.Expires = &t
	}
	if aws.ToInt32(obj.TagCount) == 0 {
		return s, nil
	}
	out, err := a.api.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: &bucket, Key: &key, VersionId: obj.VersionId})
	if err != nil {
		return s, err
	}
	q := url.Values{}
	for _, t := range out.TagSet {
		q.Add(aws.ToString(t.Key), aws.ToString(t.Value))
	}
	tags := q.Encode()
	s.Tagging = &tags
	return s, nil
}
