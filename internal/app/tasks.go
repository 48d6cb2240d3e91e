package app

import (
	"cmp"
	"context"

	"github.com/privacy-pipeline/dsr/internal/clock"
	"github.com/privacy-pipeline/dsr/internal/metrics"
	"github.com/privacy-pipeline/dsr/internal/resources"
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
	case workflow.FindingsTask:
		return v.RequestID
	case workflow.ManualWait:
		return v.RequestID
	}
	return ""
}

// The workflow's Lambda handlers, one per function folder.
func (a *App) StartVerification() func(context.Context, workflow.VerificationTask) (Empty, error) {
	return task(a, resources.StartVerification.Name, noOutput(a.steps().StartVerification))
}

func (a *App) ResolveIdentities() func(context.Context, workflow.RequestRef) (workflow.Plan, error) {
	return task(a, resources.ResolveIdentities.Name, a.steps().ResolveIdentities)
}

func (a *App) CollectSource() func(context.Context, workflow.SourceTask) (workflow.SourceResult, error) {
	return task(a, resources.CollectSource.Name, a.steps().CollectSource)
}

func (a *App) FinishLargeSource() func(context.Context, workflow.LargeSourceTask) (workflow.Plan, error) {
	return task(a, resources.FinishLargeSource.Name, a.steps().FinishLargeSource)
}

func (a *App) BuildPackage() func(context.Context, workflow.RequestRef) (Empty, error) {
	return task(a, resources.BuildPackage.Name, noOutput(a.steps().BuildPackage))
}

func (a *App) EraseSource() func(context.Context, workflow.SourceTask) (workflow.SourceResult, error) {
	return task(a, resources.EraseSource.Name, a.steps().EraseSource)
}

func (a *App) AwaitHold() func(context.Context, workflow.HoldTask) (Empty, error) {
	return task(a, resources.AwaitHold.Name, noOutput(a.steps().AwaitHold))
}

func (a *App) AwaitFindings() func(context.Context, workflow.FindingsTask) (Empty, error) {
	return task(a, resources.AwaitFindings.Name, noOutput(a.steps().AwaitFindings))
}

func (a *App) AwaitManualTasks() func(context.Context, workflow.ManualWait) (Empty, error) {
	return task(a, resources.AwaitManualTasks.Name, noOutput(a.steps().AwaitManualTasks))
}

func (a *App) WriteReceipt() func(context.Context, workflow.RequestRef) (Empty, error) {
	return task(a, resources.WriteReceipt.Name, noOutput(a.steps().WriteReceipt))
}

func (a *App) ApplyCorrections() func(context.Context, workflow.RequestRef) (Empty, error) {
	return task(a, resources.ApplyCorrections.Name, noOutput(a.steps().ApplyCorrections))
}

func (a *App) RecordSuppression() func(context.Context, workflow.RequestRef) (Empty, error) {
	return task(a, resources.RecordSuppression.Name, noOutput(a.steps().RecordSuppression))
}

func (a *App) TellRecipients() func(context.Context, workflow.RequestRef) (Empty, error) {
	return task(a, resources.TellRecipients.Name, noOutput(a.steps().TellRecipients))
}

func (a *App) CloseRequest() func(context.Context, workflow.CloseTask) (Empty, error) {
	return task(a, resources.CloseRequest.Name, noOutput(a.steps().CloseRequest))
}

func (a *App) Acknowledge() func(context.Context, workflow.RequestRef) (workflow.AckResult, error) {
	return task(a, resources.Acknowledge.Name, a.steps().Acknowledge)
}

func (a *App) AwaitReview() func(context.Context, workflow.ReviewTask) (Empty, error) {
	return task(a, resources.AwaitReview.Name, noOutput(a.steps().AwaitReview))
}

func (a *App) CheckSiblings() func(context.Context, workflow.RequestRef) (workflow.SiblingsCheck, error) {
	return task(a, resources.CheckSiblings.Name, a.steps().CheckSiblings)
}

func (a *App) CheckDeadline() func(context.Context, workflow.DeadlineTask) (workflow.DeadlineResult, error) {
	return task(a, resources.CheckDeadline.Name, a.steps().CheckDeadline)
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

// Handlers returns the handler of every function but the API (an HTTP
// handler, see API) by function name, for hosts that serve them all in one
// process (the local stack).
func (a *App) Handlers() map[string]any {
	return map[string]any{
		resources.Acknowledge.Name:       a.Acknowledge(),
		resources.StartVerification.Name: a.StartVerification(),
		resources.AwaitReview.Name:       a.AwaitReview(),
		resources.CheckDeadline.Name:     a.CheckDeadline(),
		resources.CheckSiblings.Name:     a.CheckSiblings(),
		resources.DeadlineReport.Name:    a.DeadlineReport(),
		resources.Sweeper.Name:           a.Sweep(),
		resources.ResolveIdentities.Name: a.ResolveIdentities(),
		resources.CollectSource.Name:     a.CollectSource(),
		resources.FinishLargeSource.Name: a.FinishLargeSource(),
		resources.BuildPackage.Name:      a.BuildPackage(),
		resources.EraseSource.Name:       a.EraseSource(),
		resources.WriteReceipt.Name:      a.WriteReceipt(),
		resources.AwaitHold.Name:         a.AwaitHold(),
		resources.AwaitFindings.Name:     a.AwaitFindings(),
		resources.AwaitManualTasks.Name:  a.AwaitManualTasks(),
		resources.CloseRequest.Name:      a.CloseRequest(),
		resources.RecordSuppression.Name: a.RecordSuppression(),
		resources.ApplyCorrections.Name:  a.ApplyCorrections(),
		resources.TellRecipients.Name:    a.TellRecipients(),
		resources.Inbound.Name:           a.Inbound(),
	}
}
