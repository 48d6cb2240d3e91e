package dynstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/recipient"
)

// A delivery is kept under its request, by recipient, and read back as it
// was put; a later put replaces it; a recipient not tried reads as none.
func TestDeliveries(t *testing.T) {
	ctx := context.Background()
	db := tables{}
	s := NewDeliveries(db, "requests")
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	first := recipient.Delivery{RequestID: "dsr-1", RecipientID: "adco", Name: "AdCo Ltd", Channel: recipient.Webhook,
		NoticeID: "dsr-1.adco", Status: recipient.Retrying, Tries: 1, Reason: "status 503", At: at}
	if err := s.PutDelivery(ctx, first); err != nil {
		t.Fatal(err)
	}
	if _, ok := db["requests"][[2]string{"dsr-1", "recipient#adco"}]; !ok {
		t.Fatalf("kept under %v, want sk recipient#adco beside the request", keysOf(db, "requests"))
	}
	told := first
	told.Status, told.Tries, told.Reason, told.At = recipient.Told, 2, "", at.Add(time.Minute)
	if err := s.PutDelivery(ctx, told); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Delivery(ctx, "dsr-1", "adco")
	if err != nil || !ok || got != told {
		t.Fatalf("Delivery = %+v, %v, %v; want %+v", got, ok, err, told)
	}
	for _, other := range [][2]string{{"dsr-1", "mailhouse"}, {"dsr-2", "adco"}} {
		if _, ok, err := s.Delivery(ctx, other[0], other[1]); ok || err != nil {
			t.Errorf("Delivery(%s, %s) found one (%v)", other[0], other[1], err)
		}
	}
	db["requests"][[2]string{"dsr-1", "recipient#adco"}]["delivery"] = &types.AttributeValueMemberS{Value: "{"}
	if _, _, err := s.Delivery(ctx, "dsr-1", "adco"); !apperr.Is(err, apperr.Internal) {
		t.Errorf("a damaged item reads as %v", err)
	}
}

// downTable fails every call, as a throttled or unreachable table does.
type downTable struct{}

var errThrottled = errors.New("ProvisionedThroughputExceededException")

func (downTable) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return nil, errThrottled
}

func (downTable) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return nil, errThrottled
}

// The table's failures are a dependency's, worth another try.
func TestDeliveriesUnavailable(t *testing.T) {
	s := NewDeliveries(downTable{}, "requests")
	err := s.PutDelivery(context.Background(), recipient.Delivery{RequestID: "dsr-1", RecipientID: "adco"})
	if !apperr.Is(err, apperr.Unavailable) || !errors.Is(err, errThrottled) {
		t.Errorf("put: %v", err)
	}
	if _, _, err := s.Delivery(context.Background(), "dsr-1", "adco"); !apperr.Is(err, apperr.Unavailable) {
		t.Errorf("get: %v", err)
	}
}
