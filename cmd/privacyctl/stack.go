package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/smithy-go"

	"github.com/privacy-pipeline/dsr/internal/resources"
)

// stacksAPI is the part of the CloudFormation client --stack uses.
type stacksAPI interface {
	DescribeStacks(context.Context, *cloudformation.DescribeStacksInput, ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
}

// stackEnv returns a getenv that answers the environment variables the
// stack outputs (resources.Outputs) from the named stack's outputs, and
// every other from getenv. A variable set in the environment is not
// overridden: it is what the operator asked for.
func stackEnv(ctx context.Context, api stacksAPI, name string, getenv func(string) string) (func(string) string, error) {
	out, err := api.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorCode() == "ValidationError" {
			return nil, fmt.Errorf("%w: no stack %q in this account and region (AWS_REGION, AWS_PROFILE)", errUsage, name)
		}
		return nil, fmt.Errorf("reading the outputs of stack %s: %w", name, err)
	}
	if len(out.Stacks) == 0 {
		return nil, fmt.Errorf("%w: no stack %q in this account and region", errUsage, name)
	}
	byKey := map[string]string{}
	for _, o := range out.Stacks[0].Outputs {
		byKey[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	values := map[string]string{}
	var missing []string
	for _, o := range resources.Outputs {
		v, ok := byKey[o.Key]
		if !ok {
			missing = append(missing, o.Key)
			continue
		}
		values[o.EnvVar] = v
	}
	if len(missing) == len(resources.Outputs) {
		return nil, fmt.Errorf("%w: stack %q outputs none of the pipeline's names (%s, ...): is it the pipeline's stack?", errUsage, name, resources.Outputs[0].Key)
	}
	return func(k string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return values[k]
	}, nil
}
