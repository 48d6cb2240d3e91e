package workflow

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/erasure"
	"github.com/privacy-pipeline/dsr/internal/manualtask"
	"github.com/privacy-pipeline/dsr/internal/memstore"
	"github.com/privacy-pipeline/dsr/internal/notify"
	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/statute"
)

// crmSource is a manual source that knows subjects by their user id.
const crmSource = `  - id: crm
    description: Sales CRM
    manual: {owner: sales@example.com, types: [access, delete], identities: [user_id]}
    categories: [identifiers]
    purposes: [Sell things.]
    recipients: []
    retention: {period: 2 years}
`

// newManualEnv is the modes environment with the CRM, and a delete request
// whose subject the CRM knows, due 2025-04-14 (notice by 2025-04-10).
func newManualEnv(t *testing.T, typ request.Type) (*env, request.Request, *memstore.ManualTasks) {
	t.Helper()
	e, _ := newModesEnv(t)
	reg, err := registry.Parse([]byte(modesRegistry + crmSource))
	if err != nil {
		t.Fatal(err)
	}
	e.steps.Registry = reg
	tasks := memstore.NewManualTasks()
	e.steps.ManualTasks = tasks
	r := e.seed(t, typ, request.InProgress, func(r *request.Request) {
		r.Identities = map[string][]string{"email": {subject}, "user_id": {"u-1"}}
		notice := statute.Date{Year: 2025, Month: 4, Day: 10}
		r.Deadlines.Due, r.Deadlines.ExtensionNoticeBy = statute.Date{Year: 2025, Month: 4, Day: 14}, &notice
	})
	return e, r, tasks
}

func answer(t *testing.T, e *env, tasks *memstore.ManualTasks, id string, a manualtask.Answer) {
	t.Helper()
	ans := &manualtask.Answerer{Store: tasks, Files: e.exports, Workflow: nopResumer{}, Audit: e.store, Clock: e.clock}
	if _, err := ans.Answer(context.Background(), id, a); err != nil {
		t.Fatal(err)
	}
}

type nopResumer struct{}

func (nopResumer) Resume(context.Context, string) error { return nil }

