package workflow

import (
	"errors"
	"reflect"
	"slices"

	"github.com/aws/smithy-go"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/manualtask"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// Errors a task returns to Step Functions. Their Go type names are the
// errorType the state machine's Retry and Catch match on, so they are named on
// purpose; their messages are the safe apperr messages, never an SDK's text,
// because task errors are written to the execution history.
type (
	// TransientError is worth retrying: a dependency was unavailable.
	TransientError struct{ Msg string }
	// InvalidTaskInput means the task was called wrongly; retrying cannot help.
	InvalidTaskInput struct{ Msg string }
	// RequestNotFound means the request the task names does not exist.
	RequestNotFound struct{ Msg string }
	// StateConflict means the request is not in a state that allows the task.
	StateConflict struct{ Msg string }
	// InternalError is a fault of ours.
	InternalError struct{ Msg string }
	// ErasureOnHold means a legal hold blocks erasure: the workflow waits
	// for its release.
	ErasureOnHold struct{ Msg string }
	// NotOnHold means the workflow waited on a hold already released: it
	// goes back to erasing.
	NotOnHold struct{ Msg string }
	// FindingsOpen means places in the sources that may hold the subject
	// wait for an operator: the workflow waits until they are resolved.
	FindingsOpen struct{ Msg string }
	// NoOpenFindings means the workflow waited on findings already
	// resolved: it goes on to the receipt.
	NoOpenFindings struct{ Msg string }
	// ManualTasksOpen means the owners of manual sources have not yet
	// answered the request's tasks: the workflow waits until they have.
	ManualTasksOpen struct{ Msg string }
	// NoOpenManualTasks means the workflow came to wait on tasks already
	// answered, or none: it goes on.
	NoOpenManualTasks struct{ Msg string }
	// NothingToAppeal means an appeal names no decision its subject can
	// appeal: the workflow closes it and tells the subject so.
	NothingToAppeal struct{ Msg string }
	// RequestCancelled means an operator cancelled the request: the
	// workflow ends, successfully, wherever it was.
	RequestCancelled struct{ Msg string }
	// RequestClosed means the request closed: its deadline watch ends,
	// successfully, wherever it was waiting.
	RequestClosed struct{ Msg string }
)

// RequestDenied is the error an operator's denial fails a waiting task
// with (operator.Deny, through Step Functions' SendTaskFailure); no task
// returns it. The request workflow catches it to send the denial.
const RequestDenied = "RequestDenied"

// Errors of AWS's own that the state machines match.
const (
	// AnyError (States.ALL) matches every error: a Catch routes what is
	// left to the operators.
	AnyError = "States.ALL"
	// TaskTimedOut is a wait for a task token that ran out.
	TaskTimedOut = "States.Timeout"
)

// lambdaServiceErrors are the Lambda service's transient failures to invoke
// a function: the standard Retry retries them.
var lambdaServiceErrors = []string{
	"Lambda.ServiceException",
	"Lambda.AWSLambdaException",
	"Lambda.SdkClientException",
	"Lambda.TooManyRequestsException",
}

// InvocationTimedOut is an invocation that ran out of time (Lambda's
// Sandbox.Timedout). Every step is safe to run again (the erasure journal,
// conditional writes, executions named by the request), so the standard
// Retry retries it: without, one timeout fails the request for an operator.
const InvocationTimedOut = "Sandbox.Timedout"

// taskErrors are the error types a task returns: TaskError makes every
// error one of them.
var taskErrors = []error{
	&TransientError{}, &InvalidTaskInput{}, &RequestNotFound{}, &StateConflict{}, &InternalError{},
	&ErasureOnHold{}, &NotOnHold{}, &FindingsOpen{}, &NoOpenFindings{}, &ManualTasksOpen{}, &NoOpenManualTasks{}, &NothingToAppeal{},
	&RequestCancelled{}, &RequestClosed{},
}

// ErrorName is the name Step Functions knows err by (errorType): its Go
// type's name, as the Lambda runtime for Go reports it.
func ErrorName(err error) string {
	t := reflect.TypeOf(err)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

// ErrorNames are every error name a state machine may match in Retry or
// Catch: the task errors, RequestDenied, and AWS's that the state machines
// use. A name outside this list in an ASL file matches nothing Go sends.
func ErrorNames() []string {
	names := []string{RequestDenied, AnyError, TaskTimedOut, InvocationTimedOut}
	names = append(names, lambdaServiceErrors...)
	for _, e := range taskErrors {
		names = append(names, ErrorName(e))
	}
	return names
}

// Retrier is one element of a task's Retry in ASL.
type Retrier struct {
	ErrorEquals     []string `json:"ErrorEquals"`
	IntervalSeconds int      `json:"IntervalSeconds"`
	MaxAttempts     int      `json:"MaxAttempts"`
	BackoffRate     float64  `json:"BackoffRate"`
	JitterStrategy  string   `json:"JitterStrategy"`
}

// StandardRetry is the Retry of every Lambda task of the state machines
// (the ASL files write "Retry": "${StandardRetry}"; statemachines.Definition
// puts this in its place). It retries, with backoff and full jitter, what
// is worth trying again: the Lambda service's failures and TransientError.
// Every other error is final, and the task's Catch routes it.
var StandardRetry = []Retrier{{
	ErrorEquals:     append(slices.Clone(lambdaServiceErrors), InvocationTimedOut, ErrorName(&TransientError{})),
	IntervalSeconds: 2,
	MaxAttempts:     4,
	BackoffRate:     2,
	JitterStrategy:  "FULL",
}}

func (e *TransientError) Error() string    { return e.Msg }
func (e *InvalidTaskInput) Error() string  { return e.Msg }
func (e *RequestNotFound) Error() string   { return e.Msg }
func (e *StateConflict) Error() string     { return e.Msg }
func (e *InternalError) Error() string     { return e.Msg }
func (e *ErasureOnHold) Error() string     { return e.Msg }
func (e *NotOnHold) Error() string         { return e.Msg }
func (e *FindingsOpen) Error() string      { return e.Msg }
func (e *NoOpenFindings) Error() string    { return e.Msg }
func (e *ManualTasksOpen) Error() string   { return e.Msg }
func (e *NoOpenManualTasks) Error() string { return e.Msg }
func (e *NothingToAppeal) Error() string   { return e.Msg }
func (e *RequestCancelled) Error() string  { return e.Msg }
func (e *RequestClosed) Error() string     { return e.Msg }

// TaskError turns any error into one of the task error types above
// (taskErrors).
func TaskError(err error) error {
	msg := "Internal error."
	var e *apperr.Error
	if errors.As(err, &e) {
		msg = e.Msg
	}
	switch {
	case errors.Is(err, request.ErrOnHold):
		return &ErasureOnHold{Msg: msg}
	case errors.Is(err, request.ErrNotOnHold):
		return &NotOnHold{Msg: msg}
	case errors.Is(err, request.ErrFindingsOpen):
		return &FindingsOpen{Msg: msg}
	case errors.Is(err, request.ErrNoOpenFindings):
		return &NoOpenFindings{Msg: msg}
	case errors.Is(err, manualtask.ErrOpen):
		return &ManualTasksOpen{Msg: msg}
	case errors.Is(err, manualtask.ErrNoneOpen):
		return &NoOpenManualTasks{Msg: msg}
	case errors.Is(err, request.ErrNothingToAppeal):
		return &NothingToAppeal{Msg: msg}
	case errors.Is(err, request.ErrCancelled):
		return &RequestCancelled{Msg: msg}
	case errors.Is(err, request.ErrClosed):
		return &RequestClosed{Msg: msg}
	}
	if errors.Is(err, request.ErrChanged) {
		// A concurrent save (the deadline watch, an operator) won the race:
		// the retried step reads the request again.
		return &TransientError{Msg: msg}
	}
	switch apperr.KindOf(err) {
	case apperr.Unavailable, apperr.RateLimited:
		return &TransientError{Msg: msg}
	case apperr.Invalid:
		return &InvalidTaskInput{Msg: msg}
	case apperr.NotFound:
		return &RequestNotFound{Msg: msg}
	case apperr.Conflict:
		return &StateConflict{Msg: msg}
	default:
		return &InternalError{Msg: msg}
	}
}

// ErrorCode names the cause of err for logs without its text: the AWS error
// code when there is one, else the error kind. SDK messages can quote keys
// and values, so they are never logged.
func ErrorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return apperr.KindOf(err).String()
}

// RequestCancelledError is the error name an operator's cancel fails a
// waiting task with (through SendTaskFailure): the workflow catches it into
// its Succeed state "Request cancelled", as it does when a step finds the
// request cancelled.
var RequestCancelledError = ErrorName(&RequestCancelled{})
