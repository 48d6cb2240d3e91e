package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/devstack"
	"github.com/privacy-pipeline/dsr/internal/erasure"
	"github.com/privacy-pipeline/dsr/internal/manualtask"
)

// chatOwner is who answers the chat source's tasks when its endpoint fails.
const chatOwner = "support-lead@example.com"

// hookCalls reads GET /_dev/webhooks, checking it holds no identity's value.
func hookCalls(t *testing.T, secrets ...string) []devstack.HookCall {
	t.Helper()
	resp, err := http.Get(stack.APIURL + "/_dev/webhooks")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, s := range secrets {
		if strings.Contains(string(b), s) {
			t.Errorf("GET /_dev/webhooks holds a subject's %q", s)
		}
	}
	var calls []devstack.HookCall
	if err := json.Unmarshal(b, &calls); err != nil {
		t.Fatalf("GET /_dev/webhooks: %v", err)
	}
	return calls
}

// callsFor are the calls an endpoint received for a request.
func callsFor(t *testing.T, endpoint, requestID string, secrets ...string) []devstack.HookCall {
	t.Helper()
	var out []devstack.HookCall
	for _, c := range hookCalls(t, secrets...) {
		if c.Endpoint == endpoint && c.RequestID == requestID {
			out = append(out, c)
		}
	}
	return out
}

// TestWebhookSource: the demo help desk keeps live chats behind a webhook
// source. Its endpoint sends the subject's transcripts back at once for
// access, and the package holds them as the chat source; for a delete it
// takes the call, erases, and answers later through the callback, and the
// receipt says the help desk attested it. When the endpoint is down, the
// call is retried, then the task goes to its owner, who answers it.
func TestWebhookSource(t *testing.T) {
	ctx := context.Background()
	const subject = devstack.DemoChatSubject
	if got := stack.Hooks.ChatHolds(subject); got != devstack.DemoChatTranscripts {
		t.Fatalf("the demo help desk holds %d chats of the subject, want %d", got, devstack.DemoChatTranscripts)
	}

	r := submitFor(t, "access", subject)
	confirm(t, subject, r.ID)
	waitCompleted(t, r)
	calls := callsFor(t, "chat", r.ID, subject)
	if len(calls) != 1 || !calls[0].Signed || calls[0].Kind != "source_request" || calls[0].Type != "access" ||
		!slices.Equal(calls[0].IdentityKinds, []string{"email"}) || calls[0].Answer != "200 done" {
		t.Fatalf("the help desk's calls for the access request: %+v", calls)
	}
	download := linkIn(t, mailTo(t, subject, r.ID, "Your data is ready"), "/download")
	resp, err := http.Get(download.String())
	if err != nil {
		t.Fatal(err)
	}
	zipped, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	files := unzip(t, zipped)
	var chats []map[string]any
	if err := json.Unmarshal(files["files/chat.json"], &chats); err != nil || len(chats) != devstack.DemoChatTranscripts {
		t.Fatalf("the package's files/chat.json: %v, %d transcripts:\n%s", err, len(chats), files["files/chat.json"])
	}
	if chats[0]["chat_id"] != "c-601" {
		t.Errorf("the first transcript is %v, want c-601", chats[0]["chat_id"])
	}

	d := submitFor(t, "delete", subject)
	confirm(t, subject, d.ID)
	approve(t, d.ID)
	waitCompleted(t, d)
	if got := stack.Hooks.ChatHolds(subject); got != 0 {
		t.Errorf("after the delete the help desk holds %d chats of the subject", got)
	}
	calls = callsFor(t, "chat", d.ID, subject)
	if len(calls) != 1 || calls[0].Answer != "202 accepted" || calls[0].Type != "delete" {
		t.Fatalf("the help desk's calls for the delete: %+v", calls)
	}
	l, ok, err := stack.App.Receipts().ReceiptOf(ctx, d.ID)
	if err != nil || !ok {
		t.Fatalf("receipt: %v %v", ok, err)
	}
	rec, err := l.Open()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(rec.Sources, func(o erasure.Outcome) bool { return o.SourceID == "chat" })
	if i < 0 || rec.Sources[i].Kind != "webhook" || rec.Sources[i].Mode != erasure.ModeAttested || rec.Sources[i].Attestation == nil ||
		rec.Sources[i].Attestation.By != "webhook:chat" || rec.Sources[i].Attestation.Status != "done" {
		t.Fatalf("the receipt's chat entry: %+v", rec.Sources)
	}
	if strings.Contains(string(l.Body), subject) {
		t.Error("the receipt holds the subject's address")
	}
	noMailTo(t, chatOwner)

	// The endpoint is down: three signed calls, then the owner's task,
	// which says why; the owner's answer completes the request.
	stack.Hooks.SetFailing("chat", true)
	defer stack.Hooks.SetFailing("chat", false)
	f := submitFor(t, "access", devstack.DemoSubject)
	confirm(t, devstack.DemoSubject, f.ID)
	m := mailTo(t, chatOwner, f.ID, "your part in chat")
	if !strings.Contains(m.Text, "did not answer (status 503 after 3 attempts)") || strings.Contains(m.Text+m.HTML, devstack.DemoSubject) {
		t.Errorf("the owner's mail does not say why the task is theirs, or holds the address:\n%s", m.Text)
	}
	if calls := callsFor(t, "chat", f.ID, devstack.DemoSubject); len(calls) != 3 || !calls[2].Signed || !strings.HasPrefix(calls[2].Answer, "503") {
		t.Fatalf("the calls of the endpoint that is down: %+v", calls)
	}
	time.Sleep(time.Second)
	if got := status(t, f.StatusURL); got != "in_progress" {
		t.Fatalf("with the chat's task handed to its owner the request is %s", got)
	}
	if _, err := stack.App.TaskAnswers().Answer(ctx, manualtask.ID(f.ID, "chat"), manualtask.Answer{Status: manualtask.None, By: "operator:e2e"}); err != nil {
		t.Fatal(err)
	}
	waitCompleted(t, f)
}
