package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

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

// Receipts keeps what erasure did, in a table of its own (see
// resources.Receipts), which the functions serving the public may not reach:
// each source's outcome under the request (sk "erasure#<source>"), and the
// chain of erasure receipts.
type Receipts struct {
	api   ReceiptsAPI
	table string
	// unmoved is the requests table, where receipts were kept before they
	// had a table of their own; "" when nothing checks it.
	unmoved string
}

// NewReceipts returns the erasure records on the named receipts table.
func NewReceipts(api ReceiptsAPI, table string) *Receipts { return &Receipts{api: api, table: table} }

// RefuseUnmovedChain makes the first receipt of an empty chain fail while
// the requests table still holds the chain of an earlier version, not yet
// moved (MoveHistory): a chain begun afresh would fork it, and its anchors
// would no longer match. One read of the requests table, and only while the
// receipts table holds no receipt.
func (s *Receipts) RefuseUnmovedChain(requestsTable string) *Receipts {
	s.unmoved = requestsTable
	return s
}

const (
	outcomePrefix = "erasure#"
	// outcomeChunkPrefix does not begin with outcomePrefix: chunks are kept
	// beside the outcomes, not among them.
	outcomeChunkPrefix = "erasure-chunk#"
)

// maxSaveAttempts bounds the read-merge-write loop of one outcome.
const maxSaveAttempts = 3

// PutOutcome keeps o as the outcome of its source, replacing what was kept:
// the workflow computes an outcome whole, from the erasure journal, so a
// retried step stores the same again. The write is conditional on the
// revision read, so a chunked outcome is never half replaced. An outcome too
// large for one item keeps its further chunks in items of their own (see
// blob.go), written with it in one transaction.
func (s *Receipts) PutOutcome(ctx context.Context, requestID string, o erasure.Outcome) error {
	key := key(requestID, outcomePrefix+o.SourceID)
	for attempt := 1; ; attempt++ {
		out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key, ConsistentRead: aws.Bool(true)})
		if err != nil {
			return apperr.Wrap(apperr.Unavailable, "Request storage is unavailable.", err)
		}
		_, rev, err := s.outcomeOf(ctx, out.Item)
		if err != nil {
			return err
		}
		b, err := json.Marshal(o)
		if err != nil {
			return apperr.Wrap(apperr.Internal, "An erasure outcome could not be stored.", err)
		}
		chunks, err := pack(b)
		if err != nil {
			return apperr.Wrap(apperr.Internal, "An erasure outcome is too large to store.", err)
		}
		head := types.Put{TableName: &s.table, Item: chunkedItem(key, "outcome_z", chunks, rev+1), ConditionExpression: aws.String("attribute_not_exists(pk)")}
		if rev > 0 {
			head.ConditionExpression = aws.String("rev = :rev")
			head.ExpressionAttributeValues = map[string]types.AttributeValue{":rev": &types.AttributeValueMemberN{Value: strconv.Itoa(rev)}}
		}
		err = s.putChunked(ctx, head, outcomeChunkKeys(requestID, o.SourceID, len(chunks)), chunks, rev+1)
		switch {
		case err == nil:
			return nil
		case !conditionFailed(err):
			return apperr.Wrap(apperr.Unavailable, "Request storage is unavailable.", err)
		case attempt == maxSaveAttempts:
			return apperr.Wrap(apperr.Unavailable, "An erasure outcome kept changing while it was stored.", err)
		}
	}
}

// conditionFailed reports whether a write failed on its condition (someone
// else wrote first), as a single write or in a transaction, rather than for
// another reason (throttling, a validation error) that reading again would
// not mend.
func conditionFailed(err error) bool {
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return true
	}
	var canceled *types.TransactionCanceledException
	if !errors.As(err, &canceled) {
		return false
	}
	for _, r := range canceled.CancellationReasons {
		if aws.ToString(r.Code) == "ConditionalCheckFailed" {
			return true
		}
	}
	return false
}

// outcomeChunkKeys are where an outcome's chunks after the first are kept,
// under the request, beside the outcomes.
func outcomeChunkKeys(requestID, sourceID string, chunks int) []map[string]types.AttributeValue {
	keys := make([]map[string]types.AttributeValue, 0, chunks)
	for i := 1; i < chunks; i++ {
		keys = append(keys, key(requestID, fmt.Sprintf("%s%s#%02d", outcomeChunkPrefix, sourceID, i)))
	}
	return keys
}

// chunkedItem is the item holding a packed value's first chunk, the number
// of chunks and the revision they belong to.
func chunkedItem(k map[string]types.AttributeValue, attr string, chunks [][]byte, rev int) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk": k["pk"], "sk": k["sk"],
		attr:     &types.AttributeValueMemberB{Value: chunks[0]},
		"chunks": &types.AttributeValueMemberN{Value: strconv.Itoa(len(chunks))},
		"rev":    &types.AttributeValueMemberN{Value: strconv.Itoa(rev)},
	}
}

