package e2e

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/devstack"
	"github.com/privacy-pipeline/dsr/internal/erasure"
	"github.com/privacy-pipeline/dsr/internal/manualtask"
	"github.com/privacy-pipeline/dsr/internal/recipient"
)

// crmOwner is the demo CRM's owner (a manual source in the demo registry).
const crmOwner = "sales-ops@example.com"

// TestManualCorrection (before TestManualSource, which erases her): a
// correction of the CRM customer's profile reaches
// the systems the pipeline cannot change: the help desk's endpoint gets
// the new values (and answers at once), the CRM's owner a task whose page
// shows them; the subject is told only once the owner (here an operator)
// has answered, and the values are then cleared.
func TestManualCorrection(t *testing.T) {
	ctx := context.Background()
	r := submitJSON(t, `{"type":"correct","email":"`+devstack.DemoCRMSubject+`","jurisdiction":"EU","corrections":{"phone":"08-555 0188"}}`)
	confirm(t, devstack.DemoCRMSubject, r.ID)
	m := mailTo(t, crmOwner, r.ID, "your part in crm")
	if !strings.Contains(m.Text, "correct the subject's data") || strings.Contains(m.Text+m.HTML, "0188") {
		t.Errorf("the owner's mail does not ask for the correction, or holds the value:\n%s", m.Text)
	}
	resp, err := http.Get(linkIn(t, m, "/tasks/crm").String())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "08-555 0188") || !strings.Contains(string(page), "I did so in the system") {
		t.Fatalf("task page: HTTP %d\n%s", resp.StatusCode, page)
	}
	if got := stack.Hooks.ChatCorrections(r.ID); got["phone"] != "08-555 0188" {
		t.Errorf("the help desk was asked to correct %v", got)
	}
	time.Sleep(time.Second)
	if got := status(t, r.StatusURL); got != "in_progress" {
		t.Fatalf("with the CRM's task open the correction is %s", got)
	}
	if hasMail(t, r.ID, "Your data has been corrected") {
		t.Fatal("the subject was told before the CRM was corrected")
	}
	if _, err := stack.App.TaskAnswers().Answer(ctx, manualtask.ID(r.ID, "crm"), manualtask.Answer{Status: manualtask.Done, By: "operator:e2e"}); err != nil {
		t.Fatal(err)
	}
	waitCompleted(t, r)
	mailTo(t, devstack.DemoCRMSubject, r.ID, "Your data has been corrected")
	if stored := storedRequest(t, r.ID); stored.Correction.Values != nil {
		t.Errorf("the new values were kept after the correction: %v", stored.Correction.Values)
	}
}

