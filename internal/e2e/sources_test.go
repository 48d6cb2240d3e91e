package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/devstack"
	"github.com/privacy-pipeline/dsr/internal/dynsrc"
	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/s3src"
)

// TestSourcesLiveCheck: what `privacyctl sources check --aws` asks of each
// source, on the local stack: the demo registry fits its tables and buckets;
// registry mistakes that only the live tables reveal are named as such.
func TestSourcesLiveCheck(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ddb := dynsrc.New(dynamodb.NewFromConfig(stack.AWS))
	s3a := s3src.New(s3.NewFromConfig(stack.AWS, func(o *s3.Options) { o.UsePathStyle = true }))
	check := func(src *registry.Source) error {
		if src.DynamoDB != nil {
			return ddb.Check(ctx, src)
		}
		return s3a.Check(ctx, src)
	}
	reg, err := registry.Parse(devstack.DemoRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ddbClient := dynamodb.NewFromConfig(stack.AWS)
	sample := func(src *registry.Source) ([]string, error) {
		if src.DynamoDB != nil {
			return ddb.Sample(ctx, ddbClient, src)
		}
		return s3a.Sample(ctx, src)
	}
	for _, src := range reg.Automated() { // a manual source has nothing to check
		if err := check(src); err != nil {
			t.Errorf("demo source %s: %v", src.ID, err)
		}
		// The demo's mixed case and mixed types are what its rules expect.
		if w, err := sample(src); err != nil || len(w) != 0 {
			t.Errorf("demo source %s: sample %q, %v", src.ID, w, err)
		}
	}
	// Rules that would miss messy records say so, by counts. The records
	// are the test's own, in a bucket of its own: the demo subject's are
	// erased by now, and other tests compare the demo buckets whole.
	s3c := s3.NewFromConfig(stack.AWS, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("sampling-test")}); err != nil {
		t.Fatal(err)
	}
	for key, body := range map[string]string{
		"sampling/loyalty/points.jsonl":  `{"customer_no":1001,"points":1}` + "\n" + `{"customer_no":"1002","points":2}` + "\n" + `{"customer_no":1003,"points":3}` + "\n",
		"sampling/support/tickets.jsonl": `{"ticket_id":"t-1","email":" Ada.Lovelace@Example.COM"}` + "\n" + `{"ticket_id":"t-2","email":"bob@example.com"}` + "\n",
	} {
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("sampling-test"), Key: aws.String(key), Body: strings.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []struct{ source, from, to, want string }{
		{"loyalty", "bucket: demo-events\n      prefix: loyalty/\n      format: jsonl\n      match:\n        # The number is written as a JSON number in some lines and as text\n        # in others: both match (type: any, the default).\n        - {field: customer_no, identity: customer_no}",
			"bucket: sampling-test\n      prefix: sampling/loyalty/\n      format: jsonl\n      match:\n        - {field: customer_no, identity: customer_no, type: string}", "2 of 3 sampled records hold customer_no as a number"},
		{"support", "bucket: demo-events\n      prefix: support/\n      format: jsonl\n      match:\n        - {field: email, identity: email}",
			"bucket: sampling-test\n      prefix: sampling/support/\n      format: jsonl\n      match:\n        - {field: email, identity: email, normalize: exact}", "1 of 2 sampled records hold email as an address with capital letters"},
	} {
		y := strings.Replace(string(devstack.DemoRegistry()), m.from, m.to, 1)
		if y == string(devstack.DemoRegistry()) {
			t.Fatalf("%s: the replacement did not apply", m.source)
		}
		bad, err := registry.Parse([]byte(y))
		if err != nil {
			t.Fatal(err)
		}
		w, err := sample(bad.Source(m.source))
		if err != nil || len(w) == 0 || !strings.Contains(strings.Join(w, "\n"), m.want) {
			t.Errorf("%s with %s: sample %q, %v; want %q", m.source, m.to, w, err, m.want)
		}
	}

	mistakes := []struct {
		name, from, to string
		kind           apperr.Kind
		want           string
	}{
		{"a table that is not there", "table: demo-orders", "table: demo-order", apperr.Unavailable, "ResourceNotFound"},
		{"an index that is not there", "index: email-index\n      partition_key: email", "index: mail-index\n      partition_key: email", apperr.Invalid, "index the table does not have"},
		{"the wrong partition key", "partition_key: user_id\n      identity: user_id\n    erasure: delete\n    categories: [identifiers, commercial, customer_records]",
			"partition_key: order_id\n      identity: user_id\n    erasure: delete\n    categories: [identifiers, commercial, customer_records]", apperr.Invalid, "not the partition key"},
		{"a sort key the table lacks", "sort_key: {attribute: sk, value: PREFERENCES}", "sort_key: {attribute: kind, value: PREFERENCES}", apperr.Invalid, "whole primary key"},
		{"a bucket that is not there", "bucket: demo-billing", "bucket: demo-billings", apperr.Unavailable, "NoSuchBucket"},
		{"a misspelt prefix", "prefix: invoices/", "prefix: invoice/", apperr.Internal, "no object under the source's prefix"},
		{"gzip not said", "      format: csv\n      compression: gzip\n", "      format: csv\n", apperr.Invalid, "add compression: gzip"},
		{"gzip said of plain objects", "      prefix: invoices/\n      format: csv\n", "      prefix: invoices/\n      format: csv\n      compression: gzip\n", apperr.Invalid, "not gzip-compressed"},
		{"a column the header lacks", "      prefix: invoices/\n      format: csv\n      match:\n        - {field: user_id,", "      prefix: invoices/\n      format: csv\n      match:\n        - {field: customer_id,", apperr.Invalid, `no column "customer_id"`},
	}
	for _, m := range mistakes {
		t.Run(m.name, func(t *testing.T) {
			y := strings.Replace(string(devstack.DemoRegistry()), m.from, m.to, 1)
			if y == string(devstack.DemoRegistry()) {
				t.Fatal("the replacement did not apply: the test would prove nothing")
			}
			bad, err := registry.Parse([]byte(y))
			if err != nil {
				t.Fatal(err)
			}
			var problems []string
			for _, src := range bad.Automated() {
				if err := check(src); err != nil {
					if apperr.KindOf(err) != m.kind || !strings.Contains(err.Error(), m.want) {
						t.Errorf("%s: %v, want %s containing %q", src.ID, err, m.kind, m.want)
					}
					problems = append(problems, src.ID)
				}
			}
			if len(problems) != 1 {
				t.Errorf("problems in %v, want exactly one source", problems)
			}
		})
	}
}
