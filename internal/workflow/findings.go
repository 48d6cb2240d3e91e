package workflow

import (
	"context"
	"fmt"
	"strconv"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/erasure"
	"github.com/privacy-pipeline/dsr/internal/notify"
	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// Findings keeps, per request, the places in the sources that may hold the
// subject but could not be handled (see erasure.Finding), with what an
// operator decided about each.
type Findings interface {
	// AddFindings keeps findings; one kept already (the same place found
	// again by a retried step) stays as it is, resolution and all.
	AddFindings(ctx context.Context, requestID string, fs []erasure.Finding) error
	Findings(ctx context.Context, requestID string) ([]erasure.Finding, error)
	// SetWait keeps the task token that resolving the last open finding
	// resumes.
	SetWait(ctx context.Context, requestID, taskToken string) error
}

// recordFindings keeps what a step could not handle in a source. Blocking
// findings (erasure that would change the source) keep the request from
// being reported done until an operator resolves them; the others (what
// access could not read, what a retained source or a dry run met) inform.
func (s *Steps) recordFindings(ctx context.Context, r *request.Request, src *registry.Source, fs []erasure.Finding) error {
	if len(fs) == 0 {
		return nil
	}
	blocking := r.Type == request.Delete && !r.DryRun && src.Erasure != registry.EraseRetain
	now := s.Clock.Now().UTC()
	kept := make([]erasure.Finding, len(fs))
	for i, f := range fs {
		f.SourceID, f.Blocking, f.FoundAt = src.ID, blocking, now
		kept[i] = f.WithID()
	}
	if err := s.Findings.AddFindings(ctx, r.ID, kept); err != nil {
		return err
	}
	note := fmt.Sprintf("source=%s findings=%d blocking=%t", src.ID, len(kept), blocking)
	return s.Store.Record(ctx, r.ID, request.Event{At: now, Actor: actor, Action: "findings_recorded", Note: note})
}

// openFindings fails with request.ErrFindingsOpen while a blocking finding
// waits for an operator: erasure cannot be reported done.
func (s *Steps) openFindings(ctx context.Context, r *request.Request) ([]erasure.Finding, error) {
	fs, err := s.Findings.Findings(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	if n := erasure.OpenBlocking(fs); n > 0 {
		return nil, apperr.Wrap(apperr.Conflict, strconv.Itoa(n)+" places in the sources may still hold the subject; an operator must look at them (privacyctl findings).", request.ErrFindingsOpen)
	}
	return fs, nil
}

// FindingsTask asks the workflow to wait until an operator has resolved the
// request's open findings; TaskToken resumes it.
type FindingsTask struct {
	RequestID string `json:"request_id"`
	TaskToken string `json:"task_token"`
}

// AwaitFindings records the task token that resolving the request's last
// open finding resumes, and tells the operator. When none is open any more
// (resolved meanwhile), it fails with request.ErrNoOpenFindings and the
// workflow goes straight on to the receipt.
func (s *Steps) AwaitFindings(ctx context.Context, in FindingsTask) error {
	r, err := s.load(ctx, in.RequestID)
	if err != nil {
		return err
	}
	if in.TaskToken == "" {
		return apperr.E(apperr.Invalid, "The task input has no task token.")
	}
	fs, err := s.Findings.Findings(ctx, r.ID)
	if err != nil {
		return err
	}
	open := erasure.OpenBlocking(fs)
	if open == 0 {
		return apperr.Wrap(apperr.Conflict, "No finding waits for an operator.", request.ErrNoOpenFindings)
	}
	if err := s.Findings.SetWait(ctx, r.ID, in.TaskToken); err != nil {
		return err
	}
	// Resolved meanwhile, between the read and the wait: the resolution
	// found no wait to resume, so this step does not wait.
	if fs, err = s.Findings.Findings(ctx, r.ID); err != nil {
		return err
	}
	if erasure.OpenBlocking(fs) == 0 {
		return apperr.Wrap(apperr.Conflict, "No finding waits for an operator.", request.ErrNoOpenFindings)
	}
	note := "findings=" + strconv.Itoa(open)
	if err := s.Store.Record(ctx, r.ID, request.Event{At: s.Clock.Now(), Actor: actor, Action: "erasure_waits_on_findings", Note: note}); err != nil {
		return err
	}
	if s.OperatorEmail == "" {
		return nil
	}
	msg, err := notify.FindingsOpen(s.OperatorEmail, r.ID, open)
	if err != nil {
		return apperr.Wrap(apperr.Internal, "The message could not be written.", err)
	}
	return s.Mailer.Send(ctx, msg)
}

// forReceipt returns the findings of a source as a receipt keeps them: keys
// hashed, the operator's note left out (it is free text).
func (s *Steps) forReceipt(ctx context.Context, fs []erasure.Finding, sourceID string) ([]erasure.Finding, error) {
	var out []erasure.Finding
	for _, f := range fs {
		if f.SourceID != sourceID {
			continue
		}
		f.Note = ""
		if s.KeyHasher == nil {
			f.Key = ""
		} else {
			var err error
			if f.Key, err = s.KeyHasher.HashKey(ctx, f.Key); err != nil {
				return nil, err
			}
		}
		out = append(out, f)
	}
	return out, nil
}
