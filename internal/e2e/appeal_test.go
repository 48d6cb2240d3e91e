package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/resources"
)

// submitJSON submits a request body to the API and returns its receipt.
func submitJSON(t *testing.T, body string) receipt {
	t.Helper()
	resp, err := http.Post(stack.APIURL+"/v1/requests", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("submit: HTTP %d: %s", resp.StatusCode, b)
	}
	var r receipt
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	return r
}

// deniedInVirginia makes a Virginia delete request of email that an
// operator denies, and returns it with the denial mail.
func deniedInVirginia(t *testing.T, email string) (receipt, mail) {
	t.Helper()
	r := submitJSON(t, fmt.Sprintf(`{"type":"delete","email":%q,"jurisdiction":"US-VA"}`, email))
	confirm(t, email, r.ID)
	eventually(t, "operator review", 30*time.Second, func() bool { return storedRequest(t, r.ID).Review.TaskToken != "" })
	if err := stack.App.Operator().Deny(context.Background(), r.ID, "e2e", []string{"We could not match the request to an account."}); err != nil {
		t.Fatal(err)
	}
	return r, mailTo(t, email, r.ID, "was refused")
}

// awaitAppeal waits until an appeal waits for an operator, whom the operators
// were asked by mail naming the decision it appeals.
func awaitAppeal(t *testing.T, appealID, decidedID string) {
	t.Helper()
	ask := mailTo(t, "privacy-team@example.com", appealID, "Appeal: privacy request")
	if !strings.Contains(ask.Text, decidedID) {
		t.Fatalf("operator mail:\n%s", ask.Text)
	}
	eventually(t, "the appeal waits for an operator", 30*time.Second, func() bool { return storedRequest(t, appealID).Review.TaskToken != "" })
}

// TestAppealUpheld: a Virginia denial links the appeal form for the
// request; the subject appeals through it, confirms, an operator upholds
// the decision with reasons, and the subject is told them and the Attorney
// General's complaint page, never another appeal.
func TestAppealUpheld(t *testing.T) {
	t.Parallel()
	const email = "appeal.upheld@example.com"
	decided, denial := deniedInVirginia(t, email)
	link := linkIn(t, denial, "appeal_of=")
	if q := link.Query(); q.Get("type") != "appeal" || q.Get("appeal_of") != decided.ID || q.Get("jurisdiction") != "US-VA" {
		t.Fatalf("appeal link %s", link)
	}

	// The link opens the form with the appeal and the reference filled in.
	resp, err := http.Get(stack.APIURL + link.RequestURI())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`value="appeal" aria-describedby="type-appeal-hint" checked`, `name="appeal_of"`, `value="` + decided.ID + `"`} {
		if !strings.Contains(string(page), want) {
			t.Fatalf("form lacks %s", want)
		}
	}
	// The person sends the form as filled in.
	form := url.Values{"type": {"appeal"}, "email": {email}, "jurisdiction": {"US-VA"}, "language": {"en"}, "appeal_of": {decided.ID}}
	resp, err = http.PostForm(stack.APIURL+"/v1/requests", form)
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	var appealID string
	for _, id := range requestIDPattern.FindAllString(string(page), -1) {
		if id != decided.ID {
			appealID = id
		}
	}
	if resp.StatusCode >= 300 || appealID == "" {
		t.Fatalf("form: HTTP %d, appeal %q", resp.StatusCode, appealID)
	}

	confirm(t, email, appealID)
	awaitAppeal(t, appealID, decided.ID)
	if got := storedRequest(t, decided.ID).Appeal.AppealedBy; got != appealID {
		t.Fatalf("decision appealed by %q", got)
	}
	reason := "The account could not be found under this address or any other detail you gave."
	if err := stack.App.Operator().Deny(context.Background(), appealID, "e2e", []string{reason}); err != nil {
		t.Fatal(err)
	}
	upheld := mailTo(t, email, appealID, "Our decision on your appeal")
	for _, want := range []string{"uphold our decision", reason, "Attorney General"} {
		if !strings.Contains(upheld.Text, want) {
			t.Fatalf("decision lacks %q:\n%s", want, upheld.Text)
		}
	}
	if strings.Contains(upheld.Text, "appeal this decision") || strings.Contains(upheld.Text, "appeal_of=") {
		t.Fatalf("a denied appeal offers another appeal:\n%s", upheld.Text)
	}
	if got := storedRequest(t, appealID); got.Status != request.Denied {
		t.Fatalf("appeal %s", got.Status)
	}
	checkExecution(t, resources.RequestWorkflow, appealID, "SUCCEEDED")
	checkHistory(t, appealID)
}

