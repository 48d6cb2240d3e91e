// Package cfnstack reads the pipeline's names from a deployed stack's
// CloudFormation outputs (resources.Outputs), for operators (privacyctl
// --stack) and for the end-to-end tests against a deployed stack.
package cfnstack

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/smithy-go"

	"github.com/privacy-pipeline/dsr/internal/resources"
)

// API is the part of the CloudFormation client this package uses.
type API interface {
	DescribeStacks(context.Context, *cloudformation.DescribeStacksInput, ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
}

var (
	// ErrNoStack: no stack of that name in the account and region.
	ErrNoStack = errors.New("no such stack in this account and region")
	// ErrNotPipeline: the stack outputs none of the pipeline's names.
	ErrNotPipeline = errors.New("the stack outputs none of the pipeline's names")
)

// Env returns a getenv that answers the environment variables the stack
// outputs from the named stack's outputs, and every other from getenv. A
// variable set by getenv is not overridden: it is what the caller asked
// for.
func Env(ctx context.Context, api API, name string, getenv func(string) string) (func(string) string, error) {
	out, err := api.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorCode() == "ValidationError" {
			return nil, fmt.Errorf("%s: %w", name, ErrNoStack)
		}
		return nil, fmt.Errorf("reading the outputs of stack %s: %w", name, err)
	}
	if len(out.Stacks) == 0 {
		return nil, fmt.Errorf("%s: %w", name, ErrNoStack)
	}
	byKey := map[string]string{}
	for _, o := range out.Stacks[0].Outputs {
		byKey[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	values := map[string]string{}
	for _, o := range resources.Outputs {
		if v, ok := byKey[o.Key]; ok {
			values[o.EnvVar] = v
		}
	}
	if len(values) == 0 {
		return nil, fmt.Errorf("%s (%s, ...): %w", name, resources.Outputs[0].Key, ErrNotPipeline)
	}
	return func(k string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return values[k]
	}, nil
}
