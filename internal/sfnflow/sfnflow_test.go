package sfnflow

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/privacy-pipeline/dsr/internal/apperr"
)

// describer answers DescribeExecution with err; the rest of the API is not
// used here.
type describer struct {
	API
	err   error
	asked string
}

func (d *describer) DescribeExecution(_ context.Context, in *sfn.DescribeExecutionInput, _ ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error) {
	d.asked = aws.ToString(in.ExecutionArn)
	if d.err != nil {
		return nil, d.err
	}
	return &sfn.DescribeExecutionOutput{Status: types.ExecutionStatusRunning}, nil
}

func TestExists(t *testing.T) {
	const machine = "arn:aws:states:eu-west-1:111111111111:stateMachine:dsr-request-workflow"
	tests := []struct {
		name        string
		err         error
		exists      bool
		unavailable bool
	}{
		{"running or ran", nil, true, false},
		{"never started", &types.ExecutionDoesNotExist{Message: aws.String("no such execution")}, false, false},
		{"the service fails", errors.New("connection reset"), false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &describer{err: tt.err}
			exists, err := New(api, machine).Exists(context.Background(), "dsr-20261123-0123456789abcdef")
			if exists != tt.exists || tt.unavailable != apperr.Is(err, apperr.Unavailable) || (err != nil && !tt.unavailable) {
				t.Fatalf("exists %v, %v", exists, err)
			}
			if want := "arn:aws:states:eu-west-1:111111111111:execution:dsr-request-workflow:dsr-20261123-0123456789abcdef"; api.asked != want {
				t.Errorf("asked about %s, want %s", api.asked, want)
			}
		})
	}
}

// failer records SendTaskFailure calls and answers them with err.
type failer struct {
	WatchAPI
	err   error
	calls []sfn.SendTaskFailureInput
}

func (f *failer) SendTaskFailure(_ context.Context, in *sfn.SendTaskFailureInput, _ ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error) {
	f.calls = append(f.calls, *in)
	return &sfn.SendTaskFailureOutput{}, f.err
}

type waits map[string]string

func (w waits) WatchWait(_ context.Context, id string) (string, error) { return w[id], nil }

// TestWatchEnd: a close fails the wait the watch is in with RequestClosed;
// a wait that ended already (the watch moved on) is no error, nor is a
// watch without a kept wait; an outage is.
func TestWatchEnd(t *testing.T) {
	const machine = "arn:aws:states:eu-west-1:111111111111:stateMachine:dsr-deadline-watch"
	const id = "dsr-20261123-0123456789abcdef"
	tests := []struct {
		name        string
		token       string
		err         error
		calls       int
		unavailable bool
	}{
		{"waiting", "tok", nil, 1, false},
		{"the wait timed out meanwhile", "tok", &types.TaskTimedOut{Message: aws.String("timed out")}, 1, false},
		{"the token is stale", "tok", &types.InvalidToken{Message: aws.String("invalid")}, 1, false},
		{"no wait kept", "", nil, 0, false},
		{"the service fails", "tok", errors.New("connection reset"), 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &failer{err: tt.err}
			err := NewWatch(api, machine, waits{id: tt.token}).End(context.Background(), id)
			if len(api.calls) != tt.calls || tt.unavailable != apperr.Is(err, apperr.Unavailable) || (err != nil && !tt.unavailable) {
				t.Fatalf("calls %d, %v", len(api.calls), err)
			}
			if tt.calls == 1 && (aws.ToString(api.calls[0].Error) != ClosedError || aws.ToString(api.calls[0].TaskToken) != tt.token) {
				t.Fatalf("call %+v", api.calls[0])
			}
		})
	}
}
