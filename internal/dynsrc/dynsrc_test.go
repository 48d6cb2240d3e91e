package dynsrc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/erasure"
	"github.com/privacy-pipeline/dsr/internal/registry"
)

// fakeDynamo is one in-memory table with optional global secondary indexes
// (named by index, keyed on one attribute).
type fakeDynamo struct {
	table   string
	keys    []string          // key attribute names: partition, then sort
	indexes map[string]string // index name -> partition key attribute
	// numbers are the key attributes of type N; the others are S.
	numbers  []string
	items    []map[string]types.AttributeValue
	pageSize int

	// unprocessedCalls is how many BatchWriteItem calls leave the second half
	// of their requests unprocessed; alwaysUnprocessed processes nothing.
	unprocessedCalls  int
	alwaysUnprocessed bool
	failQuery         error
	onBatch           func()
	// beforeUpdate runs before an UpdateItem is applied, to play a concurrent writer.
	beforeUpdate func()

	queries       []*dynamodb.QueryInput
	gets          []*dynamodb.GetItemInput
	batchSizes    []int
	describeCalls int
	updates       []*dynamodb.UpdateItemInput
}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// avKey renders a scalar attribute value for comparison.
func avKey(av types.AttributeValue) string {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return "S:" + v.Value
	case *types.AttributeValueMemberN:
		if r, ok := new(big.Rat).SetString(v.Value); ok {
			return "N:" + r.RatString() // DynamoDB compares numbers by value
		}
		return "N:" + v.Value
	case nil:
		return "<nil>"
	default:
		return fmt.Sprintf("%T", av)
	}
}

func (f *fakeDynamo) sameKey(item, key map[string]types.AttributeValue) bool {
	for _, k := range f.keys {
		if avKey(item[k]) != avKey(key[k]) {
			return false
		}
	}
	return true
}

func (f *fakeDynamo) Query(_ context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	f.queries = append(f.queries, in)
	if f.failQuery != nil {
		return nil, f.failQuery
	}
	if aws.ToString(in.TableName) != f.table {
		return nil, &types.ResourceNotFoundException{Message: aws.String("no table")}
	}
	hashCond, sortCond, _ := strings.Cut(aws.ToString(in.KeyConditionExpression), " AND ")
	lhs, rhs, ok := strings.Cut(hashCond, " = ")
	attr, value := in.ExpressionAttributeNames[lhs], in.ExpressionAttributeValues[rhs]
	if !ok || attr == "" || value == nil {
		return nil, errors.New("ValidationException: unsupported key condition")
	}
	if err := f.typed(attr, value); err != nil {
		return nil, err
	}
	inSort := func(map[string]types.AttributeValue) bool { return true }
	if sortCond != "" {
		begins := strings.HasPrefix(sortCond, "begins_with(")
		n, v, ok := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(sortCond, "begins_with("), ")"), ", ")
		if !begins {
			n, v, ok = strings.Cut(sortCond, " = ")
		}
		sortAttr, want := in.ExpressionAttributeNames[n], in.ExpressionAttributeValues[v]
		if !ok || len(f.keys) < 2 || sortAttr != f.keys[1] || want == nil {
			return nil, errors.New("ValidationException: unsupported sort key condition " + sortCond)
		}
		if err := f.typed(sortAttr, want); err != nil {
			return nil, err
		}
		inSort = func(item map[string]types.AttributeValue) bool {
			if begins {
				return strings.HasPrefix(avKey(item[sortAttr]), avKey(want))
			}
			return avKey(item[sortAttr]) == avKey(want)
		}
	}
	want := f.keys[0]
	if in.IndexName != nil {
		if want, ok = f.indexes[*in.IndexName]; !ok {
			return nil, errors.New("ValidationException: no such index")
		}
	}
	if attr != want {
		return nil, errors.New("ValidationException: query condition missed key schema element")
	}
	var matched []map[string]types.AttributeValue
	for _, item := range f.items {
		if avKey(item[attr]) == avKey(value) && inSort(item) {
			matched = append(matched, item)
		}
	}
	if in.ExclusiveStartKey != nil {
		i := slices.IndexFunc(matched, func(it map[string]types.AttributeValue) bool { return f.sameKey(it, in.ExclusiveStartKey) })
		if i < 0 {
			return nil, errors.New("ValidationException: bad start key")
		}
		matched = matched[i+1:]
	}
	out := &dynamodb.QueryOutput{}
	if f.pageSize > 0 && len(matched) > f.pageSize {
		matched = matched[:f.pageSize]
		last := matched[len(matched)-1]
		out.LastEvaluatedKey = map[string]types.AttributeValue{attr: last[attr]}
		for _, k := range f.keys {
			out.LastEvaluatedKey[k] = last[k]
		}
	}
	out.Items = matched
	out.Count = int32(len(matched))
	return out, nil
}

