package manualtask

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/webhook"
)

// A webhook source's task is first put to its endpoint; what the endpoint
// answers (at once, or later through the callback) answers the task, and
// an endpoint that fails, or says it cannot, hands the task to the owner.

// ReportedFailure is the Failure of a task whose endpoint answered that it
// could not do what was asked.
const ReportedFailure = "the system answered that it could not do it"

// Call is what the endpoint of src was sent for task t.
func Call(t Task) webhook.SourceCall {
	return webhook.SourceCall{Kind: webhook.KindSourceRequest, RequestID: t.RequestID, SourceID: t.SourceID, Type: t.Type}
}

// ApplySourceAnswer answers task t with what its webhook source answered
// (checked already, see webhook.ParseSourceAnswer): records become the
// task's export, as an owner's upload would; "accepted" records that the
// answer comes later; "failed" hands the task to the owner.
func (s *Answerer) ApplySourceAnswer(ctx context.Context, t Task, src *registry.Source, a webhook.SourceAnswer) error {
	if t.Webhook == nil {
		t.Webhook = &WebhookState{}
	}
	by := "webhook:" + src.ID
	switch a.Status {
	case webhook.Accepted:
		t.Webhook.Accepted = true
		if err := s.Store.Update(ctx, t); err != nil {
			return err
		}
		return s.Audit.Record(ctx, t.RequestID, request.Event{At: s.Clock.Now().UTC(), Actor: by, Action: "webhook_accepted", Note: "source=" + src.ID})
	case webhook.Failed:
		return s.HandOver(ctx, t, src, ReportedFailure)
	}
	ans := Answer{Status: Done, By: by, Note: a.Note}
	if a.Status == webhook.None {
		ans.Status = None
	}
	if t.Exports() && ans.Status == Done {
		b, err := json.Marshal(a.Records)
		if err != nil {
			return err
		}
		ans.File = b
	}
	_, err := s.answer(ctx, t, ans)
	if err != nil && (apperr.Is(err, apperr.TooLarge) || apperr.Is(err, apperr.Invalid)) {
		// Records that cannot be kept as an export (over 4 MiB): the owner
		// exports them another way.
		return s.HandOver(ctx, t, src, "the records it sent cannot be kept as an export (over 4 MiB)")
	}
	return err
}

// HandOver gives the task to the owner of src, saying why the endpoint's
// part ended: the owner gets the task with a fresh link, as for a manual
// source. The callback keeps working: whoever answers first answers.
func (s *Answerer) HandOver(ctx context.Context, t Task, src *registry.Source, reason string) error {
	if t.Webhook == nil {
		t.Webhook = &WebhookState{}
	}
	now := s.Clock.Now().UTC()
	t.Webhook.Failure = reason
	token := t.Issue(t.TokenExpires)
	if err := s.Store.Update(ctx, t); err != nil {
		return err
	}
	if err := s.Audit.Record(ctx, t.RequestID, request.Event{At: now, Actor: "webhook:" + src.ID, Action: "webhook_failed", Note: "source=" + src.ID + " reason=" + reason}); err != nil {
		return err
	}
	why := "The system's own endpoint was asked first and did not answer (" + reason + "), so this task is yours."
	if err := s.Teller.Tell(ctx, src, t, token, false, why); err != nil {
		return err
	}
	t.NotifiedAt = now
	if err := s.Store.Update(ctx, t); err != nil && !apperr.Is(err, apperr.Conflict) {
		return err
	}
	return nil
}

// MaxCallback is the largest callback body taken: the records of an
// export (4 MiB) and the JSON around them.
const MaxCallback = webhook.MaxReply

// Callback takes the answer a webhook source sends later, through the
// callback URL of its call: the URL's token must be the task's, the body
// signed with the source's secret within the tolerance, the task still
// open and its URL unexpired, and the answer well formed. A wrong token and
// a task that does not exist look the same; a callback sent again after
// its answer was taken is taken again, changing nothing.
func (s *Answerer) Callback(ctx context.Context, requestID, sourceID, token, signature string, body []byte) error {
	invalid := apperr.E(apperr.NotFound, "This callback URL is not valid.")
	if !request.ValidID(requestID) || token == "" {
		return invalid
	}
	src := s.Registry.Source(sourceID)
	if src == nil || src.Webhook == nil {
		return invalid
	}
	t, err := s.Store.Task(ctx, requestID, sourceID)
	if apperr.Is(err, apperr.NotFound) {
		return invalid
	}
	if err != nil {
		return err
	}
	if !t.CallbackMatches(token) {
		return invalid
	}
	now := s.Clock.Now()
	key, err := s.Secrets.Secret(ctx, src.Webhook.Secret)
	if err != nil {
		return err
	}
	if err := webhook.Verify(key, signature, body, now); err != nil {
		return apperr.E(apperr.Forbidden, "The callback's signature does not check out: "+err.Error()+".")
	}
	by := "webhook:" + src.ID
	switch {
	case !t.IsOpen() && t.By == by:
		// A callback sent again, its first answer lost: taken already, but
		// the workflow may not have been resumed.
		return s.resume(ctx, t.RequestID, by)
	case !t.IsOpen():
		return apperr.E(apperr.Conflict, "This task was answered already ("+string(t.Status)+" by "+t.By+").")
	case !now.Before(t.TokenExpires):
		return apperr.E(apperr.Forbidden, "This callback URL has expired: the request's owner answers for the system.")
	}
	a, err := webhook.ParseSourceAnswer(body, Call(t), true)
	var m *webhook.Malformed
	if errors.As(err, &m) {
		return apperr.InvalidFields(apperr.FieldError{Field: "body", Detail: m.Reason})
	}
	if err != nil {
		return err
	}
	if err := s.Audit.Record(ctx, t.RequestID, request.Event{At: now.UTC(), Actor: by, Action: "webhook_called_back",
		Note: "source=" + src.ID + " status=" + a.Status + " records=" + strconv.Itoa(len(a.Records))}); err != nil {
		return err
	}
	return s.ApplySourceAnswer(ctx, t, src, a)
}
