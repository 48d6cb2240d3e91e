package portal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/clock"
	"github.com/privacy-pipeline/dsr/internal/i18n"
	"github.com/privacy-pipeline/dsr/internal/memstore"
	"github.com/privacy-pipeline/dsr/internal/notify"
	"github.com/privacy-pipeline/dsr/internal/ratelimit"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/secret"
	"github.com/privacy-pipeline/dsr/internal/statute"
)

const (
	baseURL    = "https://dsr.example"
	subject    = "a@example.com"
	presignTTL = 5 * time.Minute
	day        = 24 * time.Hour
)

type env struct {
	portal    *Portal
	store     *fakeStore
	workflow  *fakeWorkflow
	presigner *fakePresigner
	mailer    *fakeMailer
	clock     *clock.Fake
}

var rules = func() *statute.Rules {
	r, err := statute.Load()
	if err != nil {
		panic(err)
	}
	return r
}()

func newEnv() *env {
	e := &env{
		store:     newFakeStore(),
		workflow:  &fakeWorkflow{},
		presigner: &fakePresigner{},
		mailer:    &fakeMailer{},
		clock:     clock.NewFake(time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)),
	}
	e.portal = &Portal{
		Store:              e.store,
		Workflow:           e.workflow,
		Presigner:          e.presigner,
		Mailer:             e.mailer,
		Clock:              e.clock,
		BaseURL:            baseURL,
		VerificationPeriod: 30 * day,
		TimeScale:          1,
		Statute:            rules,
		PresignTTL:         presignTTL,
		Log:                slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	return e
}

var validSubmission = request.Submission{Type: "access", Email: " A@Example.com ", Jurisdiction: "eu"}

// submit submits a valid request and returns its id and status token.
func (e *env) submit(t *testing.T) (id, token string) {
	t.Helper()
	rc, err := e.portal.Submit(context.Background(), validSubmission)
	if err != nil {
		t.Fatal(err)
	}
	return rc.ID, statusToken(t, rc)
}

func statusToken(t *testing.T, rc Receipt) string {
	t.Helper()
	prefix := baseURL + "/v1/requests/" + rc.ID + "?token="
	if !strings.HasPrefix(rc.StatusURL, prefix) {
		t.Fatalf("status url %q does not start with %q", rc.StatusURL, prefix)
	}
	u, err := url.Parse(rc.StatusURL)
	if err != nil {
		t.Fatal(err)
	}
	tok := u.Query().Get("token")
	if tok == "" {
		t.Fatal("status url has no token")
	}
	return tok
}

// seed stores a request in status st, edited by edit.
func (e *env) seed(st request.Status, edit func(*request.Request)) request.Request {
	r := request.New(request.Submission{Type: "access", Email: subject, Jurisdiction: "EU"}, e.clock.Now())
	r.Status = st
	if edit != nil {
		edit(r)
	}
	e.store.put(*r)
	got, _ := e.store.stored(r.ID)
	return got
}

func wantNoSuchLink(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	if apperr.KindOf(err) != apperr.NotFound || err.Error() != errNoSuchLink.Error() {
		t.Fatalf("error = %v, want the no-such-link error", err)
	}
}

func TestSubmit(t *testing.T) {
	e := newEnv()
	rc, err := e.portal.Submit(context.Background(), validSubmission)
	if err != nil {
		t.Fatal(err)
	}
	if !request.ValidID(rc.ID) {
		t.Errorf("receipt id %q is not a request id", rc.ID)
	}
	if rc.Status != string(request.Received) {
		t.Errorf("receipt status = %q", rc.Status)
	}
	tok := statusToken(t, rc)
	r, ok := e.store.stored(rc.ID)
	if !ok {
		t.Fatal("request not stored")
	}
	if !secret.Matches(tok, r.StatusTokenHash) {
		t.Error("the status token does not match the stored hash")
	}
	if r.Email != subject || r.Jurisdiction != "EU" || r.Type != request.Access || r.Status != request.Received || r.Language != i18n.English {
		t.Errorf("stored request = %s %s %s %s, email normalized: %v", r.Type, r.Jurisdiction, r.Status, r.Language, r.Email == subject)
	}
	if r.NeedsOperator {
		t.Error("flagged for an operator")
	}
	if len(e.workflow.starts) != 1 {
		t.Fatalf("%d workflows started, want 1", len(e.workflow.starts))
	}
	in := e.workflow.starts[0]
	if in.RequestID != rc.ID || in.Type != "access" || in.Jurisdiction != "EU" || in.VerificationTimeoutSeconds != 2550600 {
		t.Errorf("workflow input = %+v", in)
	}
	b, _ := json.Marshal(in)
	if strings.Contains(strings.ToLower(string(b)), "example.com") {
		t.Error("the workflow input holds the email")
	}
	if evs := e.store.eventsOf(rc.ID); len(evs) != 1 || evs[0].Action != "received" || evs[0].Actor != "subject" {
		t.Errorf("events = %+v", evs)
	}
}

// TestSubmitRecordsLanguage: the language chosen at submission is kept with the
// request, for every later mail.
func TestSubmitRecordsLanguage(t *testing.T) {
	e := newEnv()
	in := validSubmission
	in.Language = "fi-FI"
	rc, err := e.portal.Submit(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := e.store.stored(rc.ID); r.Language != i18n.Finnish {
		t.Errorf("language = %q, want fi", r.Language)
	}
}

// TestOffered: the form offers the types the pipeline carries out that the
// law gives, and says which are verified by mail; a correction only where
// the registry names fields to correct, and with them.
func TestOffered(t *testing.T) {
	e := newEnv()
	e.portal.Statute = withholding{rules, "US-IA", "delete"}
	o := func(typ request.Type, verified bool) Offer { return Offer{Type: typ, Verification: verified} }
	tests := []struct {
		jurisdiction string
		correctable  []string
		want         []Offer
	}{
		{"EU", nil, []Offer{o(request.Access, true), o(request.Portability, true), o(request.Delete, true),
			o(request.OptOut, true), o(request.Limit, true), o(request.Restrict, true), o(request.Object, true)}},
		// Iowa's law gives an appeal; the GDPR and the CCPA give none.
		{"US-IA", nil, []Offer{o(request.Access, true), o(request.Portability, true),
			o(request.OptOut, true), o(request.Limit, true), o(request.Restrict, true), o(request.Object, true), o(request.Appeal, true)}},
		// The CCPA forbids verifying opt-outs and limits.
		{"US-CA", nil, []Offer{o(request.Access, true), o(request.Portability, true), o(request.Delete, true),
			o(request.OptOut, false), o(request.Limit, false), o(request.Restrict, true), o(request.Object, true)}},
		{"XX", nil, nil},
		// Iowa's law gives no right to correction: fields to correct change nothing.
		{"US-IA", []string{"name"}, []Offer{o(request.Access, true), o(request.Portability, true),
			o(request.OptOut, true), o(request.Limit, true), o(request.Restrict, true), o(request.Object, true), o(request.Appeal, true)}},
	}
	for _, tt := range tests {
		e.portal.Correctable = tt.correctable
		if got := e.portal.Offered(tt.jurisdiction); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Offered(%s) = %v, want %v", tt.jurisdiction, got, tt.want)
		}
	}
	e.portal.Correctable = []string{"name", "phone"}
	var correct *Offer
	for _, offer := range e.portal.Offered("EU") {
		if offer.Type == request.Correct {
			correct = &offer
		}
	}
	if correct == nil || !correct.Verification || !slices.Equal(correct.Fields, []string{"name", "phone"}) {
		t.Fatalf("correction offered %+v, want it verified, with the fields to correct", correct)
	}
}

