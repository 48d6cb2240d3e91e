package cfnstack

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/smithy-go"

	"github.com/privacy-pipeline/dsr/internal/resources"
)

type fakeStacks struct {
	outputs map[string]string
	err     error
	asked   string
}

func (f *fakeStacks) DescribeStacks(_ context.Context, in *cloudformation.DescribeStacksInput, _ ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error) {
	f.asked = aws.ToString(in.StackName)
	if f.err != nil {
		return nil, f.err
	}
	var outs []types.Output
	for k, v := range f.outputs {
		outs = append(outs, types.Output{OutputKey: aws.String(k), OutputValue: aws.String(v)})
	}
	return &cloudformation.DescribeStacksOutput{Stacks: []types.Stack{{Outputs: outs}}}, nil
}

// TestEnv: reads the stack's outputs into the variables the
// functions read; a variable already set wins; a missing stack, or one
// that is not the pipeline's, says so.
func TestEnv(t *testing.T) {
	ctx := context.Background()
	api := &fakeStacks{outputs: map[string]string{"RequestsTableName": "Prod-RequestsTable-1", "ApiUrl": "https://api.example.com", "Unrelated": "x"}}
	env := map[string]string{resources.Audit.EnvVar: "from-the-environment"}
	getenv, err := Env(ctx, api, "Prod", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if api.asked != "Prod" {
		t.Fatalf("asked for %q", api.asked)
	}
	for k, want := range map[string]string{
		resources.Requests.EnvVar: "Prod-RequestsTable-1",
		"PUBLIC_BASE_URL":         "https://api.example.com",
		resources.Audit.EnvVar:    "from-the-environment",
		"Unrelated":               "",
	} {
		if got := getenv(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}

	missing := &fakeStacks{err: &smithy.GenericAPIError{Code: "ValidationError", Message: "Stack with id Nope does not exist"}}
	if _, err := Env(ctx, missing, "Nope", func(string) string { return "" }); !errors.Is(err, ErrNoStack) {
		t.Fatalf("missing stack: %v", err)
	}
	other := &fakeStacks{outputs: map[string]string{"BucketName": "b"}}
	if _, err := Env(ctx, other, "Other", func(string) string { return "" }); !errors.Is(err, ErrNotPipeline) {
		t.Fatalf("another stack: %v", err)
	}
}
