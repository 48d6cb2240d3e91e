package sqsinbox

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/inbound"
)

// queue is one message that another reader holds for the first heldFor
// receives (they come back empty), as SQS hides a message another reader
// has received until it gives it back.
type queue struct {
	body     string
	heldFor  int
	receives int
	deleted  bool
}

func (q *queue) SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	return &sqs.SendMessageOutput{}, nil
}

func (q *queue) ReceiveMessage(context.Context, *sqs.ReceiveMessageInput, ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	q.receives++
	if q.deleted || q.receives <= q.heldFor {
		return &sqs.ReceiveMessageOutput{}, nil
	}
	return &sqs.ReceiveMessageOutput{Messages: []types.Message{{Body: aws.String(q.body), ReceiptHandle: aws.String("h")}}}, nil
}

func (q *queue) DeleteMessage(context.Context, *sqs.DeleteMessageInput, ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	q.deleted = true
	return &sqs.DeleteMessageOutput{}, nil
}

func (q *queue) ChangeMessageVisibilityBatch(context.Context, *sqs.ChangeMessageVisibilityBatchInput, ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
	return &sqs.ChangeMessageVisibilityBatchOutput{}, nil
}

func TestTakeWaitsForAMailAnotherReaderHolds(t *testing.T) {
	body, _ := json.Marshal(inbound.Item{ID: "m-1"})
	tests := []struct {
		name    string
		heldFor int
		found   bool
	}{
		{"free", 0, true},
		{"held for the first look", 1, true},
		{"held for the first two", 2, true},
		{"held longer: not found", takeScans, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := &queue{body: string(body), heldFor: tt.heldFor}
			inbox := &Queue{api: q, url: "q", retryWait: time.Millisecond}
			it, err := inbox.Take(context.Background(), "m-1")
			if tt.found && (err != nil || it.ID != "m-1" || !q.deleted) || !tt.found && !apperr.Is(err, apperr.NotFound) {
				t.Fatalf("Take = %+v, %v", it, err)
			}
			if q.receives > takeScans*2 {
				t.Fatalf("%d receives", q.receives)
			}
		})
	}
}