// TestSubmitByMail: a request made from a mail keeps the mail's key (to
// delete it at the close) and its audit log says how it came and what SES
// said of the sender; an operator who made it from the inbox is named.
func TestSubmitByMail(t *testing.T) {
	const key = "inbound/6n4thuhcbhpfiuf25gshf70rss364fuejrvmqko1"
	tests := []struct {
		operator  string
		wantActor string
	}{
		{"", "subject"},
		{"alice", "operator:alice"},
	}
	for _, tt := range tests {
		e := newEnv()
		in := validSubmission
		in.Mail = &request.MailOrigin{Key: key, Verdicts: "spf=FAIL dkim=FAIL dmarc=FAIL spam=PASS virus=PASS", Operator: tt.operator}
		rc, err := e.portal.Submit(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		r, _ := e.store.stored(rc.ID)
		if r.Mail.Key != key || r.Email != subject {
			t.Fatalf("mail key %q, email %q", r.Mail.Key, r.Email)
		}
		evs := e.store.eventsOf(rc.ID)
		if len(evs) != 1 || evs[0].Actor != tt.wantActor || evs[0].Note != "channel=email "+in.Mail.Verdicts {
			t.Fatalf("events %+v", evs)
		}
		if len(e.workflow.starts) != 1 {
			t.Fatal("no workflow: a request by mail is verified like any other")
		}
	}
}

// TestSubmitAMailOfTwoRequests: a mail that asks for a copy and then an
// erasure makes two requests, each under an id of its own and once however
// often it is retried, counted once against the address's limit; the
// erasure's workflow waits for the copy.
func TestSubmitAMailOfTwoRequests(t *testing.T) {
	const key = "inbound/6n4thuhcbhpfiuf25gshf70rss364fuejrvmqko1"
	ctx := context.Background()
	arrived := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	e := newEnv()
	e.portal.IdentityLimit = &ratelimit.Limiter{Name: "identity", Rule: ratelimit.Rule{Limit: 1, Window: day}, Counter: memstore.NewCounters(), Clock: e.clock}
	var ids []string
	for range 2 { // the second round is a retry of the whole mail
		ids = nil
		for part, typ := range []string{"access", "delete"} {
			in := validSubmission
			in.Type = typ
			in.Mail = &request.MailOrigin{Key: key, ReceivedAt: arrived, Part: part, Parts: 2}
			rc, err := e.portal.Submit(ctx, in)
			if err != nil {
				t.Fatalf("part %d: %v", part, err)
			}
			ids = append(ids, rc.ID)
		}
	}
	// The fake starts a stored request's workflow again on a retry; Step
	// Functions refuses a second execution of the same name.
	if ids[0] == ids[1] || len(e.store.All()) != 2 || len(e.workflow.starts) < 2 {
		t.Fatalf("ids %v, %d stored, %d workflows started", ids, len(e.store.All()), len(e.workflow.starts))
	}
	access, del := e.workflow.starts[0], e.workflow.starts[1]
	if access.WaitForSiblings || !del.WaitForSiblings || del.SiblingPollSeconds != int(SiblingPoll.Seconds()) || del.RequestID != ids[1] {
		t.Fatalf("inputs %+v and %+v: only the erasure waits", access, del)
	}
	if r, _ := e.store.stored(ids[1]); !slices.Equal(r.Mail.Siblings, ids[:1]) || r.Mail.Key != key {
		t.Fatalf("the erasure knows %v of mail %q", r.Mail.Siblings, r.Mail.Key)
	}
}

// TestSubmitCorrectionLetterWithoutValues: a correction letter whose new
// values were not read is made all the same, and its workflow waits for an
// operator to give them; a form must give them.
func TestSubmitCorrectionLetterWithoutValues(t *testing.T) {
	e := newEnv()
	e.portal.Correctable = []string{"name"}
	in := validSubmission
	in.Type = "correct"
	if _, err := e.portal.Submit(context.Background(), in); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("a form without values: %v", err)
	}
	in.Mail = &request.MailOrigin{Key: "inbound/6n4thuhcbhpfiuf25gshf70rss364fuejrvmqko1"}
	if _, err := e.portal.Submit(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if len(e.workflow.starts) != 1 || !e.workflow.starts[0].OperatorReview {
		t.Fatalf("starts %+v: want the operator's review", e.workflow.starts)
	}
}

// TestSubmitByMailOnce: the handling of a mail retried after its request was
// stored (the mail's label failed, the function was cut off) makes no second
// request and counts nothing again: the id is the mail's. A workflow whose
// first start failed is started then, and the operator's flag cleared.
func TestSubmitByMailOnce(t *testing.T) {
	const key = "inbound/6n4thuhcbhpfiuf25gshf70rss364fuejrvmqko1"
	ctx := context.Background()
	arrived := time.Date(2025, 3, 13, 23, 59, 0, 0, time.UTC)
	e := newEnv()
	// One request a day for an address: a second count would refuse the retry.
	e.portal.IdentityLimit = &ratelimit.Limiter{Name: "identity", Rule: ratelimit.Rule{Limit: 1, Window: day}, Counter: memstore.NewCounters(), Clock: e.clock}
	in := validSubmission
	in.Mail = &request.MailOrigin{Key: key, Verdicts: "spf=PASS", ReceivedAt: arrived}
	e.workflow.startErr = apperr.E(apperr.Unavailable, "The workflow service is unavailable.")
	if _, err := e.portal.Submit(ctx, in); !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("first try: %v, want the workflow's outage", err)
	}
	id := request.MailRequestID(key, 0, arrived, e.clock.Now())
	if r, ok := e.store.stored(id); !ok || !r.NeedsOperator || !strings.HasPrefix(id, "dsr-20250313-") {
		t.Fatalf("stored %s %+v: want the request kept for an operator, dated by the mail's arrival", id, r)
	}

	e.workflow.startErr = nil
	e.clock.Advance(time.Minute)
	again, err := e.portal.Submit(ctx, in)
	if err != nil || again.ID != id || again.StatusURL != "" {
		t.Fatalf("again: %+v, %v; want the same request, without a status link", again, err)
	}
	if r, _ := e.store.stored(id); r.NeedsOperator || len(e.workflow.starts) != 1 || e.workflow.starts[0].RequestID != id {
		t.Fatalf("needs operator %v, starts %+v: want the workflow started once and the flag cleared", r.NeedsOperator, e.workflow.starts)
	}
	evs := e.store.eventsOf(id)
	if last := evs[len(evs)-1]; last.Action != "workflow_started" {
		t.Fatalf("last event %+v", last)
	}
	// Once it has begun, a retry starts nothing.
	r, _ := e.store.stored(id)
	r.Status = request.PendingVerification
	e.store.put(r)
	if _, err := e.portal.Submit(ctx, in); err != nil || len(e.workflow.starts) != 1 {
		t.Fatalf("retry after the start: %v, %d starts", err, len(e.workflow.starts))
	}
	// The same mail cannot make a request of another type.
	other := in
	other.Type = "delete"
	if _, err := e.portal.Submit(ctx, other); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("another type from the same mail: %v, want Conflict", err)
	}
}

