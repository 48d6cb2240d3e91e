// Package sqsinbox is the operators' inbox on an SQS queue: mail the
// pipeline could not turn into a request by itself waits there, as ids and
// labels, until an operator decides. Messages carry no personal data; the
// queue is encrypted all the same.
package sqsinbox

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/inbound"
)

// API is the part of the SQS client this package uses.
type API interface {
	SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	ReceiveMessage(context.Context, *sqs.ReceiveMessageInput, ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(context.Context, *sqs.DeleteMessageInput, ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
	ChangeMessageVisibilityBatch(context.Context, *sqs.ChangeMessageVisibilityBatchInput, ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
}

// Queue is the inbox queue.
type Queue struct {
	api API
	url string
	// retryWait is the first wait before a Take looks again for a mail
	// it did not find (doubled each time).
	retryWait time.Duration
}

// New returns the inbox on the queue at url.
func New(api API, url string) *Queue { return &Queue{api: api, url: url, retryWait: time.Second} }

// takeScans is how often Take reads the queue for a mail: another reader
// (an operator listing the inbox) holds the messages it reads for a
// moment, and a mail it holds is not seen until it gives it back.
const takeScans = 3

// MaxListed bounds one listing; an inbox this full needs more than a list.
const MaxListed = 500

// holdSeconds is how long a listing keeps the items it read from other
// readers before it gives them back.
const holdSeconds = 30

// Put adds an item.
func (q *Queue) Put(ctx context.Context, it inbound.Item) error {
	b, err := json.Marshal(it)
	if err != nil {
		return apperr.Wrap(apperr.Internal, "An inbox item could not be encoded.", err)
	}
	if _, err := q.api.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &q.url, MessageBody: aws.String(string(b))}); err != nil {
		return apperr.Wrap(apperr.Unavailable, "The operators' inbox is unavailable.", err)
	}
	return nil
}

// List returns the waiting items, oldest first as the queue gives them,
// and leaves them in the queue.
func (q *Queue) List(ctx context.Context) ([]inbound.Item, error) {
	var items []inbound.Item
	err := q.scan(ctx, func(it inbound.Item, _ string) (bool, bool, error) {
		items = append(items, it)
		return false, len(items) < MaxListed, nil
	})
	return items, err
}

// Take removes the item of a mail from the queue and returns it: the one
// operator who takes it acts on it. An item not in the queue is NotFound.
func (q *Queue) Take(ctx context.Context, mailID string) (inbound.Item, error) {
	wait := q.retryWait
	for scan := 1; ; scan++ {
		it, err := q.take(ctx, mailID)
		if !apperr.Is(err, apperr.NotFound) || scan == takeScans {
			return it, err
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return inbound.Item{}, ctx.Err()
		}
		wait *= 2
	}
}

func (q *Queue) take(ctx context.Context, mailID string) (inbound.Item, error) {
	var found *inbound.Item
	err := q.scan(ctx, func(it inbound.Item, handle string) (bool, bool, error) {
		if it.ID != mailID {
			return false, true, nil
		}
		if _, err := q.api.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &q.url, ReceiptHandle: &handle}); err != nil {
			return false, false, apperr.Wrap(apperr.Unavailable, "The operators' inbox is unavailable.", err)
		}
		found = &it
		return true, false, nil
	})
	if err != nil {
		return inbound.Item{}, err
	}
	if found == nil {
		return inbound.Item{}, apperr.E(apperr.NotFound, "No such mail in the inbox.")
	}
	return *found, nil
}

// scan reads the queue's messages, holding each from other readers, until
// visit says stop or the queue has no more; then it gives back every
// message visit did not consume. SQS has no "peek": this is how a queue is
// read without being emptied.
func (q *Queue) scan(ctx context.Context, visit func(it inbound.Item, handle string) (consumed, more bool, err error)) (err error) {
	var held []string
	defer func() {
		if rerr := q.release(context.WithoutCancel(ctx), held); err == nil {
			err = rerr
		}
	}()
	for read := 0; read < MaxListed; {
		out, err := q.api.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:            &q.url,
			MaxNumberOfMessages: 10,
			VisibilityTimeout:   holdSeconds,
			// A short long-poll asks every SQS server, so an empty answer
			// means the queue is empty rather than "not on this server".
			WaitTimeSeconds: 1,
		})
		if err != nil {
			return apperr.Wrap(apperr.Unavailable, "The operators' inbox is unavailable.", err)
		}
		if len(out.Messages) == 0 {
			return nil
		}
		stop := false
		var visitErr error
		for _, m := range out.Messages {
			read++
			handle := aws.ToString(m.ReceiptHandle)
			var it inbound.Item
			if stop || json.Unmarshal([]byte(aws.ToString(m.Body)), &it) != nil {
				// Unread, or not an item: left for whoever reads the queue.
				held = append(held, handle)
				continue
			}
			consumed, more, err := visit(it, handle)
			if !consumed {
				held = append(held, handle)
			}
			if err != nil || !more {
				stop, visitErr = true, err
			}
		}
		if stop {
			return visitErr
		}
	}
	return nil
}

// release makes held messages visible again at once.
func (q *Queue) release(ctx context.Context, handles []string) error {
	for start := 0; start < len(handles); start += 10 {
		batch := handles[start:min(start+10, len(handles))]
		entries := make([]types.ChangeMessageVisibilityBatchRequestEntry, len(batch))
		for i, h := range batch {
			entries[i] = types.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(h), VisibilityTimeout: 0}
		}
		if _, err := q.api.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: &q.url, Entries: entries}); err != nil {
			return apperr.Wrap(apperr.Unavailable, "The operators' inbox is unavailable.", err)
		}
	}
	return nil
}
