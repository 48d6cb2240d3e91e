package dynstore

import (
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestConditionFailed(t *testing.T) {
	canceled := func(codes ...string) error {
		e := &types.TransactionCanceledException{}
		for _, c := range codes {
			e.CancellationReasons = append(e.CancellationReasons, types.CancellationReason{Code: aws.String(c)})
		}
		return fmt.Errorf("operation error DynamoDB: TransactWriteItems: %w", e)
	}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"a single write's condition", fmt.Errorf("put: %w", &types.ConditionalCheckFailedException{}), true},
		{"a condition in a transaction", canceled("None", "ConditionalCheckFailed"), true},
		{"an item too large", canceled("ValidationError", "None"), false},
		{"throttled", canceled("ThrottlingError"), false},
		{"another error", errors.New("connection reset"), false},
	}
	for _, tt := range tests {
		if got := conditionFailed(tt.err); got != tt.want {
			t.Errorf("%s: conditionFailed = %v, want %v", tt.name, got, tt.want)
		}
	}
}
