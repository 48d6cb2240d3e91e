package workflow

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// fakeFollowUps makes the follow-up of a granted appeal as the portal does:
// one per appeal, however often asked.
type fakeFollowUps struct {
	e     *env
	calls int
}

func (f *fakeFollowUps) FollowUp(_ context.Context, appeal, decided *request.Request) (*request.Request, error) {
	f.calls++
	id := request.FollowUpID(appeal.ID, appeal.ReceivedAt)
	r := request.New(request.Submission{Type: string(decided.Type), Email: decided.Email, Jurisdiction: decided.Jurisdiction}, f.e.clock.Now())
	r.ID, r.Appeal.FollowsAppeal, r.Status = id, appeal.ID, request.Verified
	withDeadlines(decided.Jurisdiction, decided.Type)(r)
	f.e.store.put(*r)
	return r, nil
}

// appealOf seeds a decided Virginia delete request of the subject and an
// appeal of it, waiting for the review step.
func appealOf(t *testing.T, e *env, decided func(*request.Request), appeal func(*request.Request)) (request.Request, request.Request) {
	t.Helper()
	d := e.seed(t, request.Delete, request.Denied, func(r *request.Request) {
		withDeadlines("US-VA", request.Delete)(r)
		r.Denial.Reasons = []string{"We could not verify the request."}
		if decided != nil {
			decided(r)
		}
	})
	a := e.seed(t, request.Appeal, request.Verified, func(r *request.Request) {
		withDeadlines("US-VA", request.Appeal)(r)
		r.Appeal.Of = d.ID
		if appeal != nil {
			appeal(r)
		}
	})
	return d, a
}

// TestAppealNamesADecision: an appeal goes to an operator only when it
// names a decided request of the same subject under the same law that no
// other appeal reconsiders; otherwise it fails with ErrNothingToAppeal and
// the audit log (never the subject) says why.
func TestAppealNamesADecision(t *testing.T) {
	tests := []struct {
		name            string
		decided, appeal func(*request.Request)
		why             string // "" for an appeal that goes to an operator
	}{
		{"a denied request", nil, nil, ""},
		{"a completed request (a deletion in part, say)", func(r *request.Request) { r.Status = request.Completed }, nil, ""},
		{"asked again: this appeal marked it", func(r *request.Request) { r.Appeal.AppealedBy = "set below" }, nil, ""},
		{"no such request", nil, func(r *request.Request) { r.Appeal.Of = "dsr-20250101-0123456789abcdef" }, appealNotFound},
		{"another person's request", func(r *request.Request) { r.Email = "someone.else@example.com" }, nil, appealOtherSubject},
		{"a request under another law", func(r *request.Request) { withDeadlines("US-CO", request.Delete)(r) }, nil, appealOtherLaw},
		{"a request still open", func(r *request.Request) { r.Status = request.InProgress }, nil, appealNotDecided},
		{"a request never confirmed", func(r *request.Request) { r.Status = request.Expired }, nil, appealNotDecided},
		{"an appeal", func(r *request.Request) { r.Type = request.Appeal }, nil, appealOfAnAppeal},
		{"a decision another appeal reconsiders", func(r *request.Request) { r.Appeal.AppealedBy = "dsr-20250101-aaaaaaaaaaaaaaaa" }, nil, appealAppealedAfter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t)
			d, a := appealOf(t, e, tt.decided, tt.appeal)
			if d.Appeal.AppealedBy == "set below" {
				d.Appeal.AppealedBy = a.ID
				e.store.put(d)
			}
			err := e.steps.AwaitReview(ctx, ReviewTask{RequestID: a.ID, TaskToken: "review-token"})
			if tt.why != "" {
				if !errors.Is(err, request.ErrNothingToAppeal) {
					t.Fatalf("error %v, want nothing to appeal", err)
				}
				var nothing *NothingToAppeal
				if !errors.As(TaskError(err), &nothing) {
					t.Fatalf("task error %T, want NothingToAppeal", TaskError(err))
				}
				if ev := lastEvent(t, e.store, a.ID); ev.Note != "nothing_to_appeal reason="+tt.why {
					t.Fatalf("audit %+v", ev)
				}
				if got := e.store.stored(a.ID); got.Review.TaskToken != "" || len(e.mail.sent) != 0 {
					t.Fatalf("the operators were asked: token %q, mail %d", got.Review.TaskToken, len(e.mail.sent))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := e.store.stored(a.ID)
			if got.Review.TaskToken != "review-token" || got.Status != request.InProgress {
				t.Fatalf("appeal: token %q status %s", got.Review.TaskToken, got.Status)
			}
			if e.store.stored(d.ID).Appeal.AppealedBy != a.ID {
				t.Fatal("the decision is not marked appealed")
			}
			if len(e.mail.sent) != 1 || !strings.Contains(e.mail.sent[0].Text, "privacyctl approve "+a.ID+" --reason") ||
				!strings.Contains(e.mail.sent[0].Text, d.ID) || strings.Contains(e.mail.sent[0].Text, subject) {
				t.Fatalf("operator mail %+v", e.mail.sent)
			}
		})
	}
}

