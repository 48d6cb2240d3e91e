package workflow

import (
	"errors"

	"github.com/aws/smithy-go"

	"github.com/privacy-pipeline/dsr/internal/apperr"
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

func (e *TransientError) Error() string   { return e.Msg }
func (e *InvalidTaskInput) Error() string { return e.Msg }
func (e *RequestNotFound) Error() string  { return e.Msg }
func (e *StateConflict) Error() string    { return e.Msg }
func (e *InternalError) Error() string    { return e.Msg }
func (e *ErasureOnHold) Error() string    { return e.Msg }
func (e *NotOnHold) Error() string        { return e.Msg }
func (e *FindingsOpen) Error() string     { return e.Msg }
func (e *NoOpenFindings) Error() string   { return e.Msg }
func (e *NothingToAppeal) Error() string  { return e.Msg }
func (e *RequestCancelled) Error() string { return e.Msg }
func (e *RequestClosed) Error() string    { return e.Msg }

// TaskError turns any error into one of the task error types above.
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
