package dynamo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/erasure"
)

// ProgressAPI is the part of the DynamoDB client the erasure journal uses.
type ProgressAPI interface {
	BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// Progress is the erasure journal (erasure.Journal) of every request, in
// the requests table: one item per change, under the request (sk
// "progress#<source>#<hash of the key>#<hash of version and before>"), with
// the step as JSON in "step" and "done" once it was made. Steps hold keys in
// clear; they expire (TTL) long after their request closed.
type Progress struct {
	api   ProgressAPI
	table string
	now   func() time.Time
	// retryWait is the first pause before resending what DynamoDB left
	// unprocessed; it doubles each time.
	retryWait time.Duration
}

// NewProgress returns the journal on the named table.
func NewProgress(api ProgressAPI, table string, now func() time.Time) *Progress {
	return &Progress{api: api, table: table, now: now, retryWait: 50 * time.Millisecond}
}

// progressKeep is how long a journal entry is kept: past the longest a
// request may stay open, so a redrive still finds what earlier attempts did.
const progressKeep = 400 * 24 * time.Hour

func progressPrefix(sourceID string) string { return "progress#" + sourceID + "#" }

func shortHash(s string, n int) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:n])
}

// progressSK names a step: by its key first, so one object's steps can be
// read alone; a rewrite of the same key from another state is another step.
func progressSK(sourceID string, s erasure.Step) string {
	return progressPrefix(sourceID) + shortHash(s.Key, 16) + "#" + shortHash(s.Version+"\x00"+s.Before, 8)
}

// Journal returns the journal of one source of one request.
func (p *Progress) Journal(requestID, sourceID string) erasure.Journal {
	return &journal{p: p, requestID: requestID, sourceID: sourceID}
}

type journal struct {
	p                   *Progress
	requestID, sourceID string
}

func (j *journal) Begin(ctx context.Context, steps ...erasure.Step) error {
	return j.p.write(ctx, j.requestID, j.sourceID, steps, false, false)
}

func (j *journal) Done(ctx context.Context, steps ...erasure.Step) error {
	return j.p.write(ctx, j.requestID, j.sourceID, steps, true, false)
}

func (j *journal) Drop(ctx context.Context, steps ...erasure.Step) error {
	return j.p.write(ctx, j.requestID, j.sourceID, steps, false, true)
}

// maxWriteBatch is DynamoDB's limit of requests per BatchWriteItem.
const maxWriteBatch = 25

// maxUnprocessedRetries bounds how often unprocessed writes are resent.
const maxUnprocessedRetries = 8

func (p *Progress) write(ctx context.Context, requestID, sourceID string, steps []erasure.Step, done, drop bool) error {
	var reqs []types.WriteRequest
	expires := strconv.FormatInt(p.now().Add(progressKeep).Unix(), 10)
	for _, s := range steps {
		k := key(requestID, progressSK(sourceID, s))
		if drop {
			reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}})
			continue
		}
		b, err := json.Marshal(s)
		if err != nil {
			return apperr.Wrap(apperr.Internal, "An erasure step could not be encoded.", err)
		}
		k["step"] = &types.AttributeValueMemberS{Value: string(b)}
		k["done"] = &types.AttributeValueMemberBOOL{Value: done}
		k["expires_at"] = &types.AttributeValueMemberN{Value: expires}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: k}})
	}
	for start := 0; start < len(reqs); start += maxWriteBatch {
		if err := p.batch(ctx, reqs[start:min(start+maxWriteBatch, len(reqs))]); err != nil {
			return err
		}
	}
	return nil
}

// batch sends one batch and resends what DynamoDB left unprocessed, with
// growing pauses, until all is done or the retries run out.
func (p *Progress) batch(ctx context.Context, reqs []types.WriteRequest) error {
	wait := p.retryWait
	for attempt := 0; len(reqs) > 0; attempt++ {
		if attempt > maxUnprocessedRetries {
			return apperr.E(apperr.Unavailable, "DynamoDB left journal writes unprocessed after retries.")
		}
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
			wait *= 2
		}
		out, err := p.api.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{p.table: reqs}})
		if err != nil {
			return apperr.Wrap(apperr.Unavailable, "Request storage is unavailable.", err)
		}
		reqs = out.UnprocessedItems[p.table]
	}
	return nil
}

// Entries returns the steps of one source of a request; with a key, only
// that key's (an object and its versions... of that exact key).
func (p *Progress) Entries(ctx context.Context, requestID, sourceID, objectKey string) ([]erasure.Entry, error) {
	prefix := progressPrefix(sourceID)
	if objectKey != "" {
		prefix += shortHash(objectKey, 16) + "#"
	}
	var out []erasure.Entry
	err := eachItem(ctx, p.api, p.table, requestID, prefix, func(item map[string]types.AttributeValue) error {
		var e erasure.Entry
		s, ok := item["step"].(*types.AttributeValueMemberS)
		if !ok {
			return apperr.E(apperr.Internal, "A journal entry is damaged.")
		}
		if err := json.Unmarshal([]byte(s.Value), &e.Step); err != nil {
			return apperr.Wrap(apperr.Internal, "A journal entry is damaged.", err)
		}
		if d, ok := item["done"].(*types.AttributeValueMemberBOOL); ok {
			e.Done = d.Value
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
