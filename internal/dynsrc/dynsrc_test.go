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
	"sync"
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

	failQuery error
	// beforeUpdate runs before an UpdateItem is applied, to play a concurrent writer.
	beforeUpdate func()
	// beforeDelete runs before a DeleteItem is applied (as beforeUpdate);
	// an error it returns fails the delete, which is then not made.
	beforeDelete func(key map[string]types.AttributeValue) error
	// lostAnswers makes every conditional delete and update answer as the
	// SDK's retry of it would after the first answer was lost: the change
	// is made, and the retry's condition fails on the item as it now is.
	lostAnswers bool

	// mu guards what deletes, which run in parallel, touch.
	mu            sync.Mutex
	queries       []*dynamodb.QueryInput
	gets          []*dynamodb.GetItemInput
	deletes       int
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

// DeleteItem deletes the item at the key on a condition of "#a = :v".
func (f *fakeDynamo) DeleteItem(_ context.Context, in *dynamodb.DeleteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if aws.ToString(in.TableName) != f.table || len(in.Key) != len(f.keys) {
		return nil, errors.New("ValidationException: wrong table or key")
	}
	for _, k := range f.keys {
		if in.Key[k] == nil {
			return nil, errors.New("ValidationException: the key does not match the key schema")
		}
	}
	if f.beforeDelete != nil {
		if err := f.beforeDelete(in.Key); err != nil {
			return nil, err
		}
	}
	f.deletes++
	it := f.find(in.Key)
	if cond := aws.ToString(in.ConditionExpression); cond != "" {
		lhs, rhs, ok := strings.Cut(cond, " = ")
		if !ok {
			return nil, errors.New("ValidationException: unsupported condition " + cond)
		}
		if got, exists := it[in.ExpressionAttributeNames[lhs]]; it == nil || !exists || !reflect.DeepEqual(got, in.ExpressionAttributeValues[rhs]) {
			return nil, &types.ConditionalCheckFailedException{}
		}
	}
	f.items = slices.DeleteFunc(f.items, func(it map[string]types.AttributeValue) bool { return f.sameKey(it, in.Key) })
	if f.lostAnswers && in.ConditionExpression != nil {
		return nil, &types.ConditionalCheckFailedException{}
	}
	return &dynamodb.DeleteItemOutput{}, nil
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
	f.mu.Lock()
	defer f.mu.Unlock()
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
	if f.lostAnswers && in.ConditionExpression != nil {
		return nil, &types.ConditionalCheckFailedException{}
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
		name        string
		fake        *fakeDynamo
		src         *registry.Source
		ids         map[string][]string
		wantRemoved int
		wantLeft    []string // "user_id/order_id" or user_id of the items left
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
			a := newAdapter(tc.fake)
			j := &fakeJournal{}
			res, err := a.Erase(context.Background(), tc.src, tc.ids, false, j)
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
			if got := erasure.Counted(j.entries()); got.Deleted != tc.wantRemoved || len(j.pending()) != 0 {
				t.Errorf("journal counts %+v, %d pending; want %d deleted", got, len(j.pending()), tc.wantRemoved)
			}
			if tc.fake.deletes != tc.wantRemoved {
				t.Errorf("%d deletes sent for %d items", tc.fake.deletes, tc.wantRemoved)
			}
			if got := leftKeys(tc.fake); !slices.Equal(got, tc.wantLeft) {
				t.Errorf("left %v, want %v", got, tc.wantLeft)
			}
			if rest, _, err := a.Find(context.Background(), tc.src, tc.ids); err != nil || len(rest) != 0 {
				t.Errorf("after Erase, Find = %v, %v", rest, err)
			}
		})
	}
}

func leftKeys(f *fakeDynamo) []string {
	var left []string
	for _, it := range f.items {
		k := it["user_id"].(*types.AttributeValueMemberS).Value
		if o, ok := it["order_id"]; ok {
			k += "/" + o.(*types.AttributeValueMemberS).Value
		}
		left = append(left, k)
	}
	slices.Sort(left)
	return left
}

