package app

import (
	"cmp"
	"context"

	"github.com/privacy-pipeline/dsr/internal/clock"
	"github.com/privacy-pipeline/dsr/internal/metrics"
	"github.com/privacy-pipeline/dsr/internal/sweeper"
	"github.com/privacy-pipeline/dsr/internal/workflow"
)

// Empty is the output of tasks that return nothing.
type Empty struct{}

// task wraps a workflow step as a Lambda handler: it logs the outcome by ids
// and error codes only, and turns errors into the named task error types.
func task[In, Out any](a *App, name string, step func(context.Context, In) (Out, error)) func(context.Context, In) (Out, error) {
	return func(ctx context.Context, in In) (Out, error) {
		out, err := step(ctx, in)
		if err != nil {
			a.log.ErrorContext(ctx, "task failed", "task", name, "request_id", requestID(in), "error_code", workflow.ErrorCode(err))
			return out, workflow.TaskError(err)
		}
		a.log.InfoContext(ctx, "task done", "task", name, "request_id", requestID(in))
		return out, nil
	}
}

func noOutput[In any](step func(context.Context, In) error) func(context.Context, In) (Empty, error) {
	return func(ctx context.Context, in In) (Empty, error) { return Empty{}, step(ctx, in) }
}

func requestID(in any) string {
	switch v := in.(type) {
	case workflow.VerificationTask:
		return v.RequestID
	case workflow.RequestRef:
		return v.RequestID
	case workflow.SourceTask:
		return v.RequestID
	case workflow.CloseTask:
		return v.RequestID
	case workflow.LargeSourceTask:
		return v.RequestID
	case workflow.DeadlineTask:
		return v.RequestID
	case workflow.ReviewTask:
		return v.RequestID
	case workflow.HoldTask:
		return v.RequestID
	}
	return ""
}

// The workflow's Lambda handlers, one per function folder.
func (a *App) StartVerification() func(context.Context, workflow.VerificationTask) (Empty, error) {
	return task(a, "start-verification", noOutput(a.steps.StartVerification))
}

func (a *App) ResolveIdentities() func(context.Context, workflow.RequestRef) (workflow.Plan, error) {
	return task(a, "resolve-identities", a.steps.ResolveIdentities)
}

func (a *App) CollectSource() func(context.Context, workflow.SourceTask) (workflow.SourceResult, error) {
	return task(a, "collect-source", a.steps.CollectSource)
}

func (a *App) FinishLargeSource() func(context.Context, workflow.LargeSourceTask) (workflow.Plan, error) {
	return task(a, "finish-large-source", a.steps.FinishLargeSource)
}

func (a *App) BuildPackage() func(context.Context, workflow.RequestRef) (Empty, error) {
	return task(a, "build-package", noOutput(a.steps.BuildPackage))
}

func (a *App) EraseSource() func(context.Context, workflow.SourceTask) (workflow.SourceResult, error) {
	return task(a, "erase-source", a.steps.EraseSource)
}

func (a *App) AwaitHold() func(context.Context, workflow.HoldTask) (Empty, error) {
	return task(a, "await-hold", noOutput(a.steps.AwaitHold))
}

func (a *App) AwaitFindings() func(context.Context, workflow.FindingsTask) (Empty, error) {
	return task(a, "await-findings", noOutput(a.steps.AwaitFindings))
}

func (a *App) WriteReceipt() func(context.Context, workflow.RequestRef) (Empty, error) {
	return task(a, "write-receipt", noOutput(a.steps.WriteReceipt))
}

func (a *App) ApplyCorrections() func(context.Context, workflow.RequestRef) (Empty, error) {
	return task(a, "apply-corrections", noOutput(a.steps.ApplyCorrections))
}

func (a *App) RecordSuppression() func(context.Context, workflow.RequestRef) (Empty, error) {
	return task(a, "record-suppression", noOutput(a.steps.RecordSuppression))
}

func (a *App) CloseRequest() func(context.Context, workflow.CloseTask) (Empty, error) {
	return task(a, "close-request", noOutput(a.steps.CloseRequest))
}

