package dynstore

import (
	"context"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/privacy-pipeline/dsr/internal/request"
)

// fakeAPI records the writes and queries the store sends; reads find
// nothing.
type fakeAPI struct {
	puts    []*dynamodb.PutItemInput
	txs     []*dynamodb.TransactWriteItemsInput
	queries []*dynamodb.QueryInput
}

func (f *fakeAPI) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return &dynamodb.GetItemOutput{}, nil
}

func (f *fakeAPI) TransactWriteItems(_ context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	f.txs = append(f.txs, in)
	return &dynamodb.TransactWriteItemsOutput{}, nil
}

func (f *fakeAPI) Query(_ context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	f.queries = append(f.queries, in)
	return &dynamodb.QueryOutput{}, nil
}

func (f *fakeAPI) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	f.puts = append(f.puts, in)
	return &dynamodb.PutItemOutput{}, nil
}

func sk(item map[string]types.AttributeValue) string {
	v, _ := item["sk"].(*types.AttributeValueMemberS)
	if v == nil {
		return ""
	}
	return v.Value
}

var at = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// TestAuditGoesToItsOwnTable: a save writes the request to the requests
// table and its event to the audit table, in one transaction, each only if
// it is what the writer expects; an event alone is one conditional put in
// the audit table; the log is read from the audit table.
func TestAuditGoesToItsOwnTable(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		do    func(*Store) error
		check func(*testing.T, *fakeAPI)
	}{
		{"a new request and its event", func(s *Store) error {
			return s.Save(ctx, &request.Request{ID: "dsr-1", Status: request.Received}, request.Event{At: at, Action: "received"})
		}, func(t *testing.T, f *fakeAPI) {
			if len(f.txs) != 1 || len(f.puts) != 0 {
				t.Fatalf("%d transactions, %d puts; want one transaction", len(f.txs), len(f.puts))
			}
			items := f.txs[0].TransactItems
			if len(items) != 2 || items[0].Put == nil || items[1].Put == nil {
				t.Fatalf("transaction %+v, want two puts", items)
			}
			req, ev := items[0].Put, items[1].Put
			if aws.ToString(req.TableName) != "requests" || sk(req.Item) != "request" || aws.ToString(req.ConditionExpression) != "attribute_not_exists(pk)" {
				t.Errorf("request put on %s, sk %q, condition %q", aws.ToString(req.TableName), sk(req.Item), aws.ToString(req.ConditionExpression))
			}
			if aws.ToString(ev.TableName) != "audit" || aws.ToString(ev.ConditionExpression) != "attribute_not_exists(pk)" {
				t.Errorf("event put on %s, condition %q", aws.ToString(ev.TableName), aws.ToString(ev.ConditionExpression))
			}
		}},
		{"a changed request and its event", func(s *Store) error {
			return s.Save(ctx, &request.Request{ID: "dsr-1", Status: request.Verified, Version: 3}, request.Event{At: at, Action: "verified"})
		}, func(t *testing.T, f *fakeAPI) {
			items := f.txs[0].TransactItems
			if got := aws.ToString(items[0].Put.ConditionExpression); got != "version = :v" {
				t.Errorf("request put condition %q", got)
			}
			if aws.ToString(items[1].Put.TableName) != "audit" {
				t.Errorf("event put on %s", aws.ToString(items[1].Put.TableName))
			}
		}},
		{"an event alone", func(s *Store) error {
			return s.Record(ctx, "dsr-1", request.Event{At: at, Action: "source_erased"})
		}, func(t *testing.T, f *fakeAPI) {
			if len(f.puts) != 1 || len(f.txs) != 0 {
				t.Fatalf("%d puts, %d transactions; want one put", len(f.puts), len(f.txs))
			}
			if aws.ToString(f.puts[0].TableName) != "audit" || aws.ToString(f.puts[0].ConditionExpression) != "attribute_not_exists(pk)" {
				t.Errorf("put on %s, condition %q", aws.ToString(f.puts[0].TableName), aws.ToString(f.puts[0].ConditionExpression))
			}
		}},
		{"reading the log", func(s *Store) error {
			_, err := s.Events(ctx, "dsr-1")
			return err
		}, func(t *testing.T, f *fakeAPI) {
			if len(f.queries) != 1 || aws.ToString(f.queries[0].TableName) != "audit" {
				t.Fatalf("queries %+v, want one on the audit table", f.queries)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeAPI{}
			if err := tt.do(NewStore(f, "requests", "audit")); err != nil {
				t.Fatal(err)
			}
			tt.check(t, f)
		})
	}
}

var eventKey = regexp.MustCompile(`^audit#2026-03-02T10:00:00\.000000000Z#\d{6}#[0-9a-f]{32}$`)

// TestAuditKeysCannotBeGuessed: event keys sort by time and, within one
// process, by order; beyond that they hold 128 random bits, so two
// processes (two Lambda instances) that write at the same instant with the
// same count still make different keys, and no one can name an event they
// have not read.
func TestAuditKeysCannotBeGuessed(t *testing.T) {
	ctx := context.Background()
	var keys []string
	for range 2 {
		f := &fakeAPI{}
		s := NewStore(f, "requests", "audit")
		for _, action := range []string{"one", "two"} {
			if err := s.Record(ctx, "dsr-1", request.Event{At: at, Action: action}); err != nil {
				t.Fatal(err)
			}
		}
		first, second := sk(f.puts[0].Item), sk(f.puts[1].Item)
		if first >= second {
			t.Errorf("events of one process out of order: %q, %q", first, second)
		}
		keys = append(keys, first, second)
	}
	for _, k := range keys {
		if !eventKey.MatchString(k) {
			t.Errorf("event key %q, want audit#<time>#<n>#<32 hex digits>", k)
		}
	}
	if keys[0] == keys[2] || keys[1] == keys[3] {
		t.Errorf("two processes made the same keys at the same instant: %v", keys)
	}
	// Keys made before the random part sort among the new ones by time.
	old := []string{"audit#2026-03-02T09:59:59.000000000Z#000007", keys[0], "audit#2026-03-02T10:00:01.000000000Z#000001"}
	if !slices.IsSorted(old) {
		t.Errorf("old and new keys do not sort by time: %v", old)
	}
}
