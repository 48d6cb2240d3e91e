package dynamo

import (
	"context"
	"encoding/json"
	"errors"
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
// outcome under the request (sk "erasure#<source>").
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
