// Package sfnflow starts and resumes request workflows in AWS Step Functions.
package sfnflow

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/privacy-pipeline/dsr/internal/apperr"
)

// API is the part of the Step Functions client this package uses.
type API interface {
	StartExecution(context.Context, *sfn.StartExecutionInput, ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
	SendTaskSuccess(context.Context, *sfn.SendTaskSuccessInput, ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error)
	SendTaskFailure(context.Context, *sfn.SendTaskFailureInput, ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error)
	DescribeExecution(context.Context, *sfn.DescribeExecutionInput, ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
	GetExecutionHistory(context.Context, *sfn.GetExecutionHistoryInput, ...func(*sfn.Options)) (*sfn.GetExecutionHistoryOutput, error)
}

// Input is the execution input of the request workflow: ids and settings,
// never personal data.
type Input struct {
	RequestID                  string `json:"request_id"`
	Type                       string `json:"type"`
	Jurisdiction               string `json:"jurisdiction"`
	VerificationTimeoutSeconds int    `json:"verification_timeout_seconds"`
	OperatorReview             bool   `json:"operator_review"`
	ReviewTimeoutSeconds       int    `json:"review_timeout_seconds"`
	// SkipVerification is set where the law forbids asking the subject to
	// verify (CCPA opt-out and limit) and for Global Privacy Control.
	SkipVerification bool `json:"skip_verification,omitempty"`
	// VerifiedByAppeal is set on the request a granted appeal makes: the
	// subject confirmed the appeal, from the same address.
	VerifiedByAppeal bool `json:"verified_by_appeal,omitempty"`
	// WaitForSiblings is set on an erasure that a mail asked for besides
	// other requests ("send me a copy, then delete"): it waits until they
	// are closed, looking again every SiblingPollSeconds.
	WaitForSiblings    bool `json:"wait_for_siblings,omitempty"`
	SiblingPollSeconds int  `json:"sibling_poll_seconds,omitempty"`
}

// Workflow runs request workflows of one state machine.
type Workflow struct {
	api             API
	stateMachineARN string
}

// New returns a Workflow on the state machine with the given ARN.
func New(api API, stateMachineARN string) *Workflow {
	return &Workflow{api: api, stateMachineARN: stateMachineARN}
}

// Start starts the workflow of a request. The execution is named by the
// request id, so starting it twice with the same input is harmless.
func (w *Workflow) Start(ctx context.Context, in Input) error {
	b, err := json.Marshal(in)
	if err != nil {
		return apperr.Wrap(apperr.Internal, "The workflow input could not be encoded.", err)
	}
	_, err = w.api.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: &w.stateMachineARN,
		Name:            aws.String(in.RequestID),
		Input:           aws.String(string(b)),
	})
	if err != nil {
		var exists *types.ExecutionAlreadyExists
		if errors.As(err, &exists) {
			return apperr.Wrap(apperr.Conflict, "The workflow of this request already ran.", err)
		}
		return apperr.Wrap(apperr.Unavailable, "The workflow service is unavailable.", err)
	}
	return nil
}

// Exists reports whether the request workflow has an execution named name,
// whatever its status: one that runs, or ran, needs no start.
func (w *Workflow) Exists(ctx context.Context, name string) (bool, error) {
	arn := ExecutionARN(w.stateMachineARN, name)
	_, err := w.api.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: &arn})
	var missing *types.ExecutionDoesNotExist
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &missing):
		return false, nil
	}
	return false, apperr.Wrap(apperr.Unavailable, "The workflow service is unavailable.", err)
}

// Resume lets a workflow step waiting on taskToken go on.
func (w *Workflow) Resume(ctx context.Context, taskToken string) error {
	_, err := w.api.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: &taskToken, Output: aws.String("{}")})
	return taskResponseError(err)
}

// taskResponseError maps the errors of answering a task token: a step that
// stopped waiting is a Conflict, anything else a passing outage.
func taskResponseError(err error) error {
	if err == nil {
		return nil
	}
	var timedOut *types.TaskTimedOut
	var invalid *types.InvalidToken
	var gone *types.TaskDoesNotExist
	if errors.As(err, &timedOut) || errors.As(err, &invalid) || errors.As(err, &gone) {
		return apperr.Wrap(apperr.Conflict, "The request is no longer waiting for this step.", err)
	}
	return apperr.Wrap(apperr.Unavailable, "The workflow service is unavailable.", err)
}

// WatchInput is the execution input of the deadline watch. Instants are
// already scaled for development (see clock.Scale) and end in Z, as
// TimestampPath needs.
type WatchInput struct {
	RequestID string `json:"request_id"`
	// AskAt is when the operators are asked whether to extend,
	// AskInSeconds from the start of the watch; they have
	// AskTimeoutSeconds (scaled), until NoticeAt, to answer. The watch
	// waits on task tokens with these timeouts, so that a close can end
	// each wait; AskAt and NoticeAt serve the plain Wait states it falls
	// back on when a token cannot be kept.
	AskAt             string `json:"ask_at"`
	AskInSeconds      int64  `json:"ask_in_seconds"`
	AskTimeoutSeconds int64  `json:"ask_timeout_seconds"`
	NoticeAt          string `json:"notice_at"`
}

