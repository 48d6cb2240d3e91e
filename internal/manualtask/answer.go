package manualtask

import (
	"context"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/clock"
	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/webhook"
)

// Store keeps the tasks of each request and the task token of a workflow
// waiting on them.
type Store interface {
	// Task returns one task, or a NotFound error.
	Task(ctx context.Context, requestID, sourceID string) (Task, error)
	Tasks(ctx context.Context, requestID string) ([]Task, error)
	// Update stores t over the task as it was while it is still open; a
	// task answered meanwhile is a Conflict.
	Update(ctx context.Context, t Task) error
	Wait(ctx context.Context, requestID string) (string, error)
	ClearWait(ctx context.Context, requestID, token string) error
}

// Files keeps the exports owners upload.
type Files interface {
	// PutManualExport stores an export and returns its key.
	PutManualExport(ctx context.Context, requestID, sourceID, ext, mediaType string, body []byte) (string, error)
}

// Workflow resumes a workflow waiting on a task token.
type Workflow interface {
	Resume(ctx context.Context, taskToken string) error
}

// Audit records what happened to a request.
type Audit interface {
	Record(ctx context.Context, id string, ev request.Event) error
}

// Answerer records answers to tasks, from an operator (privacyctl task) or
// from an owner through the link, and resumes the request's workflow when
// its last task is answered.
type Answerer struct {
	Store    Store
	Files    Files
	Workflow Workflow
	Audit    Audit
	Clock    clock.Clock
	// Registry and Requests are what a link's page shows (see Page).
	Registry *registry.Registry
	Requests Requests
	// Teller tells owners of the tasks webhook sources hand over; Secrets
	// has the secrets that sign webhook sources' callbacks.
	Teller  Teller
	Secrets webhook.Secrets
}

// Answer records an answer to the task with the given id (REQUEST_ID/SOURCE_ID).
func (s *Answerer) Answer(ctx context.Context, id string, a Answer) (Task, error) {
	requestID, sourceID, err := ParseID(id)
	if err != nil {
		return Task{}, err
	}
	t, err := s.Store.Task(ctx, requestID, sourceID)
	if err != nil {
		return Task{}, err
	}
	return s.answer(ctx, t, a)
}

// AnswerWithToken records the answer an owner gives through the task's
// link, after checking the link's token; the owner is who answers.
func (s *Answerer) AnswerWithToken(ctx context.Context, requestID, sourceID, token string, a Answer) (Task, error) {
	t, err := s.Authorized(ctx, requestID, sourceID, token)
	if apperr.Is(err, apperr.Conflict) {
		// Answered already: an answer sent again after its reply was lost
		// makes sure the workflow was resumed.
		if rerr := s.resume(ctx, requestID, "owner"); rerr != nil {
			return Task{}, rerr
		}
	}
	if err != nil {
		return Task{}, err
	}
	a.By = "owner:" + t.Owner
	return s.answer(ctx, t, a)
}

// Authorized returns the task an owner's link names, if its token is the
// task's and still valid.
func (s *Answerer) Authorized(ctx context.Context, requestID, sourceID, token string) (Task, error) {
	if !request.ValidID(requestID) || token == "" {
		return Task{}, apperr.E(apperr.NotFound, "This link is not valid. Ask the privacy team for a new one.")
	}
	t, err := s.Store.Task(ctx, requestID, sourceID)
	if apperr.Is(err, apperr.NotFound) {
		return Task{}, apperr.E(apperr.NotFound, "This link is not valid. Ask the privacy team for a new one.")
	}
	if err != nil {
		return Task{}, err
	}
	if err := t.Authorize(token, s.Clock.Now()); err != nil {
		return Task{}, err
	}
	return t, nil
}

func (s *Answerer) answer(ctx context.Context, t Task, a Answer) (Task, error) {
	if !t.IsOpen() {
		// An answer sent again after its reply was lost: the first one
		// may not have resumed the workflow.
		if err := s.resume(ctx, t.RequestID, a.By); err != nil {
			return Task{}, err
		}
		return Task{}, apperr.E(apperr.Conflict, "Task "+t.ID()+" was answered already ("+string(t.Status)+" by "+t.By+").")
	}
	if err := a.check(t); err != nil {
		return Task{}, err
	}
	if a.File != nil {
		e, err := CheckExport(a.File)
		if err != nil {
			return Task{}, err
		}
		if e.Key, err = s.Files.PutManualExport(ctx, t.RequestID, t.SourceID, e.Ext, e.MediaType, a.File); err != nil {
			return Task{}, err
		}
		t.Export = &e
	}
	now := s.Clock.Now().UTC()
	t.Status, t.By, t.At, t.Note = a.Status, a.By, now, a.Note
	// The link's hash stays: the link now only says the task was
	// answered (and makes sure the workflow was resumed).
	if err := s.Store.Update(ctx, t); err != nil {
		return Task{}, err
	}
	// The note is free text and stays with the task; the audit event says
	// what, not how.
	ev := request.Event{At: now, Actor: a.By, Action: "manual_task_answered", Note: "source=" + t.SourceID + " status=" + string(t.Status)}
	if err := s.Audit.Record(ctx, t.RequestID, ev); err != nil {
		return Task{}, err
	}
	return t, s.resume(ctx, t.RequestID, a.By)
}

// resume resumes a workflow waiting on the request's tasks once none is
// open. One not waiting yet goes on when it gets there. It may run again
// (an answer sent twice): a wait already resumed is cleared, and nothing
// is resumed twice.
func (s *Answerer) resume(ctx context.Context, requestID, by string) error {
	ts, err := s.Store.Tasks(ctx, requestID)
	if err != nil || OpenCount(ts) > 0 {
		return err
	}
	token, err := s.Store.Wait(ctx, requestID)
	if err != nil || token == "" {
		return err
	}
	if err := s.Workflow.Resume(ctx, token); err != nil && !apperr.Is(err, apperr.Conflict) {
		return err
	}
	if err := s.Store.ClearWait(ctx, requestID, token); err != nil {
		return err
	}
	return s.Audit.Record(ctx, requestID, request.Event{At: s.Clock.Now(), Actor: by, Action: "manual_tasks_wait_resumed"})
}

// OpenCount counts the open tasks.
func OpenCount(ts []Task) int {
	n := 0
	for _, t := range ts {
		if t.IsOpen() {
			n++
		}
	}
	return n
}

// Due is the last day to answer a task of a request: its extension-notice
// point, where the law allows an extension (the request must not need one
// because a task was late), or else its due date; the day ends at its
// close, UTC.
func Due(noticeBy, due time.Time) time.Time {
	if !noticeBy.IsZero() && noticeBy.Before(due) {
		return noticeBy
	}
	return due
}