// putChunked writes head, alone when the value fits in it, or with the
// further chunks (each marked with rev) in one transaction.
func (s *Receipts) putChunked(ctx context.Context, head types.Put, keys []map[string]types.AttributeValue, chunks [][]byte, rev int, more ...types.TransactWriteItem) error {
	if len(chunks) == 1 && len(more) == 0 {
		_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: head.TableName, Item: head.Item,
			ConditionExpression: head.ConditionExpression, ExpressionAttributeValues: head.ExpressionAttributeValues})
		return err
	}
	items := append([]types.TransactWriteItem{{Put: &head}}, more...)
	for i, k := range keys {
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: map[string]types.AttributeValue{
			"pk": k["pk"], "sk": k["sk"],
			"chunk": &types.AttributeValueMemberB{Value: chunks[i+1]},
			"rev":   &types.AttributeValueMemberN{Value: strconv.Itoa(rev)},
		}}})
	}
	_, err := s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	return err
}

// readChunked returns the value whose first chunk is in item's attr: the
// chunks read from keys must belong to the same revision.
func (s *Receipts) readChunked(ctx context.Context, item map[string]types.AttributeValue, attr string, keys func(n int) []map[string]types.AttributeValue) ([]byte, error) {
	first, _ := item[attr].(*types.AttributeValueMemberB)
	n, _ := item["chunks"].(*types.AttributeValueMemberN)
	rev, _ := item["rev"].(*types.AttributeValueMemberN)
	if first == nil || n == nil || rev == nil {
		return nil, errors.New("no packed value")
	}
	count, err := strconv.Atoi(n.Value)
	if err != nil || count < 1 || count > maxChunks {
		return nil, fmt.Errorf("%q chunks", n.Value)
	}
	chunks := [][]byte{first.Value}
	for _, k := range keys(count) {
		out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: k, ConsistentRead: aws.Bool(true)})
		if err != nil {
			return nil, err
		}
		c, _ := out.Item["chunk"].(*types.AttributeValueMemberB)
		r, _ := out.Item["rev"].(*types.AttributeValueMemberN)
		if c == nil || r == nil || r.Value != rev.Value {
			return nil, errors.New("a chunk is missing or of another revision")
		}
		chunks = append(chunks, c.Value)
	}
	return unpack(chunks)
}

func (s *Receipts) outcomeOf(ctx context.Context, item map[string]types.AttributeValue) (erasure.Outcome, int, error) {
	var o erasure.Outcome
	if item == nil {
		return o, 0, nil
	}
	rev, _ := item["rev"].(*types.AttributeValueMemberN)
	if rev == nil {
		return o, 0, apperr.E(apperr.Internal, "A stored erasure outcome is malformed.")
	}
	n, err := strconv.Atoi(rev.Value)
	if err != nil {
		return o, 0, apperr.Wrap(apperr.Internal, "A stored erasure outcome is malformed.", err)
	}
	var body []byte
	if legacy, ok := item["outcome"].(*types.AttributeValueMemberS); ok {
		body = []byte(legacy.Value) // as stored before outcomes were packed
	} else {
		pk, _ := item["pk"].(*types.AttributeValueMemberS)
		sk, _ := item["sk"].(*types.AttributeValueMemberS)
		if pk == nil || sk == nil {
			return o, 0, apperr.E(apperr.Internal, "A stored erasure outcome is malformed.")
		}
		source := strings.TrimPrefix(sk.Value, outcomePrefix)
		body, err = s.readChunked(ctx, item, "outcome_z", func(count int) []map[string]types.AttributeValue {
			return outcomeChunkKeys(pk.Value, source, count)
		})
		if err != nil {
			return o, 0, apperr.Wrap(apperr.Internal, "A stored erasure outcome could not be read.", err)
		}
	}
	if err := json.Unmarshal(body, &o); err != nil {
		return o, 0, apperr.Wrap(apperr.Internal, "A stored erasure outcome could not be read.", err)
	}
	return o, n, nil
}

