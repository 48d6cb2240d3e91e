package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/privacy-pipeline/dsr/internal/resources"
)

// TestPipelineEmbedsInAnotherStack: an application puts the pipeline
// construct into a stack of its own, with plain values where the
// standalone stack has parameters; it is complete there, passes the
// AwsSolutions rules, and leaves the host's other resources alone.
func TestPipelineEmbedsInAnotherStack(t *testing.T) {
	synth(t) // makes the stand-in function binaries
	out, err := os.MkdirTemp("", "infra-embed-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(out)
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(out)})
	host := awscdk.NewStack(app, jsii.String("CompanyApp"), &awscdk.StackProps{Env: testEnv})
	awscdk.NewCfnResource(host, jsii.String("CompanyTopic"), &awscdk.CfnResourceProps{Type: jsii.String("AWS::SNS::Topic"),
		Properties: &map[string]any{"KmsMasterKeyId": "alias/aws/sns"}})
	props := testPipelineProps(synthAssets)
	props.InboxAddress = "dsr@example.com"
	// The company's policy goes with it: checked here, named to every
	// function, which finds it beside the registry.
	props.PolicyFile = "../internal/policy/examples/norway.yaml"
	props.AllowedOrigins = []*string{jsii.String("https://www.example.com")}
	p, err := NewPrivacyPipeline(host, "Privacy", props)
	if err != nil {
		t.Fatal(err)
	}
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(nil), nil)
	tpl := assertions.Template_FromStack(host, nil)
	raw := *tpl.ToJSON()

	if p.API == nil || len(p.Functions) != len(resources.Functions) {
		t.Fatalf("construct exposes api %v, %d functions", p.API, len(p.Functions))
	}
	tpl.ResourceCountIs(jsii.String("AWS::StepFunctions::StateMachine"), jsii.Number(float64(len(resources.StateMachines))))
	tpl.ResourceCountIs(jsii.String("AWS::SES::ReceiptRuleSet"), jsii.Number(1))
	tpl.ResourceCountIs(jsii.String("AWS::SNS::Topic"), jsii.Number(2))   // the company's and the operators'
	if params, _ := raw["Parameters"].(map[string]any); len(params) > 1 { // CDK's bootstrap version only
		t.Errorf("the construct made parameters: %v", params)
	}
	tpl.HasResourceProperties(jsii.String("AWS::SES::ReceiptRule"), map[string]any{
		"Rule": assertions.Match_ObjectLike(&map[string]any{"Recipients": []any{"dsr@example.com"}}),
	})
	tpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Stage"), map[string]any{
		"DefaultRouteSettings": map[string]any{"ThrottlingRateLimit": 50, "ThrottlingBurstLimit": 100},
	})
	api := propsOf(raw, logicalID(t, raw, "AWS::ApiGatewayV2::Api", "PrivacyHttpApi"))
	if cors, _ := json.Marshal(api["CorsConfiguration"]); !strings.Contains(string(cors), `"AllowOrigins":["https://www.example.com"]`) {
		t.Errorf("CORS %s", cors)
	}
	errs := assertions.Annotations_FromStack(host).FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
	for _, e := range *errs {
		b, _ := json.Marshal(e)
		t.Errorf("%.400s", b)
	}
}

// TestPolicyIsCheckedAtSynth: a policy with a mistake stops the synth,
// naming the line; every function is told where the policy is.
func TestPolicyIsCheckedAtSynth(t *testing.T) {
	synth(t)
	bad, err := os.CreateTemp(t.TempDir(), "policy-*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.WriteString("response_days: 200\n"); err != nil {
		t.Fatal(err)
	}
	bad.Close()
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	host := awscdk.NewStack(app, jsii.String("CompanyApp"), &awscdk.StackProps{Env: testEnv})
	props := testPipelineProps(synthAssets)
	props.PolicyFile = bad.Name()
	if _, err := NewPrivacyPipeline(host, "Privacy", props); err == nil || !strings.Contains(err.Error(), "line 1: $.response_days") {
		t.Fatalf("err = %v", err)
	}
	props.PolicyFile = "../internal/policy/examples/california.yaml"
	if _, err := NewPrivacyPipeline(host, "Privacy2", props); err != nil {
		t.Fatal(err)
	}
	raw := *assertions.Template_FromStack(host, nil).ToJSON()
	functions := 0
	for _, r := range raw["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] != "AWS::Lambda::Function" {
			continue
		}
		env, _ := json.Marshal(res["Properties"].(map[string]any)["Environment"])
		if strings.Contains(string(env), `"REGISTRY_FILE"`) {
			functions++
			if !strings.Contains(string(env), `"POLICY_FILE":"policy.yaml"`) {
				t.Errorf("a function is not told of the policy: %s", env)
			}
		}
	}
	if functions != len(resources.Functions) {
		t.Errorf("%d functions, want %d", functions, len(resources.Functions))
	}
}