// A delete waits for the CRM's owner: the receipt is refused while the task
// is open (or not yet made), the wait makes the task once and mails the
// owner a link with no personal data, and the receipt records the
// attestation, its note as a keyed hash.
func TestManualTaskBlocksTheReceipt(t *testing.T) {
	ctx := context.Background()
	e, r, tasks := newManualEnv(t, request.Delete)
	eraseAll(t, e, r)

	var open *ManualTasksOpen
	if err := e.steps.WriteReceipt(ctx, RequestRef{RequestID: r.ID}); !errors.As(TaskError(err), &open) || len(e.receipts.links) != 0 {
		t.Fatalf("receipt before the CRM was asked: %v", err)
	}
	for range 2 { // a retried wait makes no second task and sends no second mail
		if err := e.steps.AwaitManualTasks(ctx, ManualWait{RequestID: r.ID, TaskToken: "tok"}); err != nil {
			t.Fatal(err)
		}
	}
	ts, _ := tasks.Tasks(ctx, r.ID)
	if len(ts) != 1 || ts[0].ID() != r.ID+"/crm" || !ts[0].IsOpen() || ts[0].Owner != "sales@example.com" ||
		ts[0].Due.Format(time.DateOnly) != "2025-04-10" || ts[0].TokenExpires.Format(time.DateOnly) != "2025-04-14" || ts[0].NotifiedAt.IsZero() {
		t.Fatalf("tasks %+v", ts)
	}
	if w, _ := tasks.Wait(ctx, r.ID); w != "tok" {
		t.Fatalf("wait %q", w)
	}
	if len(e.mail.sent) != 1 || e.mail.sent[0].To != "sales@example.com" || !strings.Contains(e.mail.sent[0].Text, baseURL+"/v1/requests/"+r.ID+"/tasks/crm?token=") {
		t.Fatalf("mail %+v", e.mail.sent)
	}
	if m := e.mail.sent[0]; strings.Contains(m.Text+m.HTML, subject) || strings.Contains(m.Text+m.HTML, "u-1") {
		t.Fatalf("the owner's mail holds the subject's identities:\n%s", m.Text)
	}
	if err := e.steps.WriteReceipt(ctx, RequestRef{RequestID: r.ID}); !errors.As(TaskError(err), &open) {
		t.Fatalf("receipt with the task open: %v", err)
	}

	answer(t, e, tasks, r.ID+"/crm", manualtask.Answer{Status: manualtask.Done, By: "operator:ann", Note: "Deleted contact 4471."})
	var none *NoOpenManualTasks
	if err := e.steps.AwaitManualTasks(ctx, ManualWait{RequestID: r.ID, TaskToken: "tok2"}); !errors.As(TaskError(err), &none) {
		t.Fatalf("wait with every task answered: %v", err)
	}
	if err := e.steps.WriteReceipt(ctx, RequestRef{RequestID: r.ID}); err != nil {
		t.Fatal(err)
	}
	rec, err := e.receipts.links[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	last := rec.Sources[len(rec.Sources)-1]
	a := last.Attestation
	if last.SourceID != "crm" || last.Kind != "manual" || last.Mode != erasure.ModeAttested || a == nil || a.By != "operator:ann" ||
		a.Status != "done" || a.What != "erased" || !a.At.Equal(e.clock.Now()) || !strings.HasPrefix(a.NoteHash, "h:") || a.TaskID != r.ID+"/crm" {
		t.Fatalf("receipt entry %+v %+v", last, a)
	}
	if strings.Contains(string(e.receipts.links[0].Body), "4471") {
		t.Fatal("the receipt holds the note")
	}
}

// Who is asked: a source serving the type, which knows the subject by one of
// its identities; a dry run asks nobody; a hold keeps erasure's tasks from
// being made.
func TestManualSourcesAsked(t *testing.T) {
	ctx := context.Background()
	var none *NoOpenManualTasks
	var held *ErasureOnHold
	tests := []struct {
		name string
		typ  request.Type
		edit func(*request.Request)
		want any // the error type, or nil: a task is made
	}{
		{"delete", request.Delete, nil, nil},
		{"access", request.Access, nil, nil},
		{"portability: not served", request.Portability, nil, &none},
		{"subject unknown to the CRM", request.Delete, func(r *request.Request) { delete(r.Identities, "user_id") }, &none},
		{"dry run", request.Delete, func(r *request.Request) { r.DryRun = true }, &none},
		{"legal hold", request.Delete, func(r *request.Request) { r.OnHold = true }, &held},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, r, tasks := newManualEnv(t, tt.typ)
			if tt.edit != nil {
				stored := e.store.stored(r.ID)
				tt.edit(&stored)
				e.store.put(stored)
			}
			err := e.steps.AwaitManualTasks(ctx, ManualWait{RequestID: r.ID, TaskToken: "tok"})
			ts, _ := tasks.Tasks(ctx, r.ID)
			switch want := tt.want.(type) {
			case nil:
				if err != nil || len(ts) != 1 || ts[0].Type != string(tt.typ) {
					t.Fatalf("err %v, tasks %+v", err, ts)
				}
			case **NoOpenManualTasks:
				if !errors.As(TaskError(err), want) || len(ts) != 0 {
					t.Fatalf("err %v (%T), tasks %+v", err, TaskError(err), ts)
				}
			case **ErasureOnHold:
				if !errors.As(TaskError(err), want) || len(ts) != 0 {
					t.Fatalf("err %v (%T), tasks %+v", err, TaskError(err), ts)
				}
			}
		})
	}
}

// An access package holds the owner's export as the source, and the work
// file goes once the package is built.
func TestManualExportInThePackage(t *testing.T) {
	ctx := context.Background()
	e, r, tasks := newManualEnv(t, request.Access)
	for _, src := range e.steps.Registry.Automated() {
		if _, err := e.steps.CollectSource(ctx, SourceTask{RequestID: r.ID, SourceID: src.ID}); err != nil {
			t.Fatal(err)
		}
	}
	var open *ManualTasksOpen
	if err := e.steps.BuildPackage(ctx, RequestRef{RequestID: r.ID}); !errors.As(TaskError(err), &open) {
		t.Fatalf("package before the CRM answered: %v", err)
	}
	if err := e.steps.AwaitManualTasks(ctx, ManualWait{RequestID: r.ID, TaskToken: "tok"}); err != nil {
		t.Fatal(err)
	}
	export := []byte(`[{"contact":"Ada","calls":3}]`)
	answer(t, e, tasks, r.ID+"/crm", manualtask.Answer{Status: manualtask.Done, By: "owner:sales@example.com", File: export})
	if err := e.steps.BuildPackage(ctx, RequestRef{RequestID: r.ID}); err != nil {
		t.Fatal(err)
	}
	files := unzipPackage(t, e.exports.packages[e.store.stored(r.ID).Delivery.ExportKey])
	if string(files["files/crm.json"]) != string(export) || !strings.Contains(string(files["manifest.json"]), `"file": "files/crm.json"`) {
		t.Fatalf("package files %v\n%s", keysOf(files), files["manifest.json"])
	}
	if len(e.exports.manual) != 0 {
		t.Fatal("the owner's export outlived the package")
	}
}

