package accounts

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/erasure"
	"github.com/privacy-pipeline/dsr/internal/registry"
)

const reg = `
identities: [email, user_id]
sources:
  - id: users
    dynamodb: {table: users, index: email-index, partition_key: email, identity: email}
    provides: {user_id: user_id}
    account: true
    data_points: {name: full_name, phone: tel, postal_code: zip}
    erasure: delete
    categories: [identifiers]
    purposes: [Provide the service.]
    recipients: []
    retention: {period: 2 years}
`

type fakeFinder struct {
	recs  []map[string]any
	err   error
	asked []map[string][]string
}

func (f *fakeFinder) Find(_ context.Context, src *registry.Source, ids map[string][]string) ([]map[string]any, []erasure.Finding, error) {
	f.asked = append(f.asked, ids)
	return f.recs, nil, f.err
}

func TestDataPoints(t *testing.T) {
	r, err := registry.Parse([]byte(reg))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		recs []map[string]any
		want map[string]string
	}{
		{"an account", []map[string]any{{"full_name": "Ana Lima", "tel": "+1 213 555 0199", "zip": json.Number("90012"), "plan": "pro"}},
			map[string]string{"name": "Ana Lima", "phone": "+1 213 555 0199", "postal_code": "90012"}},
		{"no account", nil, map[string]string{}},
		{"a value that is not text", []map[string]any{{"full_name": []any{"x"}, "tel": "1"}}, map[string]string{"phone": "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeFinder{recs: tt.recs}
			a := New(r, f)
			got, err := a.DataPoints(context.Background(), "ana@example.org")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			if want := []map[string][]string{{"email": {"ana@example.org"}}}; !reflect.DeepEqual(f.asked, want) {
				t.Fatalf("asked %v, want one query by the address", f.asked)
			}
		})
	}
	down := errors.New("throttled")
	if _, err := New(r, &fakeFinder{err: down}).DataPoints(context.Background(), "a@b.co"); !errors.Is(err, down) {
		t.Fatalf("error %v", err)
	}
	if got := len(New(r, nil).Kinds()); got != 3 {
		t.Fatalf("%d kinds", got)
	}
}

func TestNoAccountSource(t *testing.T) {
	r, err := registry.Parse([]byte(`
identities: [email]
sources:
  - id: tickets
    dynamodb: {table: tickets, partition_key: email, identity: email}
    erasure: delete
    categories: [identifiers]
    purposes: [Support.]
    recipients: []
    retention: {period: 1 year}
`))
	if err != nil {
		t.Fatal(err)
	}
	if New(r, &fakeFinder{}) != nil {
		t.Fatal("an account reader without an account source")
	}
}