// TestGrantAppeal: a granted appeal makes the follow-up request, closes
// completed, logs the grant on the decision, and tells the subject the
// reasons and the new request; retried, it mails again without a second
// follow-up or a second close.
func TestGrantAppeal(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	follow := &fakeFollowUps{e: e}
	e.steps.FollowUps = follow
	d, a := appealOf(t, e, nil, func(r *request.Request) { r.Status = request.InProgress })

	if err := e.steps.CloseRequest(ctx, CloseTask{RequestID: a.ID, Outcome: CloseAppealGranted}); apperr.KindOf(err) != apperr.Conflict {
		t.Fatalf("granted without reasons: %v", err)
	}
	a = e.store.stored(a.ID)
	a.Appeal.GrantReasons = []string{"The account holder's identity was confirmed by phone."}
	e.store.put(a)
	for attempt := range 2 {
		if err := e.steps.CloseRequest(ctx, CloseTask{RequestID: a.ID, Outcome: CloseAppealGranted}); err != nil {
			t.Fatalf("attempt %d: %v", attempt, err)
		}
	}
	got := e.store.stored(a.ID)
	wantFollow := request.FollowUpID(a.ID, a.ReceivedAt)
	if got.Status != request.Completed || got.Appeal.FollowUp != wantFollow {
		t.Fatalf("appeal %s, follow-up %q", got.Status, got.Appeal.FollowUp)
	}
	closes := 0
	for _, ev := range e.store.eventsOf(a.ID) {
		if ev.Action == "appeal_granted" {
			closes++
		}
	}
	if closes != 1 {
		t.Fatalf("closed %d times", closes)
	}
	if ev := lastEvent(t, e.store, d.ID); ev.Action != "appeal_granted" || !strings.Contains(ev.Note, "follow_up="+wantFollow) {
		t.Fatalf("decision's log %+v", ev)
	}
	m := e.mail.sent[len(e.mail.sent)-1]
	for _, want := range []string{"reverse our decision", a.Appeal.GrantReasons[0], "as request " + wantFollow} {
		if !strings.Contains(m.Text, want) {
			t.Fatalf("mail lacks %q:\n%s", want, m.Text)
		}
	}
	if strings.Contains(m.Text, "Attorney General") {
		t.Fatalf("a granted appeal offers a complaint:\n%s", m.Text)
	}
}

// TestUpholdAppeal: an upheld decision tells the subject the reasons and
// the Attorney General's complaint page, never another appeal, and the
// decision's log says it was upheld.
func TestUpholdAppeal(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	d, a := appealOf(t, e, nil, func(r *request.Request) {
		r.Status = request.InProgress
		r.Denial.Reasons = []string{"The records are exempt as tax records."}
	})
	if err := e.steps.CloseRequest(ctx, CloseTask{RequestID: a.ID, Outcome: CloseDenied}); err != nil {
		t.Fatal(err)
	}
	if got := e.store.stored(a.ID); got.Status != request.Denied {
		t.Fatalf("status %s", got.Status)
	}
	if ev := lastEvent(t, e.store, d.ID); ev.Action != "appeal_upheld" || ev.Note != "appeal="+a.ID {
		t.Fatalf("decision's log %+v", ev)
	}
	m := e.mail.sent[len(e.mail.sent)-1]
	if !strings.Contains(m.Text, "uphold our decision") || !strings.Contains(m.Text, "Attorney General") || strings.Contains(m.Text, "You can appeal") {
		t.Fatalf("upheld:\n%s", m.Text)
	}
}