// TestMailedRequestDatesFromArrival: the law's time runs from the mail's
// arrival, not from when (after an operator read it, say) it became a
// request.
func TestMailedRequestDatesFromArrival(t *testing.T) {
	e := newEnv()
	in := validSubmission
	arrived := e.clock.Now().Add(-72 * time.Hour)
	in.Mail = &request.MailOrigin{Key: "inbound/arrived3daysago", ReceivedAt: arrived}
	rc, err := e.portal.Submit(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := e.store.stored(rc.ID)
	want, err := rules.Compute(statute.Input{Jurisdiction: "EU", Type: "access", Received: arrived})
	if err != nil {
		t.Fatal(err)
	}
	if !r.ReceivedAt.Equal(arrived) || r.Deadlines.Due != want.Due || !r.UpdatedAt.Equal(e.clock.Now()) {
		t.Fatalf("received %s, due %v, updated %s; want %s, %v, now", r.ReceivedAt, r.Deadlines.Due, r.UpdatedAt, arrived, want.Due)
	}
	// A clock behind the mail's own date is not believed.
	in.Mail = &request.MailOrigin{Key: "inbound/fromthefuture", ReceivedAt: e.clock.Now().Add(time.Hour)}
	rc, _ = e.portal.Submit(context.Background(), in)
	if r, _ := e.store.stored(rc.ID); !r.ReceivedAt.Equal(e.clock.Now()) {
		t.Fatalf("received %s, want now", r.ReceivedAt)
	}
}

// withholding is the statute with one right taken from one law.
type withholding struct {
	*statute.Rules
	jurisdiction, typ string
}

func (w withholding) Grants(jurisdiction, typ string) (bool, bool) {
	if jurisdiction == w.jurisdiction && typ == w.typ {
		return false, false
	}
	return w.Rules.Grants(jurisdiction, typ)
}

// TestSubmitVerificationTimeout: the verification wait is the configured
// period, but ends the day before the due date; the clock is at 2025-03-14
// 09:30 UTC and an EU request is due 2025-04-14, so the wait may last until
// 2025-04-13 00:00 Brussels (22:00 UTC the day before): 2550600 seconds.
func TestSubmitVerificationTimeout(t *testing.T) {
	tests := []struct {
		name   string
		period time.Duration
		scale  clock.Scale
		want   int
	}{
		{"10 days in development", 10 * day, 86400, 10},
		{"10 days in production", 10 * day, 1, 864000},
		{"no scale means real time", 10 * day, 0, 864000},
		{"negative scale means real time", 10 * day, -5, 864000},
		{"a period beyond the due date ends the day before it", 60 * day, 1, 2550600},
		{"the same, scaled and rounded up", 60 * day, 86400, 30},
		{"part seconds round up", 36 * time.Hour, 86400, 2},
		{"a short period is at least an hour", time.Minute, 1, 3600},
		{"and at least a second when scaled", time.Minute, 86400, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv()
			e.portal.VerificationPeriod, e.portal.TimeScale = tt.period, tt.scale
			if _, err := e.portal.Submit(context.Background(), validSubmission); err != nil {
				t.Fatal(err)
			}
			if len(e.workflow.starts) != 1 {
				t.Fatalf("%d workflows started", len(e.workflow.starts))
			}
			if got := e.workflow.starts[0].VerificationTimeoutSeconds; got != tt.want {
				t.Errorf("timeout = %d s, want %d", got, tt.want)
			}
		})
	}
}

// TestSubmitDeadlinesAndReview: the request records its statutory dates, and
// an operator review, where configured, may last until the extended due date
// (2025-06-14 is a Saturday: Monday 2025-06-16, 23:59:59 Brussels).
func TestSubmitDeadlinesAndReview(t *testing.T) {
	e := newEnv()
	e.portal.ReviewTypes = []request.Type{request.Access}
	rc, err := e.portal.Submit(context.Background(), validSubmission)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := e.store.stored(rc.ID)
	if r.Deadlines.Due.String() != "2025-04-14" || r.Deadlines.ExtendedDue.String() != "2025-06-16" {
		t.Fatalf("deadlines %+v", r.Deadlines)
	}
	in := e.workflow.starts[0]
	if !in.OperatorReview || in.ReviewTimeoutSeconds != 8166599 {
		t.Fatalf("review %v for %d s", in.OperatorReview, in.ReviewTimeoutSeconds)
	}
	e.portal.ReviewTypes = []request.Type{request.Delete}
	if _, err := e.portal.Submit(context.Background(), validSubmission); err != nil {
		t.Fatal(err)
	}
	if e.workflow.starts[1].OperatorReview {
		t.Fatal("an access request is reviewed where only deletes are")
	}
}

func TestSubmitInvalid(t *testing.T) {
	tests := []struct {
		name   string
		in     request.Submission
		fields []string
	}{
		{"everything wrong", request.Submission{Type: "sell", Email: "nope", Jurisdiction: "XX"}, []string{"type", "email", "jurisdiction"}},
		{"empty", request.Submission{}, []string{"type", "email", "jurisdiction"}},
		{"bad email only", request.Submission{Type: "delete", Email: "Someone <a@example.com>", Jurisdiction: "UK"}, []string{"email"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv()
			rc, err := e.portal.Submit(context.Background(), tt.in)
			if !apperr.Is(err, apperr.Invalid) {
				t.Fatalf("error = %v, want invalid", err)
			}
			var ae *apperr.Error
			if !errors.As(err, &ae) {
				t.Fatal("not an apperr")
			}
			var fields []string
			for _, f := range ae.Fields {
				fields = append(fields, f.Field)
			}
			if !slices.Equal(fields, tt.fields) {
				t.Errorf("fields = %v, want %v", fields, tt.fields)
			}
			if rc != (Receipt{}) {
				t.Errorf("receipt = %+v", rc)
			}
			if len(e.store.All()) != 0 {
				t.Errorf("%d requests stored", len(e.store.All()))
			}
			if len(e.workflow.starts) != 0 {
				t.Errorf("%d workflows started", len(e.workflow.starts))
			}
		})
	}
}