func (f *fakeDynamo) BatchWriteItem(_ context.Context, in *dynamodb.BatchWriteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	reqs := in.RequestItems[f.table]
	if len(in.RequestItems) != 1 || len(reqs) == 0 || len(reqs) > 25 {
		return nil, fmt.Errorf("ValidationException: %d tables, %d requests", len(in.RequestItems), len(reqs))
	}
	f.batchSizes = append(f.batchSizes, len(reqs))
	if f.onBatch != nil {
		f.onBatch()
	}
	for _, r := range reqs {
		if r.DeleteRequest == nil || len(r.DeleteRequest.Key) != len(f.keys) {
			return nil, errors.New("ValidationException: the key does not match the key schema")
		}
		for _, k := range f.keys {
			if r.DeleteRequest.Key[k] == nil {
				return nil, errors.New("ValidationException: the key does not match the key schema")
			}
		}
	}
	process, unprocessed := reqs, []types.WriteRequest(nil)
	switch {
	case f.alwaysUnprocessed:
		process, unprocessed = nil, reqs
	case f.unprocessedCalls > 0:
		f.unprocessedCalls--
		process, unprocessed = reqs[:len(reqs)/2], reqs[len(reqs)/2:]
	}
	for _, r := range process {
		f.items = slices.DeleteFunc(f.items, func(it map[string]types.AttributeValue) bool { return f.sameKey(it, r.DeleteRequest.Key) })
	}
	out := &dynamodb.BatchWriteItemOutput{UnprocessedItems: map[string][]types.WriteRequest{}}
	if len(unprocessed) > 0 {
		out.UnprocessedItems[f.table] = unprocessed
	}
	return out, nil
}

func (f *fakeDynamo) DescribeTable(_ context.Context, in *dynamodb.DescribeTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	f.describeCalls++
	if aws.ToString(in.TableName) != f.table {
		return nil, &types.ResourceNotFoundException{Message: aws.String("no table")}
	}
	td := &types.TableDescription{TableName: in.TableName}
	for i, k := range f.keys {
		kt := types.KeyTypeHash
		if i > 0 {
			kt = types.KeyTypeRange
		}
		td.KeySchema = append(td.KeySchema, types.KeySchemaElement{AttributeName: aws.String(k), KeyType: kt})
	}
	for _, name := range slices.Sorted(maps.Keys(f.indexes)) {
		td.GlobalSecondaryIndexes = append(td.GlobalSecondaryIndexes, types.GlobalSecondaryIndexDescription{
			IndexName: aws.String(name),
			KeySchema: []types.KeySchemaElement{{AttributeName: aws.String(f.indexes[name]), KeyType: types.KeyTypeHash}},
		})
	}
	for _, attr := range slices.Concat(f.keys, slices.Collect(maps.Values(f.indexes))) {
		td.AttributeDefinitions = append(td.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String(attr), AttributeType: f.typeOf(attr)})
	}
	return &dynamodb.DescribeTableOutput{Table: td}, nil
}

func (f *fakeDynamo) typeOf(attr string) types.ScalarAttributeType {
	if slices.Contains(f.numbers, attr) {
		return types.ScalarAttributeTypeN
	}
	return types.ScalarAttributeTypeS
}

