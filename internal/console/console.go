// Package console makes links into the AWS Management Console for
// operators: the execution of a request, a state machine, a dashboard. The
// links carry ARNs and names only, never personal data.
package console

import (
	"net/url"
	"strings"
)

// host is the console's host for an ARN's partition and region.
func host(partition, region string) string {
	switch partition {
	case "aws-cn":
		return region + ".console.amazonaws.cn"
	case "aws-us-gov":
		return "console.amazonaws-us-gov.com"
	}
	return region + ".console.aws.amazon.com"
}

// arnParts returns the partition and region of an ARN, or false for
// something that is not one.
func arnParts(arn string) (partition, region string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" || parts[1] == "" || parts[3] == "" {
		return "", "", false
	}
	return parts[1], parts[3], true
}

// ExecutionURL is the Step Functions console page of an execution, where an
// operator sees its graph, its history and the Redrive button; "" for
// what is not an execution ARN.
func ExecutionURL(executionARN string) string {
	partition, region, ok := arnParts(executionARN)
	if !ok || !strings.Contains(executionARN, ":execution:") {
		return ""
	}
	return "https://" + host(partition, region) + "/states/home?region=" + url.QueryEscape(region) +
		"#/v2/executions/details/" + executionARN
}

// StateMachineURL is the console page of a state machine: its executions,
// filterable by status.
func StateMachineURL(stateMachineARN string) string {
	partition, region, ok := arnParts(stateMachineARN)
	if !ok || !strings.Contains(stateMachineARN, ":stateMachine:") {
		return ""
	}
	return "https://" + host(partition, region) + "/states/home?region=" + url.QueryEscape(region) +
		"#/statemachines/view/" + stateMachineARN
}