func TestSubmitWorkflowFails(t *testing.T) {
	e := newEnv()
	startErr := apperr.E(apperr.Unavailable, "The workflow service is unavailable.")
	e.workflow.startErr = startErr
	rc, err := e.portal.Submit(context.Background(), validSubmission)
	if !errors.Is(err, startErr) {
		t.Fatalf("error = %v, want the workflow's error", err)
	}
	if rc != (Receipt{}) {
		t.Errorf("receipt = %+v, want none", rc)
	}
	if len(e.store.All()) != 1 {
		t.Fatalf("%d requests stored, want 1", len(e.store.All()))
	}
	for id, r := range e.store.All() {
		if !r.NeedsOperator {
			t.Error("request not flagged for an operator")
		}
		if r.Status != request.Received {
			t.Errorf("status = %s", r.Status)
		}
		evs := e.store.eventsOf(id)
		if len(evs) != 2 || evs[1].Action != "workflow_start_failed" {
			t.Errorf("events = %+v", evs)
		}
	}
}

// TestSubmitStartsTheWorkflowAfterTheCallerLeft: once the request is stored,
// its workflow is started even if the caller's deadline has run out (the
// invocation timed out, the client went away), on a context of its own
// with a short timeout.
func TestSubmitStartsTheWorkflowAfterTheCallerLeft(t *testing.T) {
	tests := []struct {
		name   string
		caller func() (context.Context, context.CancelFunc)
	}{
		{"cancelled", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}},
		{"past its deadline", func() (context.Context, context.CancelFunc) {
			return context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv()
			ctx, cancel := tt.caller()
			defer cancel()
			before := time.Now()
			rc, err := e.portal.Submit(ctx, validSubmission)
			if err != nil {
				t.Fatal(err)
			}
			if len(e.workflow.starts) != 1 || e.workflow.starts[0].RequestID != rc.ID {
				t.Fatalf("started %+v", e.workflow.starts)
			}
			dl := e.workflow.deadlines[0]
			if dl.IsZero() || dl.Before(before) || dl.After(time.Now().Add(StartTimeout)) {
				t.Errorf("the start had until %v; want its own deadline within %v", dl, StartTimeout)
			}
			if r, _ := e.store.stored(rc.ID); r.NeedsOperator {
				t.Error("flagged for an operator")
			}
		})
	}
}

func TestStatus(t *testing.T) {
	e := newEnv()
	id, tok := e.submit(t)
	ctx := context.Background()

	st, err := e.portal.Status(ctx, id, tok)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := e.store.stored(id)
	want := Status{ID: id, Type: "access", Status: "received", Jurisdiction: "EU", ReceivedAt: r.ReceivedAt, UpdatedAt: r.UpdatedAt, Due: "2025-04-14"}
	if st != want {
		t.Errorf("status = %+v, want %+v", st, want)
	}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	if js := strings.ToLower(string(b)); strings.Contains(js, "example.com") || strings.Contains(js, "email") {
		t.Errorf("status JSON exposes the email: %s", b)
	}

	var errs []error
	for _, c := range []struct{ name, id, token string }{
		{"wrong token", id, secret.NewToken()},
		{"unknown id", request.NewID(e.clock.Now()), tok},
		{"malformed id", "dsr-../../etc", tok},
		{"empty token", id, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			st, err := e.portal.Status(ctx, c.id, c.token)
			wantNoSuchLink(t, err)
			if st != (Status{}) {
				t.Errorf("status = %+v", st)
			}
			errs = append(errs, err)
		})
	}
	for _, err := range errs[1:] {
		if apperr.KindOf(err) != apperr.KindOf(errs[0]) || err.Error() != errs[0].Error() {
			t.Errorf("errors differ: %v vs %v", err, errs[0])
		}
	}
}

func TestStatusCompleted(t *testing.T) {
	e := newEnv()
	done := e.clock.Now().Add(3 * day)
	r := e.seed(request.Completed, func(r *request.Request) {
		r.StatusTokenHash = secret.Hash("status-token")
		r.CompletedAt = done
	})
	st, err := e.portal.Status(context.Background(), r.ID, "status-token")
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != "completed" || st.CompletedAt == nil || !st.CompletedAt.Equal(done) {
		t.Errorf("status = %+v", st)
	}
	// The download token does not authorize the status.
	e2 := newEnv()
	r2 := e2.seed(request.Completed, func(r *request.Request) { r.Delivery.TokenHash = secret.Hash("dl") })
	_, err = e2.portal.Status(context.Background(), r2.ID, "dl")
	wantNoSuchLink(t, err)
}

const (
	verifyToken = "verify-token"
	verifyCode  = "BCDF2345"
)

func pending(r *request.Request) {
	r.Verification.TokenHash = secret.Hash(verifyToken)
	r.Verification.CodeHash = secret.CodeHash(r.ID, verifyCode)
	r.Verification.ExpiresAt = r.ReceivedAt.Add(3 * day)
	r.Verification.TaskToken = "task-token-1"
	r.StatusTokenHash = secret.Hash("status-token")
}

func TestVerification(t *testing.T) {
	e := newEnv()
	r := e.seed(request.PendingVerification, pending)
	ctx := context.Background()

	for range 2 {
		if err := checkErr(e.portal.CheckVerification(ctx, r.ID, verifyToken)); err != nil {
			t.Fatalf("check: %v", err)
		}
	}
	if got, _ := e.store.stored(r.ID); !reflect.DeepEqual(got, r) {
		t.Fatal("checking changed the request")
	}
	if len(e.workflow.resumes) != 0 {
		t.Fatal("checking resumed the workflow")
	}

	e.clock.Advance(time.Hour)
	if err := e.portal.ConfirmVerification(ctx, r.ID, verifyToken, Details{}); err != nil {
		t.Fatalf("confirm: %v", err)
	}
	if !slices.Equal(e.workflow.resumes, []string{"task-token-1"}) {
		t.Errorf("resumed %v, want the stored task token", e.workflow.resumes)
	}
	got, _ := e.store.stored(r.ID)
	if got.Status != request.Verified || got.Verification.TokenHash != "" || got.Verification.CodeHash != "" || !got.UpdatedAt.Equal(e.clock.Now()) {
		t.Errorf("after confirm: status %s, hash kept %v, updated %v", got.Status, got.Verification.TokenHash != "", got.UpdatedAt)
	}
	if evs := e.store.eventsOf(r.ID); len(evs) != 1 || evs[0].Action != "verified" || evs[0].Actor != "subject" || evs[0].Note != "method=email_link" {
		t.Errorf("events = %+v", evs)
	}

	wantNoSuchLink(t, e.portal.ConfirmVerification(ctx, r.ID, verifyToken, Details{}))
	wantNoSuchLink(t, checkErr(e.portal.CheckVerification(ctx, r.ID, verifyToken)))
	if len(e.workflow.resumes) != 1 {
		t.Errorf("resumed %d times", len(e.workflow.resumes))
	}
}

