package console

import "testing"

func TestLinks(t *testing.T) {
	const exec = "arn:aws:states:eu-west-1:111111111111:execution:PrivacyPipeline-request-workflow:dsr-20261123-0123456789abcdef"
	const machine = "arn:aws:states:eu-west-1:111111111111:stateMachine:PrivacyPipeline-request-workflow"
	tests := []struct {
		name, got, want string
	}{
		{"execution", ExecutionURL(exec), "https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/" + exec},
		{"state machine", StateMachineURL(machine), "https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/statemachines/view/" + machine},
		{"china", ExecutionURL("arn:aws-cn:states:cn-north-1:111111111111:execution:m:e"), "https://cn-north-1.console.amazonaws.cn/states/home?region=cn-north-1#/v2/executions/details/arn:aws-cn:states:cn-north-1:111111111111:execution:m:e"},
		{"a machine is no execution", ExecutionURL(machine), ""},
		{"not an ARN", ExecutionURL("dsr-20261123-0123456789abcdef"), ""},
		{"no region", StateMachineURL("arn:aws:states::111111111111:stateMachine:m"), ""},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}
