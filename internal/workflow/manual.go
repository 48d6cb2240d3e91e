package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/erasure"
	"github.com/privacy-pipeline/dsr/internal/links"
	"github.com/privacy-pipeline/dsr/internal/manualtask"
	"github.com/privacy-pipeline/dsr/internal/notify"
	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/webhook"
)

// ManualTasks keeps the tasks of manual sources (see manualtask) beside the
// request's findings.
type ManualTasks interface {
	// AddTask keeps a new task unless the request has one for its source
	// (a retried step); the one kept is returned.
	AddTask(ctx context.Context, t manualtask.Task) (kept manualtask.Task, created bool, err error)
	Tasks(ctx context.Context, requestID string) ([]manualtask.Task, error)
	// Update stores an open task anew (a fresh link, a reminder).
	Update(ctx context.Context, t manualtask.Task) error
	// SetWait keeps the task token that answering the last open task
	// resumes.
	SetWait(ctx context.Context, requestID, taskToken string) error
}

// Topics publishes to the SNS topics that owners of manual sources
// subscribe to.
type Topics = manualtask.Topics

// TaskAnswers answers the tasks of webhook sources with what their
// endpoints answer, or hands them to the owners (see manualtask.Answerer).
type TaskAnswers interface {
	ApplySourceAnswer(ctx context.Context, t manualtask.Task, src *registry.Source, a webhook.SourceAnswer) error
	HandOver(ctx context.Context, t manualtask.Task, src *registry.Source, reason string) error
}

// ManualWait asks the workflow to wait until the owners of the request's
// manual sources have answered; TaskToken resumes it.
type ManualWait struct {
	RequestID string `json:"request_id"`
	TaskToken string `json:"task_token"`
}

// manualSources are the manual sources a request asks: those serving its
// type that know the subject by an identity the request resolved. A dry run
// asks nobody: it changes nothing, and nobody should.
func (s *Steps) manualSources(r *request.Request) []*registry.Source {
	if r.DryRun {
		return nil
	}
	var out []*registry.Source
	for _, src := range s.Registry.Manual(string(r.Type)) {
		if slices.ContainsFunc(src.Manual.Identities, func(kind string) bool { return len(r.Identities[kind]) > 0 }) {
			out = append(out, src)
		}
	}
	return out
}

