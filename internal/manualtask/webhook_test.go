package manualtask

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/clock"
	"github.com/privacy-pipeline/dsr/internal/notify"
	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/webhook"
)

type mailbox struct{ sent []notify.Message }

func (m *mailbox) Send(_ context.Context, msg notify.Message) error {
	m.sent = append(m.sent, msg)
	return nil
}

type secrets map[string][]byte

func (s secrets) Secret(_ context.Context, ref string) ([]byte, error) {
	if v, ok := s[ref]; ok {
		return v, nil
	}
	return nil, errors.New("no such secret")
}

const chatRegistry = `
identities: [email]
sources:
  - id: chat
    description: Live chats
    webhook:
      url: https://hooks.example.com/chat
      secret: ssm:/hooks/chat
      owner: support@example.com
      types: [access, delete]
      identities: [email]
    categories: [identifiers]
    purposes: [Answer questions.]
    recipients: []
    retention: {period: 2 years}
`

func TestCallback(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	key := []byte(strings.Repeat("k", webhook.MinSecretBytes))
	reg, err := registry.Parse([]byte(chatRegistry))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	type fixture struct {
		a     *Answerer
		st    *tasksStore
		rs    *resumer
		mail  *mailbox
		files files
		token string
	}
	setup := func(typ string) fixture {
		task := Task{RequestID: reqID, SourceID: "chat", Type: typ, Status: Open, Owner: "support@example.com", Due: now.Add(72 * time.Hour)}
		task.Issue(now.Add(96 * time.Hour))
		token := task.IssueCallback(now.Add(96 * time.Hour))
		task.Webhook.Accepted = true
		st := &tasksStore{tasks: map[string]Task{task.ID(): task}, wait: "wf-token"}
		f := fixture{st: st, rs: &resumer{}, mail: &mailbox{}, files: files{}, token: token}
		f.a = &Answerer{Store: st, Files: f.files, Workflow: f.rs, Audit: &audit{}, Clock: clock.NewFake(now), Registry: reg,
			Secrets: secrets{"ssm:/hooks/chat": key}, Teller: Teller{Mailer: f.mail, BaseURL: "https://privacy.example.com"}}
		return f
	}
	signed := func(body string, at time.Time) string { return webhook.Sign(key, at, []byte(body)) }
	records := `{"request_id":"` + reqID + `","source_id":"chat","status":"done","records":[{"chat_id":"c-1"}]}`
	erased := `{"request_id":"` + reqID + `","source_id":"chat","status":"done","erased":2}`
	failed := `{"request_id":"` + reqID + `","source_id":"chat","status":"failed","note":"locked"}`

	refusals := []struct {
		name        string
		typ         string
		source      string
		token       string
		body, sig   string
		expiredTask bool
		kind        apperr.Kind
	}{
		{"wrong token", "access", "chat", "nope", records, signed(records, now), false, apperr.NotFound},
		{"no token", "access", "chat", "<empty>", records, signed(records, now), false, apperr.NotFound},
		{"not a webhook source", "access", "crm", "", records, signed(records, now), false, apperr.NotFound},
		{"unsigned", "access", "chat", "", records, "", false, apperr.Forbidden},
		{"signed by another secret", "access", "chat", "", records, webhook.Sign([]byte(strings.Repeat("x", 32)), now, []byte(records)), false, apperr.Forbidden},
		{"replayed an hour later", "access", "chat", "", records, signed(records, now.Add(-time.Hour)), false, apperr.Forbidden},
		{"body changed after signing", "access", "chat", "", records, signed(erased, now), false, apperr.Forbidden},
		{"an erasure count for access", "access", "chat", "", erased, signed(erased, now), false, apperr.Invalid},
		{"accepted again", "access", "chat", "", strings.Replace(records, `"done","records":[{"chat_id":"c-1"}]`, `"accepted"`, 1), signed(strings.Replace(records, `"done","records":[{"chat_id":"c-1"}]`, `"accepted"`, 1), now), false, apperr.Invalid},
		{"expired", "access", "chat", "", records, signed(records, now), true, apperr.Forbidden},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(tt.typ)
			token := tt.token
			switch token {
			case "":
				token = f.token
			case "<empty>":
				token = ""
			}
			if tt.expiredTask {
				f.a.Clock = clock.NewFake(now.Add(96 * time.Hour))
			}
			err := f.a.Callback(ctx, reqID, tt.source, token, tt.sig, []byte(tt.body))
			if !apperr.Is(err, tt.kind) {
				t.Fatalf("Callback = %v, want kind %v", err, tt.kind)
			}
			if got := f.st.tasks[ID(reqID, "chat")]; !got.IsOpen() {
				t.Fatalf("a refused callback answered the task: %+v", got)
			}
		})
	}

	t.Run("records become the export, once", func(t *testing.T) {
		f := setup("access")
		if err := f.a.Callback(ctx, reqID, "chat", f.token, signed(records, now), []byte(records)); err != nil {
			t.Fatal(err)
		}
		got := f.st.tasks[ID(reqID, "chat")]
		if got.Status != Done || got.By != "webhook:chat" || got.Export == nil || got.Export.MediaType != MediaJSON ||
			string(f.files[got.Export.Key]) != `[{"chat_id":"c-1"}]` {
			t.Fatalf("answered task %+v", got)
		}
		if len(f.rs.resumed) != 1 {
			t.Fatal("the last task's answer did not resume the workflow")
		}
		// Sent again (its answer lost): taken, changing nothing.
		if err := f.a.Callback(ctx, reqID, "chat", f.token, signed(records, now), []byte(records)); err != nil {
			t.Fatalf("the callback a second time: %v", err)
		}
		if len(f.rs.resumed) != 1 || len(f.files) != 1 {
			t.Fatalf("the callback sent again resumed %d times, kept %d exports", len(f.rs.resumed), len(f.files))
		}
		// Another answer after it, or one by someone else, is refused.
		f.st.tasks[ID(reqID, "chat")] = func(t Task) Task { t.By = "operator:ann"; return t }(f.st.tasks[ID(reqID, "chat")])
		if err := f.a.Callback(ctx, reqID, "chat", f.token, signed(records, now), []byte(records)); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("a callback after an operator's answer: %v", err)
		}
	})

	t.Run("a call made again: either callback URL works", func(t *testing.T) {
		f := setup("delete")
		task := f.st.tasks[ID(reqID, "chat")]
		second := task.IssueCallback(task.TokenExpires)
		f.st.tasks[task.ID()] = task
		if !task.CallbackMatches(f.token) || !task.CallbackMatches(second) || task.CallbackMatches("other") {
			t.Fatal("CallbackMatches")
		}
		var many Task
		first := many.IssueCallback(now)
		for range maxCallbacks {
			many.IssueCallback(now)
		}
		if many.CallbackMatches(first) || len(many.Webhook.CallbackHashes) != maxCallbacks {
			t.Fatalf("the oldest of %d callback URLs still works", len(many.Webhook.CallbackHashes))
		}
		if err := f.a.Callback(ctx, reqID, "chat", f.token, signed(erased, now), []byte(erased)); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("an erasure", func(t *testing.T) {
		f := setup("delete")
		if err := f.a.Callback(ctx, reqID, "chat", f.token, signed(erased, now), []byte(erased)); err != nil {
			t.Fatal(err)
		}
		if got := f.st.tasks[ID(reqID, "chat")]; got.Status != Done || got.What() != "erased" || got.Export != nil {
			t.Fatalf("answered task %+v", got)
		}
	})

	t.Run("the system could not: the owner gets the task", func(t *testing.T) {
		f := setup("delete")
		if err := f.a.Callback(ctx, reqID, "chat", f.token, signed(failed, now), []byte(failed)); err != nil {
			t.Fatal(err)
		}
		got := f.st.tasks[ID(reqID, "chat")]
		if !got.IsOpen() || got.Webhook.Failure != ReportedFailure || got.NotifiedAt.IsZero() || len(f.rs.resumed) != 0 {
			t.Fatalf("task after a failed answer: %+v", got)
		}
		if len(f.mail.sent) != 1 || f.mail.sent[0].To != "support@example.com" || !strings.Contains(f.mail.sent[0].Text, ReportedFailure) ||
			!strings.Contains(f.mail.sent[0].Text, "/tasks/chat?token=") {
			t.Fatalf("the owner's mail: %+v", f.mail.sent)
		}
		// Whoever answers first answers: the owner's link works, and so
		// does the callback until then.
		if err := f.a.Callback(ctx, reqID, "chat", f.token, signed(erased, now), []byte(erased)); err != nil {
			t.Fatalf("the callback after the hand-over: %v", err)
		}
		if got := f.st.tasks[ID(reqID, "chat")]; got.Status != Done || got.By != "webhook:chat" {
			t.Fatalf("task %+v", got)
		}
	})

	t.Run("records too large for an export", func(t *testing.T) {
		f := setup("access")
		big := `{"request_id":"` + reqID + `","source_id":"chat","status":"done","records":[{"t":"` + strings.Repeat("a", MaxExport) + `"}]}`
		if err := f.a.Callback(ctx, reqID, "chat", f.token, signed(big, now), []byte(big)); err != nil {
			t.Fatal(err)
		}
		if got := f.st.tasks[ID(reqID, "chat")]; !got.IsOpen() || !strings.Contains(got.Webhook.Failure, "over 4 MiB") || len(f.mail.sent) != 1 {
			t.Fatalf("task after records too large: %+v", got)
		}
	})
}

// failingResumer fails its first Resume, as a lost call to Step Functions.
type failingResumer struct {
	resumer
	failed bool
}

func (r *failingResumer) Resume(ctx context.Context, token string) error {
	if !r.failed {
		r.failed = true
		return apperr.E(apperr.Unavailable, "Step Functions is unavailable.")
	}
	return r.resumer.Resume(ctx, token)
}

// An answer whose resume failed is sent again (the endpoint retries its
// callback, the owner their form): the answer is kept once and the
// workflow resumed on the second try.
func TestAnswerSentAgainResumes(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	key := []byte(strings.Repeat("k", webhook.MinSecretBytes))
	reg, err := registry.Parse([]byte(chatRegistry))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	task := Task{RequestID: reqID, SourceID: "chat", Type: "delete", Status: Open, Owner: "support@example.com"}
	ownerToken := task.Issue(now.Add(96 * time.Hour))
	token := task.IssueCallback(now.Add(96 * time.Hour))
	for _, via := range []string{"callback", "owner"} {
		t.Run(via, func(t *testing.T) {
			st := &tasksStore{tasks: map[string]Task{task.ID(): task}, wait: "wf-token"}
			rs := &failingResumer{}
			a := &Answerer{Store: st, Files: files{}, Workflow: rs, Audit: &audit{}, Clock: clock.NewFake(now), Registry: reg, Secrets: secrets{"ssm:/hooks/chat": key}}
			send := func() error {
				if via == "owner" {
					_, err := a.AnswerWithToken(ctx, reqID, "chat", ownerToken, Answer{Status: None})
					return err
				}
				body := `{"request_id":"` + reqID + `","source_id":"chat","status":"none"}`
				return a.Callback(ctx, reqID, "chat", token, webhook.Sign(key, now, []byte(body)), []byte(body))
			}
			if err := send(); !apperr.Is(err, apperr.Unavailable) {
				t.Fatalf("first answer: %v, want the resume's failure", err)
			}
			if st.tasks[task.ID()].IsOpen() {
				t.Fatal("the first answer was not kept")
			}
			err := send()
			if via == "owner" && !apperr.Is(err, apperr.Conflict) || via == "callback" && err != nil {
				t.Fatalf("the answer sent again: %v", err)
			}
			if len(rs.resumed) != 1 || st.wait != "" {
				t.Fatalf("resumed %v, wait %q", rs.resumed, st.wait)
			}
		})
	}
}
