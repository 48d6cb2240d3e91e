package portal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/privacy-pipeline/dsr/internal/policy"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/clock"
	"github.com/privacy-pipeline/dsr/internal/memstore"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/sfnflow"
	"github.com/privacy-pipeline/dsr/internal/workflow"
)

// watchRecorder is the deadline watch: it records what it was started with.
type watchRecorder struct{ started map[string]sfnflow.WatchInput }

func (w *watchRecorder) Start(_ context.Context, in sfnflow.WatchInput) error {
	w.started[in.RequestID] = in
	return nil
}

func (w *watchRecorder) End(context.Context, string) error { return nil }

func (w *watchRecorder) noticeAt(t *testing.T, id string) time.Time {
	return parseStamp(t, w.started[id].NoticeAt)
}

func (w *watchRecorder) askAt(t *testing.T, id string) time.Time {
	return parseStamp(t, w.started[id].AskAt)
}

func parseStamp(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("watch input %q: %v", s, err)
	}
	return at
}

type noMetrics struct{}

func (noMetrics) Count(string, *request.Request)         {}
func (noMetrics) Days(string, float64, *request.Request) {}

// TestJoinedStatusFollowsALoneOne: whoever holds the status link of a
// request that joined another sees, field by field and at every moment, what
// a lone request made at the same time shows: received until the workflow
// starts; then waiting for confirmation, moved by wrong links as a lone one
// is, until five lock it; through the deadline watch's question and notice
// point, which extend neither (nothing is decided for an unconfirmed
// request); expired when a lone one's confirmation period ends; or, where no
// confirmation is asked, completed. The lone request goes through the real
// steps, driven as the state machines would drive them, on a fake clock.
func TestJoinedStatusFollowsALoneOne(t *testing.T) {
	tests := []struct {
		name, typ, jurisdiction string
		scale                   clock.Scale
	}{
		{"the notice point passes while it waits", "access", "EU", 1},
		{"the notice point passes while it waits, a day a second", "access", "EU", 86400},
		{"expires before the watch looks", "access", "US-CA", 1},
		{"a dry run", "delete", "UK", 1},
		{"no confirmation asked", "opt_out", "US-CA", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv()
			e.portal.TimeScale = tt.scale
			watch := &watchRecorder{started: map[string]sfnflow.WatchInput{}}
			steps := &workflow.Steps{
				Store: e.store, Slots: e.store, Mailer: e.mailer, Clock: e.clock, Watch: watch, WatchWaits: e.store, Metrics: noMetrics{},
				Suppressions: memstore.NewSuppressions(), Scale: tt.scale, NoticeLead: workflow.DefaultNoticeLead, DecisionLead: (*policy.Policy)(nil).DecisionLead(),
				VerifyLinkTTL: e.portal.VerificationPeriod, BaseURL: baseURL,
			}
			submission := func(email string) request.Submission {
				return request.Submission{Type: tt.typ, Email: email, Jurisdiction: tt.jurisdiction, DryRun: tt.typ == "delete"}
			}
			submit := func(email string) (string, string) {
				rc, err := e.portal.Submit(ctx, submission(email))
				if err != nil {
					t.Fatal(err)
				}
				return rc.ID, statusToken(t, rc)
			}

			// The joiner's address has an open request being carried out.
			first, _ := submit("joiner@example.com")
			if res, err := steps.Acknowledge(ctx, workflow.RequestRef{RequestID: first}); err != nil || res.Joined {
				t.Fatalf("first: %+v, %v", res, err)
			}
			if f, _ := e.store.stored(first); f.NeedsVerification() {
				f.Status = request.Verified
				e.store.put(f)
			}
			e.clock.Advance(3 * day)

			lone, loneToken := submit("lone@example.com")
			joined, joinedToken := submit("joiner@example.com")
			compare := func(when string) {
				t.Helper()
				l, errL := e.portal.Status(ctx, lone, loneToken)
				j, errJ := e.portal.Status(ctx, joined, joinedToken)
				if errL != nil || errJ != nil {
					t.Fatalf("%s: %v, %v", when, errL, errJ)
				}
				a, b := visible(t, l), visible(t, j)
				for _, k := range slices.Sorted(func(yield func(string) bool) {
					for k := range a {
						yield(k)
					}
				}) {
					if !reflect.DeepEqual(a[k], b[k]) {
						t.Errorf("%s: %s: lone %v, joined %v", when, k, a[k], b[k])
					}
				}
				if len(a) != len(b) {
					t.Errorf("%s: lone shows %d fields, joined %d", when, len(a), len(b))
				}
			}
			attempt := func(when string) {
				t.Helper()
				errL := e.portal.ConfirmVerification(ctx, lone, "a-link-that-was-never-sent", Details{})
				errJ := e.portal.ConfirmVerification(ctx, joined, "a-link-that-was-never-sent", Details{})
				if fmt.Sprint(errL) != fmt.Sprint(errJ) {
					t.Errorf("%s: a wrong link: lone %v, joined %v", when, errL, errJ)
				}
				compare(when)
			}
			compare("received")
			e.clock.Advance(2 * time.Second)
			compare("before the workflows start")

			// Both workflows start: the lone one asks for confirmation (or
			// records the choice), the other one joins the first.
			started := e.clock.Now()
			if res, err := steps.Acknowledge(ctx, workflow.RequestRef{RequestID: lone}); err != nil || res.Joined {
				t.Fatalf("lone: %+v, %v", res, err)
			}
			if res, err := steps.Acknowledge(ctx, workflow.RequestRef{RequestID: joined}); err != nil || !res.Joined {
				t.Fatalf("joiner: %+v, %v", res, err)
			}
			in := e.workflow.started(t, lone)
			if in.SkipVerification {
				if err := steps.RecordSuppression(ctx, workflow.RequestRef{RequestID: lone}); err != nil {
					t.Fatal(err)
				}
				if err := steps.CloseRequest(ctx, workflow.CloseTask{RequestID: lone, Outcome: workflow.CloseCompleted}); err != nil {
					t.Fatal(err)
				}
				compare("completed")
				e.clock.Advance(time.Hour)
				attempt("a wrong link after completion")
				e.clock.Advance(60 * day)
				compare("long after")
				return
			}
			if err := steps.StartVerification(ctx, workflow.VerificationTask{RequestID: lone, TaskToken: "lone-task"}); err != nil {
				t.Fatal(err)
			}
			compare("waiting for confirmation")

			// The lone workflow's waits: the watch's first look, and the end
			// of the confirmation period (a whole number of seconds).
			notice := watch.noticeAt(t, lone)
			expiry := started.Add(time.Duration(in.VerificationTimeoutSeconds) * time.Second)
			sooner := notice
			if expiry.Before(sooner) {
				sooner = expiry
			}
			step := sooner.Sub(started) / 8
			for i := range request.MaxVerifyFailures + 1 {
				e.clock.Advance(step)
				attempt(fmt.Sprintf("wrong link %d", i+1))
			}
			type event struct {
				at  time.Time
				run func()
			}
			events := []event{
				{watch.askAt(t, lone), func() {
					// Unconfirmed or expired: nothing to decide, or the watch ends.
					_, err := steps.CheckDeadline(ctx, workflow.DeadlineTask{RequestID: lone, Phase: workflow.PhaseAsk, TaskToken: "ask-token"})
					if err != nil && !errors.Is(err, request.ErrClosed) {
						t.Fatalf("ask: %v", err)
					}
				}},
				{notice, func() {
					if _, err := steps.CheckDeadline(ctx, workflow.DeadlineTask{RequestID: lone, Phase: workflow.PhaseNotice}); err != nil {
						t.Fatal(err)
					}
				}},
				{expiry, func() {
					if err := steps.CloseRequest(ctx, workflow.CloseTask{RequestID: lone, Outcome: workflow.CloseExpired}); err != nil {
						t.Fatal(err)
					}
				}},
			}
			slices.SortStableFunc(events, func(a, b event) int { return a.at.Compare(b.at) })
			for i, ev := range events {
				e.clock.Advance(ev.at.Add(-time.Second).Sub(e.clock.Now()))
				compare(fmt.Sprintf("a second before event %d", i))
				e.clock.Advance(time.Second)
				ev.run()
				compare(fmt.Sprintf("at event %d", i))
			}
			e.clock.Advance(time.Hour)
			attempt("a wrong link after expiry")
			e.clock.Advance(60 * day)
			compare("long after")
		})
	}
}

// visible is a status answer as its holder reads it, without the id.
func visible(t *testing.T, s Status) map[string]any {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "id")
	return m
}