// openManualTasks fails with manualtask.ErrOpen while a manual source the
// request asks has no task yet, or an open one: the package cannot be
// built, and no receipt may say what the source's owner has not attested.
// It returns the request's tasks.
func (s *Steps) openManualTasks(ctx context.Context, r *request.Request) ([]manualtask.Task, error) {
	sources := s.manualSources(r)
	if len(sources) == 0 || s.ManualTasks == nil {
		return nil, nil
	}
	ts, err := s.ManualTasks.Tasks(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	waiting := 0
	for _, src := range sources {
		i := slices.IndexFunc(ts, func(t manualtask.Task) bool { return t.SourceID == src.ID })
		if i < 0 || ts[i].IsOpen() {
			waiting++
		}
	}
	if waiting > 0 {
		return nil, apperr.Wrap(apperr.Conflict, strconv.Itoa(waiting)+" manual sources have not answered yet (privacyctl tasks "+r.ID+").", manualtask.ErrOpen)
	}
	return ts, nil
}

// taskDue is the last day to answer the request's tasks (manualtask.Due),
// and when their links stop working: at the close of the request's own due
// date, after which the request is late and operators answer for the owners.
func taskDue(r *request.Request) (due, linkExpires time.Time) {
	var noticeBy time.Time
	if r.Deadlines.ExtensionNoticeBy != nil {
		noticeBy = dateTime(*r.Deadlines.ExtensionNoticeBy)
	}
	return manualtask.Due(noticeBy, dateTime(r.Deadlines.Due)), r.Deadlines.Due.EndOfDay(time.UTC)
}

// AwaitManualTasks makes the request's task in each manual source it asks
// (once: a retry finds them made), tells each owner, and records the task
// token that answering the last open task resumes. With nothing to ask, or
// every task answered meanwhile, it fails with manualtask.ErrNoneOpen and
// the workflow goes on. A legal hold placed before erasure's tasks are made
// keeps them from being made: the workflow waits on the hold first.
func (s *Steps) AwaitManualTasks(ctx context.Context, in ManualWait) error {
	r, err := s.load(ctx, in.RequestID)
	if err != nil {
		return err
	}
	if in.TaskToken == "" {
		return apperr.E(apperr.Invalid, "The task input has no task token.")
	}
	if r.Status != request.InProgress {
		return apperr.E(apperr.Conflict, "Only a request in progress asks its manual sources.")
	}
	sources := s.manualSources(r)
	if len(sources) == 0 {
		return apperr.Wrap(apperr.Conflict, "No manual source is asked about this request.", manualtask.ErrNoneOpen)
	}
	ts, err := s.ManualTasks.Tasks(ctx, r.ID)
	if err != nil {
		return err
	}
	if r.Type == request.Delete && r.OnHold && slices.ContainsFunc(sources, func(src *registry.Source) bool {
		return !slices.ContainsFunc(ts, func(t manualtask.Task) bool { return t.SourceID == src.ID })
	}) {
		return apperr.Wrap(apperr.Conflict, "A legal hold blocks erasure until an operator releases it.", request.ErrOnHold)
	}
	due, expires := taskDue(r)
	now := s.Clock.Now().UTC()
	for _, src := range sources {
		t := manualtask.Task{RequestID: r.ID, SourceID: src.ID, Type: string(r.Type), Status: manualtask.Open,
			Owner: src.Manual.Owner, CreatedAt: now, Due: due}
		token := t.Issue(expires)
		kept, created, err := s.ManualTasks.AddTask(ctx, t)
		if err != nil {
			return err
		}
		if created {
			ev := request.Event{At: now, Actor: actor, Action: "manual_task_opened", Note: "source=" + src.ID + " due=" + due.Format(time.DateOnly)}
			if err := s.Store.Record(ctx, r.ID, ev); err != nil {
				return err
			}
		}
		if !kept.IsOpen() || !kept.NotifiedAt.IsZero() || kept.AwaitsEndpoint() {
			continue
		}
		if src.Webhook != nil {
			// The endpoint answers first; the owner only when it fails
			// (HandOver tells them).
			if kept.Webhook == nil || kept.Webhook.Failure == "" {
				if err := s.callSource(ctx, r, src, kept); err != nil {
					return err
				}
				continue
			}
			if err := s.TaskAnswers.HandOver(ctx, kept, src, kept.Webhook.Failure); err != nil && !answeredMeanwhile(err) {
				return err
			}
			continue
		}
		if !created { // told before, or the mail failed: a fresh link
			token = kept.Issue(expires)
		}
		if err := s.tellOwner(ctx, src, kept, token, false, ""); err != nil {
			return err
		}
		kept.NotifiedAt = now
		if err := s.ManualTasks.Update(ctx, kept); err != nil && !apperr.Is(err, apperr.Conflict) {
			return err
		}
	}
	if ts, err = s.ManualTasks.Tasks(ctx, r.ID); err != nil {
		return err
	}
	open := manualtask.OpenCount(ts)
	if open == 0 {
		return apperr.Wrap(apperr.Conflict, "Every manual source has answered.", manualtask.ErrNoneOpen)
	}
	if err := s.ManualTasks.SetWait(ctx, r.ID, in.TaskToken); err != nil {
		return err
	}
	// Answered meanwhile, between the read and the wait: the answer found
	// no wait to resume, so this step does not wait.
	if ts, err = s.ManualTasks.Tasks(ctx, r.ID); err != nil {
		return err
	}
	if manualtask.OpenCount(ts) == 0 {
		return apperr.Wrap(apperr.Conflict, "Every manual source has answered.", manualtask.ErrNoneOpen)
	}
	return s.Store.Record(ctx, r.ID, request.Event{At: now, Actor: actor, Action: "waits_on_manual_tasks", Note: "open=" + strconv.Itoa(open)})
}

// tellOwner sends the owner of a source the task, with a link that works
// until the token's expiry; a reminder says it is one.
func (s *Steps) tellOwner(ctx context.Context, src *registry.Source, t manualtask.Task, token string, reminder bool, why string) error {
	return s.teller().Tell(ctx, src, t, token, reminder, why)
}

func (s *Steps) teller() manualtask.Teller {
	return manualtask.Teller{Mailer: s.Mailer, Topics: s.Topics, OperatorEmail: s.OperatorEmail, BaseURL: s.BaseURL}
}

// callSource puts task t to its webhook source's endpoint: a signed call
// with the request's id and type, the subject's values of the identities
// the source names, and a callback URL for an answer that comes later. The
// answer is checked before anything in it is used; an endpoint that fails
// for good (after the client's retries) hands the task to the owner.
func (s *Steps) callSource(ctx context.Context, r *request.Request, src *registry.Source, t manualtask.Task) error {
	token := t.IssueCallback(t.TokenExpires)
	t.Webhook.CalledAt, t.Webhook.Accepted = s.Clock.Now().UTC(), false
	// The callback's token is kept before the call: the answer may come
	// back before this step ends.
	if err := s.ManualTasks.Update(ctx, t); err != nil {
		if answeredMeanwhile(err) {
			return nil
		}
		return err
	}
	call := manualtask.Call(t)
	call.Identities = map[string][]string{}
	for _, kind := range src.Webhook.Identities {
		if vs := r.Identities[kind]; len(vs) > 0 {
			call.Identities[kind] = vs
		}
	}
	call.CallbackURL = links.Base(s.BaseURL).Callback(r.ID, src.ID, token)
	if t.Type == string(request.Correct) {
		call.Corrections = r.Correction.Values
	}
	call.Due = t.Due.Format(time.DateOnly)
	body, err := json.Marshal(call)
	if err != nil {
		return err
	}
	var answer webhook.SourceAnswer
	ep := webhook.Endpoint{URL: src.Webhook.URL, Secret: src.Webhook.Secret, Timeout: src.Webhook.TimeoutDuration()}
	_, err = s.Webhooks.Call(ctx, ep, body, func(rep webhook.Reply) error {
		a, err := webhook.ParseSourceAnswer(rep.Body, call, false)
		if err == nil && (rep.Status == http.StatusAccepted) != (a.Status == webhook.Accepted) {
			return &webhook.Malformed{Reason: "status 202 comes with an accepted answer, and only with it"}
		}
		answer = a
		return err
	})
	if ctx.Err() != nil {
		return ctx.Err() // the step ran out of time: it runs again
	}
	var f *webhook.Failure
	switch {
	case errors.As(err, &f):
		// The endpoint failed: its owner answers.
		err = s.TaskAnswers.HandOver(ctx, t, src, f.Reason+" after "+strconv.Itoa(f.Attempts)+" attempts")
	case err != nil:
		// The secret could not be read: ours to retry, and an operator's
		// to look at if it keeps failing, not the owner's.
		return apperr.Wrap(apperr.Unavailable, "The webhook secret of source "+src.ID+" could not be read.", err)
	default:
		err = s.TaskAnswers.ApplySourceAnswer(ctx, t, src, answer)
	}
	if answeredMeanwhile(err) {
		return nil
	}
	return err
}

// answeredMeanwhile reports whether err says a task was answered while a
// step worked on it (an owner, an operator, or the endpoint's callback was
// quicker): nothing is left to do, and the step goes on.
func answeredMeanwhile(err error) bool { return apperr.Is(err, apperr.Conflict) }

// remindOwners sends the owner of each open task of the request a reminder
// with a fresh link (the deadline watch does, before the extension-notice
// point: a request should not need an extension because a task was late).
func (s *Steps) remindOwners(ctx context.Context, r *request.Request) error {
	open, err := s.openTasks(ctx, r)
	if err != nil || len(open) == 0 {
		return err
	}
	_, expires := taskDue(r)
	now := s.Clock.Now().UTC()
	for _, t := range open {
		src := s.Registry.Source(t.SourceID)
		if src == nil || src.Manual == nil || !t.RemindedAt.IsZero() {
			continue
		}
		if src.Webhook != nil && t.NotifiedAt.IsZero() {
			// The endpoint took the task and has not answered: the owner
			// gets it now, in time to answer before the notice point.
			t.RemindedAt = now
			if err := s.TaskAnswers.HandOver(ctx, t, src, "it took the task and had not answered by the reminder date"); err != nil && !apperr.Is(err, apperr.Conflict) {
				return err
			}
			continue
		}
		token := t.Issue(expires)
		t.RemindedAt = now
		if err := s.ManualTasks.Update(ctx, t); err != nil {
			if apperr.Is(err, apperr.Conflict) {
				continue // answered meanwhile
			}
			return err
		}
		if err := s.tellOwner(ctx, src, t, token, true, ""); err != nil {
			return err
		}
	}
	return s.Store.Record(ctx, r.ID, request.Event{At: now, Actor: actor, Action: "manual_tasks_reminded", Note: "open=" + strconv.Itoa(len(open))})
}

// escalateTasks tells the operators, at the extension-notice point, which
// manual sources have still not answered: they answer for the owners
// (privacyctl task done|none), or decide the extension.
func (s *Steps) escalateTasks(ctx context.Context, r *request.Request) error {
	open, err := s.openTasks(ctx, r)
	if err != nil || len(open) == 0 {
		return err
	}
	now := s.Clock.Now().UTC()
	var ids []string
	for _, t := range open {
		if !t.EscalatedAt.IsZero() {
			continue
		}
		t.EscalatedAt = now
		if err := s.ManualTasks.Update(ctx, t); err != nil && !apperr.Is(err, apperr.Conflict) {
			return err
		}
		ids = append(ids, t.ID())
	}
	if len(ids) == 0 {
		return nil
	}
	if err := s.Store.Record(ctx, r.ID, request.Event{At: now, Actor: actor, Action: "manual_tasks_escalated", Note: "open=" + strconv.Itoa(len(ids))}); err != nil {
		return err
	}
	if s.OperatorEmail == "" {
		return nil
	}
	return s.Mailer.Send(ctx, notify.ManualTasksLate(s.OperatorEmail, r.ID, ids, dateTime(r.Deadlines.Due)))
}

// openTasks are the request's open tasks, in source order.
func (s *Steps) openTasks(ctx context.Context, r *request.Request) ([]manualtask.Task, error) {
	if s.ManualTasks == nil || r.Status.Closed() || len(s.Registry.Manual(string(r.Type))) == 0 {
		return nil, nil
	}
	ts, err := s.ManualTasks.Tasks(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	var open []manualtask.Task
	for _, t := range ts {
		if t.IsOpen() {
			open = append(open, t)
		}
	}
	return open, nil
}

// attestation is what a receipt says of a manual source: who attested what
// and when, by the task's id; the owner's note is free text and stays with
// the task, a keyed hash of it in the receipt.
func (s *Steps) attestation(ctx context.Context, src *registry.Source, t manualtask.Task) (erasure.Outcome, error) {
	a := &erasure.Attestation{TaskID: t.ID(), Status: string(t.Status), What: t.What(), By: t.By, At: t.At}
	if note := strings.TrimSpace(t.Note); note != "" && s.KeyHasher != nil {
		h, err := s.KeyHasher.HashKey(ctx, note)
		if err != nil {
			return erasure.Outcome{}, err
		}
		a.NoteHash = h
	}
	return erasure.Outcome{SourceID: src.ID, Description: src.Description, Kind: src.Kind(), Mode: erasure.ModeAttested, Attestation: a}, nil
}
