package workflow

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/notify"
	"github.com/privacy-pipeline/dsr/internal/policy"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/statute"
)

var rules = func() *statute.Rules {
	r, err := statute.Load()
	if err != nil {
		panic(err)
	}
	return r
}()

// withDeadlines gives a seeded request the deadlines of a jurisdiction.
// The env clock is 2025-03-14 09:30 UTC: an EU request is due 2025-04-14
// (extension notice by then, extended to 2025-06-16); a US-CA opt-out has no
// extension.
func withDeadlines(jurisdiction string, typ request.Type) func(*request.Request) {
	return func(r *request.Request) {
		r.Jurisdiction = jurisdiction
		d, err := rules.Compute(statute.Input{Jurisdiction: jurisdiction, Type: string(typ), Received: r.ReceivedAt})
		if err != nil {
			panic(err)
		}
		r.Deadlines = d
	}
}

func TestAcknowledgeStartsTheWatch(t *testing.T) {
	e := newEnv(t)
	r := e.seed(t, request.Access, request.Received, withDeadlines("EU", request.Access))
	if _, err := e.steps.Acknowledge(context.Background(), RequestRef{RequestID: r.ID}); err != nil {
		t.Fatal(err)
	}
	// Two days before 2025-04-14 00:00 in Brussels (UTC+2): 2025-04-11T22:00Z.
	if len(e.watch.started) != 1 || e.watch.started[0].NoticeAt != "2025-04-11T22:00:00Z" || e.watch.started[0].RequestID != r.ID {
		t.Fatalf("watch %+v", e.watch.started)
	}
	if len(e.mail.sent) != 1 || !strings.Contains(e.mail.sent[0].Text, "14 April 2025") || e.mail.sent[0].To != subject {
		t.Fatalf("acknowledgement %+v", e.mail.sent)
	}
	if evs := e.store.eventsOf(r.ID); len(evs) != 1 || evs[0].Action != "acknowledged" {
		t.Fatalf("events %+v", evs)
	}

	// Scaled: a day per second from receipt (09:30:00) to the notice point.
	e2 := newEnv(t)
	e2.steps.Scale = 86400
	r2 := e2.seed(t, request.Access, request.Received, withDeadlines("EU", request.Access))
	if _, err := e2.steps.Acknowledge(context.Background(), RequestRef{RequestID: r2.ID}); err != nil {
		t.Fatal(err)
	}
	want := time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC).Add(time.Duration(float64(time.Date(2025, 4, 11, 22, 0, 0, 0, time.UTC).Sub(time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC))) / 86400)).Format(time.RFC3339)
	if got := e2.watch.started[0].NoticeAt; got != want {
		t.Fatalf("scaled notice point %s, want %s", got, want)
	}
}

