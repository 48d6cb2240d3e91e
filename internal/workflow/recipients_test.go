package workflow

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/clock"
	"github.com/privacy-pipeline/dsr/internal/erasure"
	"github.com/privacy-pipeline/dsr/internal/notify"
	"github.com/privacy-pipeline/dsr/internal/recipient"
	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/webhook"
)

// recipientsRegistry is testRegistry with two recipients: Pay Ltd (the
// billing source's processor), told through its webhook of erasures,
// corrections and opt-outs by email and account id; and the tax
// authorities, told by mail of erasures and restrictions by user id.
const recipientsRegistry = testRegistry + `
notify:
  - id: payco
    name: Pay Ltd
    types: [delete, correct, opt_out]
    identities: [email, account_id]
    webhook: {url: "%s/notices", secret: "ssm:/dsr/payco"}
  - id: taxman
    name: Tax authorities
    types: [delete, restrict]
    identities: [user_id]
    email: notices@tax.example
`

const payco, taxman = "payco", "taxman"

// recipientHook is Pay Ltd's endpoint: it checks each notice's signature,
// keeps the notice, and answers as answer says (by default, a signed
// acknowledgement).
type recipientHook struct {
	secret []byte
	clock  *clock.Fake
	mu     sync.Mutex
	got    []webhook.RecipientNotice
	answer func(n webhook.RecipientNotice) (status int, body any)
}

func (h *recipientHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := webhook.Verify(h.secret, r.Header.Get(webhook.SignatureHeader), body, h.clock.Now()); err != nil {
		http.Error(w, "unsigned", http.StatusUnauthorized)
		return
	}
	var n webhook.RecipientNotice
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(&n); err != nil {
		http.Error(w, "not a notice", http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.got = append(h.got, n)
	answer := h.answer
	h.mu.Unlock()
	status, reply := http.StatusOK, any(webhook.RecipientAck{NoticeID: n.NoticeID, Status: webhook.Received})
	if answer != nil {
		status, reply = answer(n)
	}
	out, _ := json.Marshal(reply)
	w.Header().Set(webhook.SignatureHeader, webhook.Sign(h.secret, h.clock.Now(), out))
	w.WriteHeader(status)
	_, _ = w.Write(out)
}

func (h *recipientHook) notices() []webhook.RecipientNotice {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]webhook.RecipientNotice(nil), h.got...)
}

func (h *recipientHook) answerWith(answer func(n webhook.RecipientNotice) (int, any)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.answer = answer
}

// down answers every notice as an endpoint that is down.
func down(webhook.RecipientNotice) (int, any) {
	return http.StatusServiceUnavailable, map[string]string{"error": "down"}
}

// fakeNotices keeps deliveries in memory.
type fakeNotices struct{ kept map[string]recipient.Delivery }

func (f *fakeNotices) Delivery(_ context.Context, requestID, recipientID string) (recipient.Delivery, bool, error) {
	d, ok := f.kept[requestID+"/"+recipientID]
	return d, ok, nil
}

func (f *fakeNotices) PutDelivery(_ context.Context, d recipient.Delivery) error {
	if f.kept == nil {
		f.kept = map[string]recipient.Delivery{}
	}
	f.kept[d.RequestID+"/"+d.RecipientID] = d
	return nil
}

type staticSecrets map[string][]byte

func (s staticSecrets) Secret(_ context.Context, ref string) ([]byte, error) {
	if v, ok := s[ref]; ok {
		return v, nil
	}
	return nil, apperr.E(apperr.NotFound, "No such secret.")
}

// newRecipientsEnv is newEnv with the two recipients, Pay Ltd's endpoint
// served locally and a webhook client that does not wait between attempts.
func newRecipientsEnv(t *testing.T) (*env, *recipientHook, *fakeNotices) {
	t.Helper()
	e := newEnv(t)
	hook := &recipientHook{secret: []byte("0123456789abcdef0123456789abcdef"), clock: e.clock}
	srv := httptest.NewServer(hook)
	t.Cleanup(srv.Close)
	reg, err := registry.Parse([]byte(fmt.Sprintf(recipientsRegistry, srv.URL)))
	if err != nil {
		t.Fatalf("registry: %v", err)
	}
	client := webhook.NewClient(staticSecrets{"ssm:/dsr/payco": hook.secret}, e.clock)
	client.Sleep = func(context.Context, time.Duration) error { return nil }
	notices := &fakeNotices{}
	e.steps.Registry, e.steps.Webhooks, e.steps.Notices = reg, client, notices
	return e, hook, notices
}

