// Package sweeper makes sure no request is lost between being stored and
// having a workflow. The portal stores a request, then starts its workflow;
// a start that fails, or a process that ends between the two, would leave
// the request "received" for good: no workflow, no deadline watch, nobody
// told. The sweeper runs on a schedule, finds such requests and starts
// them, or flags them for an operator and counts them for an alarm. The
// same holds for a confirmation: the portal saves a request confirmed,
// then resumes its workflow, and a process that ends between the two
// leaves it "verified" with the workflow waiting until the verification
// period ends; the sweeper resumes it.
package sweeper

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/clock"
	"github.com/privacy-pipeline/dsr/internal/metrics"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/sfnflow"
)

// Store finds requests by status and records what the sweeper did.
type Store interface {
	List(ctx context.Context, q request.Query) ([]*request.Request, error)
	Get(ctx context.Context, id string) (*request.Request, error)
	Save(ctx context.Context, r *request.Request, ev request.Event) error
	Record(ctx context.Context, id string, ev request.Event) error
}

// Workflow starts request workflows, tells whether one was started, and
// resumes one waiting on a task token.
type Workflow interface {
	Start(ctx context.Context, in sfnflow.Input) error
	Exists(ctx context.Context, execution string) (bool, error)
	Resume(ctx context.Context, taskToken string) error
}

// Inputs builds a request's workflow input exactly as the portal does, so
// a late start runs the workflow the portal would have run.
type Inputs interface {
	WorkflowInput(r *request.Request) sfnflow.Input
}

// Metrics counts, per request type and jurisdiction, what operators alarm on.
type Metrics interface {
	Count(name string, r *request.Request)
}

// DefaultMinAge is how long a request stays "received" before the sweeper
// looks at it: far longer than the portal takes to start a workflow
// (portal.StartTimeout), so a request being started is never raced.
const DefaultMinAge = 5 * time.Minute

// Sweeper starts the workflows of requests stored without one.
type Sweeper struct {
	Store    Store
	Workflow Workflow
	Inputs   Inputs
	Metrics  Metrics
	Clock    clock.Clock
	// MinAge is how long since its last change a request must wait as
	// "received" before it counts as lost.
	MinAge time.Duration
}

// Result says what one sweep did, by request id.
type Result struct {
	// Started are the lost requests whose workflow the sweep started.
	Started []string `json:"started"`
	// NotStarted are those whose start failed: flagged for an operator.
	NotStarted []string `json:"not_started"`
	// Unchecked are those whose workflow could not be looked up; the next
	// sweep tries again.
	Unchecked []string `json:"unchecked"`
	// Resumed are confirmed requests whose waiting workflow the sweep
	// resumed.
	Resumed []string `json:"resumed"`
}

const actor = "system"

// Sweep looks at every request still "received" that has not changed for
// MinAge and starts its workflow if it has none. A joined request (closed
// already) and one whose execution exists, whatever its state, are left
// alone: a workflow that ran and failed has its own alarm and flag. It
// fails when the requests cannot be listed, or when any request could not
// be checked or recorded, after doing all it could.
func (s *Sweeper) Sweep(ctx context.Context) (Result, error) {
	var res Result
	received, err := s.Store.List(ctx, request.Query{Statuses: []request.Status{request.Received}})
	if err != nil {
		return res, err
	}
	cutoff := s.Clock.Now().Add(-s.MinAge)
	var errs []error
	for _, r := range received {
		if r.Status != request.Received || r.JoinedTo != "" || r.UpdatedAt.After(cutoff) {
			continue
		}
		exists, err := s.Workflow.Exists(ctx, r.Execution())
		if err != nil {
			res.Unchecked = append(res.Unchecked, r.ID)
			errs = append(errs, err)
			continue
		}
		if exists {
			continue
		}
		err = s.Workflow.Start(ctx, s.Inputs.WorkflowInput(r))
		switch {
		case apperr.Is(err, apperr.Conflict):
			// Started meanwhile, by the portal or another sweep.
			continue
		case err != nil:
			res.NotStarted = append(res.NotStarted, r.ID)
			s.Metrics.Count(metrics.NotStarted, r)
			if err := s.flag(ctx, r); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		res.Started = append(res.Started, r.ID)
		s.Metrics.Count(metrics.StartedLate, r)
		if err := s.started(ctx, r); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, s.resumeConfirmed(ctx, cutoff, &res)...)
	if len(errs) > 0 {
		return res, apperr.Wrap(apperr.Unavailable, fmt.Sprintf("%d request(s) could not be checked or recorded; the next sweep tries again.", len(errs)), errors.Join(errs...))
	}
	return res, nil
}

// resumeConfirmed resumes the workflow of each request confirmed before
// cutoff that is still "verified": its workflow, told at once, would have
// moved it on within seconds, so it still waits on the verification's task
// token. A workflow that no longer waits on it is left alone.
func (s *Sweeper) resumeConfirmed(ctx context.Context, cutoff time.Time, res *Result) []error {
	verified, err := s.Store.List(ctx, request.Query{Statuses: []request.Status{request.Verified}})
	if err != nil {
		return []error{err}
	}
	var errs []error
	for _, r := range verified {
		if r.Status != request.Verified || r.Verification.TaskToken == "" || r.UpdatedAt.After(cutoff) {
			continue
		}
		err := s.Workflow.Resume(ctx, r.Verification.TaskToken)
		switch {
		case apperr.Is(err, apperr.Conflict):
			continue
		case err != nil:
			res.Unchecked = append(res.Unchecked, r.ID)
			errs = append(errs, err)
			continue
		}
		res.Resumed = append(res.Resumed, r.ID)
		if err := s.Store.Record(ctx, r.ID, request.Event{At: s.Clock.Now(), Actor: actor, Action: "workflow_resumed", Note: "by=sweeper"}); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// flag marks a request whose workflow could not be started for an
// operator, once: later sweeps try again and count it, without writing the
// same flag to its audit log every few minutes.
func (s *Sweeper) flag(ctx context.Context, r *request.Request) error {
	if r.NeedsOperator {
		return nil
	}
	r.NeedsOperator = true
	return s.Store.Save(ctx, r, request.Event{At: s.Clock.Now(), Actor: actor, Action: "workflow_start_failed", From: r.Status, To: r.Status, Note: "needs_operator by=sweeper"})
}

// started records the late start in the request's audit log and clears the
// flag a failed start left. The workflow now runs beside this write, and
// may save the request first: the flag is then cleared on a fresh read.
func (s *Sweeper) started(ctx context.Context, r *request.Request) error {
	ev := request.Event{At: s.Clock.Now(), Actor: actor, Action: "workflow_started", From: r.Status, To: r.Status, Note: "by=sweeper"}
	if !r.NeedsOperator {
		return s.Store.Record(ctx, r.ID, ev)
	}
	for attempt := 0; ; attempt++ {
		r.NeedsOperator = false
		err := s.Store.Save(ctx, r, ev)
		if !errors.Is(err, request.ErrChanged) || attempt == 2 {
			return err
		}
		if r, err = s.Store.Get(ctx, r.ID); err != nil {
			return err
		}
		if !r.NeedsOperator {
			return s.Store.Record(ctx, r.ID, ev)
		}
		ev.From, ev.To = r.Status, r.Status
	}
}
