package dynsrc

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/registry"
)

// Scanner is what Sample needs beside the adapter's client: one page of a
// Scan. Only the operator's tool samples; the functions never scan.
type Scanner interface {
	Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// sampleItems bounds the items Sample reads.
const sampleItems = 100

// Sample reads one page of the source's table (the attribute the subject is
// looked up by only) and says, by counts, which items a lookup would miss:
// an item that holds the attribute as another type than the index keys it
// by is not in the index at all; an address with capital letters or spaces
// around it is not the address a request gives (always lower case), and a
// DynamoDB lookup is exact. It shows no value it reads.
func (a *Adapter) Sample(ctx context.Context, scan Scanner, src *registry.Source) ([]string, error) {
	d := src.DynamoDB
	ts, _, err := a.prepare(ctx, d)
	if err != nil {
		return nil, err
	}
	out, err := scan.Scan(ctx, &dynamodb.ScanInput{
		TableName: aws.String(d.Table), Limit: aws.Int32(sampleItems),
		ProjectionExpression:     aws.String("#a"),
		ExpressionAttributeNames: map[string]string{"#a": d.PartitionKey},
	})
	if err != nil {
		return nil, apperr.Wrap(apperr.Unavailable, "A DynamoDB source is unavailable.", err)
	}
	want := ts.types[d.PartitionKey]
	var has, wrongType, unusual int
	for _, item := range out.Items {
		v, ok := item[d.PartitionKey]
		if !ok {
			continue
		}
		has++
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			if want != types.ScalarAttributeTypeS {
				wrongType++
			}
			if d.Identity == registry.StartIdentity && !d.Templated() && v.Value != strings.ToLower(strings.TrimSpace(v.Value)) {
				unusual++
			}
		case *types.AttributeValueMemberN:
			if want != types.ScalarAttributeTypeN {
				wrongType++
			}
		case *types.AttributeValueMemberB:
			if want != types.ScalarAttributeTypeB {
				wrongType++
			}
		default:
			wrongType++
		}
	}
	var warnings []string
	if wrongType > 0 {
		where := "the table"
		if d.Index != "" {
			where = "index " + d.Index
		}
		warnings = append(warnings, fmt.Sprintf("%d of %d sampled items hold %s as another type than %s keys it by (%s): a lookup never finds them", wrongType, has, d.PartitionKey, where, want))
	}
	if unusual > 0 {
		warnings = append(warnings, fmt.Sprintf("%d of %d sampled items hold %s as an address with capital letters or spaces around it: DynamoDB looks up exactly, and a request's address is lower case; store addresses in lower case (or index a lower-cased copy)", unusual, has, d.PartitionKey))
	}
	return warnings, nil
}
