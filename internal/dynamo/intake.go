package dynamo

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/idempotency"
)

// IntakeAPI is the part of the DynamoDB client the intake table uses.
type IntakeAPI interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// Intake keeps what the API needs across its instances, for a short time:
// idempotency records and rate-limit counters, one item each under pk, gone
// after expires_at (the table's TTL attribute, in epoch seconds; DynamoDB
// deletes late, so reads compare it too).
type Intake struct {
	api   IntakeAPI
	table string
}

// NewIntake returns the intake store on the named table.
func NewIntake(api IntakeAPI, table string) *Intake { return &Intake{api: api, table: table} }

const errIntakeUnavailable = "Intake storage is unavailable."

type idempotencyItem struct {
	PK           string `dynamodbav:"pk"`
	Fingerprint  string `dynamodbav:"fingerprint"`
	PendingUntil int64  `dynamodbav:"pending_until"`
	ExpiresAt    int64  `dynamodbav:"expires_at"`
	Answered     bool   `dynamodbav:"answered"`
	Status       int    `dynamodbav:"answer_status,omitempty"`
	ContentType  string `dynamodbav:"answer_content_type,omitempty"`
	Location     string `dynamodbav:"answer_location,omitempty"`
	Body         []byte `dynamodbav:"answer_body,omitempty"`
	Claim        string `dynamodbav:"claim,omitempty"`
}

func toItem(key string, rec idempotency.Record) (map[string]types.AttributeValue, error) {
	it := idempotencyItem{PK: key, Fingerprint: rec.Fingerprint, PendingUntil: rec.PendingUntil.Unix(), ExpiresAt: rec.ExpiresAt.Unix(), Claim: rec.Claim}
	if a := rec.Answer; a != nil {
		it.Answered, it.Status, it.ContentType, it.Location, it.Body = true, a.Status, a.ContentType, a.Location, a.Body
	}
	return attributevalue.MarshalMap(it)
}

func (it idempotencyItem) record() *idempotency.Record {
	rec := &idempotency.Record{Fingerprint: it.Fingerprint, PendingUntil: time.Unix(it.PendingUntil, 0).UTC(), ExpiresAt: time.Unix(it.ExpiresAt, 0).UTC(), Claim: it.Claim}
	if it.Answered {
		rec.Answer = &idempotency.Answer{Status: it.Status, ContentType: it.ContentType, Location: it.Location, Body: it.Body}
	}
	return rec
}

func pk(key string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: key}}
}

// Claim puts rec under key unless a live record holds it: one that has not
// expired and is answered or still within its lease.
func (s *Intake) Claim(ctx context.Context, key string, rec idempotency.Record, now time.Time) (*idempotency.Record, error) {
	item, err := toItem(key, rec)
	if err != nil {
		return nil, apperr.Wrap(apperr.Internal, "An idempotency record could not be stored.", err)
	}
	// A record can expire between a failed claim and the read that follows:
	// then the claim is tried once more.
	for range 2 {
		_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: &s.table, Item: item,
			ConditionExpression: aws.String("attribute_not_exists(pk) OR expires_at <= :now OR (answered = :false AND pending_until <= :now)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":now":   &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Unix(), 10)},
				":false": &types.AttributeValueMemberBOOL{Value: false},
			},
		})
		if err == nil {
			return nil, nil
		}
		var failed *types.ConditionalCheckFailedException
		if !errors.As(err, &failed) {
			return nil, apperr.Wrap(apperr.Unavailable, errIntakeUnavailable, err)
		}
		out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: pk(key), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return nil, apperr.Wrap(apperr.Unavailable, errIntakeUnavailable, err)
		}
		if out.Item != nil {
			var it idempotencyItem
			if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
				return nil, apperr.Wrap(apperr.Internal, "An idempotency record could not be read.", err)
			}
			if found := it.record(); found.Live(now) {
				return found, nil
			}
		}
	}
	return nil, apperr.E(apperr.Unavailable, errIntakeUnavailable)
}

// Complete stores the answered record.
func (s *Intake) Complete(ctx context.Context, key string, rec idempotency.Record) error {
	item, err := toItem(key, rec)
	if err != nil {
		return apperr.Wrap(apperr.Internal, "An idempotency record could not be stored.", err)
	}
	if _, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item}); err != nil {
		return apperr.Wrap(apperr.Unavailable, errIntakeUnavailable, err)
	}
	return nil
}

// Release deletes the record under key.
func (s *Intake) Release(ctx context.Context, key string) error {
	if _, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: pk(key)}); err != nil {
		return apperr.Wrap(apperr.Unavailable, errIntakeUnavailable, err)
	}
	return nil
}

// Increment adds one to the counter under key, atomically across every
// instance, and returns the new count.
func (s *Intake) Increment(ctx context.Context, key string, expires time.Time) (int64, error) {
	out, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        &s.table,
		Key:              pk(key),
		UpdateExpression: aws.String("ADD hits :one SET expires_at = if_not_exists(expires_at, :expires)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one":     &types.AttributeValueMemberN{Value: "1"},
			":expires": &types.AttributeValueMemberN{Value: strconv.FormatInt(expires.Unix(), 10)},
		},
		ReturnValues: types.ReturnValueUpdatedNew,
	})
	if err != nil {
		return 0, apperr.Wrap(apperr.Unavailable, errIntakeUnavailable, err)
	}
	n, ok := out.Attributes["hits"].(*types.AttributeValueMemberN)
	if !ok {
		return 0, apperr.E(apperr.Internal, "A rate counter could not be read.")
	}
	hits, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		return 0, apperr.Wrap(apperr.Internal, "A rate counter could not be read.", err)
	}
	return hits, nil
}
