package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/metrics"
	"github.com/privacy-pipeline/dsr/internal/resources"
)

// TestSweeper: the sweeper runs every five minutes, may start, look up and
// resume executions of the request workflow and nothing else in Step Functions,
// sends no mail and reads no bucket; a request it cannot start pages the
// operators.
func TestSweeper(t *testing.T) {
	_, raw := synth(t)
	ids := map[string]string{} // resource type -> logical id of the sweeper's function
	for id, r := range raw["Resources"].(map[string]any) {
		if r.(map[string]any)["Type"] == "AWS::Lambda::Function" && strings.HasPrefix(id, "SweeperFunction") {
			ids["function"] = id
		}
	}
	fn := ids["function"]
	if fn == "" {
		t.Fatal("no sweeper function")
	}

	t.Run("runs every five minutes", func(t *testing.T) {
		var found bool
		for _, rule := range resourcesOfType(raw, "AWS::Events::Rule") {
			targets, _ := json.Marshal(rule["Targets"])
			if strings.Contains(string(targets), `"`+fn+`"`) {
				found = true
				if rule["ScheduleExpression"] != "rate(5 minutes)" || rule["State"] == "DISABLED" {
					t.Errorf("the sweeper's rule %v", rule)
				}
			}
		}
		if !found {
			t.Fatal("no rule invokes the sweeper")
		}
		var invokable bool
		for _, p := range resourcesOfType(raw, "AWS::Lambda::Permission") {
			b, _ := json.Marshal(p["FunctionName"])
			if strings.Contains(string(b), `"`+fn+`"`) && p["Principal"] == "events.amazonaws.com" {
				invokable = true
			}
		}
		if !invokable {
			t.Error("EventBridge may not invoke the sweeper")
		}
	})

	t.Run("may start, look up and resume request workflows, and nothing more", func(t *testing.T) {
		var starts, describes, resumes int
		for _, policy := range resourcesOfType(raw, "AWS::IAM::Policy") {
			if roleOf(policy) != "SweeperFunction" {
				continue
			}
			for _, st := range policy["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				s := st.(map[string]any)
				var actions []string
				switch a := s["Action"].(type) {
				case string:
					actions = []string{a}
				case []any:
					for _, x := range a {
						actions = append(actions, x.(string))
					}
				}
				res, _ := json.Marshal(s["Resource"])
				for _, a := range actions {
					service := a[:strings.Index(a, ":")]
					switch {
					case a == "states:StartExecution":
						starts++
						if !strings.Contains(string(res), ":stateMachine:") || !strings.Contains(string(res), resources.RequestWorkflow.ID) {
							t.Errorf("may start executions of %s", res)
						}
					case a == "states:SendTaskSuccess":
						resumes++
						if !strings.Contains(string(res), ":stateMachine:") || !strings.Contains(string(res), resources.RequestWorkflow.ID) {
							t.Errorf("may resume executions of %s", res)
						}
					case a == "states:DescribeExecution":
						describes++
						if !strings.Contains(string(res), ":execution:") || !strings.Contains(string(res), resources.RequestWorkflow.ID) {
							t.Errorf("may look up executions of %s", res)
						}
					case service == "dynamodb":
						// A flag is saved with its audit event.
						if !strings.Contains(string(res), "RequestsTable") && (a != "dynamodb:PutItem" || !strings.Contains(string(res), "AuditTable")) {
							t.Errorf("may %s on %s", a, res)
						}
					case service == "kms" || slices.Contains([]string{"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, a):
					default:
						t.Errorf("the sweeper may %s on %s", a, res)
					}
				}
			}
		}
		if starts != 1 || describes != 1 || resumes != 1 {
			t.Errorf("%d statements start executions, %d look them up, %d resume them; want one each", starts, describes, resumes)
		}
	})

	t.Run("a request it cannot start pages the operators", func(t *testing.T) {
		var found bool
		for _, a := range resourcesOfType(raw, "AWS::CloudWatch::Alarm") {
			if a["MetricName"] != metrics.NotStarted {
				continue
			}
			found = true
			actions, _ := a["AlarmActions"].([]any)
			if a["Namespace"] != metrics.Namespace || a["Statistic"] != "Sum" || a["Threshold"] != float64(1) ||
				a["ComparisonOperator"] != "GreaterThanOrEqualToThreshold" || a["Dimensions"] != nil || len(actions) != 1 {
				t.Errorf("alarm %v", a)
			}
		}
		if !found {
			t.Fatal("no alarm on " + metrics.NotStarted)
		}
		board, _ := json.Marshal(resourcesOfType(raw, "AWS::CloudWatch::Dashboard")[0]["DashboardBody"])
		for _, want := range []string{metrics.NotStarted, metrics.StartedLate} {
			if !strings.Contains(string(board), want) {
				t.Errorf("the dashboard does not show %s", want)
			}
		}
	})
}