func TestVerificationRefused(t *testing.T) {
	tests := []struct {
		name    string
		status  request.Status
		advance time.Duration
		token   string
		saveErr error
		// counted: a wrong token on a request that still takes one counts
		// towards the lock; anything else leaves the request as it was.
		counted bool
	}{
		{name: "expired", status: request.PendingVerification, advance: 3*day + time.Second, token: verifyToken},
		{name: "expires at the instant", status: request.PendingVerification, advance: 3 * day, token: verifyToken},
		{name: "not pending verification", status: request.Received, token: verifyToken},
		{name: "already closed", status: request.Expired, token: verifyToken},
		{name: "wrong token", status: request.PendingVerification, token: "other-token", counted: true},
		{name: "status token", status: request.PendingVerification, token: "status-token", counted: true},
		{name: "the code as a token", status: request.PendingVerification, token: verifyCode, counted: true},
		{name: "the stored hash as a token", status: request.PendingVerification, token: secret.Hash(verifyToken), counted: true},
		{name: "wrong token on a closed request", status: request.Expired, token: "other-token"},
		{name: "empty token", status: request.PendingVerification, token: ""},
		{name: "lost a race", status: request.PendingVerification, token: verifyToken, saveErr: apperr.E(apperr.Conflict, "changed")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv()
			r := e.seed(tt.status, pending)
			e.clock.Advance(tt.advance)
			e.store.SaveErr = tt.saveErr
			wantNoSuchLink(t, e.portal.ConfirmVerification(context.Background(), r.ID, tt.token, Details{}))
			if tt.saveErr == nil {
				wantNoSuchLink(t, checkErr(e.portal.CheckVerification(context.Background(), r.ID, tt.token)))
			}
			if len(e.workflow.resumes) != 0 {
				t.Error("workflow resumed")
			}
			got, _ := e.store.stored(r.ID)
			if !tt.counted {
				if !reflect.DeepEqual(got, r) {
					t.Error("request changed")
				}
				return
			}
			if got.Verification.Failures != 1 || got.Verification.Locked || got.Status != request.PendingVerification {
				t.Errorf("failures %d, locked %v, status %s", got.Verification.Failures, got.Verification.Locked, got.Status)
			}
			if evs := e.store.eventsOf(r.ID); len(evs) != 1 || evs[0].Action != "verification_failed" || evs[0].Note != "method=email_link failures=1" {
				t.Errorf("events %+v", evs)
			}
		})
	}
}

func TestConfirmCode(t *testing.T) {
	ctx := context.Background()
	for _, typed := range []string{verifyCode, "bcdf-2345", " BCDF 2345 "} {
		t.Run(typed, func(t *testing.T) {
			e := newEnv()
			r := e.seed(request.PendingVerification, pending)
			if err := e.portal.ConfirmCode(ctx, r.ID, typed, Details{}); err != nil {
				t.Fatalf("confirm: %v", err)
			}
			got, _ := e.store.stored(r.ID)
			if got.Status != request.Verified || got.Verification.CodeHash != "" || got.Verification.TokenHash != "" {
				t.Errorf("after confirm: status %s, code hash kept %v, link hash kept %v", got.Status, got.Verification.CodeHash != "", got.Verification.TokenHash != "")
			}
			if evs := e.store.eventsOf(r.ID); len(evs) != 1 || evs[0].Action != "verified" || evs[0].Note != "method=email_code" {
				t.Errorf("events %+v", evs)
			}
			if !slices.Equal(e.workflow.resumes, []string{"task-token-1"}) {
				t.Errorf("resumed %v", e.workflow.resumes)
			}
			// The code works once, and it voided the link.
			wantWrongCode(t, e.portal.ConfirmCode(ctx, r.ID, typed, Details{}))
			wantNoSuchLink(t, e.portal.ConfirmVerification(ctx, r.ID, verifyToken, Details{}))
		})
	}
}

func wantWrongCode(t *testing.T, err error) {
	t.Helper()
	if err != errWrongCode {
		t.Fatalf("error = %v, want the wrong-code error", err)
	}
}

func TestConfirmCodeRefused(t *testing.T) {
	other := request.NewID(time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC))
	tests := []struct {
		name    string
		status  request.Status
		edit    func(*request.Request)
		advance time.Duration
		code    string
		want    error
		counted bool
	}{
		{name: "not a code: too short", status: request.PendingVerification, code: "BCDF234", want: errCodeShape},
		{name: "not a code: letters outside the alphabet", status: request.PendingVerification, code: "BCDF234O", want: errCodeShape},
		{name: "not a code: empty", status: request.PendingVerification, code: "", want: errCodeShape},
		{name: "not a code: the link's token", status: request.PendingVerification, code: verifyToken, want: errCodeShape},
		{name: "wrong code", status: request.PendingVerification, code: "BCDF2346", want: errWrongCode, counted: true},
		{name: "another request's code", status: request.PendingVerification, code: verifyCode, want: errWrongCode, counted: true,
			edit: func(r *request.Request) { pending(r); r.Verification.CodeHash = secret.CodeHash(other, verifyCode) }},
		{name: "expired", status: request.PendingVerification, advance: 3 * day, code: verifyCode, want: errWrongCode},
		{name: "not pending verification", status: request.Verified, code: verifyCode, want: errWrongCode},
		{name: "locked", status: request.PendingVerification, code: verifyCode, want: errWrongCode,
			edit: func(r *request.Request) { pending(r); r.Verification.Locked = true }},
		{name: "no code issued", status: request.PendingVerification, code: verifyCode, want: errWrongCode, counted: true,
			edit: func(r *request.Request) { pending(r); r.Verification.CodeHash = "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv()
			edit := tt.edit
			if edit == nil {
				edit = pending
			}
			r := e.seed(tt.status, edit)
			e.clock.Advance(tt.advance)
			if err := e.portal.ConfirmCode(context.Background(), r.ID, tt.code, Details{}); err != tt.want {
				t.Fatalf("error = %v, want %v", err, tt.want)
			}
			if len(e.workflow.resumes) != 0 {
				t.Error("workflow resumed")
			}
			got, _ := e.store.stored(r.ID)
			if want := map[bool]int{true: 1}[tt.counted]; got.Verification.Failures != want {
				t.Errorf("failures %d, want %d", got.Verification.Failures, want)
			}
			if !tt.counted && !reflect.DeepEqual(got, r) {
				t.Error("request changed")
			}
		})
	}
}

