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
