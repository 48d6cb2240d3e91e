package dynstore

import (
	"context"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/resources"
)

// watchWaitSK keeps, beside a request (same pk), the task token of the wait
// its deadline watch is in. It is an item of its own because the watch
// keeps it while the workflow saves the request: in the request item, every
// watch step would make a concurrent workflow step lose its versioned save.
const watchWaitSK = "watch-wait"

// watchWaitTTL outlives the longest execution Step Functions runs (a year),
// after which no token can be answered.
const watchWaitTTL = 400 * 24 * time.Hour

// SetWatchWait keeps the task token of the wait the request's deadline
// watch is in, replacing the one before.
func (s *Store) SetWatchWait(ctx context.Context, requestID, token string) error {
	item := key(requestID, watchWaitSK)
	item["task_token"] = &types.AttributeValueMemberS{Value: token}
	item[resources.Requests.TTLAttribute] = &types.AttributeValueMemberN{Value: strconv.FormatInt(time.Now().Add(watchWaitTTL).Unix(), 10)}
	if _, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item}); err != nil {
		return apperr.Wrap(apperr.Unavailable, "Request storage is unavailable.", err)
	}
	return nil
}

// WatchWait returns the task token of the wait the request's deadline watch
// is in, or "".
func (s *Store) WatchWait(ctx context.Context, requestID string) (string, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(requestID, watchWaitSK), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return "", apperr.Wrap(apperr.Unavailable, "Request storage is unavailable.", err)
	}
	if v, ok := out.Item["task_token"].(*types.AttributeValueMemberS); ok {
		return v.Value, nil
	}
	return "", nil
}