// TestWrongAttemptsLock: wrong links and codes count together; the last
// allowed one locks the request, voids link and code, is audited and tells
// the subject. After that the right link and code are refused alike, and
// every refusal reads the same.
func TestWrongAttemptsLock(t *testing.T) {
	ctx := context.Background()
	e := newEnv()
	r := e.seed(request.PendingVerification, pending)
	for i := 1; i < request.MaxVerifyFailures; i++ {
		if i%2 == 0 {
			wantWrongCode(t, e.portal.ConfirmCode(ctx, r.ID, "ZZZZZZZZ", Details{}))
		} else {
			wantNoSuchLink(t, e.portal.ConfirmVerification(ctx, r.ID, "guess-"+strconv.Itoa(i), Details{}))
		}
		if got, _ := e.store.stored(r.ID); got.Verification.Failures != i || got.Verification.Locked {
			t.Fatalf("after %d wrong attempts: failures %d, locked %v", i, got.Verification.Failures, got.Verification.Locked)
		}
	}
	if len(e.mailer.sent) != 0 {
		t.Fatal("mail before the lock")
	}
	wantWrongCode(t, e.portal.ConfirmCode(ctx, r.ID, "ZZZZZZZZ", Details{}))
	got, _ := e.store.stored(r.ID)
	if !got.Verification.Locked || got.Verification.TokenHash != "" || got.Verification.CodeHash != "" || got.Status != request.PendingVerification || got.Verification.TaskToken == "" {
		t.Fatalf("after the limit: locked %v, link hash %q, code hash %q, status %s, task token kept %v",
			got.Verification.Locked, got.Verification.TokenHash, got.Verification.CodeHash, got.Status, got.Verification.TaskToken != "")
	}
	evs := e.store.eventsOf(r.ID)
	if last := evs[len(evs)-1]; len(evs) != request.MaxVerifyFailures || last.Action != "verification_locked" || last.Note != "method=email_code failures=5" {
		t.Fatalf("events %+v", evs)
	}
	want, _ := notify.VerificationLocked(r.Language, subject, r.ID)
	if len(e.mailer.sent) != 1 || e.mailer.sent[0] != want {
		t.Fatalf("sent %+v, want the lock notice to the subject", e.mailer.sent)
	}

	wantNoSuchLink(t, e.portal.ConfirmVerification(ctx, r.ID, verifyToken, Details{}))
	wantNoSuchLink(t, checkErr(e.portal.CheckVerification(ctx, r.ID, verifyToken)))
	wantWrongCode(t, e.portal.ConfirmCode(ctx, r.ID, verifyCode, Details{}))
	wantWrongCode(t, e.portal.ConfirmCode(ctx, r.ID, "ZZZZZZZZ", Details{}))
	if after, _ := e.store.stored(r.ID); !reflect.DeepEqual(after, got) || len(e.mailer.sent) != 1 || len(e.workflow.resumes) != 0 {
		t.Fatal("a locked request changed, was told again or resumed")
	}
}

func TestLockNoticeNotSent(t *testing.T) {
	e := newEnv()
	var logs strings.Builder
	e.portal.Log = slog.New(slog.NewJSONHandler(&logs, nil))
	r := e.seed(request.PendingVerification, func(r *request.Request) { pending(r); r.Verification.Failures = request.MaxVerifyFailures - 1 })
	e.mailer.err = apperr.E(apperr.Unavailable, "Mail is unavailable.")
	wantWrongCode(t, e.portal.ConfirmCode(context.Background(), r.ID, "ZZZZZZZZ", Details{}))
	if got, _ := e.store.stored(r.ID); !got.Verification.Locked {
		t.Fatal("not locked")
	}
	if !strings.Contains(logs.String(), "lock notice not sent") || !strings.Contains(logs.String(), r.ID) || strings.Contains(logs.String(), subject) {
		t.Fatalf("logs: %s", logs.String())
	}
}

// TestConcurrentWrongAttemptsAllCount: a wrong attempt that loses a race is
// read again and still counted.
func TestConcurrentWrongAttemptsAllCount(t *testing.T) {
	e := newEnv()
	r := e.seed(request.PendingVerification, pending)
	e.portal.Store = &raceOnce{fakeStore: e.store}
	wantWrongCode(t, e.portal.ConfirmCode(context.Background(), r.ID, "ZZZZZZZZ", Details{}))
	if got, _ := e.store.stored(r.ID); got.Verification.Failures != 1 {
		t.Fatalf("failures %d, want 1", got.Verification.Failures)
	}
}

func TestConfirmVerificationStoreDown(t *testing.T) {
	e := newEnv()
	r := e.seed(request.PendingVerification, pending)
	down := apperr.E(apperr.Unavailable, "Request storage is unavailable.")
	e.store.SaveErr = down
	if err := e.portal.ConfirmVerification(context.Background(), r.ID, verifyToken, Details{}); !errors.Is(err, down) {
		t.Fatalf("error = %v, want the store's", err)
	}
	if len(e.workflow.resumes) != 0 {
		t.Error("workflow resumed")
	}
}

func TestDownloadURL(t *testing.T) {
	completed := func(r *request.Request) {
		r.Delivery.TokenHash = secret.Hash("download-token")
		r.Delivery.ExpiresAt = r.ReceivedAt.Add(7 * day)
		r.Delivery.ExportKey = "packages/" + r.ID + ".zip"
		r.StatusTokenHash = secret.Hash("status-token")
	}
	t.Run("right token", func(t *testing.T) {
		e := newEnv()
		r := e.seed(request.Completed, completed)
		e.clock.Advance(7*day - time.Second)
		u, err := e.portal.DownloadURL(context.Background(), r.ID, "download-token")
		if err != nil {
			t.Fatal(err)
		}
		if want := "https://exports.example/" + r.Delivery.ExportKey + "?signed=1"; u != want {
			t.Errorf("url = %q, want %q", u, want)
		}
		if !slices.Equal(e.presigner.keys, []string{r.Delivery.ExportKey}) || !slices.Equal(e.presigner.ttls, []time.Duration{presignTTL}) {
			t.Errorf("presigned %v for %v", e.presigner.keys, e.presigner.ttls)
		}
	})

	tests := []struct {
		name    string
		edit    func(*request.Request)
		advance time.Duration
		token   string
	}{
		{name: "wrong token", edit: completed, token: "other-token"},
		{name: "status token", edit: completed, token: "status-token"},
		{name: "empty token", edit: completed, token: ""},
		{name: "expired", edit: completed, advance: 7 * day, token: "download-token"},
		{name: "no export key", edit: func(r *request.Request) { completed(r); r.Delivery.ExportKey = "" }, token: "download-token"},
		{name: "no download token issued", edit: func(r *request.Request) { completed(r); r.Delivery.TokenHash = "" }, token: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv()
			r := e.seed(request.Completed, tt.edit)
			e.clock.Advance(tt.advance)
			u, err := e.portal.DownloadURL(context.Background(), r.ID, tt.token)
			wantNoSuchLink(t, err)
			if u != "" {
				t.Errorf("url = %q", u)
			}
			if len(e.presigner.keys) != 0 {
				t.Error("a URL was presigned")
			}
		})
	}
}

