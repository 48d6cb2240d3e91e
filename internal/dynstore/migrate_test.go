package dynstore

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/erasure"
)

// tables is an in-memory DynamoDB of tables keyed by pk and sk, with what
// the move and the receipt chain use: conditional puts (attribute_not_exists
// only), gets, deletes, one-page scans, and queries by partition key.
type tables map[string]map[[2]string]map[string]types.AttributeValue

func itemKey(item map[string]types.AttributeValue) [2]string {
	return [2]string{item["pk"].(*types.AttributeValueMemberS).Value, item["sk"].(*types.AttributeValueMemberS).Value}
}

func (db tables) put(table string, item map[string]types.AttributeValue, condition *string) error {
	if db[table] == nil {
		db[table] = map[[2]string]map[string]types.AttributeValue{}
	}
	k := itemKey(item)
	if _, ok := db[table][k]; ok && aws.ToString(condition) == "attribute_not_exists(pk)" {
		return &types.ConditionalCheckFailedException{}
	}
	db[table][k] = maps.Clone(item)
	return nil
}

func (db tables) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return &dynamodb.GetItemOutput{Item: maps.Clone(db[aws.ToString(in.TableName)][itemKey(in.Key)])}, nil
}

func (db tables) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return &dynamodb.PutItemOutput{}, db.put(aws.ToString(in.TableName), in.Item, in.ConditionExpression)
}

func (db tables) DeleteItem(_ context.Context, in *dynamodb.DeleteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	delete(db[aws.ToString(in.TableName)], itemKey(in.Key))
	return &dynamodb.DeleteItemOutput{}, nil
}

func (db tables) TransactWriteItems(_ context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	for _, it := range in.TransactItems {
		if _, ok := db[aws.ToString(it.Put.TableName)][itemKey(it.Put.Item)]; ok && aws.ToString(it.Put.ConditionExpression) == "attribute_not_exists(pk)" {
			return nil, &types.TransactionCanceledException{CancellationReasons: []types.CancellationReason{{Code: aws.String("ConditionalCheckFailed")}}}
		}
	}
	for _, it := range in.TransactItems {
		_ = db.put(aws.ToString(it.Put.TableName), it.Put.Item, nil)
	}
	return &dynamodb.TransactWriteItemsOutput{}, nil
}

func (db tables) sorted(table string) [][2]string {
	keys := slices.Collect(maps.Keys(db[table]))
	slices.SortFunc(keys, func(a, b [2]string) int { return strings.Compare(a[0]+"\x00"+a[1], b[0]+"\x00"+b[1]) })
	return keys
}

func (db tables) Scan(_ context.Context, in *dynamodb.ScanInput, _ ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	out := &dynamodb.ScanOutput{}
	for _, k := range db.sorted(aws.ToString(in.TableName)) {
		out.Items = append(out.Items, maps.Clone(db[aws.ToString(in.TableName)][k]))
	}
	return out, nil
}

func (db tables) Query(_ context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	var pk string
	for _, v := range in.ExpressionAttributeValues {
		pk = v.(*types.AttributeValueMemberS).Value
	}
	keys := db.sorted(aws.ToString(in.TableName))
	if !aws.ToBool(in.ScanIndexForward) && in.ScanIndexForward != nil {
		slices.Reverse(keys)
	}
	out := &dynamodb.QueryOutput{}
	for _, k := range keys {
		if k[0] == pk && (in.Limit == nil || len(out.Items) < int(*in.Limit)) {
			out.Items = append(out.Items, maps.Clone(db[aws.ToString(in.TableName)][k]))
		}
	}
	return out, nil
}

func item(pk, sk string, attrs ...string) map[string]types.AttributeValue {
	it := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: sk}}
	for i := 0; i+1 < len(attrs); i += 2 {
		it[attrs[i]] = &types.AttributeValueMemberS{Value: attrs[i+1]}
	}
	return it
}

// oldLayout is a requests table as versions before the split kept it.
func oldLayout() tables {
	db := tables{}
	for _, it := range []map[string]types.AttributeValue{
		item("dsr-1", "request", "kind", "request"),
		item("open#abc", "slot", "request_id", "dsr-1"),
		item("dsr-1", "audit#2026-03-02T10:00:00.000000000Z#000001", "action", "received"),
		item("mail#m-1", "audit#2026-03-02T09:00:00.000000000Z#000002", "action", "mail_received"),
		item("dsr-1", "erasure#users", "rev", "1"),
		item("dsr-1", "erasure-chunk#users#01", "rev", "1"),
		item("dsr-1", "receipt", "seq", "1"),
		item("receipt-chain", "000000000001", "hash", "h1"),
		item("receipt-chain-chunks", "000000000001#01", "rev", "1"),
	} {
		_ = db.put("requests", it, nil)
	}
	return db
}

