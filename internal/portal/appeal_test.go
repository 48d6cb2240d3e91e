package portal

import (
	"context"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/statute"
)

func deadlinesOf(t *testing.T, jurisdiction string, typ request.Type, received time.Time) statute.Deadlines {
	t.Helper()
	d, err := rules.Compute(statute.Input{Jurisdiction: jurisdiction, Type: string(typ), Received: received})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestAppealTakesTheLawOfItsDecision: an appeal of the subject's own
// decided request takes that request's law, whatever law the form or the
// mailbox assumed; an appeal naming anything else keeps the law it names,
// so the answer says nothing about other people's requests.
func TestAppealTakesTheLawOfItsDecision(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(*request.Request)
		asked  string
		wantIn string
	}{
		{"the subject's Virginia decision, appealed as Colorado", nil, "US-CO", "US-VA"},
		{"another person's Virginia decision", func(r *request.Request) { r.Email = "someone.else@example.com" }, "US-CO", "US-CO"},
		{"a decision under a law without appeals", func(r *request.Request) { r.Jurisdiction = "US-CA" }, "US-CO", "US-CO"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv()
			decided := e.seed(request.Denied, func(r *request.Request) {
				r.Type, r.Jurisdiction = request.Delete, "US-VA"
				if tt.edit != nil {
					tt.edit(r)
				}
			})
			rc, err := e.portal.Submit(context.Background(), request.Submission{Type: "appeal", Email: subject, Jurisdiction: tt.asked, AppealOf: decided.ID})
			if err != nil {
				t.Fatal(err)
			}
			got, _ := e.store.stored(rc.ID)
			if got.Jurisdiction != tt.wantIn || got.Deadlines.Jurisdiction != tt.wantIn || got.Appeal.Of != decided.ID {
				t.Fatalf("appeal under %s (deadlines %s), of %q", got.Jurisdiction, got.Deadlines.Jurisdiction, got.Appeal.Of)
			}
			start := e.workflow.starts[len(e.workflow.starts)-1]
			if !start.OperatorReview || start.VerifiedByAppeal || start.SkipVerification {
				t.Fatalf("workflow input %+v: an appeal is verified, then decided by a person", start)
			}
		})
	}
	t.Run("no such request", func(t *testing.T) {
		e := newEnv()
		rc, err := e.portal.Submit(context.Background(), request.Submission{Type: "appeal", Email: subject, Jurisdiction: "US-CO", AppealOf: "dsr-20250101-0123456789abcdef"})
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := e.store.stored(rc.ID); got.Jurisdiction != "US-CO" {
			t.Fatalf("jurisdiction %s", got.Jurisdiction)
		}
	})
}

// TestFollowUp: a granted appeal's follow-up repeats the decided request
// (type, subject, law, corrections), is verified, skips review, is due by
// the appeal's date at the latest without extension, and is made once.
func TestFollowUp(t *testing.T) {
	ctx := context.Background()
	e := newEnv()
	e.portal.ReviewTypes = []request.Type{request.Correct}
	decided := e.seed(request.Denied, func(r *request.Request) {
		r.Type, r.Jurisdiction, r.Correction.Values = request.Correct, "US-VA", request.Corrections{"name": "Ada King"}
		r.Deadlines = deadlinesOf(t, "US-VA", request.Correct, r.ReceivedAt)
	})
	e.clock.Advance(10 * day)
	appeal := e.seed(request.InProgress, func(r *request.Request) {
		r.Type, r.Jurisdiction, r.Appeal.Of = request.Appeal, "US-VA", decided.ID
		r.Deadlines = deadlinesOf(t, "US-VA", request.Appeal, r.ReceivedAt)
	})
	// Granted on the appeal's 50th day: Virginia's 45 days for the request
	// would end after the appeal's 60.
	e.clock.Advance(50 * day)
	first, err := e.portal.FollowUp(ctx, &appeal, &decided)
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.portal.FollowUp(ctx, &appeal, &decided)
	if err != nil {
		t.Fatal(err)
	}
	if first.ID != again.ID || first.ID != request.FollowUpID(appeal.ID, appeal.ReceivedAt) || !request.ValidID(first.ID) {
		t.Fatalf("follow-ups %s and %s", first.ID, again.ID)
	}
	got, _ := e.store.stored(first.ID)
	switch {
	case got.Type != request.Correct || got.Email != subject || got.Jurisdiction != "US-VA" || got.Correction.Values["name"] != "Ada King":
		t.Fatalf("follow-up %+v", got)
	case got.Status != request.Verified || got.Appeal.FollowsAppeal != appeal.ID:
		t.Fatalf("status %s, follows %q", got.Status, got.Appeal.FollowsAppeal)
	case got.Deadlines.Due != appeal.Deadlines.Due || got.Deadlines.ExtensionAllowed || got.Deadlines.ExtendedDue != nil:
		t.Fatalf("due %s (appeal's %s), extension %v", got.Deadlines.Due, appeal.Deadlines.Due, got.Deadlines.ExtensionAllowed)
	}
	if len(e.workflow.starts) != 2 {
		t.Fatalf("%d starts", len(e.workflow.starts))
	}
	in := e.workflow.starts[0]
	if in.RequestID != first.ID || !in.VerifiedByAppeal || in.OperatorReview || in.SkipVerification {
		t.Fatalf("workflow input %+v", in)
	}

	other := e.seed(request.Denied, nil)
	if _, err := e.portal.FollowUp(ctx, &appeal, &other); apperr.KindOf(err) != apperr.Internal {
		t.Fatalf("a follow-up of a request the appeal does not name: %v", err)
	}
}
