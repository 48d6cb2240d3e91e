package dynsrc

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/registry"
)

func num(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }

// singleTable holds, per customer, a profile item, preferences and orders
// under one partition key, told apart by the sort key.
func singleTable() *fakeDynamo {
	f := &fakeDynamo{table: "app", keys: []string{"pk", "sk"}, pageSize: 2}
	for _, u := range []string{"u-1", "u-2"} {
		for _, sk := range []string{"PROFILE", "PREFERENCES", "ORDER#001", "ORDER#002", "ORDER#003"} {
			f.items = append(f.items, map[string]types.AttributeValue{"pk": str(u), "sk": str(sk), "note": str(u + " " + sk)})
		}
	}
	return f
}

// prefixedTable writes its keys as single-table designs do: USER#<id>.
func prefixedTable() *fakeDynamo {
	f := singleTable()
	for _, it := range f.items {
		it["pk"] = str("USER#" + it["pk"].(*types.AttributeValueMemberS).Value)
	}
	f.items = append(f.items, map[string]types.AttributeValue{"pk": str("u-1"), "sk": str("PROFILE"), "note": str("a key without the prefix")})
	return f
}

// accounts: a numeric partition key, as many tables key customers.
func accountsTable() *fakeDynamo {
	f := &fakeDynamo{table: "accounts", keys: []string{"account_no"}, numbers: []string{"account_no"}}
	for _, n := range []string{"42", "43", "1000"} {
		f.items = append(f.items, map[string]types.AttributeValue{"account_no": num(n), "holder": str("holder of " + n)})
	}
	return f
}

func dynamoSource(d registry.DynamoDBSource) *registry.Source {
	return &registry.Source{ID: "s", Erasure: registry.EraseDelete, DynamoDB: &d}
}

func TestFindLookups(t *testing.T) {
	tests := []struct {
		name          string
		fake          func() *fakeDynamo
		src           registry.DynamoDBSource
		ids           []string
		wantAttr      string
		want          []string
		queries, gets int
	}{
		{
			name: "get_item on a full key reads one item", fake: singleTable,
			src: registry.DynamoDBSource{Table: "app", Lookup: registry.LookupGetItem, PartitionKey: "pk", Identity: "user_id",
				SortKey: &registry.SortKey{Attribute: "sk", Value: "PREFERENCES"}},
			ids: []string{"u-1"}, wantAttr: "note", want: []string{"u-1 PREFERENCES"}, gets: 1,
		},
		{
			name: "get_item, one read per value, missing items are no error", fake: singleTable,
			src: registry.DynamoDBSource{Table: "app", Lookup: registry.LookupGetItem, PartitionKey: "pk", Identity: "user_id",
				SortKey: &registry.SortKey{Attribute: "sk", Value: "PROFILE"}},
			ids: []string{"u-2", "u-9", "u-1"}, wantAttr: "note", want: []string{"u-2 PROFILE", "u-1 PROFILE"}, gets: 3,
		},
		{
			name: "get_item on a hash key", fake: usersTable,
			src: registry.DynamoDBSource{Table: "demo-users", Lookup: registry.LookupGetItem, PartitionKey: "user_id", Identity: "user_id"},
			ids: []string{"u-3"}, wantAttr: "email", want: []string{"ada@example.com"}, gets: 1,
		},
		{
			name: "query with a sort key prefix, across pages", fake: singleTable,
			src: registry.DynamoDBSource{Table: "app", PartitionKey: "pk", Identity: "user_id",
				SortKey: &registry.SortKey{Attribute: "sk", BeginsWith: "ORDER#"}},
			ids: []string{"u-2"}, wantAttr: "note", want: []string{"u-2 ORDER#001", "u-2 ORDER#002", "u-2 ORDER#003"}, queries: 2,
		},
		{
			name: "query with a sort key value", fake: singleTable,
			src: registry.DynamoDBSource{Table: "app", PartitionKey: "pk", Identity: "user_id",
				SortKey: &registry.SortKey{Attribute: "sk", Value: "PROFILE"}},
			ids: []string{"u-1"}, wantAttr: "note", want: []string{"u-1 PROFILE"}, queries: 1,
		},
		{
			name: "a query on a key written around the identity", fake: prefixedTable,
			src: registry.DynamoDBSource{Table: "app", PartitionKey: "pk", PartitionValue: "USER#{user_id}", Identity: "user_id",
				SortKey: &registry.SortKey{Attribute: "sk", BeginsWith: "ORDER#"}},
			ids: []string{"u-1"}, wantAttr: "note", want: []string{"u-1 ORDER#001", "u-1 ORDER#002", "u-1 ORDER#003"}, queries: 2,
		},
		{
			name: "get_item on a key written around the identity", fake: prefixedTable,
			src: registry.DynamoDBSource{Table: "app", Lookup: registry.LookupGetItem, PartitionKey: "pk", PartitionValue: "USER#{user_id}", Identity: "user_id",
				SortKey: &registry.SortKey{Attribute: "sk", Value: "PROFILE"}},
			ids: []string{"u-1"}, wantAttr: "note", want: []string{"u-1 PROFILE"}, gets: 1,
		},
		{
			name: "a number key is asked with a number", fake: accountsTable,
			src: registry.DynamoDBSource{Table: "accounts", PartitionKey: "account_no", Identity: "account_no"},
			ids: []string{"42"}, wantAttr: "holder", want: []string{"holder of 42"}, queries: 1,
		},
		{
			name: "a value that is no number is not asked for", fake: accountsTable,
			src: registry.DynamoDBSource{Table: "accounts", Lookup: registry.LookupGetItem, PartitionKey: "account_no", Identity: "account_no"},
			ids: []string{"ada@example.com", "1e9999", "1000"}, wantAttr: "holder", want: []string{"holder of 1000"}, gets: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.fake()
			records, _, err := newAdapter(f).Find(context.Background(), dynamoSource(tc.src), map[string][]string{tc.src.Identity: tc.ids})
			if err != nil {
				t.Fatal(err)
			}
			if got := attrOf(records, tc.wantAttr); !slices.Equal(got, tc.want) {
				t.Errorf("found %v, want %v", got, tc.want)
			}
			if len(f.queries) != tc.queries || len(f.gets) != tc.gets {
				t.Errorf("%d queries and %d gets, want %d and %d", len(f.queries), len(f.gets), tc.queries, tc.gets)
			}
		})
	}
}