var everyIdentity = func(r *request.Request) {
	r.Identities = map[string][]string{"email": {subject}, "user_id": {"u-7"}, "account_id": {"acc-9", "acc-10"}}
}

// mailsTo are the messages sent to an address.
func mailsTo(e *env, to string) []notify.Message {
	var out []notify.Message
	for _, m := range e.mail.sent {
		if m.To == to {
			out = append(out, m)
		}
	}
	return out
}

func TestTellRecipients(t *testing.T) {
	applied := func(r *request.Request) {
		everyIdentity(r)
		r.Correction = request.Correction{Values: request.Corrections{"name": "Ann Other"}, Fields: []string{"name"}, Items: 1}
	}
	tests := []struct {
		name   string
		typ    request.Type
		edit   func(*request.Request)
		answer func(webhook.RecipientNotice) (int, any)
		// want are the deliveries' statuses by recipient; webhook the
		// identities Pay Ltd's notice carries (nil: no notice), mail
		// the identity lines of the tax authorities' mail ("": none).
		want    map[string]recipient.Status
		webhook map[string][]string
		mail    string
		retried bool // the step fails to be tried again
	}{
		{name: "an erasure, told by webhook and by mail", typ: request.Delete, edit: everyIdentity,
			want:    map[string]recipient.Status{payco: recipient.Told, taxman: recipient.Told},
			webhook: map[string][]string{"email": {subject}, "account_id": {"acc-9", "acc-10"}}, mail: "  user_id: u-7\n"},
		{name: "an opt-out the law let go unverified: the address it came from", typ: request.OptOut,
			want: map[string]recipient.Status{payco: recipient.Told}, webhook: map[string][]string{"email": {subject}}},
		{name: "a restriction whose subject has none of the recipient's identities", typ: request.Restrict,
			edit: func(r *request.Request) { r.Identities = map[string][]string{"email": {subject}} }, want: map[string]recipient.Status{}},
		{name: "a dry run", typ: request.Delete, edit: func(r *request.Request) { everyIdentity(r); r.DryRun = true }, want: map[string]recipient.Status{}},
		{name: "a correction", typ: request.Correct, edit: applied,
			want: map[string]recipient.Status{payco: recipient.Told}, webhook: map[string][]string{"email": {subject}, "account_id": {"acc-9", "acc-10"}}},
		{name: "a correction that found nothing", typ: request.Correct, edit: func(r *request.Request) { applied(r); r.Correction.Items = 0 },
			want: map[string]recipient.Status{}},
		{name: "an endpoint that is down", typ: request.Delete, edit: everyIdentity, answer: down,
			want:    map[string]recipient.Status{payco: recipient.Retrying, taxman: recipient.Told},
			webhook: map[string][]string{"email": {subject}, "account_id": {"acc-9", "acc-10"}}, mail: "  user_id: u-7\n", retried: true},
		{name: "an acknowledgement of another notice", typ: request.Delete, edit: everyIdentity,
			answer: func(webhook.RecipientNotice) (int, any) {
				return http.StatusOK, webhook.RecipientAck{NoticeID: "dsr-other.payco", Status: webhook.Received}
			},
			want:    map[string]recipient.Status{payco: recipient.Retrying, taxman: recipient.Told},
			webhook: map[string][]string{"email": {subject}, "account_id": {"acc-9", "acc-10"}}, mail: "  user_id: u-7\n", retried: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			e, hook, notices := newRecipientsEnv(t)
			hook.answerWith(tt.answer)
			r := e.seed(t, tt.typ, request.InProgress, tt.edit)
			err := e.steps.TellRecipients(ctx, RequestRef{RequestID: r.ID})
			if _, transient := TaskError(err).(*TransientError); tt.retried != transient || (!tt.retried && err != nil) {
				t.Fatalf("err = %v, want the step retried: %v", err, tt.retried)
			}
			got := map[string]recipient.Status{}
			for _, d := range notices.kept {
				got[d.RecipientID] = d.Status
				if d.RequestID != r.ID || d.NoticeID != r.ID+"."+d.RecipientID || d.Tries != 1 || !d.At.Equal(e.clock.Now()) {
					t.Errorf("delivery %+v", d)
				}
				if (d.Status == recipient.Told) != (d.Reason == "") {
					t.Errorf("delivery %s is %s with reason %q", d.RecipientID, d.Status, d.Reason)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("deliveries %v, want %v", got, tt.want)
			}
			notices3 := hook.notices()
			switch {
			case tt.webhook == nil && len(notices3) > 0:
				t.Fatalf("Pay Ltd was sent %d notices", len(notices3))
			case tt.webhook != nil:
				if len(notices3) != webhook.DefaultAttempts && tt.retried || len(notices3) != 1 && !tt.retried {
					t.Fatalf("Pay Ltd got %d calls", len(notices3))
				}
				n := notices3[0]
				action, _ := recipient.Action(string(tt.typ))
				if n.Kind != webhook.KindRecipientNotice || n.NoticeID != r.ID+".payco" || n.RequestID != r.ID || n.RecipientID != payco ||
					n.Type != string(tt.typ) || n.Action != action || n.Jurisdiction != "EU" || !n.SentAt.Equal(e.clock.Now()) {
					t.Errorf("notice %+v", n)
				}
				if !reflect.DeepEqual(n.Identities, tt.webhook) {
					t.Errorf("the notice carries the identities %v, want %v", n.Identities, tt.webhook)
				}
				if wantCorrections := tt.typ == request.Correct; wantCorrections != (n.Corrections["name"] == "Ann Other") || (!wantCorrections && n.Corrections != nil) {
					t.Errorf("the notice's corrections: %v", n.Corrections)
				}
			}
			mails := mailsTo(e, "notices@tax.example")
			switch {
			case tt.mail == "" && len(mails) > 0:
				t.Fatalf("the tax authorities were mailed %q", mails[0].Subject)
			case tt.mail != "":
				if len(mails) != 1 || !strings.Contains(mails[0].Text, tt.mail) || strings.Contains(mails[0].Text, "acc-9") || !strings.Contains(mails[0].Subject, r.ID) {
					t.Fatalf("mails to the tax authorities: %d, the first %q", len(mails), mails)
				}
			}
			after := e.store.stored(r.ID)
			if tt.typ == request.Correct && (after.Correction.Values != nil || after.Correction.Fields == nil) {
				t.Errorf("after telling, the correction holds values %v, fields %v", after.Correction.Values, after.Correction.Fields)
			}
			if tt.retried {
				return
			}
			// Run again: nobody is told twice.
			calls, mailed := len(hook.notices()), len(e.mail.sent)
			if err := e.steps.TellRecipients(ctx, RequestRef{RequestID: r.ID}); err != nil {
				t.Fatal(err)
			}
			if len(hook.notices()) != calls || len(e.mail.sent) != mailed {
				t.Fatal("running the step again told a recipient again")
			}
		})
	}
}

