package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/manualtask"
	"github.com/privacy-pipeline/dsr/internal/memstore"
	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/webhook"
)

// chatSource is a webhook source that knows subjects by their email.
const chatSource = `  - id: chat
    description: Live chats
    webhook:
      url: https://hooks.example.com/chat
      secret: ssm:/hooks/chat
      owner: support@example.com
      types: [access, delete, correct, opt_out]
      identities: [email]
    categories: [identifiers]
    purposes: [Answer questions.]
    recipients: []
    retention: {period: 2 years}
`

// scriptedCaller answers each call with reply, after checking it as the
// client would, or fails with err; it keeps the calls.
type scriptedCaller struct {
	status int
	reply  func(call webhook.SourceCall) string
	err    error
	calls  []webhook.SourceCall
	eps    []webhook.Endpoint
}

func (c *scriptedCaller) Call(_ context.Context, ep webhook.Endpoint, body []byte, check func(webhook.Reply) error) (webhook.Reply, error) {
	var call webhook.SourceCall
	if err := json.Unmarshal(body, &call); err != nil {
		return webhook.Reply{}, err
	}
	c.calls, c.eps = append(c.calls, call), append(c.eps, ep)
	if c.err != nil {
		return webhook.Reply{}, c.err
	}
	r := webhook.Reply{Status: c.status, Body: []byte(c.reply(call))}
	if err := check(r); err != nil {
		return webhook.Reply{}, &webhook.Failure{Attempts: 3, Reason: err.Error()}
	}
	return r, nil
}

func newWebhookEnv(t *testing.T, typ request.Type, caller *scriptedCaller) (*env, request.Request, *memstore.ManualTasks) {
	t.Helper()
	e, _ := newModesEnv(t)
	reg, err := registry.Parse([]byte(modesRegistry + chatSource))
	if err != nil {
		t.Fatal(err)
	}
	e.steps.Registry = reg
	tasks := memstore.NewManualTasks()
	e.steps.ManualTasks = tasks
	e.steps.Webhooks = caller
	e.steps.TaskAnswers = &manualtask.Answerer{Store: tasks, Files: e.exports, Workflow: nopResumer{}, Audit: e.store, Clock: e.clock,
		Registry: reg, Teller: manualtask.Teller{Mailer: e.mail, BaseURL: "https://privacy.example.com"}}
	r := e.seed(t, typ, request.InProgress, func(r *request.Request) {
		r.Identities = map[string][]string{"email": {subject}, "user_id": {"u-1"}}
		if typ == request.Correct {
			r.Correction.Values = request.Corrections{"phone": "+1 555 0188"}
		}
	})
	return e, r, tasks
}

func answerOf(status, extra string) func(webhook.SourceCall) string {
	return func(c webhook.SourceCall) string {
		return `{"request_id":"` + c.RequestID + `","source_id":"` + c.SourceID + `","status":"` + status + `"` + extra + `}`
	}
}

func TestWebhookSourceCall(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		typ       request.Type
		caller    *scriptedCaller
		open      bool   // the task is still open after the step
		status    string // else its status
		failure   string // the hand-over's reason, if any
		ownerMail bool
		exported  string
	}{
		{name: "records at once", typ: request.Access, caller: &scriptedCaller{status: 200, reply: answerOf("done", `,"records":[{"chat_id":"c-1"}]`)},
			status: "done", exported: `[{"chat_id":"c-1"}]`},
		{name: "nothing held", typ: request.Access, caller: &scriptedCaller{status: 200, reply: answerOf("none", "")}, status: "none"},
		{name: "erasure comes later", typ: request.Delete, caller: &scriptedCaller{status: 202, reply: answerOf("accepted", "")}, open: true},
		{name: "202 that says done is malformed", typ: request.Delete, caller: &scriptedCaller{status: 202, reply: answerOf("done", "")}, open: true,
			failure: "malformed answer: status 202 comes with an accepted answer, and only with it after 3 attempts", ownerMail: true},
		{name: "the system could not", typ: request.Delete, caller: &scriptedCaller{status: 200, reply: answerOf("failed", `,"note":"locked"`)}, open: true,
			failure: manualtask.ReportedFailure, ownerMail: true},
		{name: "an answer for another request", typ: request.Access, caller: &scriptedCaller{status: 200, reply: func(webhook.SourceCall) string {
			return `{"request_id":"dsr-other","source_id":"chat","status":"none"}`
		}}, open: true, failure: "malformed answer: the answer names another request or source after 3 attempts", ownerMail: true},
		{name: "the endpoint is down", typ: request.Access, caller: &scriptedCaller{err: &webhook.Failure{Attempts: 3, Reason: "status 503"}}, open: true,
			failure: "status 503 after 3 attempts", ownerMail: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, r, tasks := newWebhookEnv(t, tt.typ, tt.caller)
			err := e.steps.AwaitManualTasks(ctx, ManualWait{RequestID: r.ID, TaskToken: "tok"})
			if tt.open && err != nil || !tt.open && !errors.Is(err, manualtask.ErrNoneOpen) {
				t.Fatalf("AwaitManualTasks = %v", err)
			}
			if len(tt.caller.calls) != 1 {
				t.Fatalf("%d calls", len(tt.caller.calls))
			}
			c := tt.caller.calls[0]
			if c.Kind != webhook.KindSourceRequest || c.Type != string(tt.typ) || len(c.Identities) != 1 || c.Identities["email"][0] != subject ||
				!strings.Contains(c.CallbackURL, "/tasks/chat/callback?token=") || c.Due == "" || tt.caller.eps[0].Secret != "ssm:/hooks/chat" {
				t.Fatalf("the call: %+v to %+v", c, tt.caller.eps[0])
			}
			task, err := tasks.Task(ctx, r.ID, "chat")
			if err != nil {
				t.Fatal(err)
			}
			if task.IsOpen() != tt.open || !tt.open && string(task.Status) != tt.status {
				t.Fatalf("task %+v", task)
			}
			if task.Webhook == nil || task.Webhook.Failure != tt.failure || task.Webhook.CalledAt.IsZero() {
				t.Fatalf("the task's webhook state: %+v", task.Webhook)
			}
			owner := 0
			for _, m := range e.mail.sent {
				if m.To == "support@example.com" {
					owner++
					if !strings.Contains(m.Text, tt.failure) {
						t.Errorf("the owner's mail does not say why:\n%s", m.Text)
					}
				}
			}
			if (owner == 1) != tt.ownerMail || owner > 1 {
				t.Fatalf("%d mails to the owner", owner)
			}
			if tt.exported != "" && (task.Export == nil || string(e.exports.manual[task.Export.Key]) != tt.exported) {
				t.Fatalf("export %+v", task.Export)
			}
			// A retried step calls no one again.
			_ = e.steps.AwaitManualTasks(ctx, ManualWait{RequestID: r.ID, TaskToken: "tok"})
			if len(tt.caller.calls) != 1 {
				t.Fatalf("a retried step called the endpoint again")
			}
		})
	}
}

