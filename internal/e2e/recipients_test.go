package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/devstack"
	"github.com/privacy-pipeline/dsr/internal/erasure"
	"github.com/privacy-pipeline/dsr/internal/recipient"
	"github.com/privacy-pipeline/dsr/internal/webhook"
)

// The demo company's recipients told of erasures: its ad partner, through
// the webhook the local stack serves, and its mailing house, by mail.
const (
	adco      = "adco"
	mailhouse = "privacy@mailhouse.example"
)

// hookCallsOf are the calls the demo endpoint received about a request,
// as GET /_dev/webhooks lists them.
func hookCallsOf(t *testing.T, endpoint, requestID string) []devstack.HookCall {
	t.Helper()
	resp, err := http.Get(stack.APIURL + "/_dev/webhooks")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var calls []devstack.HookCall
	if err := json.NewDecoder(resp.Body).Decode(&calls); err != nil {
		t.Fatal(err)
	}
	return slices.DeleteFunc(calls, func(c devstack.HookCall) bool { return c.Endpoint != endpoint || c.RequestID != requestID })
}

// receiptRecipients are the recipients a request's erasure receipt lists,
// by recipient id; the receipt holds none of the subject's identities.
func receiptRecipients(t *testing.T, requestID, email string) map[string]recipient.Delivery {
	t.Helper()
	l, ok, err := stack.App.Receipts().ReceiptOf(context.Background(), requestID)
	if err != nil || !ok {
		t.Fatalf("receipt of %s: %v, %v", requestID, ok, err)
	}
	if erasure.Hash(l.Body) != l.Hash || strings.Contains(string(l.Body), email) || strings.Contains(string(l.Body), "mailhouse.example") {
		t.Fatal("the receipt does not match its hash, or holds an address")
	}
	rec, err := l.Open()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]recipient.Delivery{}
	for _, d := range rec.Recipients {
		out[d.RecipientID] = d
	}
	return out
}

// TestRecipientsTold: a deletion is passed on to the demo company's
// recipients: the ad partner gets a signed notice through its webhook,
// with the identities it knows the subject by, and acknowledges it; the
// mailing house gets a mail. The receipt lists both as told, and the
// subject's confirmation names them.
func TestRecipientsTold(t *testing.T) {
	t.Parallel() // after the serial tests: the ad partner's endpoint is up again
	const email = "told.recipients@example.com"
	r := submitFor(t, "delete", email)
	confirm(t, email, r.ID)
	approve(t, r.ID)
	waitCompleted(t, r)

	calls := hookCallsOf(t, adco, r.ID)
	if len(calls) != 1 {
		t.Fatalf("the ad partner got %d calls about the request, want one", len(calls))
	}
	if c := calls[0]; c.Kind != webhook.KindRecipientNotice || c.Type != "delete" || !c.Signed || c.Answer != "200 received" ||
		!slices.Equal(c.IdentityKinds, []string{"email"}) {
		t.Errorf("the ad partner's call: %+v", c)
	}
	notice := mailTo(t, mailhouse, r.ID, "please erase a person's data")
	if !strings.Contains(notice.Text, "To Mailhouse Ltd:") || !strings.Contains(notice.Text, "  email: "+email+"\n") ||
		!strings.Contains(notice.Text, "Notice "+r.ID+".mailhouse") {
		t.Error("the mailing house's notice does not name the request, the address and the notice")
	}
	told := receiptRecipients(t, r.ID, email)
	for id, channel := range map[string]string{adco: recipient.Webhook, "mailhouse": recipient.Email} {
		if d := told[id]; d.Status != recipient.Told || d.Channel != channel || d.Tries != 1 || d.NoticeID != r.ID+"."+id {
			t.Errorf("the receipt lists %s as %+v", id, d)
		}
	}
	m := mailTo(t, email, r.ID, "Your data has been deleted")
	if !strings.Contains(m.Text, "We have passed this request on to those we disclosed your personal data to: AdCo Ltd, Mailhouse Ltd.") ||
		strings.Contains(m.Text, "could not reach") {
		t.Errorf("the confirmation does not name the recipients told:\n%s", m.Text)
	}
}

// TestRecipientUnreachable: with the ad partner's endpoint down, the
// deletion is tried again until the last retry, then completed without
// claiming the ad partner was told: the operators are asked to tell it,
// the receipt records it as not reached and why, and the subject's
// confirmation says it could not be reached yet.
func TestRecipientUnreachable(t *testing.T) {
	stack.Hooks.SetFailing(adco, true)
	defer stack.Hooks.SetFailing(adco, false)
	const email = "unreached.recipient@example.com"
	r := submitFor(t, "delete", email)
	confirm(t, email, r.ID)
	approve(t, r.ID)
	// Five tries of three calls, and the Retry's backoff between them.
	waitCompletedWithin(t, r, 90*time.Second)

	calls := hookCallsOf(t, adco, r.ID)
	const tries = 5
	if len(calls) != tries*webhook.DefaultAttempts {
		t.Errorf("the ad partner got %d calls, want %d", len(calls), tries*webhook.DefaultAttempts)
	}
	for _, c := range calls {
		if !c.Signed || !strings.HasPrefix(c.Answer, "503") {
			t.Fatalf("a call: %+v", c)
		}
	}
	ops := mailTo(t, "privacy-team@example.com", r.ID, "Recipient not reached")
	if !strings.Contains(ops.Text, "AdCo Ltd (adco)") || !strings.Contains(ops.Text, "the last: status 503") || strings.Contains(ops.Text, email) {
		t.Errorf("the operators' mail does not name the recipient and why, or names the subject:\n%s", ops.Text)
	}
	told := receiptRecipients(t, r.ID, email)
	if d := told[adco]; d.Status != recipient.Unreached || d.Reason != "status 503" || d.Tries != tries {
		t.Errorf("the receipt lists the ad partner as %+v", d)
	}
	if d := told["mailhouse"]; d.Status != recipient.Told || d.Tries != 1 {
		t.Errorf("the receipt lists the mailing house as %+v", d)
	}
	if n := len(mailsTo(t, mailhouse, r.ID, "please erase")); n != 1 {
		t.Errorf("the mailing house was mailed %d times", n)
	}
	m := mailTo(t, email, r.ID, "Your data has been deleted")
	if !strings.Contains(m.Text, "disclosed your personal data to: Mailhouse Ltd.") ||
		!strings.Contains(m.Text, "We could not reach AdCo Ltd yet; our privacy team has been asked") {
		t.Errorf("the confirmation does not say which recipients were told and which not:\n%s", m.Text)
	}
	// The operator tells the ad partner by other means and records it; the
	// sealed receipt keeps saying it was not reached then.
	ctx := context.Background()
	if _, err := stack.App.Operator().RecipientTold(ctx, r.ID, "mailhouse", "e2e"); !apperr.Is(err, apperr.Conflict) {
		t.Errorf("recording a recipient told twice: %v", err)
	}
	d, err := stack.App.Operator().RecipientTold(ctx, r.ID, adco, "e2e")
	if err != nil || d.Status != recipient.Told || d.By != "operator:e2e" {
		t.Fatalf("RecipientTold = %+v, %v", d, err)
	}
	if kept, ok, err := stack.App.Deliveries().Delivery(ctx, r.ID, adco); err != nil || !ok || kept.Status != recipient.Told || kept.By != "operator:e2e" {
		t.Errorf("the delivery kept: %+v %v %v", kept, ok, err)
	}
	if d := receiptRecipients(t, r.ID, email)[adco]; d.Status != recipient.Unreached {
		t.Errorf("the sealed receipt changed: %+v", d)
	}
}