// A recipient that stays unreachable is tried until the standard Retry's
// last run, which settles it as unreached, tells the operators, and lets
// the request go on; the recipient told meanwhile is not told again. A
// recipient reachable again on a later run is told.
func TestTellRecipientsRetries(t *testing.T) {
	for _, recovers := range []bool{false, true} {
		t.Run(fmt.Sprintf("recovers=%v", recovers), func(t *testing.T) {
			ctx := context.Background()
			e, hook, notices := newRecipientsEnv(t)
			hook.answerWith(down)
			r := e.seed(t, request.Delete, request.InProgress, everyIdentity)
			for try := 1; try <= recipientTries; try++ {
				if recovers && try == 3 {
					hook.answerWith(nil)
				}
				e.clock.Advance(time.Minute)
				err := e.steps.TellRecipients(ctx, RequestRef{RequestID: r.ID})
				d := notices.kept[r.ID+"/"+payco]
				if d.Tries != try {
					t.Fatalf("try %d: the delivery counts %d", try, d.Tries)
				}
				if recovers && try == 3 {
					if err != nil || d.Status != recipient.Told || d.Reason != "" {
						t.Fatalf("try %d: %v, delivery %+v", try, err, d)
					}
					break
				}
				if try < recipientTries {
					if _, ok := TaskError(err).(*TransientError); !ok || d.Status != recipient.Retrying || d.Reason != "status 503" {
						t.Fatalf("try %d: %v, delivery %+v", try, err, d)
					}
					if strings.Contains(err.Error(), subject) || !strings.Contains(err.Error(), payco) {
						t.Errorf("the error %q", err)
					}
					continue
				}
				if err != nil || d.Status != recipient.Unreached || d.Reason != "status 503" {
					t.Fatalf("last try: %v, delivery %+v", err, d)
				}
			}
			if n := len(mailsTo(e, "notices@tax.example")); n != 1 {
				t.Errorf("the tax authorities were mailed %d times", n)
			}
			ops := mailsTo(e, "ops@example.com")
			if recovers {
				if len(ops) > 0 {
					t.Errorf("the operators were told of a recipient that was reached: %q", ops[0].Subject)
				}
				return
			}
			if len(ops) != 1 || !strings.Contains(ops[0].Subject, r.ID) || !strings.Contains(ops[0].Text, "Pay Ltd (payco)") || strings.Contains(ops[0].Text, subject) {
				t.Fatalf("operators' mails: %d", len(ops))
			}
			if ev := e.store.eventsOf(r.ID); !strings.Contains(fmt.Sprint(ev), "recipient_unreached") {
				t.Errorf("no audit event says the recipient was not reached")
			}
			// Settled: a later run asks nobody.
			calls := len(hook.notices())
			if err := e.steps.TellRecipients(ctx, RequestRef{RequestID: r.ID}); err != nil || len(hook.notices()) != calls {
				t.Fatalf("a run after the last: %v, %d calls more", err, len(hook.notices())-calls)
			}
		})
	}
}