// Watch starts and ends deadline watches, one per request, named by the
// request id.
type Watch struct {
	api             WatchAPI
	stateMachineARN string
	waits           WatchWaits
}

// WatchAPI is the part of the Step Functions client a Watch uses.
type WatchAPI interface {
	StartExecution(context.Context, *sfn.StartExecutionInput, ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
	SendTaskFailure(context.Context, *sfn.SendTaskFailureInput, ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error)
}

// WatchWaits finds the task token of the wait a request's watch is in ("":
// none kept).
type WatchWaits interface {
	WatchWait(ctx context.Context, requestID string) (string, error)
}

// ClosedError is the error name that ends a deadline watch's wait when its
// request closes; the watch catches it into its Succeed state.
const ClosedError = "RequestClosed"

// NewWatch returns a Watch on the deadline-watch state machine, which finds
// the waits to end in waits.
func NewWatch(api WatchAPI, stateMachineARN string, waits WatchWaits) *Watch {
	return &Watch{api: api, stateMachineARN: stateMachineARN, waits: waits}
}

// Start starts the watch of a request; a watch already started is left as it is.
func (w *Watch) Start(ctx context.Context, in WatchInput) error {
	b, err := json.Marshal(in)
	if err != nil {
		return apperr.Wrap(apperr.Internal, "The watch input could not be encoded.", err)
	}
	_, err = w.api.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: &w.stateMachineARN, Name: aws.String(in.RequestID), Input: aws.String(string(b)),
	})
	var exists *types.ExecutionAlreadyExists
	if err != nil && !errors.As(err, &exists) {
		return apperr.Wrap(apperr.Unavailable, "The workflow service is unavailable.", err)
	}
	return nil
}

// End ends the watch of a closed request: the wait it is in fails with
// ClosedError, and the watch ends SUCCEEDED. Stopping it instead would leave
// an ABORTED execution for every ordinary close. A watch that moved past the
// kept wait, or ended, finds the request closed at its next step and ends
// the same way; one never started needs nothing.
func (w *Watch) End(ctx context.Context, requestID string) error {
	token, err := w.waits.WatchWait(ctx, requestID)
	if err != nil || token == "" {
		return err
	}
	cause := "The request closed."
	_, err = w.api.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: &token, Error: aws.String(ClosedError), Cause: &cause})
	if err = taskResponseError(err); apperr.Is(err, apperr.Conflict) {
		return nil
	}
	return err
}

// ExecutionARN is the ARN of the execution named name of a state machine.
func ExecutionARN(stateMachineARN, name string) string {
	return strings.Replace(stateMachineARN, ":stateMachine:", ":execution:", 1) + ":" + name
}

// Fail ends a workflow step waiting on taskToken with a named error, which
// the state machine catches (an operator's denial or cancel).
func (w *Workflow) Fail(ctx context.Context, taskToken, errorName string) error {
	_, err := w.api.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: &taskToken, Error: &errorName})
	return taskResponseError(err)
}

// failureHandling are the states a failed execution passes through after
// the step that failed.
var failureHandling = map[string]bool{"Record the failure for an operator": true, "Request failed": true}

// FailedStep returns the task or map state at which execution name failed,
// and the execution's input.
func (w *Workflow) FailedStep(ctx context.Context, name string) (state, input string, err error) {
	arn := ExecutionARN(w.stateMachineARN, name)
	exec, err := w.api.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: &arn})
	if err != nil {
		var missing *types.ExecutionDoesNotExist
		if errors.As(err, &missing) {
			return "", "", apperr.Wrap(apperr.NotFound, "The request's workflow execution was not found.", err)
		}
		return "", "", apperr.Wrap(apperr.Unavailable, "The workflow service is unavailable.", err)
	}
	if exec.Status != types.ExecutionStatusFailed {
		return "", "", apperr.E(apperr.Conflict, "The request's workflow did not fail (it is "+string(exec.Status)+").")
	}
	// Read the history in order and keep the last step entered before the
	// failure handling (ReverseOrder is not honoured by every emulator).
	p := sfn.NewGetExecutionHistoryPaginator(w.api, &sfn.GetExecutionHistoryInput{ExecutionArn: &arn})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", "", apperr.Wrap(apperr.Unavailable, "The workflow service is unavailable.", err)
		}
		for _, ev := range page.Events {
			if ev.Type != types.HistoryEventTypeTaskStateEntered && ev.Type != types.HistoryEventTypeMapStateEntered {
				continue
			}
			if d := ev.StateEnteredEventDetails; d != nil && !failureHandling[aws.ToString(d.Name)] {
				state = aws.ToString(d.Name)
			}
		}
	}
	return state, aws.ToString(exec.Input), nil
}

// StartNamed starts an execution with a given name and raw input (a redrive).
func (w *Workflow) StartNamed(ctx context.Context, name, input string) error {
	_, err := w.api.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: &w.stateMachineARN, Name: &name, Input: &input})
	if err != nil {
		return apperr.Wrap(apperr.Unavailable, "The workflow service is unavailable.", err)
	}
	return nil
}