// typed fails as DynamoDB does when a key value's type is not the key
// attribute's.
func (f *fakeDynamo) typed(attr string, v types.AttributeValue) error {
	_, isNumber := v.(*types.AttributeValueMemberN)
	_, isString := v.(*types.AttributeValueMemberS)
	if f.typeOf(attr) == types.ScalarAttributeTypeN && !isNumber || f.typeOf(attr) == types.ScalarAttributeTypeS && !isString {
		return errors.New("ValidationException: the provided key element does not match the schema")
	}
	return nil
}

func (f *fakeDynamo) find(key map[string]types.AttributeValue) map[string]types.AttributeValue {
	for _, it := range f.items {
		if f.sameKey(it, key) {
			return it
		}
	}
	return nil
}

func (f *fakeDynamo) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	f.gets = append(f.gets, in)
	if aws.ToString(in.TableName) != f.table || !aws.ToBool(in.ConsistentRead) {
		return nil, errors.New("ValidationException: wrong table, or not a consistent read")
	}
	if len(in.Key) != len(f.keys) {
		return nil, errors.New("ValidationException: the provided key element does not match the schema")
	}
	for _, k := range f.keys {
		if in.Key[k] == nil {
			return nil, errors.New("ValidationException: the provided key element does not match the schema")
		}
		if err := f.typed(k, in.Key[k]); err != nil {
			return nil, err
		}
	}
	it := f.find(in.Key)
	if it == nil {
		return &dynamodb.GetItemOutput{}, nil
	}
	return &dynamodb.GetItemOutput{Item: maps.Clone(it)}, nil
}

// UpdateItem understands what anonymizing and correcting send: "REMOVE #a,
// #b" or "SET #a = :v, #b = :w" on a condition of "#a = :v" and
// "attribute_not_exists(#b)" terms joined by AND.
func (f *fakeDynamo) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	f.updates = append(f.updates, in)
	if f.beforeUpdate != nil {
		f.beforeUpdate()
	}
	if aws.ToString(in.TableName) != f.table || len(in.Key) != len(f.keys) {
		return nil, errors.New("ValidationException: wrong table or key")
	}
	it := f.find(in.Key)
	if it == nil {
		it = maps.Clone(in.Key) // UpdateItem creates a missing item, unless the condition fails
	}
	for _, term := range strings.Split(aws.ToString(in.ConditionExpression), " AND ") {
		if n, ok := strings.CutPrefix(term, "attribute_not_exists("); ok {
			if _, exists := it[in.ExpressionAttributeNames[strings.TrimSuffix(n, ")")]]; exists {
				return nil, &types.ConditionalCheckFailedException{}
			}
			continue
		}
		lhs, rhs, ok := strings.Cut(term, " = ")
		if !ok {
			return nil, errors.New("ValidationException: unsupported condition " + term)
		}
		if got, exists := it[in.ExpressionAttributeNames[lhs]]; !exists || !reflect.DeepEqual(got, in.ExpressionAttributeValues[rhs]) {
			return nil, &types.ConditionalCheckFailedException{}
		}
	}
	if sets, ok := strings.CutPrefix(aws.ToString(in.UpdateExpression), "SET "); ok {
		for _, set := range strings.Split(sets, ", ") {
			n, v, _ := strings.Cut(set, " = ")
			attr := in.ExpressionAttributeNames[n]
			if attr == "" || slices.Contains(f.keys, attr) || in.ExpressionAttributeValues[v] == nil {
				return nil, errors.New("ValidationException: cannot set " + n)
			}
			it[attr] = in.ExpressionAttributeValues[v]
		}
		if f.find(in.Key) == nil {
			f.items = append(f.items, it)
		}
		return &dynamodb.UpdateItemOutput{}, nil
	}
	names, ok := strings.CutPrefix(aws.ToString(in.UpdateExpression), "REMOVE ")
	if !ok {
		return nil, errors.New("ValidationException: unsupported update")
	}
	for _, n := range strings.Split(names, ", ") {
		attr := in.ExpressionAttributeNames[n]
		if attr == "" || slices.Contains(f.keys, attr) {
			return nil, errors.New("ValidationException: cannot remove " + n)
		}
		delete(it, attr)
	}
	if f.find(in.Key) == nil {
		f.items = append(f.items, it)
	}
	return &dynamodb.UpdateItemOutput{}, nil
}