func keysOf(db tables, table string) []string {
	var out []string
	for _, k := range db.sorted(table) {
		out = append(out, k[0]+" "+k[1])
	}
	return out
}

// TestMoveHistory: audit events go to the audit table and erasure records
// to the receipts table, as they were; requests and slots stay. A second run
// copies nothing again; with remove the moved items leave the requests
// table; an item whose key holds something else in its new table is neither
// copied over it nor removed, and the move says so.
func TestMoveHistory(t *testing.T) {
	ctx := context.Background()
	db := oldLayout()
	m, err := MoveHistory(ctx, db, "requests", "audit", "receipts", false)
	if err != nil {
		t.Fatal(err)
	}
	if m != (Moved{Audit: 2, Receipts: 5}) {
		t.Errorf("first move %+v", m)
	}
	wantAudit := []string{"dsr-1 audit#2026-03-02T10:00:00.000000000Z#000001", "mail#m-1 audit#2026-03-02T09:00:00.000000000Z#000002"}
	wantReceipts := []string{"dsr-1 erasure#users", "dsr-1 erasure-chunk#users#01", "dsr-1 receipt", "receipt-chain 000000000001", "receipt-chain-chunks 000000000001#01"}
	if got := keysOf(db, "audit"); !slices.Equal(got, wantAudit) {
		t.Errorf("audit table %v, want %v", got, wantAudit)
	}
	if got := keysOf(db, "receipts"); !slices.Equal(got, wantReceipts) {
		t.Errorf("receipts table %v, want %v", got, wantReceipts)
	}
	if len(db["requests"]) != 9 {
		t.Errorf("without remove, the requests table keeps %d items, want 9", len(db["requests"]))
	}

	m, err = MoveHistory(ctx, db, "requests", "audit", "receipts", true)
	if err != nil {
		t.Fatal(err)
	}
	if m != (Moved{There: 7, Removed: 7}) {
		t.Errorf("second move %+v", m)
	}
	if got := keysOf(db, "requests"); !slices.Equal(got, []string{"dsr-1 request", "open#abc slot"}) {
		t.Errorf("the requests table keeps %v, want the request and the slot", got)
	}

	// A chain begun in the receipts table before the move.
	db = oldLayout()
	_ = db.put("receipts", item("receipt-chain", "000000000001", "hash", "other"), nil)
	m, err = MoveHistory(ctx, db, "requests", "audit", "receipts", true)
	if !errors.Is(err, ErrMoveConflict) || m.Conflicts != 1 {
		t.Fatalf("move onto another chain: %+v, %v", m, err)
	}
	if h := db["receipts"][[2]string{"receipt-chain", "000000000001"}]["hash"].(*types.AttributeValueMemberS).Value; h != "other" {
		t.Errorf("the receipt there was overwritten: hash %s", h)
	}
	if _, ok := db["requests"][[2]string{"receipt-chain", "000000000001"}]; !ok {
		t.Error("the receipt that could not be moved was removed")
	}
}

// TestUnmovedChainRefusesAFirstReceipt: while the requests table still
// holds an earlier version's chain, the first receipt of the empty receipts
// table fails (a new chain would fork it); once moved, the next receipt
// builds on it.
func TestUnmovedChainRefusesAFirstReceipt(t *testing.T) {
	ctx := context.Background()
	seal := func(prev erasure.Link) (erasure.Link, error) {
		return erasure.Link{Seq: prev.Seq + 1, Body: []byte("{}"), Hash: "h" + string(rune('1'+prev.Seq))}, nil
	}
	tests := []struct {
		name    string
		db      func() tables
		move    bool
		wantErr bool
		wantSeq int64
	}{
		{"a new installation", func() tables { return tables{} }, false, false, 1},
		{"an unmoved chain", oldLayout, false, true, 0},
		{"a moved chain", oldLayout, true, false, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := tt.db()
			if tt.move {
				if _, err := MoveHistory(ctx, db, "requests", "audit", "receipts", true); err != nil {
					t.Fatal(err)
				}
			}
			l, err := NewReceipts(db, "receipts").RefuseUnmovedChain("requests").Append(ctx, "dsr-2", seal)
			if tt.wantErr {
				if !apperr.Is(err, apperr.Internal) || !strings.Contains(err.Error(), "migrate-tables") {
					t.Fatalf("append: %+v, %v; want an error naming the move", l, err)
				}
				if len(db["receipts"]) != 0 {
					t.Errorf("the refused append wrote %v", keysOf(db, "receipts"))
				}
				return
			}
			if err != nil || l.Seq != tt.wantSeq {
				t.Fatalf("append: %+v, %v; want receipt %d", l, err, tt.wantSeq)
			}
		})
	}
}
