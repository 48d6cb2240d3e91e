package dynsrc

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// scanOf scans the fake's items, projecting the one attribute asked for.
type scanOf struct{ f *fakeDynamo }

func (s scanOf) Scan(_ context.Context, in *dynamodb.ScanInput, _ ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	attr := in.ExpressionAttributeNames["#a"]
	var out []map[string]types.AttributeValue
	for _, it := range s.f.items {
		if v, ok := it[attr]; ok {
			out = append(out, map[string]types.AttributeValue{attr: v})
		} else {
			out = append(out, map[string]types.AttributeValue{})
		}
	}
	return &dynamodb.ScanOutput{Items: out}, nil
}

// TestSample: a sample of the table says which items a lookup by index
// would miss: an address in capitals or with spaces (lookups are exact), an
// attribute of another type than the index's key (not in the index).
func TestSample(t *testing.T) {
	f := usersTable()
	a := newAdapter(f)
	if w, err := a.Sample(context.Background(), scanOf{f}, usersSource); err != nil || len(w) != 0 {
		t.Fatalf("clean table: %q, %v", w, err)
	}
	f.items[0]["email"] = str("Ada@Example.com")
	f.items[1]["email"] = str(" bob@example.com")
	f.items[2]["email"] = &types.AttributeValueMemberN{Value: "42"}
	w, err := a.Sample(context.Background(), scanOf{f}, usersSource)
	if err != nil || len(w) != 2 {
		t.Fatalf("warnings %q, %v", w, err)
	}
	if !strings.Contains(w[0], "1 of 5 sampled items hold email as another type than index email-index keys it by") ||
		!strings.Contains(w[1], "2 of 5 sampled items hold email as an address with capital letters or spaces") {
		t.Fatalf("warnings %q", w)
	}
	for _, s := range w {
		if strings.Contains(s, "Ada@") || strings.Contains(s, "bob@") || strings.Contains(s, "42") {
			t.Fatalf("a warning shows a value: %q", s)
		}
	}
}