// fakeJournal keeps steps in memory, by key, as the workflow's journal does.
type fakeJournal struct {
	mu    sync.Mutex
	steps map[string]erasure.Entry
}

func (j *fakeJournal) put(done bool, steps []erasure.Step) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.steps == nil {
		j.steps = map[string]erasure.Entry{}
	}
	for _, s := range steps {
		j.steps[s.Key+"@"+s.Version+"@"+s.Before] = erasure.Entry{Step: s, Done: done}
	}
}

func (j *fakeJournal) Begin(_ context.Context, steps ...erasure.Step) error {
	j.put(false, steps)
	return nil
}

func (j *fakeJournal) Done(_ context.Context, steps ...erasure.Step) error {
	j.put(true, steps)
	return nil
}

func (j *fakeJournal) Drop(_ context.Context, steps ...erasure.Step) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, s := range steps {
		delete(j.steps, s.Key+"@"+s.Version+"@"+s.Before)
	}
	return nil
}

func (j *fakeJournal) entries() []erasure.Entry {
	var out []erasure.Entry
	for _, k := range slices.Sorted(maps.Keys(j.steps)) {
		out = append(out, j.steps[k])
	}
	return out
}

func (j *fakeJournal) pending() []erasure.Step {
	var out []erasure.Step
	for _, e := range j.entries() {
		if !e.Done {
			out = append(out, e.Step)
		}
	}
	return out
}

// A delete that fails part-way leaves the deletes made marked done, and a
// retry counts only the rest: every deletion is counted once.
func TestEraseFailingPartWay(t *testing.T) {
	ctx := context.Background()
	f := ordersTable(map[string]int{"u-1": 40, "u-2": 1})
	throttled := &types.ProvisionedThroughputExceededException{Message: aws.String("slow down")}
	f.beforeDelete = func(key map[string]types.AttributeValue) error {
		if key["order_id"].(*types.AttributeValueMemberS).Value == "o-031" {
			return throttled
		}
		return nil
	}
	a := newAdapter(f)
	j := &fakeJournal{}
	ids := map[string][]string{"user_id": {"u-1"}}
	if _, err := a.Erase(ctx, ordersSource, ids, false, j); !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("err = %v, want Unavailable", err)
	}
	first := erasure.Counted(j.entries()).Deleted
	if left := len(leftKeys(f)) - 1; first != 40-left || first < 25 {
		t.Fatalf("journal counts %d deleted; %d of the subject's 40 items are left", first, left)
	}
	// The failed delete was begun and not made: the retry finds it so.
	for _, s := range j.pending() {
		if made, err := a.Applied(ctx, ordersSource, nil, s); err != nil || made {
			t.Fatalf("Applied(%s) = %v, %v", s.Key, made, err)
		}
	}
	f.beforeDelete = nil
	res, err := a.Erase(ctx, ordersSource, ids, false, j)
	if err != nil {
		t.Fatal(err)
	}
	if got := erasure.Counted(j.entries()); got.Deleted != 40 || res.Deleted != 40-first || !slices.Equal(leftKeys(f), []string{"u-2/o-000"}) {
		t.Fatalf("journal %+v, second attempt %+v, left %v", got, res, leftKeys(f))
	}
}

// A step begun and made, but not marked done (the invocation timed out in
// between), is found made: the item is gone.
func TestAppliedAfterATimeout(t *testing.T) {
	ctx := context.Background()
	f := usersTable()
	a := newAdapter(f)
	step := erasure.Step{Key: `{"user_id":"u-1"}`, Action: erasure.ActionDeleted, Records: 1}
	if made, err := a.Applied(ctx, usersSource, nil, step); err != nil || made {
		t.Fatalf("before: %v %v", made, err)
	}
	f.items = f.items[1:] // u-1, deleted
	if made, err := a.Applied(ctx, usersSource, nil, step); err != nil || !made {
		t.Fatalf("after: %v %v", made, err)
	}
	// Anonymized: made when none of the listed attributes is left.
	r := reviewsTable()
	anon := erasure.Step{Key: `{"review_id":"r-1"}`, Action: erasure.ActionAnonymized, Records: 1}
	if made, _ := newAdapter(r).Applied(ctx, reviewsSource, nil, anon); made {
		t.Fatal("an item that still has the fields counts as anonymized")
	}
	delete(r.items[0], "email")
	delete(r.items[0], "author_name")
	if made, _ := newAdapter(r).Applied(ctx, reviewsSource, nil, anon); !made {
		t.Fatal("an anonymized item does not count")
	}
}

