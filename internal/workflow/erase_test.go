package workflow

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/erasure"
	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// modesRegistry has a source of each erasure mode.
const modesRegistry = `
identities: [email, user_id]
sources:
  - id: users
    description: User profiles
    dynamodb: {table: users, index: email-index, partition_key: email, identity: email}
    provides: {user_id: user_id}
    erasure: delete
    categories: [identifiers]
    purposes: [Provide the account.]
    recipients: []
    retention: {criteria: until the account is closed}
  - id: ledger
    description: Invoices
    dynamodb: {table: ledger, partition_key: user_id, identity: user_id}
    erasure: retain
    retain: {reason: Tax audits need them., citation: AO § 147(3), period: P10Y, after: issued_on}
    categories: [commercial]
    purposes: [Keep accounting records.]
    recipients: []
    retention: {period: 10 years}
  - id: reviews
    description: Product reviews
    dynamodb: {table: reviews, index: email-index, partition_key: email, identity: email}
    erasure: anonymize
    anonymize: [email, name]
    categories: [identifiers]
    purposes: [Show reviews.]
    recipients: []
    retention: {criteria: while the product is sold}
`

func newModesEnv(t *testing.T) (*env, request.Request) {
	t.Helper()
	e := newEnv(t)
	reg, err := registry.Parse([]byte(modesRegistry))
	if err != nil {
		t.Fatal(err)
	}
	e.steps.Registry = reg
	e.adapter.data = map[string]map[string][]map[string]any{
		"users": {subject: {{"user_id": "u-1", "email": subject}}},
		"ledger": {"u-1": {{"invoice": "i-1", "issued_on": "2024-03-01"}, {"invoice": "i-2", "issued_on": "2025-01-31T10:00:00Z"}},
			"u-2": {{"invoice": "i-3", "issued_on": "2026-01-01"}}},
		"reviews": {subject: {{"email": subject, "name": "Ada", "rating": 5, "text": "Good."}}, "b@example.com": {{"email": "b@example.com"}}},
	}
	r := e.seed(t, request.Delete, request.InProgress, func(r *request.Request) {
		r.Identities = map[string][]string{"email": {subject}, "user_id": {"u-1"}}
	})
	return e, r
}