// users: key user_id, GSI email-index on email.
func usersTable() *fakeDynamo {
	f := &fakeDynamo{table: "demo-users", keys: []string{"user_id"}, indexes: map[string]string{"email-index": "email"}, pageSize: 2}
	for _, u := range []struct{ id, email string }{
		{"u-1", "ada@example.com"}, {"u-2", "bob@example.com"}, {"u-3", "ada@example.com"},
		{"u-4", "ada@example.org"}, {"u-5", "ada@example.com"},
	} {
		f.items = append(f.items, map[string]types.AttributeValue{"user_id": str(u.id), "email": str(u.email), "plan": str("free")})
	}
	return f
}

// orders: key user_id + order_id, n orders per user.
func ordersTable(perUser map[string]int) *fakeDynamo {
	f := &fakeDynamo{table: "demo-orders", keys: []string{"user_id", "order_id"}, pageSize: 7}
	for _, user := range slices.Sorted(func(yield func(string) bool) {
		for u := range perUser {
			if !yield(u) {
				return
			}
		}
	}) {
		for i := range perUser[user] {
			f.items = append(f.items, map[string]types.AttributeValue{
				"user_id": str(user), "order_id": str(fmt.Sprintf("o-%03d", i)),
				"total": &types.AttributeValueMemberN{Value: "12.50"},
			})
		}
	}
	return f
}

var (
	usersSource  = &registry.Source{ID: "users", Erasure: registry.EraseDelete, DynamoDB: &registry.DynamoDBSource{Table: "demo-users", Index: "email-index", PartitionKey: "email", Identity: "email"}}
	ordersSource = &registry.Source{ID: "orders", Erasure: registry.EraseDelete, DynamoDB: &registry.DynamoDBSource{Table: "demo-orders", PartitionKey: "user_id", Identity: "user_id"}}
)

func newAdapter(f *fakeDynamo) *Adapter {
	a := New(f)
	a.retryWait = 0
	return a
}

// ids lists the given attribute of records, in order.
func attrOf(records []map[string]any, name string) []string {
	var out []string
	for _, r := range records {
		out = append(out, fmt.Sprint(r[name]))
	}
	return out
}

func TestFind(t *testing.T) {
	tests := []struct {
		name      string
		fake      *fakeDynamo
		src       *registry.Source
		ids       map[string][]string
		wantAttr  string
		want      []string
		wantQuery int
	}{
		{
			name: "by email on the index, across pages", fake: usersTable(), src: usersSource,
			ids: map[string][]string{"email": {"ada@example.com"}}, wantAttr: "user_id", want: []string{"u-1", "u-3", "u-5"}, wantQuery: 2,
		},
		{
			name: "two values", fake: usersTable(), src: usersSource,
			ids: map[string][]string{"email": {"bob@example.com", "ada@example.org"}}, wantAttr: "user_id", want: []string{"u-2", "u-4"}, wantQuery: 2,
		},
		{
			name: "an item reached twice is returned once", fake: usersTable(), src: usersSource,
			ids: map[string][]string{"email": {"bob@example.com", "bob@example.com"}}, wantAttr: "user_id", want: []string{"u-2"}, wantQuery: 2,
		},
		{
			name: "items sharing a partition key are distinct", fake: ordersTable(map[string]int{"u-1": 16, "u-2": 3}), src: ordersSource,
			ids: map[string][]string{"user_id": {"u-1", "u-1"}}, wantAttr: "order_id", wantQuery: 6,
			want: []string{"o-000", "o-001", "o-002", "o-003", "o-004", "o-005", "o-006", "o-007", "o-008", "o-009", "o-010", "o-011", "o-012", "o-013", "o-014", "o-015"},
		},
		{
			name: "no value of the source's identity", fake: usersTable(), src: usersSource,
			ids: map[string][]string{"user_id": {"u-1"}}, wantAttr: "user_id",
		},
		{
			name: "a value nobody has", fake: usersTable(), src: usersSource,
			ids: map[string][]string{"email": {"eve@example.com"}}, wantAttr: "user_id", wantQuery: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			records, _, err := newAdapter(tc.fake).Find(context.Background(), tc.src, tc.ids)
			if err != nil {
				t.Fatal(err)
			}
			if got := attrOf(records, tc.wantAttr); !slices.Equal(got, tc.want) {
				t.Errorf("found %v, want %v", got, tc.want)
			}
			if len(tc.fake.queries) != tc.wantQuery {
				t.Errorf("%d queries, want %d", len(tc.fake.queries), tc.wantQuery)
			}
			for _, q := range tc.fake.queries {
				if aws.ToString(q.IndexName) != tc.src.DynamoDB.Index {
					t.Errorf("IndexName = %q, want %q", aws.ToString(q.IndexName), tc.src.DynamoDB.Index)
				}
				for _, vs := range tc.ids {
					for _, v := range vs {
						if strings.Contains(aws.ToString(q.KeyConditionExpression), v) {
							t.Errorf("identity value %q inside the expression %q", v, aws.ToString(q.KeyConditionExpression))
						}
					}
				}
			}
		})
	}
}