func TestExtend(t *testing.T) {
	reasons := []string{"Your data is spread over many archives."}
	tests := []struct {
		name     string
		edit     func(*request.Request)
		status   request.Status
		advance  time.Duration
		reasons  []string
		wantKind apperr.Kind // zero: success
	}{
		{"extends once", withDeadlines("EU", request.Access), request.InProgress, 0, reasons, 0},
		{"on the last day for the notice", withDeadlines("EU", request.Access), request.InProgress, 31 * 24 * time.Hour, reasons, 0},
		{"too late", withDeadlines("EU", request.Access), request.InProgress, 32 * 24 * time.Hour, reasons, apperr.Conflict},
		{"twice", func(r *request.Request) { withDeadlines("EU", request.Access)(r); r.Extended = true }, request.InProgress, 0, reasons, apperr.Conflict},
		{"law allows none", withDeadlines("US-CA", request.OptOut), request.InProgress, 0, reasons, apperr.Conflict},
		{"closed", withDeadlines("EU", request.Access), request.Completed, 0, reasons, apperr.Conflict},
		{"no reasons", withDeadlines("EU", request.Access), request.InProgress, 0, nil, apperr.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			seeded := e.seed(t, request.Access, tt.status, tt.edit)
			e.clock.Advance(tt.advance)
			r := seeded
			err := e.steps.Extend(context.Background(), &r, tt.reasons, "operator:alice")
			if tt.wantKind != 0 {
				if apperr.KindOf(err) != tt.wantKind || err == nil {
					t.Fatalf("error %v, want kind %v", err, tt.wantKind)
				}
				if len(e.mail.sent) != 0 || e.store.stored(seeded.ID).Deadlines.Due != seeded.Deadlines.Due {
					t.Fatal("a refused extension changed something")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := e.store.stored(seeded.ID)
			if !got.Extended || got.Deadlines.Due.String() != "2025-06-16" || got.Extension.Reasons[0] != reasons[0] {
				t.Fatalf("after extension: extended %v due %s", got.Extended, got.Deadlines.Due)
			}
			m := e.mail.sent[0]
			if !strings.Contains(m.Text, reasons[0]) || !strings.Contains(m.Text, "16 June 2025") {
				t.Fatalf("notice:\n%s", m.Text)
			}
			if evs := e.store.eventsOf(seeded.ID); evs[len(evs)-1].Actor != "operator:alice" || evs[len(evs)-1].Note != "due=2025-04-14->2025-06-16" {
				t.Fatalf("events %+v", evs)
			}
		})
	}
}

func TestCheckDeadline(t *testing.T) {
	ctx := context.Background()
	t.Run("closed request: the watch ends", func(t *testing.T) {
		e := newEnv(t)
		r := e.seed(t, request.Access, request.Completed, withDeadlines("EU", request.Access))
		got, err := e.steps.CheckDeadline(ctx, DeadlineTask{RequestID: r.ID, Phase: PhaseNotice})
		if err != nil || got.Open || len(e.mail.sent) != 0 {
			t.Fatalf("%+v %v, %d mails", got, err, len(e.mail.sent))
		}
	})
	t.Run("open at the notice point, nobody decided: the date stands, the operators are told", func(t *testing.T) {
		e := newEnv(t)
		r := e.seed(t, request.Access, request.InProgress, func(r *request.Request) {
			withDeadlines("EU", request.Access)(r)
			r.Extension.TaskToken = "ask-token"
		})
		got, err := e.steps.CheckDeadline(ctx, DeadlineTask{RequestID: r.ID, Phase: PhaseNotice})
		if err != nil {
			t.Fatal(err)
		}
		// The due date is unchanged: end of 2025-04-14 in Brussels.
		if !got.Open || got.WaitUntil != "2025-04-14T21:59:59Z" {
			t.Fatalf("%+v", got)
		}
		stored := e.store.stored(r.ID)
		if stored.Extended || stored.Extension.Decision != request.ExtensionUndecided || !stored.NeedsOperator || stored.Extension.TaskToken != "" {
			t.Fatalf("stored %+v", stored)
		}
		if len(e.mail.sent) != 1 || e.mail.sent[0].To != "ops@example.com" || !strings.Contains(e.mail.sent[0].Text, "privacyctl extend "+r.ID) {
			t.Fatalf("mail %+v: the subject must be told nothing, the operators everything", e.mail.sent)
		}
		if e.metrics.counts["ExtensionsUndecided"] != 1 {
			t.Fatalf("metrics %v", e.metrics.counts)
		}
	})
	t.Run("nobody decided, the policy extends with facts: the facts are the reasons", func(t *testing.T) {
		e := newEnv(t)
		e.steps.Policy = &policy.Policy{Extensions: policy.ExtensionsAllowed, Undecided: policy.UndecidedExtendWithFacts}
		r := e.seed(t, request.Delete, request.InProgress, func(r *request.Request) {
			withDeadlines("EU", request.Delete)(r)
			r.OnHold = true
		})
		if _, err := e.steps.CheckDeadline(ctx, DeadlineTask{RequestID: r.ID, Phase: PhaseNotice}); err != nil {
			t.Fatal(err)
		}
		stored := e.store.stored(r.ID)
		if !stored.Extended || !slices.Equal(stored.Extension.Reasons, []string{"fact:legal_hold"}) {
			t.Fatalf("stored %+v", stored)
		}
		if m := onlyMessage(t, e); !strings.Contains(m.Text, "A legal hold requires us to keep") {
			t.Fatalf("notice:\n%s", m.Text)
		}
	})
	t.Run("nobody decided, the policy extends with facts, none holds: the date stands", func(t *testing.T) {
		e := newEnv(t)
		e.steps.Policy = &policy.Policy{Extensions: policy.ExtensionsAllowed, Undecided: policy.UndecidedExtendWithFacts}
		r := e.seed(t, request.Access, request.InProgress, withDeadlines("EU", request.Access))
		if _, err := e.steps.CheckDeadline(ctx, DeadlineTask{RequestID: r.ID, Phase: PhaseNotice}); err != nil {
			t.Fatal(err)
		}
		if stored := e.store.stored(r.ID); stored.Extended || stored.Extension.Decision != request.ExtensionUndecided {
			t.Fatalf("stored %+v", stored)
		}
		if len(e.mail.sent) != 1 || e.mail.sent[0].To != "ops@example.com" {
			t.Fatalf("mail %+v", e.mail.sent)
		}
	})
	t.Run("an operator let the date stand: nothing at the notice point", func(t *testing.T) {
		e := newEnv(t)
		r := e.seed(t, request.Access, request.InProgress, func(r *request.Request) {
			withDeadlines("EU", request.Access)(r)
			r.Extension.Decision = request.ExtensionKept
		})
		if _, err := e.steps.CheckDeadline(ctx, DeadlineTask{RequestID: r.ID, Phase: PhaseNotice}); err != nil {
			t.Fatal(err)
		}
		if stored := e.store.stored(r.ID); stored.Extended || stored.NeedsOperator || len(e.mail.sent) != 0 {
			t.Fatalf("stored %+v, mail %d", stored, len(e.mail.sent))
		}
	})
	t.Run("the policy extends nothing: nothing to ask, nothing at the notice point", func(t *testing.T) {
		e := newEnv(t)
		e.steps.Policy = &policy.Policy{Extensions: policy.ExtensionsNever, Undecided: policy.UndecidedEscalate}
		r := e.seed(t, request.Access, request.InProgress, withDeadlines("EU", request.Access))
		// Nobody is asked; the watch waits on until the notice point, and
		// a close can end that wait.
		if _, err := e.steps.CheckDeadline(ctx, DeadlineTask{RequestID: r.ID, Phase: PhaseAsk, TaskToken: "tok"}); err != nil {
			t.Fatalf("ask: %v", err)
		}
		if got, _ := e.store.WatchWait(ctx, r.ID); got != "tok" || e.store.stored(r.ID).Extension.TaskToken != "" {
			t.Fatalf("watch wait %q, extension token %q", got, e.store.stored(r.ID).Extension.TaskToken)
		}
		if _, err := e.steps.CheckDeadline(ctx, DeadlineTask{RequestID: r.ID, Phase: PhaseNotice}); err != nil {
			t.Fatal(err)
		}
		if stored := e.store.stored(r.ID); stored.Extended || stored.NeedsOperator || len(e.mail.sent) != 0 {
			t.Fatalf("stored %+v, mail %d", stored, len(e.mail.sent))
		}
		stored := e.store.stored(r.ID)
		if err := e.steps.Extend(ctx, &stored, []string{"A supplier holds part of your data."}, "operator:x"); apperr.KindOf(err) != apperr.Conflict {
			t.Fatalf("extend: %v", err)
		}
	})
	t.Run("ask: the operators are asked, and the watch waits", func(t *testing.T) {
		e := newEnv(t)
		r := e.seed(t, request.Access, request.InProgress, withDeadlines("EU", request.Access))
		if _, err := e.steps.CheckDeadline(ctx, DeadlineTask{RequestID: r.ID, Phase: PhaseAsk, TaskToken: "tok"}); err != nil {
			t.Fatal(err)
		}
		if stored := e.store.stored(r.ID); stored.Extension.TaskToken != "tok" || lastEvent(t, e.store, r.ID).Action != "extension_decision_asked" {
			t.Fatalf("stored %+v", stored)
		}
		if len(e.mail.sent) != 1 || e.mail.sent[0].To != "ops@example.com" || !strings.Contains(e.mail.sent[0].Text, "privacyctl keep-date "+r.ID) {
			t.Fatalf("mail %+v", e.mail.sent)
		}
		if got, _ := e.store.WatchWait(ctx, r.ID); got != "tok" {
			t.Fatalf("watch wait %q: a close could not end it", got)
		}
		// Nothing to decide: nobody is asked, and the watch waits all the same.
		for _, edit := range []func(*request.Request){
			func(r *request.Request) { r.Extended = true },
			func(r *request.Request) { r.Extension.Decision = request.ExtensionKept },
		} {
			e.mail.sent = nil
			r := e.seed(t, request.Access, request.InProgress, func(r *request.Request) { withDeadlines("EU", request.Access)(r); edit(r) })
			if _, err := e.steps.CheckDeadline(ctx, DeadlineTask{RequestID: r.ID, Phase: PhaseAsk, TaskToken: "tok2"}); err != nil {
				t.Fatalf("ask: %v", err)
			}
			if got, _ := e.store.WatchWait(ctx, r.ID); got != "tok2" || len(e.mail.sent) != 0 || e.store.stored(r.ID).Extension.TaskToken != "" {
				t.Fatalf("watch wait %q, mail %d", got, len(e.mail.sent))
			}
		}
		// Closed: the watch ends.
		r = e.seed(t, request.Access, request.Completed, withDeadlines("EU", request.Access))
		_, err := e.steps.CheckDeadline(ctx, DeadlineTask{RequestID: r.ID, Phase: PhaseAsk, TaskToken: "tok3"})
		var closed *RequestClosed
		if !errors.As(TaskError(err), &closed) {
			t.Fatalf("ask on a closed request: %v", err)
		}
	})
	t.Run("wait: the token is kept for the close to end the wait", func(t *testing.T) {
		e := newEnv(t)
		r := e.seed(t, request.Access, request.InProgress, withDeadlines("EU", request.Access))
		if _, err := e.steps.CheckDeadline(ctx, DeadlineTask{RequestID: r.ID, Phase: PhaseWait, TaskToken: "w1"}); err != nil {
			t.Fatal(err)
		}
		if got, _ := e.store.WatchWait(ctx, r.ID); got != "w1" || len(e.mail.sent) != 0 {
			t.Fatalf("watch wait %q, mail %d", got, len(e.mail.sent))
		}
		if _, err := e.steps.CheckDeadline(ctx, DeadlineTask{RequestID: r.ID, Phase: PhaseWait}); apperr.KindOf(err) != apperr.Invalid {
			t.Fatalf("no token: %v", err)
		}
		for _, status := range []request.Status{request.Completed, request.Cancelled, request.Expired, request.Denied} {
			r := e.seed(t, request.Access, status, withDeadlines("EU", request.Access))
			_, err := e.steps.CheckDeadline(ctx, DeadlineTask{RequestID: r.ID, Phase: PhaseWait, TaskToken: "w2"})
			var closed *RequestClosed
			if !errors.As(TaskError(err), &closed) {
				t.Fatalf("%s: %v", status, err)
			}
		}
	})
	t.Run("wait: a close between the read and the token ends the wait at once", func(t *testing.T) {
		e := newEnv(t)
		r := e.seed(t, request.Access, request.InProgress, withDeadlines("EU", request.Access))
		e.steps.WatchWaits = closingWaits{e.store, func() {
			c := e.store.stored(r.ID)
			c.Status = request.Completed
			if err := e.store.Save(ctx, &c, request.Event{Action: "completed"}); err != nil {
				t.Fatal(err)
			}
		}}
		_, err := e.steps.CheckDeadline(ctx, DeadlineTask{RequestID: r.ID, Phase: PhaseWait, TaskToken: "w1"})
		var closed *RequestClosed
		if !errors.As(TaskError(err), &closed) {
			t.Fatalf("wait: %v", err)
		}
	})
	t.Run("no extension in law: waits for the due date without a notice", func(t *testing.T) {
		e := newEnv(t)
		r := e.seed(t, request.OptOut, request.InProgress, withDeadlines("US-CA", request.OptOut))
		got, err := e.steps.CheckDeadline(ctx, DeadlineTask{RequestID: r.ID, Phase: PhaseNotice})
		if err != nil || !got.Open || len(e.mail.sent) != 0 {
			t.Fatalf("%+v %v %d", got, err, len(e.mail.sent))
		}
		want := r.Deadlines.Due.EndOfDay(time.FixedZone("PDT", -7*3600)).UTC().Format(time.RFC3339)
		if got.WaitUntil != want {
			t.Fatalf("wait until %s, want %s", got.WaitUntil, want)
		}
		until, _ := time.Parse(time.RFC3339, want)
		if secs := int64(until.Sub(e.clock.Now()).Seconds()); got.WaitSeconds < secs || got.WaitSeconds > secs+1 {
			t.Fatalf("wait seconds %d, want %d", got.WaitSeconds, secs)
		}
	})
	t.Run("open at the due date: overdue, counted, operators told", func(t *testing.T) {
		e := newEnv(t)
		r := e.seed(t, request.Access, request.InProgress, withDeadlines("EU", request.Access))
		got, err := e.steps.CheckDeadline(ctx, DeadlineTask{RequestID: r.ID, Phase: PhaseDue})
		if err != nil || !got.Open {
			t.Fatalf("%+v %v", got, err)
		}
		s := e.store.stored(r.ID)
		if !s.Overdue || !s.NeedsOperator || e.metrics.counts["RequestsOverdue"] != 1 {
			t.Fatalf("overdue %v needs operator %v metrics %v", s.Overdue, s.NeedsOperator, e.metrics.counts)
		}
		if len(e.mail.sent) != 1 || e.mail.sent[0].To != "ops@example.com" || !strings.Contains(e.mail.sent[0].Subject, "OVERDUE") {
			t.Fatalf("mail %+v", e.mail.sent)
		}
		if strings.Contains(e.mail.sent[0].Text, subject) {
			t.Fatal("the operator mail names the subject")
		}
		// In the cloud the mail links the watch's execution in the console.
		e.steps.WatchConsole = "arn:aws:states:eu-west-1:111111111111:stateMachine:Prod-deadline-watch"
		if _, err := e.steps.CheckDeadline(ctx, DeadlineTask{RequestID: r.ID, Phase: PhaseDue}); err != nil {
			t.Fatal(err)
		}
		if want := "#/v2/executions/details/arn:aws:states:eu-west-1:111111111111:execution:Prod-deadline-watch:" + r.ID; !strings.Contains(e.mail.sent[1].Text, want) {
			t.Fatalf("no console link in:\n%s", e.mail.sent[1].Text)
		}
	})
	t.Run("unknown phase", func(t *testing.T) {
		e := newEnv(t)
		r := e.seed(t, request.Access, request.InProgress, withDeadlines("EU", request.Access))
		if _, err := e.steps.CheckDeadline(ctx, DeadlineTask{RequestID: r.ID, Phase: "later"}); apperr.KindOf(err) != apperr.Invalid {
			t.Fatalf("error %v", err)
		}
	})
}

// TestAwaitReviewForCorrectionsByHand: a confirmed correction letter whose
// new values were not read asks the operators to read the letter and give
// them, naming no value.
func TestAwaitReviewForCorrectionsByHand(t *testing.T) {
	e := newEnv(t)
	r := e.seed(t, request.Correct, request.InProgress, withDeadlines("EU", request.Correct))
	if err := e.steps.AwaitReview(context.Background(), ReviewTask{RequestID: r.ID, TaskToken: "review-token"}); err != nil {
		t.Fatal(err)
	}
	if len(e.mail.sent) != 1 || !strings.HasPrefix(e.mail.sent[0].Subject, "Correct by hand:") ||
		!strings.Contains(e.mail.sent[0].Text, "privacyctl letter "+r.ID) || !strings.Contains(e.mail.sent[0].Text, "--correct FIELD=VALUE") {
		t.Fatalf("operator mail %+v", e.mail.sent)
	}
}

func TestAwaitReviewAndDenial(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	r := e.seed(t, request.Delete, request.InProgress, withDeadlines("EU", request.Delete))
	if err := e.steps.AwaitReview(ctx, ReviewTask{RequestID: r.ID, TaskToken: "review-token"}); err != nil {
		t.Fatal(err)
	}
	if got := e.store.stored(r.ID); got.Review.TaskToken != "review-token" {
		t.Fatalf("review token %q", got.Review.TaskToken)
	}
	if len(e.mail.sent) != 1 || e.mail.sent[0].To != "ops@example.com" {
		t.Fatalf("operator mail %+v", e.mail.sent)
	}
	if err := e.steps.AwaitReview(ctx, ReviewTask{RequestID: r.ID}); apperr.KindOf(err) != apperr.Invalid {
		t.Fatalf("no token: %v", err)
	}

	if err := e.steps.CloseRequest(ctx, CloseTask{RequestID: r.ID, Outcome: CloseDenied}); apperr.KindOf(err) != apperr.Conflict {
		t.Fatalf("denial without reasons: %v", err)
	}
	s := e.store.stored(r.ID)
	s.Denial.Reasons = []string{"We could not confirm the request comes from the account holder."}
	e.store.put(s)
	if err := e.steps.CloseRequest(ctx, CloseTask{RequestID: r.ID, Outcome: CloseDenied}); err != nil {
		t.Fatal(err)
	}
	got := e.store.stored(r.ID)
	if got.Status != request.Denied || got.Review.TaskToken != "" {
		t.Fatalf("status %s", got.Status)
	}
	m := e.mail.sent[len(e.mail.sent)-1]
	if m.To != subject || !strings.Contains(m.Text, s.Denial.Reasons[0]) || !strings.Contains(m.Text, "supervisory authority") {
		t.Fatalf("denial:\n%s", m.Text)
	}
	if len(e.watch.stopped) != 1 || e.watch.stopped[0] != r.ID {
		t.Fatalf("watch stopped %v", e.watch.stopped)
	}
}

// TestNoticesFollowTheRules: the workflow picks what a notice carries by
// the explicit keys of the rule for the request's law and type, and fills in
// what they name; each case says which rule and why.
func TestNoticesFollowTheRules(t *testing.T) {
	ctx := context.Background()
	denied := func(e *env, r request.Request) error {
		s := e.store.stored(r.ID)
		s.Denial.Reasons = []string{"Manifestly excessive."}
		e.store.put(s)
		return e.steps.CloseRequest(ctx, CloseTask{RequestID: r.ID, Outcome: CloseDenied})
	}
	expired := func(e *env, r request.Request) error {
		return e.steps.CloseRequest(ctx, CloseTask{RequestID: r.ID, Outcome: CloseExpired})
	}
	acknowledged := func(e *env, r request.Request) error {
		_, err := e.steps.Acknowledge(ctx, RequestRef{RequestID: r.ID})
		return err
	}
	extended := func(e *env, r request.Request) error {
		return e.steps.Extend(ctx, &r, []string{"Archives."}, "operator:alice")
	}
	lead := notify.Authority{Name: "Der Hessische Beauftragte für Datenschutz und Informationsfreiheit", URL: "https://datenschutz.hessen.de"}
	tests := []struct {
		name         string
		jurisdiction string
		typ          request.Type
		status       request.Status
		lead         notify.Authority
		act          func(*env, request.Request) error
		want, not    []string
	}{
		// GDPR Art 12(4) and 77: no single authority, none given by the
		// company: the member state's, with the EDPB's list.
		{"EU denial, no lead authority", "EU", request.Access, request.InProgress, notify.Authority{}, denied,
			[]string{"supervisory authority, in particular in the EU member state where you live", "edpb.europa.eu/about-edpb/about-edpb/members_en", "judicial remedy"},
			[]string{"appeal"}},
		// The company's lead authority is named first, Art 77's choice kept.
		{"EU denial, the company's lead authority", "EU", request.Access, request.InProgress, lead, denied,
			[]string{"lead supervisory authority, Der Hessische Beauftragte für Datenschutz und Informationsfreiheit (https://datenschutz.hessen.de)", "edpb.europa.eu"},
			nil},
		// Norway names its authority; the company's lead is not Norway's.
		{"Norway: Datatilsynet", "EEA-NO", request.Delete, request.PendingVerification, lead, expired,
			[]string{"Datatilsynet (https://www.datatilsynet.no)", "judicial remedy"},
			[]string{"hessen"}},
		{"UK: the ICO", "UK", request.Access, request.InProgress, notify.Authority{}, denied,
			[]string{"Information Commissioner's Office (https://ico.org.uk)"}, nil},
		// Va. Code 59.1-577(B)(2): how to appeal.
		{"Virginia denial: how to appeal", "US-VA", request.Access, request.InProgress, notify.Authority{}, denied,
			[]string{"You can appeal this decision"}, nil},
		// 59.1-577(C): a denied appeal gives the Attorney General, not another appeal.
		{"Virginia appeal denied: the Attorney General", "US-VA", request.Appeal, request.InProgress, notify.Authority{}, denied,
			[]string{"uphold our decision", "complaint to the Attorney General: Office of the Attorney General of Virginia, https://www.oag.state.va.us/"},
			[]string{"You can appeal"}},
		// The CCPA has no appeal; an unverifiable delete is offered as an
		// opt-out of sale and sharing, on the form at the request's law.
		{"California: unverified delete offers the opt-out", "US-CA", request.Delete, request.PendingVerification, notify.Authority{}, expired,
			[]string{"You can still ask us not to sell or share it", baseURL + "/?jurisdiction=US-CA"},
			[]string{"appeal"}},
		{"California: unverified access answered as categories", "US-CA", request.Access, request.PendingVerification, notify.Authority{}, expired,
			[]string{"categories of personal information"}, []string{"appeal"}},
		{"California denial: no appeal", "US-CA", request.Correct, request.InProgress, notify.Authority{}, denied,
			[]string{"250 words", "California Privacy Protection Agency"}, []string{"appeal"}},
		{"Utah denial: no appeal", "US-UT", request.Access, request.InProgress, notify.Authority{}, denied,
			[]string{"Utah Division of Consumer Protection"}, []string{"appeal"}},
		// CCPA Regs §7021(a): the acknowledgement describes verification and handling.
		{"California acknowledgement", "US-CA", request.Access, request.Received, notify.Authority{}, acknowledged,
			[]string{"How we check that the request is yours", "How we handle your request"}, nil},
		{"EU acknowledgement carries nothing more", "EU", request.Access, request.Received, notify.Authority{}, acknowledged,
			nil, []string{"How we check"}},
		// PIPEDA s.8(4): the extension notice tells of the right to complain.
		{"Canada extension: the Privacy Commissioner", "CA-FED", request.Access, request.InProgress, notify.Authority{}, extended,
			[]string{"Office of the Privacy Commissioner of Canada (https://www.priv.gc.ca)"}, nil},
		{"Quebec denial: the Commission, 30 days, help", "CA-QC", request.Access, request.InProgress, notify.Authority{}, denied,
			[]string{"P-39.1", "within 30 days", "cai.gouv.qc.ca", "help to understand"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.steps.LeadAuthority = tt.lead
			r := e.seed(t, tt.typ, tt.status, withDeadlines(tt.jurisdiction, tt.typ))
			// The env's clock is the receipt: an extension is in time.
			if err := tt.act(e, r); err != nil {
				t.Fatal(err)
			}
			m := e.mail.sent[len(e.mail.sent)-1]
			for _, want := range tt.want {
				if !strings.Contains(m.Text, want) {
					t.Errorf("lacks %q:\n%s", want, m.Text)
				}
			}
			for _, not := range tt.not {
				if strings.Contains(strings.ToLower(m.Text), strings.ToLower(not)) {
					t.Errorf("has %q:\n%s", not, m.Text)
				}
			}
		})
	}
}

func TestMetricsOfTheLifecycle(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	r := e.seed(t, request.Delete, request.Verified, withDeadlines("EU", request.Delete))
	if _, err := e.steps.Acknowledge(ctx, RequestRef{RequestID: r.ID}); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second as after a redrive: verified is counted once
		if _, err := e.steps.ResolveIdentities(ctx, RequestRef{RequestID: r.ID}); err != nil {
			t.Fatal(err)
		}
	}
	if e.metrics.counts["RequestsVerified"] != 1 {
		t.Fatalf("verified counted %d times", e.metrics.counts["RequestsVerified"])
	}
	e.clock.Advance(10 * 24 * time.Hour)
	if err := e.steps.CloseRequest(ctx, CloseTask{RequestID: r.ID, Outcome: CloseCompleted}); err != nil {
		t.Fatal(err)
	}
	if e.metrics.counts["RequestsReceived"] != 1 || e.metrics.counts["RequestsCompleted"] != 1 {
		t.Fatalf("counts %v", e.metrics.counts)
	}
	// Received 2025-03-14 09:30 UTC, closed ten days later; due 2025-04-14,
	// whose end in Brussels is 21:59:59 UTC: 21 days, 12 h 29 min 59 s left.
	if got := e.metrics.days["DaysToComplete"]; got != 10 {
		t.Fatalf("days to complete %v", got)
	}
	if got := e.metrics.days["HeadroomDays"]; got < 21.52 || got > 21.53 {
		t.Fatalf("headroom %v", got)
	}
}

