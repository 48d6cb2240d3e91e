package dynstore

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/erasure"
)

// FindingsAPI is the part of the DynamoDB client the findings use.
type FindingsAPI interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// Findings keeps the places in the sources that may hold a subject but could
// not be handled (erasure.Finding), under the request in the requests table:
// one item per finding (sk "finding#<id>", the finding as JSON in "finding",
// "resolved" once an operator decided), and the task token of a workflow
// waiting on them (sk "findings-wait"). They hold object keys in clear, so
// they stay in the encrypted table with the request.
type Findings struct {
	api   FindingsAPI
	table string
}

// NewFindings returns the findings on the named table.
func NewFindings(api FindingsAPI, table string) *Findings { return &Findings{api: api, table: table} }

const (
	findingPrefix = "finding#"
	findingsWait  = "findings-wait"
)

// AddFindings keeps each finding unless one with its id is kept already: a
// retried step finds the same places, and an operator's resolution stays.
func (s *Findings) AddFindings(ctx context.Context, requestID string, fs []erasure.Finding) error {
	for _, f := range fs {
		b, err := json.Marshal(f)
		if err != nil {
			return apperr.Wrap(apperr.Internal, "A finding could not be encoded.", err)
		}
		item := key(requestID, findingPrefix+f.ID)
		item["finding"] = &types.AttributeValueMemberS{Value: string(b)}
		_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")})
		var exists *types.ConditionalCheckFailedException
		if err != nil && !errors.As(err, &exists) {
			return apperr.Wrap(apperr.Unavailable, "Request storage is unavailable.", err)
		}
	}
	return nil
}

// Findings returns the request's findings, in the order of their ids.
func (s *Findings) Findings(ctx context.Context, requestID string) ([]erasure.Finding, error) {
	var fs []erasure.Finding
	err := eachItem(ctx, s.api, s.table, requestID, findingPrefix, func(item map[string]types.AttributeValue) error {
		f, err := decodeFinding(item)
		fs = append(fs, f)
		return err
	})
	if err != nil {
		return nil, err
	}
	return fs, nil
}

func decodeFinding(item map[string]types.AttributeValue) (erasure.Finding, error) {
	return decodeJSON[erasure.Finding](item, "finding", "A stored finding is damaged.")
}

// decodeJSON reads the JSON document an item keeps in attribute attr; an
// item without it, or with one that does not decode, is damaged.
func decodeJSON[T any](item map[string]types.AttributeValue, attr, damaged string) (T, error) {
	var out T
	v, ok := item[attr].(*types.AttributeValueMemberS)
	if !ok {
		return out, apperr.E(apperr.Internal, damaged)
	}
	if err := json.Unmarshal([]byte(v.Value), &out); err != nil {
		return out, apperr.Wrap(apperr.Internal, damaged, err)
	}
	return out, nil
}

// Resolve records an operator's decision on one open finding: once, so two
// operators cannot overwrite each other. It returns the finding resolved.
func (s *Findings) Resolve(ctx context.Context, requestID, findingID, resolution, who, note string, at time.Time) (erasure.Finding, error) {
	k := key(requestID, findingPrefix+findingID)
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: k, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return erasure.Finding{}, apperr.Wrap(apperr.Unavailable, "Request storage is unavailable.", err)
	}
	if out.Item == nil {
		return erasure.Finding{}, apperr.E(apperr.NotFound, "The request has no finding "+findingID+".")
	}
	f, err := decodeFinding(out.Item)
	if err != nil {
		return erasure.Finding{}, err
	}
	if !f.Open() {
		return erasure.Finding{}, apperr.E(apperr.Conflict, "Finding "+findingID+" was resolved already ("+f.Resolution+" by "+f.ResolvedBy+").")
	}
	f.Resolution, f.ResolvedBy, f.ResolvedAt, f.Note = resolution, who, at.UTC(), note
	b, err := json.Marshal(f)
	if err != nil {
		return erasure.Finding{}, apperr.Wrap(apperr.Internal, "A finding could not be encoded.", err)
	}
	_, err = s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: k,
		UpdateExpression:          aws.String("SET finding = :f, resolved = :r"),
		ConditionExpression:       aws.String("attribute_exists(pk) AND attribute_not_exists(resolved)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":f": &types.AttributeValueMemberS{Value: string(b)}, ":r": &types.AttributeValueMemberS{Value: resolution}},
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return erasure.Finding{}, apperr.E(apperr.Conflict, "Finding "+findingID+" was resolved meanwhile.")
	}
	if err != nil {
		return erasure.Finding{}, apperr.Wrap(apperr.Unavailable, "Request storage is unavailable.", err)
	}
	return f, nil
}

// SetWait keeps the task token of a workflow waiting on the findings.
func (s *Findings) SetWait(ctx context.Context, requestID, token string) error {
	return putToken(ctx, s.api, s.table, requestID, findingsWait, token, nil)
}

// Wait returns the task token of a workflow waiting on the findings, or "".
func (s *Findings) Wait(ctx context.Context, requestID string) (string, error) {
	return getToken(ctx, s.api, s.table, requestID, findingsWait)
}

// ClearWait forgets the task token, if it is still the one given.
func (s *Findings) ClearWait(ctx context.Context, requestID, token string) error {
	_, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: &s.table, Key: key(requestID, findingsWait),
		ConditionExpression:       aws.String("task_token = :t"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberS{Value: token}},
	})
	var failed *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &failed) {
		return apperr.Wrap(apperr.Unavailable, "Request storage is unavailable.", err)
	}
	return nil
}
