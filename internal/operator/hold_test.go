package operator

import (
	"context"
	"reflect"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/workflow"
)

const holdToken = "hold-task-token-1"

// deleting is a delete request in progress (approved, or needing no review).
func deleting() request.Request {
	r := waiting()
	r.Type, r.Review.TaskToken = request.Delete, ""
	return r
}

func TestHold(t *testing.T) {
	e := newEnv()
	e.store.put(deleting())
	if err := e.op.Hold(context.Background(), reqID, who, "  Litigation hold: case 2026-117  "); err != nil {
		t.Fatal(err)
	}
	got, _ := e.store.stored(reqID)
	if !got.OnHold || !reflect.DeepEqual(got.Hold.Reasons, []string{"Litigation hold: case 2026-117"}) || got.Status != request.InProgress {
		t.Errorf("after Hold: on hold %v reasons %q status %s", got.OnHold, got.Hold.Reasons, got.Status)
	}
	want := []request.Event{{At: now, Actor: "operator:alice", Action: "legal_hold_placed", From: request.InProgress, To: request.InProgress}}
	if evs := e.store.eventsOf(reqID); !reflect.DeepEqual(evs, want) {
		t.Errorf("events %+v, want %+v (the reason stays out of the audit note)", evs, want)
	}
	if len(e.workflow.resumes)+len(e.workflow.fails)+len(e.watch.stops) != 0 {
		t.Error("a hold touched the workflow or the deadline watch")
	}
}

func TestHoldRefused(t *testing.T) {
	with := func(edit func(*request.Request)) *request.Request {
		r := deleting()
		edit(&r)
		return &r
	}
	tests := []struct {
		name   string
		req    *request.Request
		reason string
		kind   apperr.Kind
		field  string
	}{
		{"no reason", with(func(*request.Request) {}), " ", apperr.Invalid, "reason"},
		{"access request", with(func(r *request.Request) { r.Type = request.Access }), "x", apperr.Conflict, ""},
		{"completed", with(func(r *request.Request) { r.Status = request.Completed }), "x", apperr.Conflict, ""},
		{"already on hold", with(func(r *request.Request) { r.OnHold = true }), "x", apperr.Conflict, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv()
			e.store.put(*tt.req)
			wantErr(t, e.op.Hold(context.Background(), reqID, who, tt.reason), tt.kind, tt.field)
			wantUnchanged(t, e.store, *tt.req)
		})
	}
}

func TestRelease(t *testing.T) {
	tests := []struct {
		name        string
		edit        func(*request.Request)
		resumeErr   error
		wantErr     apperr.Kind
		wantResumes []string
		want        func(t *testing.T, got request.Request)
		wantActions []string
	}{
		{
			name: "before the workflow waits on it", edit: func(r *request.Request) { r.OnHold = true },
			want:        func(t *testing.T, got request.Request) { wantReleased(t, got) },
			wantActions: []string{"legal_hold_released"},
		},
		{
			name: "while the workflow waits on it", edit: func(r *request.Request) { r.OnHold, r.Hold.TaskToken = true, holdToken },
			wantResumes: []string{holdToken},
			want:        func(t *testing.T, got request.Request) { wantReleased(t, got) },
			wantActions: []string{"legal_hold_released", "hold_wait_resumed"},
		},
		{
			name: "the wait could not be resumed: the hold is off, the token kept", edit: func(r *request.Request) { r.OnHold, r.Hold.TaskToken = true, holdToken },
			resumeErr: apperr.E(apperr.Unavailable, "down"), wantErr: apperr.Unavailable, wantResumes: []string{holdToken},
			want: func(t *testing.T, got request.Request) {
				if got.OnHold || got.Hold.TaskToken != holdToken {
					t.Errorf("on hold %v token %q", got.OnHold, got.Hold.TaskToken)
				}
			},
			wantActions: []string{"legal_hold_released"},
		},
		{
			name: "again after that: resumes the wait", edit: func(r *request.Request) { r.Hold.TaskToken = holdToken },
			wantResumes: []string{holdToken},
			want:        func(t *testing.T, got request.Request) { wantReleased(t, got) },
			wantActions: []string{"hold_wait_resumed"},
		},
		{
			name: "a wait that already ended is forgotten", edit: func(r *request.Request) { r.OnHold, r.Hold.TaskToken = true, holdToken },
			resumeErr: apperr.E(apperr.Conflict, "no longer waiting"), wantResumes: []string{holdToken},
			want:        func(t *testing.T, got request.Request) { wantReleased(t, got) },
			wantActions: []string{"legal_hold_released", "hold_wait_resumed"},
		},
		{
			name: "not on hold", edit: func(*request.Request) {}, wantErr: apperr.Conflict,
			want: func(t *testing.T, got request.Request) {},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv()
			r := deleting()
			tt.edit(&r)
			e.store.put(r)
			e.workflow.resumeErr = tt.resumeErr
			err := e.op.Release(context.Background(), reqID, who)
			if tt.wantErr != 0 || err != nil {
				wantErr(t, err, tt.wantErr, "")
			}
			if !reflect.DeepEqual(e.workflow.resumes, tt.wantResumes) {
				t.Errorf("resumes %q, want %q", e.workflow.resumes, tt.wantResumes)
			}
			got, _ := e.store.stored(reqID)
			tt.want(t, got)
			var actions []string
			for _, ev := range e.store.eventsOf(reqID) {
				actions = append(actions, ev.Action)
			}
			if !reflect.DeepEqual(actions, tt.wantActions) {
				t.Errorf("events %q, want %q", actions, tt.wantActions)
			}
		})
	}
}

