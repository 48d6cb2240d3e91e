package dynstore

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/resources"
)

// Open slots: one item per subject and outcome (pk "open#<key>", sk "slot";
// the key is a hash, see workflow.slotOf) naming the request that last took
// it, so a second request asking for the same can find the first. Slots carry no kind or status attribute and
// stay out of the table's indexes; they expire (TTL) after their request's
// last due date.

const slotSK = "slot"

// SlotHolder returns the request that holds the slot, or "".
func (s *Store) SlotHolder(ctx context.Context, slot string) (string, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key("open#"+slot, slotSK), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return "", apperr.Wrap(apperr.Unavailable, "Request storage is unavailable.", err)
	}
	if v, ok := out.Item["request_id"].(*types.AttributeValueMemberS); ok {
		return v.Value, nil
	}
	return "", nil
}

// TakeSlot gives the slot to requestID, on condition that previous ("" for
// none) still holds it; a lost race is a Conflict wrapping
// request.ErrChanged.
func (s *Store) TakeSlot(ctx context.Context, slot, requestID, previous string, expires time.Time) error {
	item := key("open#"+slot, slotSK)
	item["request_id"] = &types.AttributeValueMemberS{Value: requestID}
	item[resources.Requests.TTLAttribute] = &types.AttributeValueMemberN{Value: strconv.FormatInt(expires.Unix(), 10)}
	in := &dynamodb.PutItemInput{TableName: &s.table, Item: item}
	if previous == "" {
		in.ConditionExpression = aws.String("attribute_not_exists(pk)")
	} else {
		in.ConditionExpression = aws.String("request_id = :previous")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":previous": &types.AttributeValueMemberS{Value: previous}}
	}
	if _, err := s.api.PutItem(ctx, in); err != nil {
		var failed *types.ConditionalCheckFailedException
		if errors.As(err, &failed) {
			return apperr.Wrap(apperr.Conflict, "Another request took the slot.", request.ErrChanged)
		}
		return apperr.Wrap(apperr.Unavailable, "Request storage is unavailable.", err)
	}
	return nil
}