// At the deadline watch's ask point the owners of open tasks are reminded
// once, with a fresh link; at the notice point the operators are told.
func TestManualTasksRemindedAndEscalated(t *testing.T) {
	ctx := context.Background()
	e, r, tasks := newManualEnv(t, request.Delete)
	if err := e.steps.AwaitManualTasks(ctx, ManualWait{RequestID: r.ID, TaskToken: "tok"}); err != nil {
		t.Fatal(err)
	}
	before, _ := tasks.Task(ctx, r.ID, "crm")
	for range 2 {
		if err := e.steps.remindOwners(ctx, ptr(e.store.stored(r.ID))); err != nil {
			t.Fatal(err)
		}
	}
	after, _ := tasks.Task(ctx, r.ID, "crm")
	if len(e.mail.sent) != 2 || !strings.HasPrefix(e.mail.sent[1].Subject, "Reminder: ") || after.TokenHash == before.TokenHash || after.RemindedAt.IsZero() {
		t.Fatalf("mails %d, task %+v", len(e.mail.sent), after)
	}
	for range 2 {
		if err := e.steps.escalateTasks(ctx, ptr(e.store.stored(r.ID))); err != nil {
			t.Fatal(err)
		}
	}
	if len(e.mail.sent) != 3 || e.mail.sent[2].To != "ops@example.com" || !strings.Contains(e.mail.sent[2].Text, r.ID+"/crm") {
		t.Fatalf("mails %+v", e.mail.sent)
	}
}

func ptr[T any](v T) *T { return &v }

// unzipPackage returns the files of a zip by name.
func unzipPackage(t *testing.T, body []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	return out
}

func keysOf(m map[string][]byte) []string { return slices.Sorted(maps.Keys(m)) }

// An owner that is an SNS topic is published to; where nothing publishes,
// the operators get the task to pass on.
func TestManualTaskTopicOwner(t *testing.T) {
	ctx := context.Background()
	e, r, _ := newManualEnv(t, request.Delete)
	reg, err := registry.Parse([]byte(modesRegistry + strings.Replace(crmSource, "owner: sales@example.com", "owner: arn:aws:sns:eu-west-1:123456789012:crm", 1)))
	if err != nil {
		t.Fatal(err)
	}
	e.steps.Registry = reg
	if err := e.steps.AwaitManualTasks(ctx, ManualWait{RequestID: r.ID, TaskToken: "tok"}); err != nil {
		t.Fatal(err)
	}
	if len(e.mail.sent) != 1 || e.mail.sent[0].To != "ops@example.com" || !strings.Contains(e.mail.sent[0].Subject, "arn:aws:sns:eu-west-1:123456789012:crm") {
		t.Fatalf("mail %+v", e.mail.sent)
	}
	topics := &fakeTopics{}
	e2, r2, _ := newManualEnv(t, request.Delete)
	e2.steps.Registry, e2.steps.Topics = reg, topics
	if err := e2.steps.AwaitManualTasks(ctx, ManualWait{RequestID: r2.ID, TaskToken: "tok"}); err != nil {
		t.Fatal(err)
	}
	if len(topics.published) != 1 || topics.published[0] != "arn:aws:sns:eu-west-1:123456789012:crm" || len(e2.mail.sent) != 0 {
		t.Fatalf("published %v, mailed %d", topics.published, len(e2.mail.sent))
	}
}

type fakeTopics struct{ published []string }

func (f *fakeTopics) Publish(_ context.Context, arn string, _ notify.Message) error {
	f.published = append(f.published, arn)
	return nil
}