func TestFindDecodesNumbersExactly(t *testing.T) {
	f := ordersTable(map[string]int{"u-1": 1})
	f.items[0]["big"] = &types.AttributeValueMemberN{Value: "12345678901234567890"}
	f.items[0]["nested"] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
		"n": &types.AttributeValueMemberN{Value: "7"},
		"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberN{Value: "-1.5e3"}, str("x")}},
	}}
	f.items[0]["ns"] = &types.AttributeValueMemberNS{Value: []string{"1", "2.0"}}
	records, _, err := newAdapter(f).Find(context.Background(), ordersSource, map[string][]string{"user_id": {"u-1"}})
	if err != nil || len(records) != 1 {
		t.Fatalf("Find = %v, %v", records, err)
	}
	b, _ := json.Marshal(records[0])
	if want := `{"big":12345678901234567890,"nested":{"l":[-1.5e3,"x"],"n":7},"ns":[1,2.0],"order_id":"o-000","total":12.50,"user_id":"u-1"}`; string(b) != want {
		t.Errorf("record = %s, want %s", b, want)
	}
}

func TestTableKeyIsAskedOnce(t *testing.T) {
	f := usersTable()
	a := newAdapter(f)
	for range 3 {
		if _, _, err := a.Find(context.Background(), usersSource, map[string][]string{"email": {"ada@example.com"}}); err != nil {
			t.Fatal(err)
		}
	}
	if f.describeCalls != 1 {
		t.Errorf("DescribeTable called %d times, want 1", f.describeCalls)
	}
}

func TestFindUnavailable(t *testing.T) {
	tests := []struct {
		name string
		fake *fakeDynamo
		src  *registry.Source
	}{
		{"query fails", &fakeDynamo{table: "demo-orders", keys: []string{"user_id", "order_id"}, failQuery: errors.New("secret-sdk-detail")}, ordersSource},
		{"table missing", &fakeDynamo{table: "other", keys: []string{"user_id"}}, ordersSource},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := newAdapter(tc.fake).Find(context.Background(), tc.src, map[string][]string{"user_id": {"u-1"}})
			if !apperr.Is(err, apperr.Unavailable) {
				t.Fatalf("err = %v, want Unavailable", err)
			}
			var e *apperr.Error
			if errors.As(err, &e) && strings.Contains(e.Msg, "secret-sdk-detail") {
				t.Errorf("message holds the SDK error: %q", e.Msg)
			}
		})
	}
}

