package operator

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/erasure"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// fakeFindings keeps findings and the wait token in memory.
type fakeFindings struct {
	fs    []erasure.Finding
	wait  string
	clear []string
}

func (f *fakeFindings) Findings(context.Context, string) ([]erasure.Finding, error) {
	return slices.Clone(f.fs), nil
}

func (f *fakeFindings) Resolve(_ context.Context, _, id, resolution, who, note string, at time.Time) (erasure.Finding, error) {
	i := slices.IndexFunc(f.fs, func(x erasure.Finding) bool { return x.ID == id })
	if i < 0 {
		return erasure.Finding{}, apperr.E(apperr.NotFound, "no such finding")
	}
	if !f.fs[i].Open() {
		return erasure.Finding{}, apperr.E(apperr.Conflict, "resolved already")
	}
	f.fs[i].Resolution, f.fs[i].ResolvedBy, f.fs[i].Note, f.fs[i].ResolvedAt = resolution, who, note, at
	return f.fs[i], nil
}

func (f *fakeFindings) Wait(context.Context, string) (string, error) { return f.wait, nil }

func (f *fakeFindings) ClearWait(_ context.Context, _, token string) error {
	f.clear = append(f.clear, token)
	if f.wait == token {
		f.wait = ""
	}
	return nil
}

func TestResolveFindings(t *testing.T) {
	ctx := context.Background()
	e := newEnv()
	e.store.put(deleting())
	f := &fakeFindings{wait: "findings-token", fs: []erasure.Finding{
		{ID: "f-1", SourceID: "events", Blocking: true},
		{ID: "f-2", SourceID: "events", Blocking: true},
		{ID: "f-3", SourceID: "invoices"}, // informs only
	}}
	e.op.Findings = f

	if err := e.op.Resolve(ctx, reqID, []string{"f-1"}, erasure.ResolvedErased, who, " deleted line 17 "); err != nil {
		t.Fatal(err)
	}
	if len(e.workflow.resumes) != 0 {
		t.Fatal("resumed while a finding is open")
	}
	wantErr(t, e.op.Resolve(ctx, reqID, []string{"f-1"}, erasure.ResolvedNotSubject, who, ""), apperr.Conflict, "")
	if err := e.op.Resolve(ctx, reqID, []string{"f-2"}, erasure.ResolvedNotSubject, who, ""); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(e.workflow.resumes, []string{"findings-token"}) || f.wait != "" {
		t.Fatalf("resumes %v, wait %q", e.workflow.resumes, f.wait)
	}
	if f.fs[0].Resolution != erasure.ResolvedErased || f.fs[0].ResolvedBy != "operator:"+who || f.fs[0].Note != "deleted line 17" {
		t.Errorf("finding %+v", f.fs[0])
	}
	var actions []string
	for _, ev := range e.store.eventsOf(reqID) {
		actions = append(actions, ev.Action+" "+ev.Note)
	}
	want := []string{
		"finding_resolved finding=f-1 source=events resolution=erased_by_hand",
		"finding_resolved finding=f-2 source=events resolution=not_subject",
		"findings_wait_resumed ",
	}
	if !slices.Equal(actions, want) {
		t.Errorf("events %q, want %q", actions, want)
	}
}

func TestResolveRefused(t *testing.T) {
	ctx := context.Background()
	e := newEnv()
	e.op.Findings = &fakeFindings{fs: []erasure.Finding{{ID: "f-1", Blocking: true}}}
	e.store.put(deleting())
	wantErr(t, e.op.Resolve(ctx, reqID, []string{"f-1"}, "deleted", who, ""), apperr.Invalid, "resolution")
	wantErr(t, e.op.Resolve(ctx, reqID, []string{"f-9"}, erasure.ResolvedErased, who, ""), apperr.NotFound, "")
	done := deleting()
	done.Status = request.Completed
	e.store.put(done)
	wantErr(t, e.op.Resolve(ctx, reqID, []string{"f-1"}, erasure.ResolvedErased, who, ""), apperr.Conflict, "")
}

// A resumption that failed is done again by resolving nothing.
func TestResolveResumesAgain(t *testing.T) {
	ctx := context.Background()
	e := newEnv()
	e.store.put(deleting())
	f := &fakeFindings{wait: "findings-token", fs: []erasure.Finding{{ID: "f-1", Blocking: true}}}
	e.op.Findings = f
	e.workflow.resumeErr = apperr.E(apperr.Unavailable, "Step Functions is unavailable.")
	wantErr(t, e.op.Resolve(ctx, reqID, []string{"f-1"}, erasure.ResolvedErased, who, ""), apperr.Unavailable, "")
	e.workflow.resumeErr = nil
	if err := e.op.Resolve(ctx, reqID, nil, "", who, ""); err != nil {
		t.Fatal(err)
	}
	if len(e.workflow.resumes) != 2 || f.wait != "" {
		t.Fatalf("resumes %v, wait %q", e.workflow.resumes, f.wait)
	}
}