// TestLookupFitsTheKeySchema: a registry whose lookup DynamoDB would refuse
// fails as a mistake to mend (Invalid), before any read, not as an outage.
func TestLookupFitsTheKeySchema(t *testing.T) {
	tests := []struct {
		name string
		fake func() *fakeDynamo
		src  registry.DynamoDBSource
	}{
		{"the table has a sort key the source leaves out", singleTable,
			registry.DynamoDBSource{Table: "app", Lookup: registry.LookupGetItem, PartitionKey: "pk", Identity: "user_id"}},
		{"the source names a sort key the table lacks", usersTable,
			registry.DynamoDBSource{Table: "demo-users", Lookup: registry.LookupGetItem, PartitionKey: "user_id", Identity: "user_id",
				SortKey: &registry.SortKey{Attribute: "sk", Value: "x"}}},
		{"the partition key is another attribute", usersTable,
			registry.DynamoDBSource{Table: "demo-users", Lookup: registry.LookupGetItem, PartitionKey: "email", Identity: "email"}},
		{"a query on an attribute that is no partition key", usersTable,
			registry.DynamoDBSource{Table: "demo-users", PartitionKey: "email", Identity: "email"}},
		{"a query on an index the table lacks", usersTable,
			registry.DynamoDBSource{Table: "demo-users", Index: "phone-index", PartitionKey: "phone", Identity: "email"}},
		{"a sort key on a table without one", usersTable,
			registry.DynamoDBSource{Table: "demo-users", PartitionKey: "user_id", Identity: "user_id", SortKey: &registry.SortKey{Attribute: "sk", BeginsWith: "A"}}},
		{"a sort key that is another attribute", singleTable,
			registry.DynamoDBSource{Table: "app", PartitionKey: "pk", Identity: "user_id", SortKey: &registry.SortKey{Attribute: "note", BeginsWith: "A"}}},
		{"text around the identity in a number key", accountsTable,
			registry.DynamoDBSource{Table: "accounts", PartitionKey: "account_no", PartitionValue: "1{account_no}", Identity: "account_no"}},
		{"begins_with on a number sort key", func() *fakeDynamo { f := singleTable(); f.numbers = []string{"sk"}; return f },
			registry.DynamoDBSource{Table: "app", PartitionKey: "pk", Identity: "user_id", SortKey: &registry.SortKey{Attribute: "sk", BeginsWith: "1"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.fake()
			ids := map[string][]string{tc.src.Identity: {"u-1"}}
			_, _, err := newAdapter(f).Find(context.Background(), dynamoSource(tc.src), ids)
			if apperr.KindOf(err) != apperr.Invalid {
				t.Fatalf("Find: %v, want an Invalid error", err)
			}
			if _, err := newAdapter(f).Erase(context.Background(), dynamoSource(tc.src), ids, false, nil); apperr.KindOf(err) != apperr.Invalid {
				t.Fatalf("Erase: %v, want an Invalid error", err)
			}
			if len(f.gets) != 0 || len(f.queries) != 0 {
				t.Fatal("read the table with a key that does not fit it")
			}
		})
	}
}

func TestEraseByGetItem(t *testing.T) {
	f := singleTable()
	src := dynamoSource(registry.DynamoDBSource{Table: "app", Lookup: registry.LookupGetItem, PartitionKey: "pk", Identity: "user_id",
		SortKey: &registry.SortKey{Attribute: "sk", Value: "PREFERENCES"}})
	res, err := newAdapter(f).Erase(context.Background(), src, map[string][]string{"user_id": {"u-1"}}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Deleted != 1 || len(res.Touched) != 1 || res.Touched[0].Key != `{"pk":"u-1","sk":"PREFERENCES"}` {
		t.Fatalf("result %+v", res)
	}
	if len(f.items) != 9 || f.find(map[string]types.AttributeValue{"pk": str("u-1"), "sk": str("PREFERENCES")}) != nil {
		t.Fatalf("%d items left, or the preferences are still there", len(f.items))
	}
}

// Anonymizing on a key written around the identity: the item read again
// is checked against the written key, not the bare value.
func TestAnonymizeByPrefixedKey(t *testing.T) {
	f := &fakeDynamo{table: "app", keys: []string{"id"}, indexes: map[string]string{"by-owner": "owner"}}
	f.items = []map[string]types.AttributeValue{
		{"id": str("1"), "owner": str("USER#u-1"), "nickname": str("ada")},
		{"id": str("2"), "owner": str("USER#u-2"), "nickname": str("bob")},
	}
	src := dynamoSource(registry.DynamoDBSource{Table: "app", Index: "by-owner", PartitionKey: "owner", PartitionValue: "USER#{user_id}", Identity: "user_id"})
	src.Erasure, src.Anonymize = registry.EraseAnonymize, []string{"owner", "nickname"}
	res, err := newAdapter(f).Erase(context.Background(), src, map[string][]string{"user_id": {"u-1"}}, false, nil)
	if err != nil || res.Anonymized != 1 {
		t.Fatalf("result %+v, %v", res, err)
	}
	if it := f.find(map[string]types.AttributeValue{"id": str("1")}); it["owner"] != nil || it["nickname"] != nil {
		t.Fatalf("item %v, want it without owner and nickname", it)
	}
	if it := f.find(map[string]types.AttributeValue{"id": str("2")}); it["owner"] == nil {
		t.Fatal("someone else's item was anonymized")
	}
}

func TestAnonymizeByNumberKey(t *testing.T) {
	f := accountsTable()
	src := dynamoSource(registry.DynamoDBSource{Table: "accounts", Lookup: registry.LookupGetItem, PartitionKey: "account_no", Identity: "account_no"})
	src.Erasure, src.Anonymize = registry.EraseAnonymize, []string{"holder"}
	// 42.0 is the number 42: DynamoDB finds the item, and the re-read
	// item still holds the subject's value.
	res, err := newAdapter(f).Erase(context.Background(), src, map[string][]string{"account_no": {"42.0"}}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Anonymized != 1 {
		t.Fatalf("result %+v", res)
	}
	if it := f.find(map[string]types.AttributeValue{"account_no": num("42")}); it == nil || it["holder"] != nil {
		t.Fatalf("item %v, want it without holder", it)
	}
}

func TestSameNumber(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"42", "42", true},
		{"42", "42.0", true},
		{"4.2e1", "42", true},
		{"-0.5", "-.5", true},
		{"42", "43", false},
		{"42", "abc", false},
		{"1e9999", "1e9999", false}, // no number DynamoDB stores; never handed to big.Rat
		{"1e126", "1e126", false},   // beyond DynamoDB's range
		{"1e-131", "1e-131", false},
		{"9.9e125", "99e124", true},
		{"0", "-0.0", true},
		{"123456789012345678901234567890123456789", "123456789012345678901234567890123456789", false}, // 39 digits
		{"12345678901234567890123456789012345678", "12345678901234567890123456789012345678", true},    // 38
		{"1000000000000000000000000000000000000000000", "1e42", true},                                 // trailing zeros are not precision
	}
	for _, tt := range tests {
		if got := sameNumber(tt.a, tt.b); got != tt.want {
			t.Errorf("sameNumber(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
