package dynstore

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/manualtask"
)

// ManualTasks keeps the tasks of manual sources (manualtask.Task) under the
// request in the requests table: one item per task (sk "manual#<source
// id>", the task as JSON in "task", its status in "task_status" for
// conditional writes), and the task token of a workflow waiting on them (sk
// "manual-wait"). Not in the receipts table beside the findings: an owner
// answers through the public API, which may not reach that table. Items are
// read by their keys (the registry names the sources), so every function
// that may read and save requests may keep tasks, and none needs more.
type ManualTasks struct {
	api     ManualTasksAPI
	table   string
	sources []string
}

// ManualTasksAPI is the part of the DynamoDB client the tasks use.
type ManualTasksAPI interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

// NewManualTasks returns the tasks on the named table (the requests
// table), of the manual sources named (the registry's, in its order).
func NewManualTasks(api ManualTasksAPI, table string, sourceIDs []string) *ManualTasks {
	return &ManualTasks{api: api, table: table, sources: sourceIDs}
}

const (
	manualPrefix = "manual#"
	manualWait   = "manual-wait"
)

func (s *ManualTasks) item(t manualtask.Task) (map[string]types.AttributeValue, error) {
	b, err := json.Marshal(t)
	if err != nil {
		return nil, apperr.Wrap(apperr.Internal, "A task could not be encoded.", err)
	}
	item := key(t.RequestID, manualPrefix+t.SourceID)
	item["task"] = &types.AttributeValueMemberS{Value: string(b)}
	item["task_status"] = &types.AttributeValueMemberS{Value: string(t.Status)}
	return item, nil
}

// AddTask keeps a new task, unless the request has one for the source
// already (a retried step): that one is returned as it is, and created is
// false.
func (s *ManualTasks) AddTask(ctx context.Context, t manualtask.Task) (kept manualtask.Task, created bool, err error) {
	item, err := s.item(t)
	if err != nil {
		return manualtask.Task{}, false, err
	}
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")})
	var exists *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &exists):
		kept, err := s.Task(ctx, t.RequestID, t.SourceID)
		return kept, false, err
	case err != nil:
		return manualtask.Task{}, false, apperr.Wrap(apperr.Unavailable, "Request storage is unavailable.", err)
	}
	return t, true, nil
}

// Task returns the request's task in a source, or a NotFound error.
func (s *ManualTasks) Task(ctx context.Context, requestID, sourceID string) (manualtask.Task, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(requestID, manualPrefix+sourceID), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return manualtask.Task{}, apperr.Wrap(apperr.Unavailable, "Request storage is unavailable.", err)
	}
	if out.Item == nil {
		return manualtask.Task{}, apperr.E(apperr.NotFound, "There is no task "+manualtask.ID(requestID, sourceID)+".")
	}
	return decodeTask(out.Item)
}

// Tasks returns the request's tasks, in the registry's order of their
// sources.
func (s *ManualTasks) Tasks(ctx context.Context, requestID string) ([]manualtask.Task, error) {
	var ts []manualtask.Task
	for _, src := range s.sources {
		t, err := s.Task(ctx, requestID, src)
		if apperr.Is(err, apperr.NotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	return ts, nil
}

func decodeTask(item map[string]types.AttributeValue) (manualtask.Task, error) {
	return decodeJSON[manualtask.Task](item, "task", "A stored task is damaged.")
}

// Update stores t over the task while the stored one is still open: two
// answers cannot overwrite each other.
func (s *ManualTasks) Update(ctx context.Context, t manualtask.Task) error {
	item, err := s.item(t)
	if err != nil {
		return err
	}
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.table, Item: item,
		ConditionExpression:       aws.String("attribute_exists(pk) AND task_status = :open"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":open": &types.AttributeValueMemberS{Value: string(manualtask.Open)}},
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return apperr.E(apperr.Conflict, "Task "+t.ID()+" was answered meanwhile.")
	}
	if err != nil {
		return apperr.Wrap(apperr.Unavailable, "Request storage is unavailable.", err)
	}
	return nil
}

// SetWait keeps the task token of a workflow waiting on the tasks.
func (s *ManualTasks) SetWait(ctx context.Context, requestID, token string) error {
	return putToken(ctx, s.api, s.table, requestID, manualWait, token, nil)
}

// Wait returns the task token of a workflow waiting on the tasks, or "".
func (s *ManualTasks) Wait(ctx context.Context, requestID string) (string, error) {
	return getToken(ctx, s.api, s.table, requestID, manualWait)
}

// ClearWait forgets the task token, if it is still the one given (by
// writing an empty one: a put is all the public API may do here).
func (s *ManualTasks) ClearWait(ctx context.Context, requestID, token string) error {
	item := key(requestID, manualWait)
	item["task_token"] = &types.AttributeValueMemberS{Value: ""}
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.table, Item: item,
		ConditionExpression:       aws.String("task_token = :t"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberS{Value: token}},
	})
	var failed *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &failed) {
		return apperr.Wrap(apperr.Unavailable, "Request storage is unavailable.", err)
	}
	return nil
}
