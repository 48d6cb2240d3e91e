// Package s3anchors keeps the anchors of the erasure receipt chain in an S3
// bucket under Object Lock (compliance mode): one empty object per receipt,
// named by its number and hash. Nobody, the account's root included, can
// delete or overwrite a locked version before its retention ends, so the
// chain kept in DynamoDB can always be checked against them (a receipt
// removed from the end, a chain rebuilt). A delete marker hides an anchor
// from a listing but not from the list of versions, which is what is read.
package s3anchors

import (
	"context"
	"fmt"
	"regexp"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/erasure"
	"github.com/privacy-pipeline/dsr/internal/resources"
)

// API is the part of the S3 client the anchors use.
type API interface {
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	ListObjectVersions(context.Context, *s3.ListObjectVersionsInput, ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error)
}

// Store writes and lists anchors.
type Store struct {
	api    API
	bucket string
}

// New returns the anchors kept in bucket.
func New(api API, bucket string) *Store { return &Store{api: api, bucket: bucket} }

var keyPattern = regexp.MustCompile(`^` + regexp.QuoteMeta(resources.AnchorsPrefix) + `(\d{12})-([0-9a-f]{64})$`)

func keyOf(a erasure.Anchor) string {
	return fmt.Sprintf("%s%012d-%s", resources.AnchorsPrefix, a.Seq, a.Hash)
}

// Put anchors a receipt. Putting it again (a retried step) adds a version
// of the same name, which says the same.
func (s *Store) Put(ctx context.Context, a erasure.Anchor) error {
	if a.Seq < 1 || !keyPattern.MatchString(keyOf(a)) {
		return apperr.E(apperr.Invalid, "A receipt anchor needs a receipt number and a SHA-256 hash.")
	}
	_, err := s.api.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &s.bucket, Key: aws.String(keyOf(a)), ContentLength: aws.Int64(0),
		// Object Lock needs a checksum of what is locked.
		ChecksumAlgorithm: "SHA256",
	})
	if err != nil {
		return apperr.Wrap(apperr.Unavailable, "The receipt anchors are unavailable.", err)
	}
	return nil
}

// All returns every anchor ever written, deleted or not, each once, and
// the number of other objects under the prefix: someone wrote where only
// the receipt task may, and under the lock it stays for years, so it is
// counted for a warning rather than stopping every verification.
func (s *Store) All(ctx context.Context) (anchors []erasure.Anchor, strangers int, err error) {
	seen := map[string]bool{}
	p := s3.NewListObjectVersionsPaginator(s.api, &s3.ListObjectVersionsInput{Bucket: &s.bucket, Prefix: aws.String(resources.AnchorsPrefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, 0, apperr.Wrap(apperr.Unavailable, "The receipt anchors are unavailable.", err)
		}
		for _, v := range page.Versions {
			key := aws.ToString(v.Key)
			m := keyPattern.FindStringSubmatch(key)
			if m == nil {
				strangers++
				continue
			}
			if seen[key] {
				continue
			}
			seen[key] = true
			seq, _ := strconv.ParseInt(m[1], 10, 64)
			anchors = append(anchors, erasure.Anchor{Seq: seq, Hash: m[2]})
		}
	}
	return anchors, strangers, nil
}