// TestConfirmVerificationWorkflowDown: when the workflow cannot be resumed the
// confirmation is undone, so the subject can use the same link again; when it
// stopped waiting, the link is void.
func TestConfirmVerificationWorkflowDown(t *testing.T) {
	ctx := context.Background()
	e := newEnv()
	r := e.seed(request.PendingVerification, pending)
	e.workflow.resumeErr = apperr.E(apperr.Unavailable, "The workflow service is unavailable.")
	if err := e.portal.ConfirmVerification(ctx, r.ID, verifyToken, Details{}); apperr.KindOf(err) != apperr.Unavailable {
		t.Fatalf("error = %v, want Unavailable", err)
	}
	got, _ := e.store.stored(r.ID)
	if got.Status != request.PendingVerification || !secret.Matches(verifyToken, got.Verification.TokenHash) || !secret.CodeMatches(r.ID, verifyCode, got.Verification.CodeHash) {
		t.Fatalf("after a failed resume: status %s, link usable %v", got.Status, secret.Matches(verifyToken, got.Verification.TokenHash))
	}
	if evs := e.store.eventsOf(r.ID); len(evs) != 2 || evs[1].Action != "verification_undone" {
		t.Fatalf("events %+v", evs)
	}
	e.workflow.resumeErr = nil
	if err := e.portal.ConfirmVerification(ctx, r.ID, verifyToken, Details{}); err != nil {
		t.Fatalf("second try: %v", err)
	}
	if !slices.Equal(e.workflow.resumes, []string{"task-token-1"}) {
		t.Fatalf("resumed %v", e.workflow.resumes)
	}

	// Too late: the workflow stopped waiting. The link is void, and the
	// request is unconfirmed again, for the workflow's close to expire it.
	e = newEnv()
	r = e.seed(request.PendingVerification, pending)
	e.workflow.resumeErr = apperr.E(apperr.Conflict, "The request is no longer waiting for this step.")
	wantNoSuchLink(t, e.portal.ConfirmVerification(ctx, r.ID, verifyToken, Details{}))
	got, _ = e.store.stored(r.ID)
	if got.Status != request.PendingVerification || got.Verification.TokenHash != "" {
		t.Fatalf("after a confirmation too late: status %s, link kept %v", got.Status, got.Verification.TokenHash != "")
	}
	if evs := e.store.eventsOf(r.ID); evs[len(evs)-1].Note != "too_late" {
		t.Fatalf("events %+v", evs)
	}
}

// raceOnce loses the first save to another writer, as when the deadline
// watch extends the request at the moment the subject confirms.
type raceOnce struct {
	*fakeStore
	lost bool
}

func (s *raceOnce) Save(ctx context.Context, r *request.Request, ev request.Event) error {
	if !s.lost {
		s.lost = true
		return apperr.Wrap(apperr.Conflict, "The request was changed by someone else; try again.", request.ErrChanged)
	}
	return s.fakeStore.Save(ctx, r, ev)
}

func TestConfirmVerificationRetriesALostRace(t *testing.T) {
	e := newEnv()
	r := e.seed(request.PendingVerification, pending)
	e.portal.Store = &raceOnce{fakeStore: e.store}
	if err := e.portal.ConfirmVerification(context.Background(), r.ID, verifyToken, Details{}); err != nil {
		t.Fatalf("confirm after a lost race: %v", err)
	}
	if got, _ := e.store.stored(r.ID); got.Status != request.Verified || len(e.workflow.resumes) != 1 {
		t.Fatalf("status %s, resumes %v", got.Status, e.workflow.resumes)
	}
}

// TestSubmitIdentityLimit: the identity limit counts normalized addresses,
// only for valid submissions, and a refused submission stores and starts
// nothing.
func TestSubmitIdentityLimit(t *testing.T) {
	ctx := context.Background()
	e := newEnv()
	e.portal.IdentityLimit = &ratelimit.Limiter{Name: "identity", Rule: ratelimit.Rule{Limit: 2, Window: day}, Counter: memstore.NewCounters(), Clock: e.clock}
	if _, err := e.portal.Submit(ctx, request.Submission{Type: "access", Email: "not an address", Jurisdiction: "EU"}); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("invalid submission: %v", err)
	}
	for _, email := range []string{"A@example.com", " a@EXAMPLE.com"} {
		if _, err := e.portal.Submit(ctx, request.Submission{Type: "access", Email: email, Jurisdiction: "EU"}); err != nil {
			t.Fatalf("%q: %v", email, err)
		}
	}
	_, err := e.portal.Submit(ctx, validSubmission)
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Kind != apperr.RateLimited || ae.RetryAfter <= 0 {
		t.Fatalf("third submission: %v, want RateLimited with a wait", err)
	}
	if len(e.workflow.starts) != 2 {
		t.Fatalf("%d workflows started, want 2", len(e.workflow.starts))
	}
	if _, err := e.portal.Submit(ctx, request.Submission{Type: "access", Email: "b@example.com", Jurisdiction: "EU"}); err != nil {
		t.Fatalf("another address: %v", err)
	}
}

// TestSubmitVerificationByLaw: the workflow skips verification where the
// law's rules forbid asking for it (CCPA opt-out and limit), not elsewhere.
func TestSubmitVerificationByLaw(t *testing.T) {
	tests := []struct {
		typ, jurisdiction string
		skip              bool
	}{
		{"opt_out", "US-CA", true},
		{"limit", "US-CA", true},
		{"restrict", "EU", false},
		{"object", "UK", false},
		{"opt_out", "EU", false},
		{"access", "US-CA", false},
	}
	for _, tt := range tests {
		t.Run(tt.typ+" "+tt.jurisdiction, func(t *testing.T) {
			e := newEnv()
			if _, err := e.portal.Submit(context.Background(), request.Submission{Type: tt.typ, Email: subject, Jurisdiction: tt.jurisdiction}); err != nil {
				t.Fatal(err)
			}
			if len(e.workflow.starts) != 1 || e.workflow.starts[0].SkipVerification != tt.skip {
				t.Fatalf("starts %+v, want one with skip_verification %v", e.workflow.starts, tt.skip)
			}
		})
	}
}

