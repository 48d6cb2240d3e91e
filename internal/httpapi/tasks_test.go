package httpapi

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/clock"
	"github.com/privacy-pipeline/dsr/internal/manualtask"
	"github.com/privacy-pipeline/dsr/internal/memstore"
	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/request"
)

type taskFiles map[string][]byte

func (f taskFiles) PutManualExport(_ context.Context, rid, sid, ext, _ string, b []byte) (string, error) {
	k := "manual/" + rid + "/" + sid + "." + ext
	f[k] = b
	return k, nil
}

type taskRequests struct{ r *request.Request }

func (t taskRequests) Get(context.Context, string) (*request.Request, error) { return t.r, nil }

type taskAudit struct{}

func (taskAudit) Record(context.Context, string, request.Event) error { return nil }

type taskResumer struct{ tokens []string }

func (r *taskResumer) Resume(_ context.Context, token string) error {
	r.tokens = append(r.tokens, token)
	return nil
}

// TestTaskLink: the owner's link shows whom to look for and takes the
// export once; the file's bytes decide what it is; the last answer resumes
// the workflow.
func TestTaskLink(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	reg, err := registry.Parse([]byte(`
identities: [email, crm_id]
sources:
  - id: users
    dynamodb: {table: users, index: email-index, partition_key: email, identity: email}
    provides: {crm_id: crm_id}
    erasure: delete
    categories: [identifiers]
    purposes: [Run the service.]
    recipients: []
    retention: {period: 1 year}
  - id: crm
    description: Sales CRM
    manual: {owner: sales@example.com, types: [access], identities: [crm_id]}
    categories: [identifiers]
    purposes: [Sell.]
    recipients: []
    retention: {period: 1 year}
`))
	if err != nil {
		t.Fatal(err)
	}
	store := memstore.NewManualTasks()
	task := manualtask.Task{RequestID: testID, SourceID: "crm", Type: "access", Status: manualtask.Open, Owner: "sales@example.com", Due: now.AddDate(0, 0, 20)}
	token := task.Issue(now.AddDate(0, 0, 30))
	if _, _, err := store.AddTask(ctx, task); err != nil {
		t.Fatal(err)
	}
	_ = store.SetWait(ctx, testID, "wf-token")
	r := &request.Request{ID: testID, Email: "ada@example.com", Identities: map[string][]string{"email": {"ada@example.com"}, "crm_id": {"crm-4471"}}}
	files, wf := taskFiles{}, &taskResumer{}
	ans := &manualtask.Answerer{Store: store, Files: files, Workflow: wf, Audit: taskAudit{}, Clock: clock.NewFake(now), Registry: reg, Requests: taskRequests{r}}
	h := New(&fakePortal{}, discardLog(), WithTasks(ans))
	path := "/v1/requests/" + testID + "/tasks/crm?token=" + token

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	page := rec.Body.String()
	if rec.Code != 200 || !strings.Contains(page, "crm-4471") || strings.Contains(page, "ada@example.com") || !strings.Contains(page, `enctype="multipart/form-data"`) {
		t.Fatalf("HTTP %d, the page shows the wrong identities or no form:\n%s", rec.Code, page)
	}
	if rec.Header().Get("Cache-Control") != "no-store" && rec.Header().Get("Cache-Control") != "" {
		t.Errorf("Cache-Control %q", rec.Header().Get("Cache-Control"))
	}

	post := func(body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		req.Header.Set("Content-Type", "multipart/form-data; boundary="+multipartBoundary)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	if rec := post(taskBody("done", "<!DOCTYPE html><html></html>", "")); rec.Code != 415 || !strings.Contains(rec.Body.String(), "not CSV, JSON or PDF") {
		t.Fatalf("an HTML file: HTTP %d\n%s", rec.Code, rec.Body)
	}
	if rec := post(taskBody("done", "", "")); rec.Code != 400 {
		t.Fatalf("done without the export: HTTP %d", rec.Code)
	}
	if rec := post(taskBody("done", "contact,calls\nAda,3\n", "CRM export")); rec.Code != 200 || !strings.Contains(rec.Body.String(), "takes no further answer") {
		t.Fatalf("the export: HTTP %d\n%s", rec.Code, rec.Body)
	}
	got, _ := store.Task(ctx, testID, "crm")
	if got.Status != manualtask.Done || got.By != "owner:sales@example.com" || got.Export == nil || got.Export.MediaType != manualtask.MediaCSV || len(files) != 1 {
		t.Fatalf("task %+v, files %d", got, len(files))
	}
	if len(wf.tokens) != 1 || wf.tokens[0] != "wf-token" {
		t.Fatalf("resumed %v", wf.tokens)
	}
	if rec := post(taskBody("none", "", "")); rec.Code != 409 || len(files) != 1 {
		t.Fatalf("the link after its answer: HTTP %d", rec.Code)
	}
	// Without tasks configured the links find nothing.
	rec = httptest.NewRecorder()
	New(&fakePortal{}, discardLog()).ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	if rec.Code != 404 {
		t.Fatalf("no tasks: HTTP %d", rec.Code)
	}
}