// TestNothingToAppeal: the subject is told the reference names nothing
// they can appeal, without saying whose it is; the appeal closes denied.
func TestNothingToAppeal(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	_, a := appealOf(t, e, func(r *request.Request) { r.Email = "someone.else@example.com" }, nil)
	for range 2 { // a retry after the mail failed closes once
		if err := e.steps.CloseRequest(ctx, CloseTask{RequestID: a.ID, Outcome: CloseNothingToAppeal}); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.store.stored(a.ID); got.Status != request.Denied {
		t.Fatalf("status %s", got.Status)
	}
	m := e.mail.sent[len(e.mail.sent)-1]
	if m.To != subject || !strings.Contains(m.Text, "with the reference "+a.Appeal.Of) || strings.Contains(m.Text, "someone.else") {
		t.Fatalf("mail:\n%s", m.Text)
	}
	other := e.seed(t, request.Access, request.InProgress, withDeadlines("EU", request.Access))
	if err := e.steps.CloseRequest(ctx, CloseTask{RequestID: other.ID, Outcome: CloseNothingToAppeal}); apperr.KindOf(err) != apperr.Conflict {
		t.Fatalf("an access request closed as an appeal: %v", err)
	}
}

// TestDenialOffersTheAppealForm: under a law with appeals, a denial links
// the form opened at the appeal of this request.
func TestDenialOffersTheAppealForm(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	r := e.seed(t, request.Delete, request.InProgress, func(r *request.Request) {
		withDeadlines("US-VA", request.Delete)(r)
		r.Denial.Reasons = []string{"We could not verify the request."}
	})
	if err := e.steps.CloseRequest(ctx, CloseTask{RequestID: r.ID, Outcome: CloseDenied}); err != nil {
		t.Fatal(err)
	}
	m := e.mail.sent[len(e.mail.sent)-1]
	want := baseURL + "/?appeal_of=" + r.ID + "&jurisdiction=US-VA&type=appeal"
	if !strings.Contains(m.Text, want) {
		t.Fatalf("denial lacks %s:\n%s", want, m.Text)
	}
}

// TestDenialNamesItsProvisionOrTheController: a Quebec refusal names the
// provision the operator relied on; a refusal because another company
// controls the data names it instead of giving reasons and remedies.
func TestDenialNamesItsProvisionOrTheController(t *testing.T) {
	tests := []struct {
		name, jurisdiction string
		edit               func(*request.Request)
		want               []string
		not                []string
	}{
		{"Quebec, with the provision", "CA-QC", func(r *request.Request) {
			r.Denial.Reasons, r.Denial.Provision = []string{"The information would reveal another person's."}, "section 40"
		}, []string{"rests on section 40 of the following law", "within 30 days"}, nil},
		{"Quebec, no provision named", "CA-QC", func(r *request.Request) {
			r.Denial.Reasons = []string{"The information would reveal another person's."}
		}, []string{"This refusal rests on the following law"}, []string{"section"}},
		{"Brazil, not the controller", "BR", func(r *request.Request) {
			r.Denial.OtherController, r.Denial.OtherControllerContact = "Loja Exemplo Ltda.", "privacidade@loja.example"
		}, []string{"we are not the controller", "Loja Exemplo Ltda. (privacidade@loja.example)", "make your request to them directly"}, []string{"Reasons"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t)
			r := e.seed(t, request.Access, request.InProgress, func(r *request.Request) {
				withDeadlines(tt.jurisdiction, request.Access)(r)
				tt.edit(r)
			})
			if err := e.steps.CloseRequest(ctx, CloseTask{RequestID: r.ID, Outcome: "denied"}); err != nil {
				t.Fatal(err)
			}
			if got := e.store.stored(r.ID); got.Status != request.Denied {
				t.Fatalf("status %s", got.Status)
			}
			m := e.mail.sent[len(e.mail.sent)-1]
			for _, want := range tt.want {
				if !strings.Contains(m.Subject+"\n"+m.Text, want) {
					t.Errorf("mail lacks %q:\n%s\n%s", want, m.Subject, m.Text)
				}
			}
			for _, not := range tt.not {
				if strings.Contains(m.Text, not) {
					t.Errorf("mail has %q:\n%s", not, m.Text)
				}
			}
		})
	}
}