func wantReleased(t *testing.T, got request.Request) {
	t.Helper()
	if got.OnHold || got.Hold.TaskToken != "" || got.Hold.Reasons != nil {
		t.Errorf("after release: on hold %v token %q reasons %q", got.OnHold, got.Hold.TaskToken, got.Hold.Reasons)
	}
}

// A request waiting on a hold can be denied: its wait ends in the denial.
func TestDenyOnHold(t *testing.T) {
	e := newEnv()
	r := deleting()
	r.OnHold, r.Hold.TaskToken = true, holdToken
	e.store.put(r)
	if err := e.op.Deny(context.Background(), reqID, who, []string{"Erasure is refused while the litigation lasts."}); err != nil {
		t.Fatal(err)
	}
	if want := []failCall{{holdToken, workflow.RequestDenied}}; !reflect.DeepEqual(e.workflow.fails, want) {
		t.Errorf("fails %+v, want %+v", e.workflow.fails, want)
	}
	// On hold but not yet waiting: nothing to end.
	e = newEnv()
	r.Hold.TaskToken = ""
	e.store.put(r)
	wantErr(t, e.op.Deny(context.Background(), reqID, who, []string{"x"}), apperr.Conflict, "")
}

// The workflow saves the request as it goes: a hold whose save loses that
// race is applied again to the fresh request, and the operator is not told
// to try again.
func TestHoldAfterTheWorkflowSaved(t *testing.T) {
	ctx := context.Background()
	e := newEnv()
	e.store.put(deleting())
	e.store.beforeSave = func() {
		r, err := e.store.Get(ctx, reqID)
		if err != nil {
			t.Fatal(err)
		}
		r.Identities = map[string][]string{"user_id": {"u-1"}}
		if err := e.store.Store.Save(ctx, r, request.Event{At: now, Actor: "workflow", Action: "identities_resolved", From: r.Status, To: r.Status}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.op.Hold(ctx, reqID, who, "Litigation hold"); err != nil {
		t.Fatalf("hold: %v", err)
	}
	got, _ := e.store.stored(reqID)
	if !got.OnHold || len(got.Identities["user_id"]) != 1 {
		t.Errorf("on hold %v, identities %v: want the hold on the workflow's save", got.OnHold, got.Identities)
	}
	var actions []string
	for _, ev := range e.store.eventsOf(reqID) {
		actions = append(actions, ev.Action)
	}
	if want := []string{"identities_resolved", "legal_hold_placed"}; !reflect.DeepEqual(actions, want) {
		t.Errorf("events %v, want %v", actions, want)
	}
}
