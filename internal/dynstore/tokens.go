package dynstore

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/privacy-pipeline/dsr/internal/apperr"
)

// Task tokens of waiting workflows (the deadline watch's wait, the wait on
// findings, the wait on manual tasks) are items of their own beside the
// request, under a sort key each: their waits and the request's saves do
// not race.

type itemPutter interface {
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

type itemGetter interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}

// putToken keeps token under the request's sk item, with extra attributes
// (a TTL) if any, replacing the one before.
func putToken(ctx context.Context, api itemPutter, table, requestID, sk, token string, extra map[string]types.AttributeValue) error {
	item := key(requestID, sk)
	item["task_token"] = &types.AttributeValueMemberS{Value: token}
	for name, v := range extra {
		item[name] = v
	}
	if _, err := api.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: item}); err != nil {
		return apperr.Wrap(apperr.Unavailable, "Request storage is unavailable.", err)
	}
	return nil
}

// getToken returns the token kept under the request's sk item, or "".
func getToken(ctx context.Context, api itemGetter, table, requestID, sk string) (string, error) {
	out, err := api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: key(requestID, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return "", apperr.Wrap(apperr.Unavailable, "Request storage is unavailable.", err)
	}
	if v, ok := out.Item["task_token"].(*types.AttributeValueMemberS); ok {
		return v.Value, nil
	}
	return "", nil
}
