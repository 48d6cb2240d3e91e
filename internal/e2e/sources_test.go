package e2e

import (
	"context"
	"strings"
	"testing"

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
	for _, src := range reg.Sources {
		if err := check(src); err != nil {
			t.Errorf("demo source %s: %v", src.ID, err)
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
			for _, src := range bad.Sources {
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
