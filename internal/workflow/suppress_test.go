package workflow

import (
	"context"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/suppression"
)

func TestRecordSuppression(t *testing.T) {
	unverifiable := func(r *request.Request) { r.Deadlines.VerificationRequired = false }
	verifiable := func(r *request.Request) { r.Deadlines.VerificationRequired = true }
	tests := []struct {
		name     string
		typ      request.Type
		status   request.Status
		edit     func(*request.Request)
		wantFlag suppression.Flag
		wantVia  string
		kind     apperr.Kind // when it must fail
	}{
		{name: "opt-out the law lets go unverified", typ: request.OptOut, status: request.Received, edit: unverifiable, wantFlag: suppression.OptOutSaleSharing, wantVia: "request"},
		{name: "limit the law lets go unverified", typ: request.Limit, status: request.Received, edit: unverifiable, wantFlag: suppression.LimitSensitive, wantVia: "request"},
		{name: "opt-out by GPC", typ: request.OptOut, status: request.Received,
			edit: func(r *request.Request) { verifiable(r); r.Via = request.ViaGPC }, wantFlag: suppression.OptOutSaleSharing, wantVia: "gpc"},
		{name: "restriction verified", typ: request.Restrict, status: request.InProgress, edit: verifiable, wantFlag: suppression.RestrictProcessing, wantVia: "request"},
		{name: "objection verified", typ: request.Object, status: request.Verified, edit: verifiable, wantFlag: suppression.Object, wantVia: "request"},
		{name: "restriction not verified", typ: request.Restrict, status: request.Received, edit: verifiable, kind: apperr.Conflict},
		{name: "objection waiting for verification", typ: request.Object, status: request.PendingVerification, edit: verifiable, kind: apperr.Conflict},
		{name: "opt-out already closed", typ: request.OptOut, status: request.Completed, edit: unverifiable, kind: apperr.Conflict},
		{name: "access sets no flag", typ: request.Access, status: request.InProgress, edit: verifiable, kind: apperr.Conflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t)
			before := e.seed(t, tt.typ, tt.status, tt.edit)
			err := e.steps.RecordSuppression(ctx, RequestRef{RequestID: before.ID})
			flags, _ := e.suppressions.Get(ctx, suppression.SubjectKey(subject))
			if tt.kind != 0 {
				wantKind(t, err, tt.kind)
				if len(flags) != 0 {
					t.Fatalf("flags set: %v", flags)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, ok := flags[tt.wantFlag]
			if !ok || len(flags) != 1 || got.RequestID != before.ID || got.Via != tt.wantVia || !got.At.Equal(e.clock.Now()) {
				t.Fatalf("flags %+v, want %s by %s via %s", flags, tt.wantFlag, before.ID, tt.wantVia)
			}
			after := e.store.stored(before.ID)
			if after.Status != request.InProgress {
				t.Errorf("status %s, want in_progress", after.Status)
			}
			if ev := lastEvent(t, e.store, before.ID); ev.Action != "suppression_recorded" || ev.Note != "flag="+string(tt.wantFlag) {
				t.Errorf("event %+v", ev)
			}
			// Running the step again changes nothing and says so.
			if err := e.steps.RecordSuppression(ctx, RequestRef{RequestID: before.ID}); err != nil {
				t.Fatalf("again: %v", err)
			}
			if ev := lastEvent(t, e.store, before.ID); ev.Note != "flag="+string(tt.wantFlag) {
				t.Errorf("event after a rerun %+v", ev)
			}
		})
	}
}

// TestRecordSuppressionKeepsTheFirstRequest: a later request for a flag
// already set leaves the entry as it was and names the first request in its
// audit event.
func TestRecordSuppressionKeepsTheFirstRequest(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	edit := func(r *request.Request) { r.Deadlines.VerificationRequired = false }
	first := e.seed(t, request.OptOut, request.Received, edit)
	second := e.seed(t, request.OptOut, request.Received, edit)
	for _, r := range []request.Request{first, second} {
		if err := e.steps.RecordSuppression(ctx, RequestRef{RequestID: r.ID}); err != nil {
			t.Fatal(err)
		}
	}
	flags, _ := e.suppressions.Get(ctx, suppression.SubjectKey(subject))
	if flags[suppression.OptOutSaleSharing].RequestID != first.ID {
		t.Fatalf("entry %+v, want the first request", flags)
	}
	if ev := lastEvent(t, e.store, second.ID); ev.Note != "flag=opt_out_sale_sharing; set_before_by="+first.ID {
		t.Fatalf("event %+v", ev)
	}
}

func TestRecordSuppressionStoreDown(t *testing.T) {
	e := newEnv(t)
	r := e.seed(t, request.Object, request.InProgress, nil)
	e.suppressions.Err = apperr.E(apperr.Unavailable, "down")
	err := e.steps.RecordSuppression(context.Background(), RequestRef{RequestID: r.ID})
	if _, ok := TaskError(err).(*TransientError); !ok {
		t.Fatalf("err = %v, want a transient task error", err)
	}
	if after := e.store.stored(r.ID); after.Version != r.Version {
		t.Fatal("the request changed though nothing was recorded")
	}
}