// An erasure is passed on only once it is complete and nothing holds it
// back; other requests once they are carried out.
func TestTellRecipientsWaits(t *testing.T) {
	openFinding := func(e *env, r request.Request) {
		_ = e.findings.AddFindings(context.Background(), r.ID, []erasure.Finding{{ID: "f-1", SourceID: "users", Reason: "unparsable", Blocking: true}})
	}
	tests := []struct {
		name   string
		typ    request.Type
		status request.Status
		edit   func(*request.Request)
		before func(*env, request.Request)
		want   error
	}{
		{name: "an open finding", typ: request.Delete, status: request.InProgress, edit: everyIdentity, before: openFinding, want: &FindingsOpen{}},
		{name: "a legal hold", typ: request.Delete, status: request.InProgress, edit: func(r *request.Request) { everyIdentity(r); r.OnHold = true }, want: &ErasureOnHold{}},
		{name: "not carried out", typ: request.Delete, status: request.Verified, edit: everyIdentity, want: &StateConflict{}},
		{name: "a correction not applied", typ: request.Correct, status: request.InProgress, edit: func(r *request.Request) {
			r.Correction.Values = request.Corrections{"name": "Ann Other"}
		}, want: &StateConflict{}},
		{name: "an access request", typ: request.Access, status: request.InProgress, edit: everyIdentity, want: &StateConflict{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, hook, notices := newRecipientsEnv(t)
			r := e.seed(t, tt.typ, tt.status, tt.edit)
			if tt.before != nil {
				tt.before(e, r)
			}
			err := TaskError(e.steps.TellRecipients(context.Background(), RequestRef{RequestID: r.ID}))
			if reflect.TypeOf(err) != reflect.TypeOf(tt.want) {
				t.Fatalf("err = %T %v, want %T", err, err, tt.want)
			}
			if len(hook.notices()) > 0 || len(e.mail.sent) > 0 || len(notices.kept) > 0 {
				t.Fatal("a recipient was told")
			}
		})
	}
}

