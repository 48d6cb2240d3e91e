package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/erasure"
)

// ReceiptsAPI is the part of the DynamoDB client the erasure records use.
type ReceiptsAPI interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// Receipts keeps what erasure did, in the requests table: each source's
// outcome under the request (sk "erasure#<source>"), and the chain of
// erasure receipts.
type Receipts struct {
	api   ReceiptsAPI
	table string
}

// NewReceipts returns the erasure records on the named table.
func NewReceipts(api ReceiptsAPI, table string) *Receipts { return &Receipts{api: api, table: table} }

const outcomePrefix = "erasure#"

// maxSaveAttempts bounds the read-merge-write loop of one outcome.
const maxSaveAttempts = 3

// AddOutcome merges o into the outcome kept for its source (see
// erasure.Outcome.Merge). The write is conditional on the revision read, so
// two runs of the same source cannot lose each other's counts.
func (s *Receipts) AddOutcome(ctx context.Context, requestID string, o erasure.Outcome) error {
	key := key(requestID, outcomePrefix+o.SourceID)
	for attempt := 1; ; attempt++ {
		out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key, ConsistentRead: aws.Bool(true)})
		if err != nil {
			return apperr.Wrap(apperr.Unavailable, "Request storage is unavailable.", err)
		}
		prev, rev, err := outcomeOf(out.Item)
		if err != nil {
			return err
		}
		b, err := json.Marshal(prev.Merge(o))
		if err != nil {
			return apperr.Wrap(apperr.Internal, "An erasure outcome could not be stored.", err)
		}
		item := map[string]types.AttributeValue{
			"pk": key["pk"], "sk": key["sk"],
			"outcome": &types.AttributeValueMemberS{Value: string(b)},
			"rev":     &types.AttributeValueMemberN{Value: strconv.Itoa(rev + 1)},
		}
		in := &dynamodb.PutItemInput{TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}
		if rev > 0 {
			in.ConditionExpression = aws.String("rev = :rev")
			in.ExpressionAttributeValues = map[string]types.AttributeValue{":rev": &types.AttributeValueMemberN{Value: strconv.Itoa(rev)}}
		}
		_, err = s.api.PutItem(ctx, in)
		var failed *types.ConditionalCheckFailedException
		switch {
		case err == nil:
			return nil
		case !errors.As(err, &failed):
			return apperr.Wrap(apperr.Unavailable, "Request storage is unavailable.", err)
		case attempt == maxSaveAttempts:
			return apperr.Wrap(apperr.Unavailable, "An erasure outcome kept changing while it was stored.", err)
		}
	}
}

func outcomeOf(item map[string]types.AttributeValue) (erasure.Outcome, int, error) {
	var o erasure.Outcome
	if item == nil {
		return o, 0, nil
	}
	body, _ := item["outcome"].(*types.AttributeValueMemberS)
	rev, _ := item["rev"].(*types.AttributeValueMemberN)
	if body == nil || rev == nil {
		return o, 0, apperr.E(apperr.Internal, "A stored erasure outcome is malformed.")
	}
	n, err := strconv.Atoi(rev.Value)
	if err == nil {
		err = json.Unmarshal([]byte(body.Value), &o)
	}
	if err != nil {
		return o, 0, apperr.Wrap(apperr.Internal, "A stored erasure outcome could not be read.", err)
	}
	return o, n, nil
}

// Outcomes returns the outcomes kept for a request, by source id.
func (s *Receipts) Outcomes(ctx context.Context, requestID string) ([]erasure.Outcome, error) {
	var outcomes []erasure.Outcome
	p := dynamodb.NewQueryPaginator(s.api, &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("pk = :id AND begins_with(sk, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":id":     &types.AttributeValueMemberS{Value: requestID},
			":prefix": &types.AttributeValueMemberS{Value: outcomePrefix},
		},
		ConsistentRead: aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, apperr.Wrap(apperr.Unavailable, "Request storage is unavailable.", err)
		}
		for _, item := range page.Items {
			o, _, err := outcomeOf(item)
			if err != nil {
				return nil, err
			}
			outcomes = append(outcomes, o)
		}
	}
	sort.Slice(outcomes, func(i, j int) bool { return outcomes[i].SourceID < outcomes[j].SourceID })
	return outcomes, nil
}

// The receipt chain lives under one partition key, one item per receipt by
// sequence number; each request points at its receipt (sk "receipt").
const (
	chainPK    = "receipt-chain"
	receiptSK  = "receipt"
	seqDigits  = 12
	maxAppends = 10
)

func chainSK(seq int64) string { return fmt.Sprintf("%0*d", seqDigits, seq) }

