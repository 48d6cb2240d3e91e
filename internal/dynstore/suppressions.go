package dynstore

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/resources"
	"github.com/privacy-pipeline/dsr/internal/suppression"
)

// SuppressionsAPI is the part of the DynamoDB client the suppression list uses.
type SuppressionsAPI interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// Suppressions is the suppression list in its table (see
// resources.Suppressions for the item's shape).
type Suppressions struct {
	api   SuppressionsAPI
	table string
}

// NewSuppressions returns the list on the named table.
func NewSuppressions(api SuppressionsAPI, table string) *Suppressions {
	return &Suppressions{api: api, table: table}
}

const errSuppressionsUnavailable = "The suppression list is unavailable."

func (s *Suppressions) key(subject string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{resources.Suppressions.PartitionKey.Name: &types.AttributeValueMemberS{Value: subject}}
}

// Set adds flag to the subject's entry unless it is there: the first request
// that set a flag stays on record.
func (s *Suppressions) Set(ctx context.Context, subject string, flag suppression.Flag, e suppression.Entry) (bool, error) {
	entry := &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
		"request_id": &types.AttributeValueMemberS{Value: e.RequestID},
		"at":         &types.AttributeValueMemberS{Value: e.At.UTC().Format(time.RFC3339)},
		"via":        &types.AttributeValueMemberS{Value: e.Via},
	}}
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       s.key(subject),
		UpdateExpression:          aws.String("SET #flag = :entry, updated_at = :at"),
		ConditionExpression:       aws.String("attribute_not_exists(#flag)"),
		ExpressionAttributeNames:  map[string]string{"#flag": string(flag)},
		ExpressionAttributeValues: map[string]types.AttributeValue{":entry": entry, ":at": &types.AttributeValueMemberS{Value: e.At.UTC().Format(time.RFC3339)}},
	})
	if err != nil {
		var failed *types.ConditionalCheckFailedException
		if errors.As(err, &failed) {
			return false, nil
		}
		return false, apperr.Wrap(apperr.Unavailable, errSuppressionsUnavailable, err)
	}
	return true, nil
}

// Get returns the flags set for the subject.
func (s *Suppressions) Get(ctx context.Context, subject string) (map[suppression.Flag]suppression.Entry, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: s.key(subject), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, apperr.Wrap(apperr.Unavailable, errSuppressionsUnavailable, err)
	}
	flags := map[suppression.Flag]suppression.Entry{}
	for _, f := range suppression.Flags {
		m, ok := out.Item[string(f)].(*types.AttributeValueMemberM)
		if !ok {
			continue
		}
		var e suppression.Entry
		if v, ok := m.Value["request_id"].(*types.AttributeValueMemberS); ok {
			e.RequestID = v.Value
		}
		if v, ok := m.Value["via"].(*types.AttributeValueMemberS); ok {
			e.Via = v.Value
		}
		if v, ok := m.Value["at"].(*types.AttributeValueMemberS); ok {
			e.At, _ = time.Parse(time.RFC3339, v.Value)
		}
		flags[f] = e
	}
	return flags, nil
}