// racingAnswers answers the task (as a quick callback would) before
// applying the endpoint's answer, which then finds it answered.
type racingAnswers struct {
	TaskAnswers
	tasks *memstore.ManualTasks
}

func (r racingAnswers) ApplySourceAnswer(ctx context.Context, t manualtask.Task, src *registry.Source, a webhook.SourceAnswer) error {
	quick := t
	quick.Status, quick.By = manualtask.Done, "webhook:chat"
	if err := r.tasks.Update(ctx, quick); err != nil {
		return err
	}
	return r.TaskAnswers.ApplySourceAnswer(ctx, t, src, a)
}

// The callback can be quicker than the step that made the call: the step
// then finds the task answered, and goes on rather than failing.
func TestWebhookCallbackQuickerThanTheStep(t *testing.T) {
	ctx := context.Background()
	caller := &scriptedCaller{status: 202, reply: answerOf("accepted", "")}
	e, r, tasks := newWebhookEnv(t, request.Delete, caller)
	e.steps.TaskAnswers = racingAnswers{TaskAnswers: e.steps.TaskAnswers, tasks: tasks}
	if err := e.steps.AwaitManualTasks(ctx, ManualWait{RequestID: r.ID, TaskToken: "tok"}); !errors.Is(err, manualtask.ErrNoneOpen) {
		t.Fatalf("AwaitManualTasks = %v, want the workflow to go on", err)
	}
}

// A correction's call carries the new values, and its answer says they
// were applied; a choice's call carries none.
func TestWebhookSourceCorrection(t *testing.T) {
	ctx := context.Background()
	for _, typ := range []request.Type{request.Correct, request.OptOut} {
		t.Run(string(typ), func(t *testing.T) {
			caller := &scriptedCaller{status: 200, reply: answerOf("done", "")}
			e, r, tasks := newWebhookEnv(t, typ, caller)
			if err := e.steps.AwaitManualTasks(ctx, ManualWait{RequestID: r.ID, TaskToken: "tok"}); !errors.Is(err, manualtask.ErrNoneOpen) {
				t.Fatalf("AwaitManualTasks = %v", err)
			}
			c := caller.calls[0]
			if c.Type != string(typ) || (typ == request.Correct) != (c.Corrections["phone"] == "+1 555 0188") || typ != request.Correct && c.Corrections != nil {
				t.Fatalf("the call: %+v", c)
			}
			task, err := tasks.Task(ctx, r.ID, "chat")
			want := map[request.Type]string{request.Correct: "corrected", request.OptOut: "stopped selling and sharing"}[typ]
			if err != nil || task.What() != want {
				t.Fatalf("task %+v (%s), %v", task, task.What(), err)
			}
		})
	}
}

// A secret that cannot be read is the pipeline's trouble, not the owner's:
// the step fails to be retried (and, if it keeps failing, stops for an
// operator), and nobody is handed the task.
func TestWebhookSecretUnreadable(t *testing.T) {
	ctx := context.Background()
	caller := &scriptedCaller{err: errors.New("ThrottlingException")}
	e, r, tasks := newWebhookEnv(t, request.Access, caller)
	err := e.steps.AwaitManualTasks(ctx, ManualWait{RequestID: r.ID, TaskToken: "tok"})
	if !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("AwaitManualTasks = %v, want a retryable failure", err)
	}
	task, err := tasks.Task(ctx, r.ID, "chat")
	if err != nil || !task.IsOpen() || task.Webhook.Failure != "" || !task.NotifiedAt.IsZero() {
		t.Fatalf("task %+v, %v", task, err)
	}
	for _, m := range e.mail.sent {
		if m.To == "support@example.com" {
			t.Fatal("the owner was handed a task the endpoint never had")
		}
	}
}
