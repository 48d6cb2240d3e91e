package dynstore

import (
	"context"
	"errors"
	"reflect"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/privacy-pipeline/dsr/internal/apperr"
)

// Before the audit and receipts tables, the requests table held the audit
// events and what erasure recorded too. MoveHistory moves them into their
// own tables, keys and attributes unchanged.

// MoveAPI is the part of the DynamoDB client a move uses.
type MoveAPI interface {
	Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// Moved counts what a move did.
type Moved struct {
	Audit    int // audit events copied
	Receipts int // outcomes, receipts, their chunks and pointers copied
	There    int // already in their table, as they are in the requests table
	Removed  int // deleted from the requests table
	// Conflicts are items whose key holds something else in their new
	// table: a receipt chain was begun there before the move. They stay
	// where they are.
	Conflicts int
}

// ErrMoveConflict means some items could not be moved (see Moved.Conflicts).
var ErrMoveConflict = errors.New("items of the requests table differ from those under their keys in the new tables")

// historyTable says which of the new tables an item of the requests table
// belongs in: "audit", "receipts", or "" (it stays).
func historyTable(pk, sk string) string {
	switch {
	case strings.HasPrefix(sk, auditPrefix):
		return "audit"
	case pk == chainPK, pk == chainChunksPK, sk == receiptSK,
		strings.HasPrefix(sk, outcomePrefix), strings.HasPrefix(sk, outcomeChunkPrefix):
		return "receipts"
	}
	return ""
}

// MoveHistory copies every audit event and erasure record of the requests
// table into the audit or receipts table, each only where its key is free,
// and with remove deletes from the requests table those now in their table.
// It can run again, and while the functions run: it copies nothing twice and
// deletes nothing that is not in its new table as it is in the old.
func MoveHistory(ctx context.Context, api MoveAPI, requests, audit, receipts string, remove bool) (Moved, error) {
	var m Moved
	tables := map[string]string{"audit": audit, "receipts": receipts}
	p := dynamodb.NewScanPaginator(api, &dynamodb.ScanInput{TableName: &requests, ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return m, apperr.Wrap(apperr.Unavailable, "Request storage is unavailable.", err)
		}
		for _, item := range page.Items {
			pk, _ := item["pk"].(*types.AttributeValueMemberS)
			sk, _ := item["sk"].(*types.AttributeValueMemberS)
			if pk == nil || sk == nil {
				continue
			}
			which := historyTable(pk.Value, sk.Value)
			if which == "" {
				continue
			}
			table := tables[which]
			_, err := api.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")})
			switch {
			case err == nil && which == "audit":
				m.Audit++
			case err == nil:
				m.Receipts++
			case conditionFailed(err):
				there, err := api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: key(pk.Value, sk.Value), ConsistentRead: aws.Bool(true)})
				if err != nil {
					return m, apperr.Wrap(apperr.Unavailable, "Request storage is unavailable.", err)
				}
				if !reflect.DeepEqual(there.Item, item) {
					m.Conflicts++
					continue
				}
				m.There++
			default:
				return m, apperr.Wrap(apperr.Unavailable, "Request storage is unavailable.", err)
			}
			if !remove {
				continue
			}
			if _, err := api.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &requests, Key: key(pk.Value, sk.Value)}); err != nil {
				return m, apperr.Wrap(apperr.Unavailable, "Request storage is unavailable.", err)
			}
			m.Removed++
		}
	}
	if m.Conflicts > 0 {
		return m, apperr.Wrap(apperr.Conflict, "Some items could not be moved: their keys hold something else in the new tables.", ErrMoveConflict)
	}
	return m, nil
}
