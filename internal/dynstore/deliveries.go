package dynstore

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/recipient"
)

// Deliveries keeps what each recipient was told of a request
// (recipient.Delivery) under the request in the requests table: one item
// per recipient (sk "recipient#<recipient id>", the delivery as JSON in
// "delivery"). Like the tasks of manual sources they are read by their keys
// (the registry names the recipients), so the functions that read
// requests read them (the receipt and the final mail), and the one that
// tells recipients needs no grant beyond saving requests.
type Deliveries struct {
	api   DeliveriesAPI
	table string
}

// DeliveriesAPI is the part of the DynamoDB client the deliveries use.
type DeliveriesAPI interface {
	itemGetter
	itemPutter
}

// NewDeliveries returns the deliveries on the named table (the requests
// table).
func NewDeliveries(api DeliveriesAPI, table string) *Deliveries {
	return &Deliveries{api: api, table: table}
}

const deliveryPrefix = "recipient#"

// Delivery returns what the recipient was told of the request; false when
// it was not tried yet.
func (s *Deliveries) Delivery(ctx context.Context, requestID, recipientID string) (recipient.Delivery, bool, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(requestID, deliveryPrefix+recipientID), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return recipient.Delivery{}, false, apperr.Wrap(apperr.Unavailable, "Request storage is unavailable.", err)
	}
	if out.Item == nil {
		return recipient.Delivery{}, false, nil
	}
	d, err := decodeJSON[recipient.Delivery](out.Item, "delivery", "A stored delivery to a recipient is damaged.")
	if err != nil {
		return recipient.Delivery{}, false, err
	}
	return d, true, nil
}

// PutDelivery keeps d over what was kept of the same request and
// recipient: only the workflow's one step writes it, one try at a time.
func (s *Deliveries) PutDelivery(ctx context.Context, d recipient.Delivery) error {
	b, err := json.Marshal(d)
	if err != nil {
		return apperr.Wrap(apperr.Internal, "A delivery to a recipient could not be encoded.", err)
	}
	item := key(d.RequestID, deliveryPrefix+d.RecipientID)
	item["delivery"] = &types.AttributeValueMemberS{Value: string(b)}
	if _, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item}); err != nil {
		return apperr.Wrap(apperr.Unavailable, "Request storage is unavailable.", err)
	}
	return nil
}