func TestErase(t *testing.T) {
	tests := []struct {
		name             string
		fake             *fakeDynamo
		src              *registry.Source
		ids              map[string][]string
		unprocessedCalls int
		wantRemoved      int
		wantLeft         []string // "user_id/order_id" or user_id of the items left
	}{
		{
			name: "by index, deleting by table key", fake: usersTable(), src: usersSource,
			ids: map[string][]string{"email": {"ada@example.com"}}, wantRemoved: 3, wantLeft: []string{"u-2", "u-4"},
		},
		{
			name: "more items than a batch", fake: ordersTable(map[string]int{"u-1": 60, "u-2": 2, "u-10": 1}), src: ordersSource,
			ids: map[string][]string{"user_id": {"u-1"}}, wantRemoved: 60, wantLeft: []string{"u-10/o-000", "u-2/o-000", "u-2/o-001"},
		},
		{
			name: "unprocessed items are sent again", fake: ordersTable(map[string]int{"u-1": 30, "u-2": 1}), src: ordersSource,
			ids: map[string][]string{"user_id": {"u-1"}}, unprocessedCalls: 3, wantRemoved: 30, wantLeft: []string{"u-2/o-000"},
		},
		{
			name: "two values, one item reached twice", fake: usersTable(), src: usersSource,
			ids: map[string][]string{"email": {"bob@example.com", "ada@example.org", "bob@example.com"}}, wantRemoved: 2, wantLeft: []string{"u-1", "u-3", "u-5"},
		},
		{
			name: "nothing to erase", fake: usersTable(), src: usersSource,
			ids: map[string][]string{"email": {"eve@example.com"}}, wantLeft: []string{"u-1", "u-2", "u-3", "u-4", "u-5"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fake.unprocessedCalls = tc.unprocessedCalls
			a := newAdapter(tc.fake)
			res, err := a.Erase(context.Background(), tc.src, tc.ids, false)
			if err != nil {
				t.Fatal(err)
			}
			if res.Records != tc.wantRemoved || res.Deleted != tc.wantRemoved || len(res.Touched) != tc.wantRemoved {
				t.Errorf("result %+v, want %d deleted", res, tc.wantRemoved)
			}
			for _, k := range res.Touched {
				if k.Action != erasure.ActionDeleted || !strings.Contains(k.Key, `"user_id":"u-`) {
					t.Errorf("touched %+v", k)
				}
			}
			var left []string
			for _, it := range tc.fake.items {
				k := it["user_id"].(*types.AttributeValueMemberS).Value
				if o, ok := it["order_id"]; ok {
					k += "/" + o.(*types.AttributeValueMemberS).Value
				}
				left = append(left, k)
			}
			slices.Sort(left)
			if !slices.Equal(left, tc.wantLeft) {
				t.Errorf("left %v, want %v", left, tc.wantLeft)
			}
			sent := 0
			for _, s := range tc.fake.batchSizes {
				if s > maxBatch {
					t.Errorf("a batch of %d requests", s)
				}
				sent += s
			}
			if tc.unprocessedCalls == 0 && sent != tc.wantRemoved {
				t.Errorf("%d delete requests sent for %d items", sent, tc.wantRemoved)
			}
			if tc.unprocessedCalls > 0 && len(tc.fake.batchSizes) <= tc.unprocessedCalls {
				t.Errorf("%d BatchWriteItem calls: unprocessed items were not resent", len(tc.fake.batchSizes))
			}
			if rest, _, err := a.Find(context.Background(), tc.src, tc.ids); err != nil || len(rest) != 0 {
				t.Errorf("after Erase, Find = %v, %v", rest, err)
			}
		})
	}
}

func TestEraseGivesUpWhenAlwaysUnprocessed(t *testing.T) {
	f := ordersTable(map[string]int{"u-1": 3})
	f.alwaysUnprocessed = true
	res, err := newAdapter(f).Erase(context.Background(), ordersSource, map[string][]string{"user_id": {"u-1"}}, false)
	if !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("err = %v, want Unavailable", err)
	}
	if res.Deleted != 0 {
		t.Errorf("reported %d removed", res.Deleted)
	}
	if len(f.batchSizes) < 2 || len(f.batchSizes) > maxUnprocessedRetries+1 {
		t.Errorf("%d BatchWriteItem calls, want a bounded number of retries", len(f.batchSizes))
	}
}

