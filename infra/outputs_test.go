package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/resources"
)

// TestOperatorOutputs: the stack outputs every name privacyctl reads (the
// list `privacyctl --stack` maps to environment variables), and the
// console pages an operator starts from.
func TestOperatorOutputs(t *testing.T) {
	_, raw := synth(t)
	outputs, _ := raw["Outputs"].(map[string]any)
	for _, o := range resources.Outputs {
		out, ok := outputs[o.Key].(map[string]any)
		if !ok {
			t.Errorf("no output %s (%s)", o.Key, o.EnvVar)
			continue
		}
		if desc, _ := out["Description"].(string); !strings.Contains(desc, o.EnvVar) {
			t.Errorf("output %s does not say it is %s: %q", o.Key, o.EnvVar, desc)
		}
	}
	for key, want := range map[string]string{
		"DashboardUrl":              "cloudwatch/home",
		"RequestWorkflowConsoleUrl": "#/statemachines/view/",
	} {
		b, _ := json.Marshal(outputs[key])
		if !strings.Contains(string(b), want) || !strings.Contains(string(b), "console.aws.amazon.com") {
			t.Errorf("output %s: %s", key, b)
		}
	}
	for _, a := range resourcesOfType(raw, "AWS::CloudWatch::Alarm") {
		b, _ := json.Marshal(a["AlarmDescription"])
		if strings.Contains(string(b), "workflow") && strings.Contains(string(b), "Execution") && !strings.Contains(string(b), "#/statemachines/view/") {
			t.Errorf("an alarm on executions links no console page: %s", b)
		}
	}
}

// TestTags: every resource that takes tags has the application, its
// component and the class of data it holds; the stores of personal data say
// so.
func TestTags(t *testing.T) {
	_, raw := synth(t)
	tagsOf := func(res map[string]any) (map[string]string, bool) {
		props, _ := res["Properties"].(map[string]any)
		tags := map[string]string{}
		switch v := props["Tags"].(type) {
		case []any: // most resources: [{Key, Value}]
			for _, e := range v {
				kv := e.(map[string]any)
				k, _ := kv["Key"].(string)
				val, _ := kv["Value"].(string)
				tags[k] = val
			}
		case map[string]any: // AWS::ApiGatewayV2::*: {Key: Value}
			for k, val := range v {
				tags[k], _ = val.(string)
			}
		default:
			return nil, false
		}
		return tags, true
	}
	// Types whose every resource must be tagged (a missing Tags property
	// is a failure, not a skip).
	mustTag := map[string]bool{
		"AWS::Lambda::Function": true, "AWS::DynamoDB::Table": true, "AWS::S3::Bucket": true,
		"AWS::SQS::Queue": true, "AWS::SNS::Topic": true, "AWS::StepFunctions::StateMachine": true,
		"AWS::KMS::Key": true, "AWS::Logs::LogGroup": true, "AWS::IAM::Role": true,
		"AWS::ApiGatewayV2::Api": true, "AWS::CloudWatch::Alarm": true,
	}
	seen := map[string]int{}
	for id, r := range raw["Resources"].(map[string]any) {
		res := r.(map[string]any)
		typ, _ := res["Type"].(string)
		tags, ok := tagsOf(res)
		if !ok {
			if mustTag[typ] {
				t.Errorf("%s (%s) has no tags", id, typ)
			}
			continue
		}
		seen[typ]++
		for _, key := range []string{TagApplication, TagComponent, TagDataClassification} {
			if tags[key] == "" {
				t.Errorf("%s (%s) lacks the tag %s: %v", id, typ, key, tags)
			}
		}
		if c := tags[TagDataClassification]; c != ClassPersonal && c != ClassPseudonymous && c != ClassInternal && c != "" {
			t.Errorf("%s: unknown data classification %q", id, c)
		}
		if (strings.HasPrefix(id, "RequestsTable") || strings.HasPrefix(id, "ExportsBucket") || strings.HasPrefix(id, "RawMailBucket")) && typ != "AWS::S3::BucketPolicy" && tags[TagDataClassification] != ClassPersonal {
			t.Errorf("%s holds personal data but is classed %q", id, tags[TagDataClassification])
		}
	}
	for typ := range mustTag {
		if seen[typ] == 0 {
			t.Errorf("no %s tagged: the check would prove nothing", typ)
		}
	}
}