func TestEraseSourceModes(t *testing.T) {
	tests := []struct {
		source string
		want   erasure.Outcome
		check  func(t *testing.T, e *env)
	}{
		{"users", erasure.Outcome{SourceID: "users", Description: "User profiles", Kind: "dynamodb", Mode: "delete", Records: 1, Deleted: 1},
			func(t *testing.T, e *env) {
				if len(e.adapter.data["users"]) != 0 {
					t.Error("the user was not deleted")
				}
			}},
		{"ledger", erasure.Outcome{SourceID: "ledger", Description: "Invoices", Kind: "dynamodb", Mode: "retain", Records: 2, Retained: 2,
			Retention: &erasure.Retention{Reason: "Tax audits need them.", Citation: "AO § 147(3)", Until: "2035-01-31"}},
			func(t *testing.T, e *env) {
				if len(e.adapter.data["ledger"]["u-1"]) != 2 || len(e.adapter.data["ledger"]["u-2"]) != 1 {
					t.Error("retained records were changed")
				}
			}},
		{"reviews", erasure.Outcome{SourceID: "reviews", Description: "Product reviews", Kind: "dynamodb", Mode: "anonymize", Records: 1, Anonymized: 1,
			Fields: []string{"email", "name"}},
			func(t *testing.T, e *env) {
				kept := e.adapter.data["reviews"]["anonymized"]
				if len(kept) != 1 || kept[0]["text"] != "Good." || kept[0]["email"] != nil || kept[0]["name"] != nil {
					t.Errorf("anonymized review: %v", kept)
				}
				if len(e.adapter.data["reviews"]["b@example.com"]) != 1 {
					t.Error("someone else's review changed")
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.source, func(t *testing.T) {
			e, r := newModesEnv(t)
			res, err := e.steps.EraseSource(context.Background(), SourceTask{RequestID: r.ID, SourceID: tt.source})
			if err != nil {
				t.Fatal(err)
			}
			if res.Records != tt.want.Records {
				t.Errorf("result %+v", res)
			}
			got := e.outcomes.bySource[r.ID][tt.source]
			got.Touched = nil
			if !sameOutcome(got, tt.want) {
				t.Errorf("outcome\n got %+v\nwant %+v", got, tt.want)
			}
			tt.check(t, e)
		})
	}
}

func sameOutcome(a, b erasure.Outcome) bool {
	ra, rb := a.Retention, b.Retention
	a.Retention, b.Retention = nil, nil
	if (ra == nil) != (rb == nil) || (ra != nil && *ra != *rb) {
		return false
	}
	return strings.Join(a.Fields, ",") == strings.Join(b.Fields, ",") &&
		a.SourceID == b.SourceID && a.Description == b.Description && a.Kind == b.Kind && a.Mode == b.Mode && a.DryRun == b.DryRun &&
		a.Records == b.Records && a.Deleted == b.Deleted && a.Anonymized == b.Anonymized && a.Retained == b.Retained
}

// A step run again (a retry, a redrive) adds what it did to what the first
// run did: the records deleted the first time stay in the outcome.
func TestEraseSourceRunAgainKeepsCounts(t *testing.T) {
	e, r := newModesEnv(t)
	for range 2 {
		if _, err := e.steps.EraseSource(context.Background(), SourceTask{RequestID: r.ID, SourceID: "users"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.outcomes.bySource[r.ID]["users"]; got.Deleted != 1 || got.Records != 1 {
		t.Errorf("after a second run the outcome is %+v, want the first run's deletion", got)
	}
}

func TestEraseSourceRetainWithoutDate(t *testing.T) {
	e, r := newModesEnv(t)
	e.adapter.data["ledger"]["u-1"] = append(e.adapter.data["ledger"]["u-1"], map[string]any{"invoice": "i-9"})
	_, err := e.steps.EraseSource(context.Background(), SourceTask{RequestID: r.ID, SourceID: "ledger"})
	if !apperr.Is(err, apperr.Invalid) || !strings.Contains(err.Error(), `"issued_on"`) {
		t.Fatalf("err = %v, want Invalid naming the field", err)
	}
}

// The confirmation tells the subject what was kept and why.
func TestCloseDeleteTellsWhatWasKept(t *testing.T) {
	e, r := newModesEnv(t)
	for _, src := range []string{"users", "ledger", "reviews"} {
		if _, err := e.steps.EraseSource(context.Background(), SourceTask{RequestID: r.ID, SourceID: src}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.steps.CloseRequest(context.Background(), CloseTask{RequestID: r.ID, Outcome: CloseCompleted}); err != nil {
		t.Fatal(err)
	}
	msg := onlyMessage(t, e)
	for _, want := range []string{
		"- Product reviews (1 record): we removed email, name",
		"- Invoices (2 records): Tax audits need them. (AO § 147(3)). We keep them until 31 January 2035",
	} {
		if !strings.Contains(msg.Text, want) {
			t.Errorf("confirmation lacks %q:\n%s", want, msg.Text)
		}
	}
	if strings.Contains(msg.Text, "User profiles") {
		t.Errorf("a deleted source is listed as kept:\n%s", msg.Text)
	}
	// Kept invoices make the deletion one in part: under the GDPR, a
	// refusal in part, with the remedies of Art 12(4).
	if !strings.Contains(msg.Text, "lodge a complaint with a supervisory authority") || !strings.Contains(msg.Text, "judicial remedy") {
		t.Errorf("a deletion in part does not carry the GDPR's remedies:\n%s", msg.Text)
	}
}

// TestCloseDeleteInPartUnderTheCCPA: what was kept is used only for its
// exception, and the rest was deleted (CCPA Regs §7022); no appeal.
func TestCloseDeleteInPartUnderTheCCPA(t *testing.T) {
	e, r := newModesEnv(t)
	s := e.store.stored(r.ID)
	s.Jurisdiction = "US-CA"
	e.store.put(s)
	for _, src := range []string{"users", "ledger", "reviews"} {
		if _, err := e.steps.EraseSource(context.Background(), SourceTask{RequestID: r.ID, SourceID: src}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.steps.CloseRequest(context.Background(), CloseTask{RequestID: r.ID, Outcome: CloseCompleted}); err != nil {
		t.Fatal(err)
	}
	msg := onlyMessage(t, e)
	if !strings.Contains(msg.Text, "We deleted the rest of your personal information. What we kept, we use only for the purpose stated for it above.") ||
		strings.Contains(msg.Text, "supervisory authority") || strings.Contains(msg.Text, "appeal") {
		t.Errorf("a CCPA deletion in part:\n%s", msg.Text)
	}
}

// TestCloseDeleteNothingKeptTellsNoRemedy: a deletion carried out in full is
// no refusal, and its mail names no authority.
func TestCloseDeleteNothingKeptTellsNoRemedy(t *testing.T) {
	e, r := newModesEnv(t)
	if _, err := e.steps.EraseSource(context.Background(), SourceTask{RequestID: r.ID, SourceID: "users"}); err != nil {
		t.Fatal(err)
	}
	if err := e.steps.CloseRequest(context.Background(), CloseTask{RequestID: r.ID, Outcome: CloseCompleted}); err != nil {
		t.Fatal(err)
	}
	if msg := onlyMessage(t, e); strings.Contains(msg.Text, "supervisory authority") {
		t.Errorf("a full deletion names a remedy:\n%s", msg.Text)
	}
}

func TestWriteReceipt(t *testing.T) {
	ctx := context.Background()
	e, r := newModesEnv(t)
	anchors := &fakeAnchors{failNext: 1}
	e.steps.Anchors = anchors
	if err := e.steps.WriteReceipt(ctx, RequestRef{RequestID: r.ID}); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("before erasure: err %v, want Conflict", err)
	}
	for _, src := range []string{"reviews", "ledger", "users"} {
		if _, err := e.steps.EraseSource(ctx, SourceTask{RequestID: r.ID, SourceID: src}); err != nil {
			t.Fatal(err)
		}
	}
	// The first try chains the receipt but cannot anchor it; the retry
	// anchors it; another writes nothing new.
	if err := e.steps.WriteReceipt(ctx, RequestRef{RequestID: r.ID}); !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("anchors down: err %v, want Unavailable", err)
	}
	for range 2 {
		if err := e.steps.WriteReceipt(ctx, RequestRef{RequestID: r.ID}); err != nil {
			t.Fatal(err)
		}
	}
	if len(e.receipts.links) != 1 {
		t.Fatalf("%d receipts, want 1", len(e.receipts.links))
	}
	want := erasure.Anchor{Seq: 1, Hash: e.receipts.links[0].Hash}
	if len(anchors.put) != 2 || anchors.put[0] != want || anchors.put[1] != want {
		t.Fatalf("anchors %v, want receipt 1 with its hash, once per successful run", anchors.put)
	}
	rec, err := e.receipts.links[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, o := range rec.Sources {
		order = append(order, o.SourceID)
	}
	if rec.RequestID != r.ID || rec.Seq != 1 || rec.PrevHash != erasure.Genesis || strings.Join(order, ",") != "users,ledger,reviews" {
		t.Fatalf("receipt %+v, sources in order %v", rec, order)
	}
	users := rec.Sources[0]
	if h, _ := (fakeHasher{}).HashKey(ctx, subject+"/0"); users.Deleted != 1 || len(users.Touched) != 1 || users.Touched[0].Key != h {
		t.Errorf("users outcome %+v: the touched key must be hashed", users)
	}
	if ledger := rec.Sources[1]; ledger.Retained != 2 || ledger.Retention == nil || ledger.Retention.Until != "2035-01-31" || len(ledger.Touched) != 0 {
		t.Errorf("ledger outcome %+v", ledger)
	}
	if body := string(e.receipts.links[0].Body); strings.Contains(body, subject) || strings.Contains(body, `"u-1"`) {
		t.Errorf("the receipt holds an identity value: %s", body)
	}
	ev := lastEvent(t, e.store, r.ID)
	if ev.Action != "receipt_written" || ev.Note != "receipt=1 hash="+e.receipts.links[0].Hash {
		t.Errorf("event %+v", ev)
	}
}

// A legal hold stops erasure before it touches a source; the task error
// tells the state machine to wait for the release.
func TestEraseSourceOnHold(t *testing.T) {
	e, r := newModesEnv(t)
	r.OnHold = true
	e.store.put(r)
	_, err := e.steps.EraseSource(context.Background(), SourceTask{RequestID: r.ID, SourceID: "users"})
	var held *ErasureOnHold
	if !errors.As(TaskError(err), &held) {
		t.Fatalf("err %v (task error %T), want ErasureOnHold", err, TaskError(err))
	}
	if len(e.adapter.data["users"]) != 1 || len(e.outcomes.bySource[r.ID]) != 0 {
		t.Error("a held request was erased")
	}
}

func TestAwaitHold(t *testing.T) {
	ctx := context.Background()
	e, r := newModesEnv(t)
	err := e.steps.AwaitHold(ctx, HoldTask{RequestID: r.ID, TaskToken: "tok"})
	var released *NotOnHold
	if !errors.As(TaskError(err), &released) {
		t.Fatalf("not on hold: err %v, want NotOnHold", err)
	}
	r = e.store.stored(r.ID)
	r.OnHold = true
	e.store.put(r)
	if err := e.steps.AwaitHold(ctx, HoldTask{RequestID: r.ID, TaskToken: "tok"}); err != nil {
		t.Fatal(err)
	}
	if got := e.store.stored(r.ID); got.Hold.TaskToken != "tok" || lastEvent(t, e.store, r.ID).Action != "erasure_waits_on_hold" {
		t.Errorf("token %q, event %+v", got.Hold.TaskToken, lastEvent(t, e.store, r.ID))
	}
	wantKind(t, e.steps.AwaitHold(ctx, HoldTask{RequestID: r.ID}), apperr.Invalid)
}

// A dry-run request goes through every source and changes none; its
// receipt and mail say what erasure would do.
func TestDryRunRequest(t *testing.T) {
	ctx := context.Background()
	e, r := newModesEnv(t)
	r.DryRun, r.OnHold = true, true // a hold does not stop what changes nothing
	e.store.put(r)
	before := fmt.Sprint(e.adapter.data)
	for _, src := range []string{"users", "ledger", "reviews"} {
		if _, err := e.steps.EraseSource(ctx, SourceTask{RequestID: r.ID, SourceID: src}); err != nil {
			t.Fatal(err)
		}
	}
	if after := fmt.Sprint(e.adapter.data); after != before {
		t.Fatalf("a dry run changed the sources:\n%s\n%s", before, after)
	}
	if err := e.steps.WriteReceipt(ctx, RequestRef{RequestID: r.ID}); err != nil {
		t.Fatal(err)
	}
	rec, _ := e.receipts.links[0].Open()
	if !rec.DryRun || rec.Sources[0].Deleted != 1 || !rec.Sources[0].DryRun || rec.Sources[2].Anonymized != 1 {
		t.Errorf("dry-run receipt %+v", rec)
	}
	if err := e.steps.CloseRequest(ctx, CloseTask{RequestID: r.ID, Outcome: CloseCompleted}); err != nil {
		t.Fatal(err)
	}
	msg := onlyMessage(t, e)
	for _, want := range []string{"was a dry run: nothing was deleted or changed", "- User profiles (1 record): would be deleted.",
		"- Product reviews (1 record): email, name would be removed", "- Invoices (2 records): would be kept because the law requires it"} {
		if !strings.Contains(msg.Text, want) {
			t.Errorf("mail lacks %q:\n%s", want, msg.Text)
		}
	}
	if got := e.store.stored(r.ID); got.Status != request.Completed || lastEvent(t, e.store, r.ID).Note != "delivered=dry_run_report" {
		t.Errorf("status %s, event %+v", got.Status, lastEvent(t, e.store, r.ID))
	}
}

func TestPlanErasure(t *testing.T) {
	ctx := context.Background()
	e, r := newModesEnv(t)
	r.Status, r.Identities = request.Verified, nil // not resolved yet: the plan resolves them itself
	e.store.put(r)
	before := fmt.Sprint(e.adapter.data)
	plan, err := e.steps.PlanErasure(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range plan {
		got = append(got, fmt.Sprintf("%s %s %d/%d/%d/%d dry=%v", o.SourceID, o.Mode, o.Records, o.Deleted, o.Anonymized, o.Retained, o.DryRun))
	}
	want := []string{"users delete 1/1/0/0 dry=true", "ledger retain 2/0/0/2 dry=true", "reviews anonymize 1/0/1/0 dry=true"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("plan\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if fmt.Sprint(e.adapter.data) != before || len(e.store.eventsOf(r.ID)) != 0 || e.store.stored(r.ID).Identities != nil {
		t.Error("planning changed something")
	}
	for _, tc := range []struct {
		edit func(*request.Request)
		kind apperr.Kind
	}{
		{func(r *request.Request) { r.Status = request.PendingVerification }, apperr.Conflict},
		{func(r *request.Request) { r.Status = request.Completed }, apperr.Conflict},
		{func(r *request.Request) { r.Type = request.Access }, apperr.Conflict},
	} {
		r2 := r
		tc.edit(&r2)
		e.store.put(r2)
		_, err := e.steps.PlanErasure(ctx, r.ID)
		wantKind(t, err, tc.kind)
	}
}