func TestEraseStopsWhenCancelled(t *testing.T) {
	f := ordersTable(map[string]int{"u-1": 3})
	f.alwaysUnprocessed = true
	a := newAdapter(f)
	a.retryWait = 1 << 40 // never ends by itself
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Cancel once the first batch was sent: the wait before the resend must end.
	f.onBatch = cancel
	_, err := a.Erase(ctx, ordersSource, map[string][]string{"user_id": {"u-1"}}, false)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// Items whose numeric sort keys differ only beyond float64 precision (64-bit
// ids) are two items: both are found and both erased.
func TestLargeNumericKeysAreDistinct(t *testing.T) {
	newTable := func() *fakeDynamo {
		f := &fakeDynamo{table: "demo-orders", keys: []string{"user_id", "order_id"}}
		for _, id := range []string{"1234567890123456789", "1234567890123456790"} {
			f.items = append(f.items, map[string]types.AttributeValue{"user_id": str("u-1"), "order_id": &types.AttributeValueMemberN{Value: id}})
		}
		return f
	}
	ids := map[string][]string{"user_id": {"u-1"}}
	records, _, err := newAdapter(newTable()).Find(context.Background(), ordersSource, ids)
	if err != nil {
		t.Fatal(err)
	}
	if got := attrOf(records, "order_id"); !slices.Equal(got, []string{"1234567890123456789", "1234567890123456790"}) {
		t.Errorf("found %v", got)
	}
	f := newTable()
	res, err := newAdapter(f).Erase(context.Background(), ordersSource, ids, false)
	if err != nil || res.Deleted != 2 || len(f.items) != 0 || res.Touched[0].Key == res.Touched[1].Key {
		t.Errorf("Erase = %+v, %v; %d items left", res, err, len(f.items))
	}
}

// reviews: key review_id, GSI email-index on email; the subject wrote two.
func reviewsTable() *fakeDynamo {
	f := &fakeDynamo{table: "demo-reviews", keys: []string{"review_id"}, indexes: map[string]string{"email-index": "email"}, pageSize: 1}
	for _, r := range []struct{ id, email, name string }{{"r-1", "ada@example.com", "Ada"}, {"r-2", "bob@example.com", "Bob"}, {"r-3", "ada@example.com", "Ada L."}} {
		f.items = append(f.items, map[string]types.AttributeValue{
			"review_id": str(r.id), "email": str(r.email), "author_name": str(r.name),
			"rating": &types.AttributeValueMemberN{Value: "5"}, "text": str("Sturdy."),
			"tags": &types.AttributeValueMemberL{Value: []types.AttributeValue{str("pen")}},
		})
	}
	return f
}

var reviewsSource = &registry.Source{ID: "reviews", Erasure: registry.EraseAnonymize, Anonymize: []string{"email", "author_name", "phone"},
	DynamoDB: &registry.DynamoDBSource{Table: "demo-reviews", Index: "email-index", PartitionKey: "email", Identity: "email"}}

func TestAnonymize(t *testing.T) {
	ada := map[string][]string{"email": {"ada@example.com"}}
	tests := []struct {
		name         string
		dryRun       bool
		concurrently func(f *fakeDynamo) // runs before the first update
		wantCount    int
		wantUpdates  int
		wantItems    map[string]string // review_id -> attributes left, sorted
	}{
		{name: "listed attributes go, the rest stays", wantCount: 2, wantUpdates: 2, wantItems: map[string]string{
			"r-1": "rating,review_id,tags,text", "r-2": "author_name,email,rating,review_id,tags,text", "r-3": "rating,review_id,tags,text"}},
		{name: "dry run changes nothing", dryRun: true, wantCount: 2, wantUpdates: 0, wantItems: map[string]string{
			"r-1": "author_name,email,rating,review_id,tags,text", "r-2": "author_name,email,rating,review_id,tags,text", "r-3": "author_name,email,rating,review_id,tags,text"}},
		{name: "a concurrent write is kept and the item anonymized as it now is",
			concurrently: func(f *fakeDynamo) {
				it := f.find(map[string]types.AttributeValue{"review_id": str("r-1")})
				it["author_name"], it["phone"], it["text"] = str("Ada Lovelace"), str("+44 20 7946 0000"), str("Sturdy, and cheap.")
			},
			wantCount: 2, wantUpdates: 3, wantItems: map[string]string{
				"r-1": "rating,review_id,tags,text", "r-2": "author_name,email,rating,review_id,tags,text", "r-3": "rating,review_id,tags,text"}},
		{name: "an item that changed hands meanwhile is left alone",
			concurrently: func(f *fakeDynamo) {
				f.find(map[string]types.AttributeValue{"review_id": str("r-1")})["email"] = str("new.owner@example.com")
			},
			wantCount: 1, wantUpdates: 2, wantItems: map[string]string{
				"r-1": "author_name,email,rating,review_id,tags,text", "r-2": "author_name,email,rating,review_id,tags,text", "r-3": "rating,review_id,tags,text"}},
		{name: "an item deleted meanwhile is not created again",
			concurrently: func(f *fakeDynamo) {
				f.items = slices.DeleteFunc(f.items, func(it map[string]types.AttributeValue) bool { return avKey(it["review_id"]) == "S:r-1" })
			},
			wantCount: 1, wantUpdates: 2, wantItems: map[string]string{
				"r-2": "author_name,email,rating,review_id,tags,text", "r-3": "rating,review_id,tags,text"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := reviewsTable()
			if tc.concurrently != nil {
				f.beforeUpdate = func() { f.beforeUpdate = nil; tc.concurrently(f) }
			}
			res, err := newAdapter(f).Erase(context.Background(), reviewsSource, ada, tc.dryRun)
			if err != nil {
				t.Fatal(err)
			}
			if res.Records != tc.wantCount || res.Anonymized != tc.wantCount || res.Deleted != 0 || len(res.Touched) != tc.wantCount {
				t.Errorf("result %+v, want %d anonymized", res, tc.wantCount)
			}
			if len(f.updates) != tc.wantUpdates {
				t.Errorf("%d updates, want %d", len(f.updates), tc.wantUpdates)
			}
			got := map[string]string{}
			for _, it := range f.items {
				got[it["review_id"].(*types.AttributeValueMemberS).Value] = strings.Join(slices.Sorted(maps.Keys(it)), ",")
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.wantItems) {
				t.Errorf("items\n got %v\nwant %v", got, tc.wantItems)
			}
			if it := f.find(map[string]types.AttributeValue{"review_id": str("r-1")}); it != nil && it["text"] != nil && tc.concurrently != nil {
				if txt := it["text"].(*types.AttributeValueMemberS).Value; txt != "Sturdy, and cheap." && got["r-1"] == "rating,review_id,tags,text" {
					t.Errorf("the concurrent write was lost: text %q", txt)
				}
			}
			if !tc.dryRun {
				if rest, _, err := newAdapter(f).Find(context.Background(), reviewsSource, ada); err != nil || len(rest) != 0 {
					t.Errorf("after anonymizing, Find = %v, %v", rest, err)
				}
			}
		})
	}
}

func TestAnonymizeRefusesKeyAttributes(t *testing.T) {
	src := *reviewsSource
	src.Anonymize = []string{"email", "review_id"}
	_, err := newAdapter(reviewsTable()).Erase(context.Background(), &src, map[string][]string{"email": {"ada@example.com"}}, false)
	if !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("err = %v, want Invalid", err)
	}
}

func TestAnonymizeGivesUpOnAnItemThatKeepsChanging(t *testing.T) {
	f := reviewsTable()
	n := 0
	f.beforeUpdate = func() {
		n++
		f.find(map[string]types.AttributeValue{"review_id": str("r-1")})["text"] = str(fmt.Sprint("edit ", n))
		f.find(map[string]types.AttributeValue{"review_id": str("r-1")})["author_name"] = str(fmt.Sprint("Ada ", n))
	}
	_, err := newAdapter(f).Erase(context.Background(), reviewsSource, map[string][]string{"email": {"ada@example.com"}}, false)
	if !apperr.Is(err, apperr.Unavailable) || n != maxConflicts {
		t.Fatalf("err = %v after %d updates, want Unavailable after %d", err, n, maxConflicts)
	}
}
