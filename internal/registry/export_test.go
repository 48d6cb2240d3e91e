package registry

import (
	"reflect"
	"strings"
	"testing"
)

func TestExported(t *testing.T) {
	records := []map[string]any{
		{"user_id": "u-1", "theme": "dark", "schema_version": 3},
		{"user_id": "u-1", "schema_version": 3},
	}
	tests := []struct {
		name   string
		export []string
		want   []map[string]any
	}{
		{"everything by default", nil, records},
		{"only the listed attributes", []string{"user_id", "theme"}, []map[string]any{
			{"user_id": "u-1", "theme": "dark"},
			{"user_id": "u-1"},
		}},
		{"none the record has", []string{"locale"}, []map[string]any{{}, {}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &Source{Export: tt.export}
			if got := src.Exported(records); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Exported() = %v, want %v", got, tt.want)
			}
			if len(records[0]) != 3 {
				t.Fatal("Exported changed the records it was given")
			}
		})
	}
}

func TestParseExportErrors(t *testing.T) {
	tests := []struct {
		name, export, want string
	}{
		{"empty name", `[theme, ""]`, `line 16: $.sources[1].export[1]: name the attribute`},
		{"twice", `[theme, theme]`, `line 16: $.sources[1].export[1]: attribute "theme" is listed twice`},
		{"not a list", `theme`, `export`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			y := strings.Replace(valid, "identity: user_id}\n    erasure: delete\n", "identity: user_id}\n    erasure: delete\n    export: "+tt.export+"\n", 1)
			_, err := Parse([]byte(y))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestParseLookups(t *testing.T) {
	orders := "dynamodb: {table: demo-orders, partition_key: user_id, identity: user_id}"
	tests := []struct {
		name, dynamodb string
		getItem        bool
		sortKey        *SortKey
	}{
		{"query by default", orders, false, nil},
		{"query", "dynamodb: {table: t, lookup: query, partition_key: user_id, identity: user_id}", false, nil},
		{"query with a sort key prefix", "dynamodb: {table: t, partition_key: pk, identity: user_id, sort_key: {attribute: sk, begins_with: 'ORDER#'}}",
			false, &SortKey{Attribute: "sk", BeginsWith: "ORDER#"}},
		{"get_item on a hash key", "dynamodb: {table: t, lookup: get_item, partition_key: user_id, identity: user_id}", true, nil},
		{"a key written around the identity", "dynamodb: {table: t, partition_key: pk, partition_value: 'USER#{user_id}', identity: user_id}", false, nil},
		{"get_item on a full key", "dynamodb: {table: t, lookup: get_item, partition_key: user_id, identity: user_id, sort_key: {attribute: kind, value: preferences}}",
			true, &SortKey{Attribute: "kind", Value: "preferences"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Parse([]byte(strings.Replace(valid, orders, tt.dynamodb, 1)))
			if err != nil {
				t.Fatal(err)
			}
			d := r.Source("orders").DynamoDB
			if d.GetItem() != tt.getItem || !reflect.DeepEqual(d.SortKey, tt.sortKey) {
				t.Fatalf("GetItem() %v, sort key %+v; want %v, %+v", d.GetItem(), d.SortKey, tt.getItem, tt.sortKey)
			}
		})
	}
}

func TestParseLookupErrors(t *testing.T) {
	orders := "dynamodb: {table: demo-orders, partition_key: user_id, identity: user_id}"
	tests := []struct {
		name, dynamodb, want string
	}{
		{"unknown lookup", "dynamodb: {table: t, lookup: scan, partition_key: user_id, identity: user_id}",
			`line 14: $.sources[1].dynamodb.lookup: lookup "scan" is not supported; use query or get_item`},
		{"get_item on an index", "dynamodb: {table: t, lookup: get_item, index: by-user, partition_key: user_id, identity: user_id}",
			`$.sources[1].dynamodb.index: get_item reads the table by its primary key`},
		{"get_item with a prefix", "dynamodb: {table: t, lookup: get_item, partition_key: user_id, identity: user_id, sort_key: {attribute: sk, begins_with: 'A'}}",
			`$.sources[1].dynamodb.sort_key.begins_with: get_item needs the sort key's whole value`},
		{"sort key without a condition", "dynamodb: {table: t, partition_key: user_id, identity: user_id, sort_key: {attribute: sk}}",
			`$.sources[1].dynamodb.sort_key: give either value or begins_with`},
		{"sort key with both", "dynamodb: {table: t, partition_key: user_id, identity: user_id, sort_key: {attribute: sk, value: a, begins_with: b}}",
			`give either value or begins_with`},
		{"sort key unnamed", "dynamodb: {table: t, partition_key: user_id, identity: user_id, sort_key: {value: a}}",
			`$.sources[1].dynamodb.sort_key.attribute: name the sort key attribute`},
		{"sort key is the partition key", "dynamodb: {table: t, partition_key: user_id, identity: user_id, sort_key: {attribute: user_id, value: a}}",
			`the sort key cannot be the partition key "user_id"`},
		{"partition_value without the identity", "dynamodb: {table: t, partition_key: pk, partition_value: 'USER#{email}', identity: user_id}",
			`$.sources[1].dynamodb.partition_value: partition_value "USER#{email}" must hold the placeholder {user_id} once`},
		{"partition_value with two placeholders", "dynamodb: {table: t, partition_key: pk, partition_value: '{user_id}#{user_id}', identity: user_id}",
			`must hold the placeholder {user_id} once`},
		{"partition_value with stray braces", "dynamodb: {table: t, partition_key: pk, partition_value: 'USER#{user_id}}', identity: user_id}",
			`and no other braces`},
		{"partition_value that is the identity", "dynamodb: {table: t, partition_key: pk, partition_value: '{user_id}', identity: user_id}",
			`is the identity alone; leave it out`},
		{"an identity read from a key with fixed text", "dynamodb: {table: t, partition_key: pk, partition_value: 'USER#{user_id}', identity: user_id}\n    provides: {user_id: pk}",
			`$.sources[1].provides.user_id: the partition key holds USER#{user_id}, fixed text and all`},
		{"unknown sort key field", "dynamodb: {table: t, partition_key: user_id, identity: user_id, sort_key: {attribute: sk, prefix: a}}",
			`unknown field "prefix"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(strings.Replace(valid, orders, tt.dynamodb, 1)))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestKeyValue(t *testing.T) {
	tests := []struct {
		template, identity, want string
	}{
		{"", "u-1", "u-1"},
		{"USER#{user_id}", "u-1", "USER#u-1"},
		{"{user_id}#PROFILE", "u-1", "u-1#PROFILE"},
		{"USER#{user_id}", "{user_id}", "USER#{user_id}"}, // a value is inserted, never read as a template
	}
	for _, tt := range tests {
		d := &DynamoDBSource{PartitionKey: "pk", PartitionValue: tt.template, Identity: "user_id"}
		if got := d.KeyValue(tt.identity); got != tt.want {
			t.Errorf("KeyValue(%q) with %q = %q, want %q", tt.identity, tt.template, got, tt.want)
		}
	}
}