// TestSubmitByMailFromAnUnauthenticatedSender: a mailed CCPA opt-out skips
// verification as the law says only when the sender's domain passed DMARC;
// otherwise the From address may be forged, and the link decides.
func TestSubmitByMailFromAnUnauthenticatedSender(t *testing.T) {
	for _, authenticated := range []bool{true, false} {
		e := newEnv()
		in := request.Submission{Type: "opt_out", Email: subject, Jurisdiction: "US-CA",
			Mail: &request.MailOrigin{Key: "inbound/6n4thuhcbhpfiuf25gshf70rss364fuejrvmqko1", SenderAuthenticated: authenticated}}
		rc, err := e.portal.Submit(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		if len(e.workflow.starts) != 1 || e.workflow.starts[0].SkipVerification != authenticated {
			t.Fatalf("DMARC passed %v: starts %+v", authenticated, e.workflow.starts)
		}
		if r, _ := e.store.stored(rc.ID); r.Mail.UnauthenticatedSender == authenticated {
			t.Fatalf("DMARC passed %v: stored unauthenticated sender %v", authenticated, r.Mail.UnauthenticatedSender)
		}
	}
}

// TestSubmitGPC: `Sec-GPC: 1` with a valid address is an opt-out request of
// its own, without verification, whatever the submission asked and even when
// its other fields are invalid; the answer is the submission's own.
func TestSubmitGPC(t *testing.T) {
	tests := []struct {
		name             string
		in               request.Submission
		wantErr          apperr.Kind
		wantTypes        []request.Type // the requests started, in order
		wantJurisdiction string         // of the GPC opt-out
	}{
		{name: "with an access request", in: request.Submission{Type: "access", Email: subject, Jurisdiction: "US-CA", GPC: true},
			wantTypes: []request.Type{request.OptOut, request.Access}, wantJurisdiction: "US-CA"},
		{name: "under a law whose opt-out needs verification", in: request.Submission{Type: "access", Email: subject, Jurisdiction: "EU", GPC: true},
			wantTypes: []request.Type{request.OptOut, request.Access}, wantJurisdiction: "EU"},
		{name: "with an unknown jurisdiction", in: request.Submission{Type: "access", Email: subject, Jurisdiction: "XX", GPC: true},
			wantErr: apperr.Invalid, wantTypes: []request.Type{request.OptOut}, wantJurisdiction: "US-CA"},
		{name: "with no type", in: request.Submission{Email: " A@example.com", GPC: true},
			wantErr: apperr.Invalid, wantTypes: []request.Type{request.OptOut}, wantJurisdiction: "US-CA"},
		{name: "as the opt-out itself", in: request.Submission{Type: "opt_out", Email: subject, Jurisdiction: "US-CA", GPC: true},
			wantTypes: []request.Type{request.OptOut}, wantJurisdiction: "US-CA"},
		{name: "with an invalid address", in: request.Submission{Type: "access", Email: "nobody", Jurisdiction: "US-CA", GPC: true},
			wantErr: apperr.Invalid},
		{name: "without the signal", in: request.Submission{Type: "access", Email: subject, Jurisdiction: "US-CA"},
			wantTypes: []request.Type{request.Access}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv()
			_, err := e.portal.Submit(context.Background(), tt.in)
			if tt.wantErr != 0 || err != nil {
				if !apperr.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want kind %v", err, tt.wantErr)
				}
			}
			var got []request.Type
			for _, st := range e.workflow.starts {
				r, _ := e.store.stored(st.RequestID)
				got = append(got, r.Type)
				if r.Email != subject {
					t.Errorf("stored email normalized: %v", r.Email == subject)
				}
				gpc := r.Via == request.ViaGPC
				if gpc != (r.Type == request.OptOut && tt.in.GPC) {
					t.Errorf("%s request via %q", r.Type, r.Via)
				}
				if gpc {
					if !st.SkipVerification || r.Jurisdiction != tt.wantJurisdiction {
						t.Errorf("GPC opt-out: skip verification %v, jurisdiction %s; want true, %s", st.SkipVerification, r.Jurisdiction, tt.wantJurisdiction)
					}
					if evs := e.store.eventsOf(r.ID); len(evs) != 1 || evs[0].Note != "via=gpc" {
						t.Errorf("events %+v", evs)
					}
				}
			}
			if !slices.Equal(got, tt.wantTypes) {
				t.Fatalf("requests %v, want %v", got, tt.wantTypes)
			}
		})
	}
}

// TestStatusOfAJoinedRequest: a request that joined another shows what a
// request nobody confirmed would show, so its status link tells nothing of
// the subject's other requests.
func TestStatusOfAJoinedRequest(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name          string
		verification  bool
		after         time.Duration
		want          request.Status
		wantCompleted bool
	}{
		{"within the confirmation period", true, day, request.PendingVerification, false},
		{"after the confirmation period", true, 40 * day, request.Expired, false},
		{"a request without confirmation", false, time.Minute, request.Completed, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv()
			id, token := e.submit(t)
			r, _ := e.store.stored(id)
			r.Deadlines.VerificationRequired = tt.verification
			r.Status, r.JoinedTo, r.CompletedAt = request.Cancelled, "dsr-20250314-0000000000000000", e.clock.Now()
			e.store.put(r)
			e.clock.Advance(tt.after)
			s, err := e.portal.Status(ctx, id, token)
			if err != nil {
				t.Fatal(err)
			}
			if s.Status != string(tt.want) || (s.CompletedAt != nil) != tt.wantCompleted {
				t.Fatalf("status %s, completed at %v; want %s", s.Status, s.CompletedAt, tt.want)
			}
			if strings.Contains(fmt.Sprint(s), "dsr-20250314-0000000000000000") {
				t.Fatal("the status names the joined request")
			}
		})
	}
}

// TestSubmitCorrection: a correction request keeps its new values with the
// request, never in the workflow input, and takes only fields the registry
// lets a subject correct.
func TestSubmitCorrection(t *testing.T) {
	ctx := context.Background()
	e := newEnv()
	e.portal.Correctable = []string{"name", "phone"}
	c := request.Corrections{"name": " Jane Roe "}
	rc, err := e.portal.Submit(ctx, request.Submission{Type: "correct", Email: subject, Jurisdiction: "EU", Corrections: &c})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := e.store.stored(rc.ID)
	if r.Type != request.Correct || r.Correction.Values["name"] != "Jane Roe" || len(r.Correction.Values) != 1 {
		t.Fatalf("stored %s with %v", r.Type, r.Correction.Values)
	}
	b, _ := json.Marshal(e.workflow.starts)
	if strings.Contains(string(b), "Roe") {
		t.Fatalf("the workflow input holds a new value: %s", b)
	}

	bad := request.Corrections{"name": "Jane Roe", "plan": "enterprise"}
	_, err = e.portal.Submit(ctx, request.Submission{Type: "correct", Email: subject, Jurisdiction: "EU", Corrections: &bad})
	var ae *apperr.Error
	if !errors.As(err, &ae) || len(ae.Fields) != 1 || ae.Fields[0].Field != "corrections.plan" {
		t.Fatalf("err = %v", err)
	}
	if len(e.workflow.starts) != 1 {
		t.Fatalf("%d workflows started", len(e.workflow.starts))
	}
}