// Outcomes returns the outcomes kept for a request, by source id.
func (s *Receipts) Outcomes(ctx context.Context, requestID string) ([]erasure.Outcome, error) {
	var outcomes []erasure.Outcome
	err := eachItem(ctx, s.api, s.table, requestID, outcomePrefix, func(item map[string]types.AttributeValue) error {
		o, _, err := s.outcomeOf(ctx, item)
		outcomes = append(outcomes, o)
		return err
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(outcomes, func(i, j int) bool { return outcomes[i].SourceID < outcomes[j].SourceID })
	return outcomes, nil
}

// The receipt chain lives under one partition key, one item per receipt by
// sequence number; each request points at its receipt (sk "receipt").
const (
	chainPK = "receipt-chain"
	// chainChunksPK holds the further chunks of receipts too large for one item.
	chainChunksPK = "receipt-chain-chunks"
	receiptSK     = "receipt"
	seqDigits     = 12
	maxAppends    = 10
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
		prev, chained, err := s.Head(ctx)
		if err != nil {
			return erasure.Link{}, err
		}
		if !chained {
			if err := s.checkMoved(ctx); err != nil {
				return erasure.Link{}, err
			}
		}
		l, err := seal(prev)
		if err != nil {
			return erasure.Link{}, apperr.Wrap(apperr.Internal, "The receipt could not be written.", err)
		}
		chunks, err := pack(l.Body)
		if err != nil {
			return erasure.Link{}, apperr.Wrap(apperr.Internal, "The receipt is too large to store.", err)
		}
		link := chunkedItem(key(chainPK, chainSK(l.Seq)), "body_z", chunks, 1)
		link["hash"] = &types.AttributeValueMemberS{Value: l.Hash}
		link["request_id"] = &types.AttributeValueMemberS{Value: requestID}
		pointer := types.TransactWriteItem{Put: &types.Put{TableName: &s.table, ConditionExpression: aws.String("attribute_not_exists(pk)"), Item: map[string]types.AttributeValue{
			"pk":  &types.AttributeValueMemberS{Value: requestID},
			"sk":  &types.AttributeValueMemberS{Value: receiptSK},
			"seq": &types.AttributeValueMemberN{Value: strconv.FormatInt(l.Seq, 10)},
		}}}
		head := types.Put{TableName: &s.table, ConditionExpression: aws.String("attribute_not_exists(pk)"), Item: link}
		err = s.putChunked(ctx, head, receiptChunkKeys(l.Seq, len(chunks)), chunks, 1, pointer)
		if err == nil {
			return l, nil
		}
		if !conditionFailed(err) {
			return erasure.Link{}, apperr.Wrap(apperr.Unavailable, "Request storage is unavailable.", err)
		}
		if attempt == maxAppends {
			return erasure.Link{}, apperr.Wrap(apperr.Unavailable, "The receipt chain kept moving; try again.", err)
		}
		// Someone else took this number, or this request's receipt was
		// written meanwhile: look again.
	}
}

// checkMoved fails when the requests table still holds the first receipt
// of an earlier version's chain.
func (s *Receipts) checkMoved(ctx context.Context) error {
	if s.unmoved == "" {
		return nil
	}
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.unmoved, Key: key(chainPK, chainSK(1)),
		ProjectionExpression: aws.String("pk"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return apperr.Wrap(apperr.Unavailable, "Request storage is unavailable.", err)
	}
	if out.Item != nil {
		return apperr.E(apperr.Internal, "The receipt chain is still in the requests table: move it first (privacyctl migrate-tables), then redrive.")
	}
	return nil
}

// receiptChunkKeys are where a receipt's chunks after the first are kept:
// in a partition of their own, so the chain's holds one item per receipt.
func receiptChunkKeys(seq int64, chunks int) []map[string]types.AttributeValue {
	keys := make([]map[string]types.AttributeValue, 0, chunks)
	for i := 1; i < chunks; i++ {
		keys = append(keys, key(chainChunksPK, fmt.Sprintf("%s#%02d", chainSK(seq), i)))
	}
	return keys
}

// Head returns the number and hash of the last link of the chain, all a
// new link needs of it (its body is not read); false when the chain is
// empty.
func (s *Receipts) Head(ctx context.Context) (erasure.Link, bool, error) {
	out, err := s.api.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :chain"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":chain": &types.AttributeValueMemberS{Value: chainPK}},
		ExpressionAttributeNames:  map[string]string{"#h": "hash"}, // a reserved word
		ProjectionExpression:      aws.String("sk, #h"),
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
	seq, hash, err := numberAndHash(out.Items[0])
	return erasure.Link{Seq: seq, Hash: hash}, err == nil, err
}

// numberAndHash reads a chain item's receipt number and hash.
func numberAndHash(item map[string]types.AttributeValue) (int64, string, error) {
	sk, _ := item["sk"].(*types.AttributeValueMemberS)
	hash, _ := item["hash"].(*types.AttributeValueMemberS)
	if sk == nil || hash == nil {
		return 0, "", apperr.E(apperr.Internal, "A stored receipt is malformed.")
	}
	seq, err := strconv.ParseInt(sk.Value, 10, 64)
	if err != nil {
		return 0, "", apperr.Wrap(apperr.Internal, "A stored receipt is malformed.", err)
	}
	return seq, hash.Value, nil
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
	l, err := s.linkOf(ctx, out.Item)
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
			l, err := s.linkOf(ctx, item)
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

func (s *Receipts) linkOf(ctx context.Context, item map[string]types.AttributeValue) (erasure.Link, error) {
	seq, hash, err := numberAndHash(item)
	if err != nil {
		return erasure.Link{}, err
	}
	if legacy, ok := item["body"].(*types.AttributeValueMemberS); ok {
		return erasure.Link{Seq: seq, Body: []byte(legacy.Value), Hash: hash}, nil // stored before receipts were packed
	}
	body, err := s.readChunked(ctx, item, "body_z", func(count int) []map[string]types.AttributeValue { return receiptChunkKeys(seq, count) })
	if err != nil {
		return erasure.Link{}, apperr.Wrap(apperr.Internal, "A stored receipt could not be read.", err)
	}
	return erasure.Link{Seq: seq, Body: body, Hash: hash}, nil
}