// TestAppealGranted: an appeal made through the API is granted with
// reasons; the subject is told them and the new request that carries out
// the deletion, which runs verified, without another review, to the end.
// A second appeal of the same decision, and an appeal of another person's
// request, have nothing to appeal and are told so.
func TestAppealGranted(t *testing.T) {
	t.Parallel()
	const email = "appeal.granted@example.com"
	decided, _ := deniedInVirginia(t, email)
	appeal := submitJSON(t, fmt.Sprintf(`{"type":"appeal","email":%q,"jurisdiction":"US-VA","appeal_of":%q}`, email, decided.ID))
	confirm(t, email, appeal.ID)
	awaitAppeal(t, appeal.ID, decided.ID)

	reason := "We found your account under a former address of yours."
	if err := stack.App.Operator().Approve(context.Background(), appeal.ID, "e2e", []string{reason}); err != nil {
		t.Fatal(err)
	}
	granted := mailTo(t, email, appeal.ID, "Our decision on your appeal")
	followID := request.FollowUpID(appeal.ID, storedRequest(t, appeal.ID).ReceivedAt)
	for _, want := range []string{"reverse our decision", reason, "as request " + followID} {
		if !strings.Contains(granted.Text, want) {
			t.Fatalf("decision lacks %q:\n%s", want, granted.Text)
		}
	}
	follow := storedRequest(t, followID)
	if follow.Appeal.FollowsAppeal != appeal.ID || follow.Type != request.Delete || follow.Jurisdiction != "US-VA" {
		t.Fatalf("follow-up %s follows %q, type %s, law %s", follow.ID, follow.Appeal.FollowsAppeal, follow.Type, follow.Jurisdiction)
	}
	if storedRequest(t, appeal.ID).Deadlines.Due.Before(follow.Deadlines.Due) {
		t.Fatalf("follow-up due %s after the appeal's %s", follow.Deadlines.Due, storedRequest(t, appeal.ID).Deadlines.Due)
	}
	// Carried out to the end without another confirmation or review.
	mailTo(t, email, followID, "Your data has been deleted")
	if hasMail(t, followID, "Confirm your privacy request") {
		t.Fatal("the follow-up asked the subject to confirm again")
	}
	checkExecution(t, resources.RequestWorkflow, followID, "SUCCEEDED")
	checkExecution(t, resources.RequestWorkflow, appeal.ID, "SUCCEEDED")

	// Appealed once: a second appeal has nothing to appeal; nor has an
	// appeal of someone else's request, and neither mail says which.
	again := submitJSON(t, fmt.Sprintf(`{"type":"appeal","email":%q,"jurisdiction":"US-VA","appeal_of":%q}`, email, decided.ID))
	const stranger = "appeal.stranger@example.com"
	foreign := submitJSON(t, fmt.Sprintf(`{"type":"appeal","email":%q,"jurisdiction":"US-VA","appeal_of":%q}`, stranger, decided.ID))
	for _, a := range []struct{ email, id string }{{email, again.ID}, {stranger, foreign.ID}} {
		confirm(t, a.email, a.id)
		m := mailTo(t, a.email, a.id, "no decision to appeal")
		if !strings.Contains(m.Text, decided.ID) || strings.Contains(m.Text, email) && a.email == stranger {
			t.Fatalf("nothing to appeal:\n%s", m.Text)
		}
		if got := storedRequest(t, a.id); got.Status != request.Denied || got.Review.TaskToken != "" {
			t.Fatalf("appeal %s: %s", a.id, got.Status)
		}
	}
}