// An item found through an index that changes hands before its delete is
// left alone and not counted; one that is still the subject's under another
// of her values is deleted.
func TestDeleteIsConditional(t *testing.T) {
	f := usersTable()
	f.beforeDelete = func(key map[string]types.AttributeValue) error {
		if key["user_id"].(*types.AttributeValueMemberS).Value == "u-3" {
			f.find(key)["email"] = str("new.owner@example.com") // reassigned meanwhile
		}
		return nil
	}
	j := &fakeJournal{}
	res, err := newAdapter(f).Erase(context.Background(), usersSource, map[string][]string{"email": {"ada@example.com"}}, false, j)
	if err != nil {
		t.Fatal(err)
	}
	if res.Deleted != 2 || !slices.Equal(leftKeys(f), []string{"u-2", "u-3", "u-4"}) || erasure.Counted(j.entries()).Deleted != 2 || len(j.pending()) != 0 {
		t.Fatalf("result %+v, left %v, journal %+v", res, leftKeys(f), j.entries())
	}
}

// A conditional delete or update whose answer is lost (a timeout after
// DynamoDB made it) is retried by the SDK, and the retry's condition fails
// on the item as the first attempt left it: gone, or without the
// attributes anonymized. The change was made, and it is counted once.
func TestLostAnswersAreCounted(t *testing.T) {
	ctx := context.Background()
	f := usersTable()
	f.lostAnswers = true
	j := &fakeJournal{}
	res, err := newAdapter(f).Erase(ctx, usersSource, map[string][]string{"email": {"ada@example.com"}}, false, j)
	if err != nil {
		t.Fatal(err)
	}
	if got := erasure.Counted(j.entries()); res.Deleted != 3 || got.Deleted != 3 || len(j.pending()) != 0 || !slices.Equal(leftKeys(f), []string{"u-2", "u-4"}) {
		t.Fatalf("deleted: result %d, journal %d (%d pending), left %v; want 3, 3 (0), [u-2 u-4]", res.Deleted, got.Deleted, len(j.pending()), leftKeys(f))
	}

	r := reviewsTable()
	r.lostAnswers = true
	j = &fakeJournal{}
	res, err = newAdapter(r).Erase(ctx, reviewsSource, map[string][]string{"email": {"ada@example.com"}}, false, j)
	if err != nil {
		t.Fatal(err)
	}
	if got := erasure.Counted(j.entries()); res.Anonymized != 2 || got.Anonymized != 2 || len(j.pending()) != 0 {
		t.Fatalf("anonymized: result %d, journal %d (%d pending); want 2, 2 (0)", res.Anonymized, got.Anonymized, len(j.pending()))
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
	res, err := newAdapter(f).Erase(context.Background(), ordersSource, ids, false, nil)
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
			res, err := newAdapter(f).Erase(context.Background(), reviewsSource, ada, tc.dryRun, nil)
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
	_, err := newAdapter(reviewsTable()).Erase(context.Background(), &src, map[string][]string{"email": {"ada@example.com"}}, false, nil)
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
	_, err := newAdapter(f).Erase(context.Background(), reviewsSource, map[string][]string{"email": {"ada@example.com"}}, false, nil)
	if !apperr.Is(err, apperr.Unavailable) || n != maxConflicts {
		t.Fatalf("err = %v after %d updates, want Unavailable after %d", err, n, maxConflicts)
	}
}
