package workflow

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/erasure"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// damaged is a finding as an adapter reports it: a line that holds the
// subject's value but does not parse.
var damaged = erasure.Finding{Key: "events/2026-11-01.jsonl", Line: 17, Reason: erasure.FindingUnparseable}

func eraseAll(t *testing.T, e *env, r request.Request) {
	t.Helper()
	for _, src := range []string{"users", "ledger", "reviews"} {
		if _, err := e.steps.EraseSource(context.Background(), SourceTask{RequestID: r.ID, SourceID: src}); err != nil {
			t.Fatal(err)
		}
	}
}

// A place erasure could not handle keeps the request from being reported
// done: the receipt waits until an operator resolves it, then lists it, and
// the subject is told only then.
func TestFindingsBlockTheReceipt(t *testing.T) {
	ctx := context.Background()
	e, r := newModesEnv(t)
	e.adapter.findings = map[string][]erasure.Finding{"users": {damaged}}
	eraseAll(t, e, r)

	fs := e.findings.byRequest[r.ID]
	if len(fs) != 1 || !fs[0].Blocking || fs[0].SourceID != "users" || fs[0].ID == "" || fs[0].FoundAt.IsZero() {
		t.Fatalf("findings kept: %+v", fs)
	}
	err := e.steps.WriteReceipt(ctx, RequestRef{RequestID: r.ID})
	var open *FindingsOpen
	if !errors.As(TaskError(err), &open) || len(e.receipts.links) != 0 {
		t.Fatalf("receipt with an open finding: err %v (%T), %d receipts", err, TaskError(err), len(e.receipts.links))
	}
	if err := e.steps.CloseRequest(ctx, CloseTask{RequestID: r.ID, Outcome: CloseCompleted}); !errors.Is(err, request.ErrFindingsOpen) {
		t.Fatalf("close with an open finding: %v", err)
	}
	if len(e.mail.sent) != 0 {
		t.Fatalf("the subject was told: %+v", e.mail.sent)
	}

	// The workflow waits, and the operator is told where to look.
	if err := e.steps.AwaitFindings(ctx, FindingsTask{RequestID: r.ID, TaskToken: "tok"}); err != nil {
		t.Fatal(err)
	}
	if e.findings.waits[r.ID] != "tok" || lastEvent(t, e.store, r.ID).Action != "erasure_waits_on_findings" {
		t.Fatalf("wait %q, event %+v", e.findings.waits[r.ID], lastEvent(t, e.store, r.ID))
	}
	if len(e.mail.sent) != 1 {
		t.Fatalf("%d messages, want the operator's", len(e.mail.sent))
	}
	ops := e.mail.sent[0]
	if ops.To != "ops@example.com" || !strings.Contains(ops.Text, "privacyctl findings "+r.ID) || strings.Contains(ops.Text, damaged.Key) {
		t.Fatalf("operator mail %+v", ops)
	}
	e.mail.sent = nil

	e.findings.resolve(r.ID, erasure.ResolvedErased)
	err = e.steps.AwaitFindings(ctx, FindingsTask{RequestID: r.ID, TaskToken: "tok2"})
	var none *NoOpenFindings
	if !errors.As(TaskError(err), &none) {
		t.Fatalf("wait after resolution: %v", err)
	}
	if err := e.steps.WriteReceipt(ctx, RequestRef{RequestID: r.ID}); err != nil {
		t.Fatal(err)
	}
	rec, err := e.receipts.links[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	users := rec.Sources[0]
	h, _ := (fakeHasher{}).HashKey(ctx, damaged.Key)
	if len(users.Findings) != 1 || users.Findings[0].Key != h || users.Findings[0].Resolution != erasure.ResolvedErased || users.Findings[0].Line != 17 {
		t.Fatalf("receipt findings %+v", users.Findings)
	}
	if strings.Contains(string(e.receipts.links[0].Body), damaged.Key) {
		t.Fatal("the receipt holds an object key in clear")
	}
	if err := e.steps.CloseRequest(ctx, CloseTask{RequestID: r.ID, Outcome: CloseCompleted}); err != nil {
		t.Fatal(err)
	}
	if msg := onlyMessage(t, e); !strings.Contains(msg.Subject, r.ID) || strings.Contains(msg.Text, damaged.Key) {
		t.Errorf("confirmation %+v", msg)
	}
}

// Findings that change nothing the subject is told inform only: those of a
// retained source, of a dry run, of an access request.
func TestFindingsThatInform(t *testing.T) {
	ctx := context.Background()
	t.Run("retained source", func(t *testing.T) {
		e, r := newModesEnv(t)
		e.adapter.findings = map[string][]erasure.Finding{"ledger": {damaged}}
		eraseAll(t, e, r)
		if fs := e.findings.byRequest[r.ID]; len(fs) != 1 || fs[0].Blocking {
			t.Fatalf("findings %+v", fs)
		}
		if err := e.steps.WriteReceipt(ctx, RequestRef{RequestID: r.ID}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("dry run", func(t *testing.T) {
		e, r := newModesEnv(t)
		r.DryRun = true
		e.store.put(r)
		e.adapter.findings = map[string][]erasure.Finding{"users": {damaged}}
		eraseAll(t, e, r)
		if fs := e.findings.byRequest[r.ID]; len(fs) != 1 || fs[0].Blocking {
			t.Fatalf("findings %+v", fs)
		}
	})
	t.Run("access", func(t *testing.T) {
		e := newEnv(t)
		e.adapter.findings = map[string][]erasure.Finding{"invoices": {damaged, {Key: "events/b.jsonl", Reason: erasure.FindingUnreadable, Detail: "An S3 object is not valid gzip."}}}
		r := e.seed(t, request.Access, request.InProgress, func(r *request.Request) {
			r.Identities = map[string][]string{"email": {subject}, "user_id": {"u-1"}}
		})
		for _, src := range e.steps.Registry.Sources {
			if _, err := e.steps.CollectSource(ctx, SourceTask{RequestID: r.ID, SourceID: src.ID}); err != nil {
				t.Fatal(err)
			}
		}
		if fs := e.findings.byRequest[r.ID]; len(fs) != 2 || fs[0].Blocking || fs[1].Blocking {
			t.Fatalf("findings %+v", fs)
		}
		if err := e.steps.BuildPackage(ctx, RequestRef{RequestID: r.ID}); err != nil {
			t.Fatal(err)
		}
		manifest := e.exports.manifest(t, r.ID)
		if !strings.Contains(manifest, `"id": "invoices"`) || !strings.Contains(manifest, `"unreadable": 2`) {
			t.Fatalf("manifest does not say what could not be read:\n%s", manifest)
		}
	})
}

// The same place found again by a retried step is the same finding: its
// resolution stays.
func TestFindingsAreFoundOnce(t *testing.T) {
	ctx := context.Background()
	e, r := newModesEnv(t)
	e.adapter.findings = map[string][]erasure.Finding{"users": {damaged}}
	eraseAll(t, e, r)
	e.findings.resolve(r.ID, erasure.ResolvedNotSubject)
	if _, err := e.steps.EraseSource(ctx, SourceTask{RequestID: r.ID, SourceID: "users"}); err != nil {
		t.Fatal(err)
	}
	if fs := e.findings.byRequest[r.ID]; len(fs) != 1 || fs[0].Resolution != erasure.ResolvedNotSubject {
		t.Fatalf("findings after a retry: %+v", fs)
	}
}