// The receipt and the subject's final mail name each recipient: told, or
// not reached yet.
func TestReceiptAndMailNameRecipients(t *testing.T) {
	ctx := context.Background()
	e, hook, notices := newRecipientsEnv(t)
	hook.answerWith(down)
	r := e.seed(t, request.Delete, request.InProgress, everyIdentity)
	for range recipientTries {
		_ = e.steps.TellRecipients(ctx, RequestRef{RequestID: r.ID})
	}
	for _, src := range e.steps.Registry.Automated() {
		_ = e.outcomes.PutOutcome(ctx, r.ID, erasure.Outcome{SourceID: src.ID, Kind: src.Kind(), Mode: src.Erasure})
	}
	if err := e.steps.WriteReceipt(ctx, RequestRef{RequestID: r.ID}); err != nil {
		t.Fatal(err)
	}
	rec, err := e.receipts.links[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	want := []recipient.Delivery{notices.kept[r.ID+"/"+payco], notices.kept[r.ID+"/"+taxman]}
	if !reflect.DeepEqual(rec.Recipients, want) || want[0].Status != recipient.Unreached || want[1].Status != recipient.Told {
		t.Fatalf("the receipt lists %+v, want %+v", rec.Recipients, want)
	}
	if strings.Contains(string(e.receipts.links[0].Body), subject) || strings.Contains(string(e.receipts.links[0].Body), "u-7") {
		t.Errorf("the receipt holds an identity:\n%s", e.receipts.links[0].Body)
	}
	if err := e.steps.CloseRequest(ctx, CloseTask{RequestID: r.ID, Outcome: CloseCompleted}); err != nil {
		t.Fatal(err)
	}
	mails := mailsTo(e, subject)
	if len(mails) != 1 {
		t.Fatalf("%d mails to the subject", len(mails))
	}
	for _, line := range []string{"disclosed your personal data to: Tax authorities.", "We could not reach Pay Ltd yet"} {
		if !strings.Contains(mails[0].Text, line) {
			t.Errorf("the confirmation lacks %q:\n%s", line, mails[0].Text)
		}
	}
}

// A notice that cannot be mailed is not recorded as told: the step fails,
// to be tried again.
func TestTellRecipientsMailDown(t *testing.T) {
	e, _, notices := newRecipientsEnv(t)
	r := e.seed(t, request.Restrict, request.InProgress, everyIdentity)
	e.mail.failNext = 1
	err := e.steps.TellRecipients(context.Background(), RequestRef{RequestID: r.ID})
	if _, ok := TaskError(err).(*TransientError); !ok {
		t.Fatalf("err = %v, want a transient task error", err)
	}
	if d, ok := notices.kept[r.ID+"/"+taxman]; ok {
		t.Fatalf("kept %+v", d)
	}
	if err := e.steps.TellRecipients(context.Background(), RequestRef{RequestID: r.ID}); err != nil || notices.kept[r.ID+"/"+taxman].Status != recipient.Told {
		t.Fatalf("again: %v, %+v", err, notices.kept[r.ID+"/"+taxman])
	}
}

// A correction keeps its new values past ApplyCorrections only while
// recipients are to be told them; telling them clears them.
func TestCorrectionValuesReachTheRecipients(t *testing.T) {
	ctx := context.Background()
	e, hook, _ := newRecipientsEnv(t)
	profile := "    provides: {user_id: user_id}\n    account: true\n    data_points: {name: name}\n    correctable: [name, phone]\n"
	reg, err := registry.Parse([]byte(strings.Replace(fmt.Sprintf(recipientsRegistry, strings.TrimSuffix(e.steps.Registry.Recipient(payco).Webhook.URL, "/notices")),
		"    provides: {user_id: user_id}\n", profile, 1)))
	if err != nil {
		t.Fatal(err)
	}
	e.steps.Registry, e.steps.Corrector = reg, &fakeCorrector{found: 1}
	r := e.seed(t, request.Correct, request.InProgress, func(r *request.Request) {
		everyIdentity(r)
		r.Correction.Values = request.Corrections{"phone": "+44 20 7946 0000"}
	})
	if err := e.steps.ApplyCorrections(ctx, RequestRef{RequestID: r.ID}); err != nil {
		t.Fatal(err)
	}
	if got := e.store.stored(r.ID).Correction; got.Values["phone"] == "" || !reflect.DeepEqual(got.Fields, []string{"phone"}) {
		t.Fatalf("after applying: %+v", got)
	}
	// Applied once: running it again does not correct again.
	if err := e.steps.ApplyCorrections(ctx, RequestRef{RequestID: r.ID}); err != nil || len(e.steps.Corrector.(*fakeCorrector).called) != 1 {
		t.Fatalf("again: %v, corrected %d times", err, len(e.steps.Corrector.(*fakeCorrector).called))
	}
	if err := e.steps.TellRecipients(ctx, RequestRef{RequestID: r.ID}); err != nil {
		t.Fatal(err)
	}
	if ns := hook.notices(); len(ns) != 1 || ns[0].Corrections["phone"] != "+44 20 7946 0000" {
		t.Fatalf("Pay Ltd got %d notices", len(ns))
	}
	if got := e.store.stored(r.ID).Correction; got.Values != nil || !reflect.DeepEqual(got.Fields, []string{"phone"}) || got.Items != 1 {
		t.Fatalf("after telling: fields %v, items %d, values kept: %v", got.Fields, got.Items, got.Values != nil)
	}
}
