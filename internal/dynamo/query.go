package dynamo

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/privacy-pipeline/dsr/internal/apperr"
)

// eachItem calls fn with every item of partition pk in table whose sort
// key begins with prefix, in sort-key order, read consistently (a step
// reads what the step before it wrote), page by page.
func eachItem(ctx context.Context, api dynamodb.QueryAPIClient, table, pk, prefix string, fn func(map[string]types.AttributeValue) error) error {
	pages := dynamodb.NewQueryPaginator(api, &dynamodb.QueryInput{
		TableName:              &table,
		KeyConditionExpression: aws.String("pk = :id AND begins_with(sk, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":id":     &types.AttributeValueMemberS{Value: pk},
			":prefix": &types.AttributeValueMemberS{Value: prefix},
		},
		ConsistentRead: aws.Bool(true),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return apperr.Wrap(apperr.Unavailable, "Request storage is unavailable.", err)
		}
		for _, item := range page.Items {
			if err := fn(item); err != nil {
				return err
			}
		}
	}
	return nil
}