// Append adds the request's receipt to the chain, built by seal on the
// current last link. The receipt and the request's pointer to it are written
// in one transaction, each only if it does not exist: two requests appending
// at once cannot both become the next receipt (the chain cannot fork; the
// loser builds again on the winner), and a request that already has a
// receipt gets that one back instead of a second.
func (s *Receipts) Append(ctx context.Context, requestID string, seal func(prev erasure.Link) (erasure.Link, error)) (erasure.Link, error) {
	for attempt := 1; ; attempt++ {
		if l, ok, err := s.ReceiptOf(ctx, requestID); err != nil || ok {
			return l, err
		}
		prev, _, err := s.Head(ctx)
		if err != nil {
			return erasure.Link{}, err
		}
		l, err := seal(prev)
		if err != nil {
			return erasure.Link{}, apperr.Wrap(apperr.Internal, "The receipt could not be written.", err)
		}
		_, err = s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: &s.table, ConditionExpression: aws.String("attribute_not_exists(pk)"), Item: map[string]types.AttributeValue{
				"pk":         &types.AttributeValueMemberS{Value: chainPK},
				"sk":         &types.AttributeValueMemberS{Value: chainSK(l.Seq)},
				"body":       &types.AttributeValueMemberS{Value: string(l.Body)},
				"hash":       &types.AttributeValueMemberS{Value: l.Hash},
				"request_id": &types.AttributeValueMemberS{Value: requestID},
			}}},
			{Put: &types.Put{TableName: &s.table, ConditionExpression: aws.String("attribute_not_exists(pk)"), Item: map[string]types.AttributeValue{
				"pk":  &types.AttributeValueMemberS{Value: requestID},
				"sk":  &types.AttributeValueMemberS{Value: receiptSK},
				"seq": &types.AttributeValueMemberN{Value: strconv.FormatInt(l.Seq, 10)},
			}}},
		}})
		if err == nil {
			return l, nil
		}
		var canceled *types.TransactionCanceledException
		if !errors.As(err, &canceled) {
			return erasure.Link{}, apperr.Wrap(apperr.Unavailable, "Request storage is unavailable.", err)
		}
		if attempt == maxAppends {
			return erasure.Link{}, apperr.Wrap(apperr.Unavailable, "The receipt chain kept moving; try again.", err)
		}
		// Someone else took this number, or this request's receipt was
		// written meanwhile: look again.
	}
}

// Head returns the last link of the chain; false when the chain is empty.
func (s *Receipts) Head(ctx context.Context) (erasure.Link, bool, error) {
	out, err := s.api.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :chain"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":chain": &types.AttributeValueMemberS{Value: chainPK}},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(1),
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return erasure.Link{}, false, apperr.Wrap(apperr.Unavailable, "Request storage is unavailable.", err)
	}
	if len(out.Items) == 0 {
		return erasure.Link{}, false, nil
	}
	l, err := linkOf(out.Items[0])
	return l, err == nil, err
}

// ReceiptOf returns a request's receipt; false when it has none.
func (s *Receipts) ReceiptOf(ctx context.Context, requestID string) (erasure.Link, bool, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(requestID, receiptSK), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return erasure.Link{}, false, apperr.Wrap(apperr.Unavailable, "Request storage is unavailable.", err)
	}
	n, _ := out.Item["seq"].(*types.AttributeValueMemberN)
	if n == nil {
		return erasure.Link{}, false, nil
	}
	seq, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		return erasure.Link{}, false, apperr.Wrap(apperr.Internal, "A stored receipt pointer is malformed.", err)
	}
	out, err = s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(chainPK, chainSK(seq)), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return erasure.Link{}, false, apperr.Wrap(apperr.Unavailable, "Request storage is unavailable.", err)
	}
	if out.Item == nil {
		return erasure.Link{}, false, apperr.E(apperr.Internal, "The request's receipt is missing from the chain.")
	}
	l, err := linkOf(out.Item)
	return l, err == nil, err
}

// Walk calls fn with every link of the chain, in order.
func (s *Receipts) Walk(ctx context.Context, fn func(erasure.Link) error) error {
	p := dynamodb.NewQueryPaginator(s.api, &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :chain"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":chain": &types.AttributeValueMemberS{Value: chainPK}},
		ConsistentRead:            aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return apperr.Wrap(apperr.Unavailable, "Request storage is unavailable.", err)
		}
		for _, item := range page.Items {
			l, err := linkOf(item)
			if err != nil {
				return err
			}
			if err := fn(l); err != nil {
				return err
			}
		}
	}
	return nil
}

func linkOf(item map[string]types.AttributeValue) (erasure.Link, error) {
	sk, _ := item["sk"].(*types.AttributeValueMemberS)
	body, _ := item["body"].(*types.AttributeValueMemberS)
	hash, _ := item["hash"].(*types.AttributeValueMemberS)
	if sk == nil || body == nil || hash == nil {
		return erasure.Link{}, apperr.E(apperr.Internal, "A stored receipt is malformed.")
	}
	seq, err := strconv.ParseInt(sk.Value, 10, 64)
	if err != nil {
		return erasure.Link{}, apperr.Wrap(apperr.Internal, "A stored receipt is malformed.", err)
	}
	return erasure.Link{Seq: seq, Body: []byte(body.Value), Hash: hash.Value}, nil
}