// TestCloseRacingTheWatch: when the deadline watch saves the request between
// a step's read and its save, the step's error is transient, so Step
// Functions retries it, and the retry succeeds on a fresh read.
func TestCloseRacingTheWatch(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	r := e.seed(t, request.Access, request.InProgress, withDeadlines("EU", request.Access))
	stale, _ := e.store.Get(ctx, r.ID)
	if _, err := e.steps.CheckDeadline(ctx, DeadlineTask{RequestID: r.ID, Phase: PhaseNotice}); err != nil {
		t.Fatal(err)
	}
	err := e.store.Save(ctx, stale, request.Event{})
	if _, ok := TaskError(err).(*TransientError); !ok {
		t.Fatalf("a lost race maps to %T, want *TransientError", TaskError(err))
	}
	if err := e.steps.CloseRequest(ctx, CloseTask{RequestID: r.ID, Outcome: CloseFailed}); err != nil {
		t.Fatal(err)
	}
}

// closingWaits keeps watch tokens in a store, running closed first: a
// close that lands between the watch's read and its token.
type closingWaits struct {
	WatchWaits
	closed func()
}

func (w closingWaits) SetWatchWait(ctx context.Context, id, token string) error {
	w.closed()
	return w.WatchWaits.SetWatchWait(ctx, id, token)
}