// TestManualSource: the demo CRM, which the pipeline cannot read, knows one
// customer. Her access request makes a task for the CRM's owner, who is
// mailed a link; the request waits until the export is uploaded, and the
// package holds it as the CRM. Her delete request waits for the owner's
// attestation (the owner is reminded before the extension-notice point)
// until an operator answers for the owner, and the receipt says who
// attested what and when.
func TestManualSource(t *testing.T) {
	ctx := context.Background()
	answers := stack.App.TaskAnswers()

	r := submitFor(t, "access", devstack.DemoCRMSubject)
	confirm(t, devstack.DemoCRMSubject, r.ID)
	m := mailTo(t, crmOwner, r.ID, "your part in crm")
	link := linkIn(t, m, "/tasks/crm")
	for _, secret := range []string{devstack.DemoCRMSubject, "crm-4471", "Sam"} {
		if strings.Contains(m.Text+m.HTML, secret) {
			t.Errorf("the owner's mail holds %q", secret)
		}
	}
	taskID := manualtask.ID(r.ID, "crm")
	time.Sleep(2 * time.Second) // the request waits: nothing is delivered
	if got := status(t, r.StatusURL); got != "in_progress" {
		t.Fatalf("with the CRM's task open the request is %s", got)
	}
	_, err := answers.Answer(ctx, taskID, manualtask.Answer{Status: manualtask.Done, By: "operator:e2e", File: []byte("<html><body>not an export</body></html>")})
	if !apperr.Is(err, apperr.Unsupported) {
		t.Fatalf("an HTML file as the export: %v", err)
	}
	// The owner opens the link: the page names whom to look for, and takes
	// the export.
	resp, err := http.Get(link.String())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "crm-4471") || strings.Contains(string(page), devstack.DemoCRMSubject) {
		t.Fatalf("task page: HTTP %d\n%s", resp.StatusCode, page)
	}
	export := []byte("contact,calls,last_note\nSam Berg,3,Renewal in March\n")
	var form bytes.Buffer
	w := multipart.NewWriter(&form)
	_ = w.WriteField("answer", "done")
	part, _ := w.CreateFormFile("file", "crm.csv")
	_, _ = part.Write(export)
	_ = w.Close()
	resp, err = http.Post(stack.APIURL+link.Path+"?"+link.RawQuery, w.FormDataContentType(), &form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the owner's answer: HTTP %d", resp.StatusCode)
	}
	if _, err := answers.Answer(ctx, taskID, manualtask.Answer{Status: manualtask.None, By: "operator:e2e"}); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("a second answer: %v", err)
	}
	waitCompleted(t, r)
	download := linkIn(t, mailTo(t, devstack.DemoCRMSubject, r.ID, "Your data is ready"), "/download")
	resp, err = http.Get(download.String())
	if err != nil {
		t.Fatal(err)
	}
	zipped, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	files := unzip(t, zipped)
	if got := string(files["files/crm.csv"]); got != string(export) {
		t.Errorf("the package's files/crm.csv holds %q, want the owner's export", got)
	}
	if !strings.Contains(string(files["manifest.json"]), `"file": "files/crm.csv"`) || !strings.Contains(string(files["index.html"]), "files/crm.csv") {
		t.Errorf("the manifest and the report do not name the CRM's export:\n%s", files["manifest.json"])
	}
	// One package, data from every kind of place: the CRM's owner's export
	// (manual), the help desk's chats (webhook) and her session in the
	// analytics lake (Parquet).
	if !strings.Contains(string(files["files/chat.json"]), `"chat_id":"c-588"`) {
		t.Errorf("the package's files/chat.json holds %s, want her chat", files["files/chat.json"])
	}
	if lake := string(files["json/sessions-lake.json"]); !strings.Contains(lake, `"s-7"`) || strings.Count(lake, `"session_id"`) != 1 {
		t.Errorf("the package's json/sessions-lake.json holds %s, want her one session", lake)
	}

	d := submitFor(t, "delete", devstack.DemoCRMSubject)
	confirm(t, devstack.DemoCRMSubject, d.ID)
	approve(t, d.ID)
	mailTo(t, crmOwner, d.ID, "your part in crm")
	// Before the extension-notice point the owner is reminded, with a
	// fresh link; at it the operators are told the CRM has not answered.
	reminder := mailTo(t, crmOwner, d.ID, "Reminder: Privacy request")
	linkIn(t, reminder, "/tasks/crm")
	late := mailTo(t, "privacy-team@example.com", d.ID, "Manual sources are late")
	if !strings.Contains(late.Text, manualtask.ID(d.ID, "crm")) {
		t.Errorf("the operators' mail does not name the task:\n%s", late.Text)
	}
	if got := status(t, d.StatusURL); got != "in_progress" {
		t.Fatalf("with the CRM's task open the delete request is %s", got)
	}
	if _, ok, _ := stack.App.Receipts().ReceiptOf(ctx, d.ID); ok {
		t.Fatal("a receipt was written before the CRM's owner attested")
	}
	if _, err := answers.Answer(ctx, manualtask.ID(d.ID, "crm"), manualtask.Answer{Status: manualtask.Done, By: "operator:e2e", Note: "Deleted the contact and its call notes."}); err != nil {
		t.Fatal(err)
	}
	waitCompleted(t, d)
	l, ok, err := stack.App.Receipts().ReceiptOf(ctx, d.ID)
	if err != nil || !ok {
		t.Fatalf("receipt: %v %v", ok, err)
	}
	rec, err := l.Open()
	if err != nil {
		t.Fatal(err)
	}
	var crm *erasure.Outcome
	for i := range rec.Sources {
		if rec.Sources[i].SourceID == "crm" {
			crm = &rec.Sources[i]
		}
	}
	if crm == nil || crm.Attestation == nil || crm.Mode != erasure.ModeAttested || crm.Attestation.By != "operator:e2e" ||
		crm.Attestation.Status != "done" || crm.Attestation.At.IsZero() || !strings.HasPrefix(crm.Attestation.NoteHash, "hmac-sha256:") {
		t.Fatalf("the receipt's CRM entry: %+v", crm)
	}
	// The same delete, everywhere the data lives: her session erased from
	// the Parquet lake, the help desk's chats erased through its webhook
	// (and attested by it), and the recipients told.
	for _, o := range rec.Sources {
		switch o.SourceID {
		case "sessions-lake":
			if o.Deleted != 1 {
				t.Errorf("the receipt's lake entry: %+v", o)
			}
		case "chat":
			if o.Attestation == nil || o.Attestation.By != "webhook:chat" || o.Attestation.What != "erased" {
				t.Errorf("the receipt's chat entry: %+v", o)
			}
		}
	}
	if stack.Hooks.ChatHolds(devstack.DemoCRMSubject) != 0 {
		t.Error("the help desk still holds her chats")
	}
	told := receiptRecipients(t, d.ID, devstack.DemoCRMSubject)
	for _, id := range []string{"adco", "mailhouse"} {
		if told[id].Status != recipient.Told {
			t.Errorf("the receipt lists recipient %s as %+v", id, told[id])
		}
	}
	if strings.Contains(string(l.Body), "call notes") || strings.Contains(string(l.Body), devstack.DemoCRMSubject) {
		t.Errorf("the receipt holds the note or the address:\n%s", l.Body)
	}
}