func (a *App) Acknowledge() func(context.Context, workflow.RequestRef) (workflow.AckResult, error) {
	return task(a, "acknowledge", a.steps.Acknowledge)
}

func (a *App) AwaitReview() func(context.Context, workflow.ReviewTask) (Empty, error) {
	return task(a, "await-review", noOutput(a.steps.AwaitReview))
}

func (a *App) CheckSiblings() func(context.Context, workflow.RequestRef) (workflow.SiblingsCheck, error) {
	return task(a, "check-siblings", a.steps.CheckSiblings)
}

func (a *App) CheckDeadline() func(context.Context, workflow.DeadlineTask) (workflow.DeadlineResult, error) {
	return task(a, "check-deadline", a.steps.CheckDeadline)
}

// DueSoonDays is how close to its due date an open request must be to count
// in the scheduled report (and its alarm).
const DueSoonDays = 3

// DeadlineReport is the scheduled handler that publishes the number of open
// requests and of those due within DueSoonDays, which the stack alarms on.
func (a *App) DeadlineReport() func(context.Context) error {
	return func(ctx context.Context) error {
		open, soon, err := a.Reports().Backlog(ctx, DueSoonDays)
		if err != nil {
			a.log.ErrorContext(ctx, "deadline report failed", "error_code", workflow.ErrorCode(err))
			return workflow.TaskError(err)
		}
		a.metrics.Gauge(metrics.Open, float64(open))
		a.metrics.Gauge(metrics.DueSoon, float64(soon))
		a.log.InfoContext(ctx, "deadline report", "open", open, "due_soon", soon)
		return nil
	}
}

// Sweep is the scheduled handler that starts the workflows of requests
// stored without one (see internal/sweeper). It logs request ids and
// counts only; a request it could not start is flagged and counted for the
// RequestsNotStarted alarm, and a sweep that could not look at every
// request fails, for the function's error alarm.
func (a *App) Sweep() func(context.Context) (sweeper.Result, error) {
	return func(ctx context.Context) (sweeper.Result, error) {
		res, err := a.Sweeper().Sweep(ctx)
		a.log.InfoContext(ctx, "sweep", "started", res.Started, "not_started", res.NotStarted, "unchecked", res.Unchecked, "resumed", res.Resumed)
		if err != nil {
			a.log.ErrorContext(ctx, "sweep failed", "error_code", workflow.ErrorCode(err))
			return res, workflow.TaskError(err)
		}
		return res, nil
	}
}

// Sweeper finds requests stored without a workflow and starts them with the
// portal's input.
func (a *App) Sweeper() *sweeper.Sweeper {
	return &sweeper.Sweeper{Store: a.store, Workflow: a.workflow, Inputs: a.portal, Metrics: a.metrics,
		Clock: clock.System{}, MinAge: cmp.Or(a.cfg.SweepMinAge, sweeper.DefaultMinAge)}
}

// Handlers returns every workflow task handler and the inbound mail handler
// by function name, for hosts that serve them all in one process (the local
// stack).
func (a *App) Handlers() map[string]any {
	return map[string]any{
		"acknowledge":         a.Acknowledge(),
		"start-verification":  a.StartVerification(),
		"await-review":        a.AwaitReview(),
		"check-deadline":      a.CheckDeadline(),
		"check-siblings":      a.CheckSiblings(),
		"deadline-report":     a.DeadlineReport(),
		"sweeper":             a.Sweep(),
		"resolve-identities":  a.ResolveIdentities(),
		"collect-source":      a.CollectSource(),
		"finish-large-source": a.FinishLargeSource(),
		"build-package":       a.BuildPackage(),
		"erase-source":        a.EraseSource(),
		"write-receipt":       a.WriteReceipt(),
		"await-hold":          a.AwaitHold(),
		"await-findings":      a.AwaitFindings(),
		"close-request":       a.CloseRequest(),
		"record-suppression":  a.RecordSuppression(),
		"apply-corrections":   a.ApplyCorrections(),
		"inbound":             a.Inbound(),
	}
}
