package dynsrc

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/privacy-pipeline/dsr/internal/apperr"
)

func TestCorrect(t *testing.T) {
	ada := map[string][]string{"email": {"ada@example.com"}}
	tests := []struct {
		name         string
		values       map[string]string
		concurrently func(f *fakeDynamo) // a writer between the read and the update
		wantItems    int
		wantErr      apperr.Kind
		check        func(t *testing.T, f *fakeDynamo)
	}{
		{name: "sets the values on each of the subject's items", values: map[string]string{"plan": "pro", "name": "Ada Lovelace"}, wantItems: 3,
			check: func(t *testing.T, f *fakeDynamo) {
				for _, it := range f.items {
					mine := it["email"].(*types.AttributeValueMemberS).Value == "ada@example.com"
					plan := it["plan"].(*types.AttributeValueMemberS).Value
					_, named := it["name"]
					if mine != (plan == "pro") || mine != named {
						t.Errorf("item %v: plan %s, name set %v", it["user_id"], plan, named)
					}
				}
			}},
		{name: "a concurrent write to a corrected attribute is read again, not lost", values: map[string]string{"plan": "pro"}, wantItems: 3,
			concurrently: func(f *fakeDynamo) {
				f.items[0]["plan"] = str("team") // someone upgrades u-1 meanwhile
				f.items[0]["seats"] = str("5")
			},
			check: func(t *testing.T, f *fakeDynamo) {
				it := f.items[0]
				if it["plan"].(*types.AttributeValueMemberS).Value != "pro" || it["seats"] == nil {
					t.Errorf("u-1 after the race: %v", it)
				}
				if len(f.updates) != 4 {
					t.Errorf("%d updates, want 4 (one retried)", len(f.updates))
				}
			}},
		{name: "an item that changed hands meanwhile is left alone", values: map[string]string{"plan": "pro"}, wantItems: 2,
			concurrently: func(f *fakeDynamo) { f.items[0]["email"] = str("new.owner@example.com") },
			check: func(t *testing.T, f *fakeDynamo) {
				if f.items[0]["plan"].(*types.AttributeValueMemberS).Value != "free" {
					t.Errorf("another person's item was corrected: %v", f.items[0])
				}
			}},
		{name: "a key attribute is refused", values: map[string]string{"user_id": "u-9"}, wantErr: apperr.Invalid},
		{name: "the lookup attribute is refused", values: map[string]string{"email": "eve@example.com"}, wantErr: apperr.Invalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := usersTable()
			if tc.concurrently != nil {
				f.beforeUpdate = func() { f.beforeUpdate = nil; tc.concurrently(f) }
			}
			n, err := newAdapter(f).Correct(context.Background(), usersSource, ada, tc.values)
			if tc.wantErr != 0 {
				if !apperr.Is(err, tc.wantErr) || len(f.updates) != 0 {
					t.Fatalf("err = %v, %d updates; want %v and none", err, len(f.updates), tc.wantErr)
				}
				return
			}
			if err != nil || n != tc.wantItems {
				t.Fatalf("corrected %d, %v; want %d", n, err, tc.wantItems)
			}
			for _, u := range f.updates {
				if !strings.Contains(*u.ConditionExpression, "#subject = :subject") {
					t.Errorf("an update is not conditional on the subject: %s", *u.ConditionExpression)
				}
			}
			tc.check(t, f)
		})
	}
}

// TestCorrectGivesUpOnAnItemThatKeepsChanging: a writer that changes the
// item before every update makes the correction fail as unavailable
// (retried later by the workflow), not loop forever.
func TestCorrectGivesUpOnAnItemThatKeepsChanging(t *testing.T) {
	f := usersTable()
	n := 0
	var again func()
	again = func() {
		n++
		f.items[0]["plan"] = str(strings.Repeat("x", n))
		f.beforeUpdate = again
	}
	f.beforeUpdate = again
	_, err := newAdapter(f).Correct(context.Background(), usersSource, map[string][]string{"email": {"ada@example.com"}}, map[string]string{"plan": "pro"})
	if !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("err = %v, want Unavailable", err)
	}
}
