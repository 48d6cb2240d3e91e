// Command infra is the CDK app that deploys the pipeline. It synthesizes
// offline: `make synth` writes the CloudFormation template to cdk.out/.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(&awscdk.AppProps{Context: &samMetadata})
	// The functions' folders: make build's, or the host's build of make
	// smoke-binaries, which only reads the template's environment.
	assetDir := contextOr(app, "assetDir", filepath.Join("..", "build"))
	props := StackProps{PipelineProps: PipelineProps{
		MailFrom:       contextOr(app, "mailFrom", "privacy@example.com"),
		OperatorEmail:  contextOr(app, "operatorEmail", ""),
		InboxAddress:   contextOr(app, "inboxAddress", ""),
		AllowedOrigins: splitList(contextOr(app, "allowedOrigins", "")),
		RegistryFile:   contextOr(app, "registryFile", filepath.Join("..", "internal", "devstack", "demo-sources.yaml")),
		PolicyFile:     contextOr(app, "policyFile", ""),
		AssetDir:       func(fn string) string { return filepath.Join(assetDir, fn) },
		ThrottleRate:   50,
		ThrottleBurst:  100,
	}}
	// Without an account and region (offline synth) the stack is
	// environment-agnostic; `cdk deploy` supplies both.
	if account, region := os.Getenv("CDK_DEFAULT_ACCOUNT"), os.Getenv("CDK_DEFAULT_REGION"); account != "" && region != "" {
		props.Env = &awscdk.Environment{Account: &account, Region: &region}
	}
	if _, err := NewPipelineStack(app, "PrivacyPipeline", props); err != nil {
		fmt.Fprintln(os.Stderr, "infra:", err)
		os.Exit(1)
	}
	// The AwsSolutions rules run at every synth; findings are errors unless
	// suppressed with a reason in the stack.
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(nil), nil)
	app.Synth(nil)
}

// samMetadata makes every resource carry its construct path
// (aws:cdk:path) and every asset its directory in cdk.out (aws:asset:path),
// as the CDK CLI does by default: `sam local invoke` finds a function by
// the one and its code by the other. Without them SAM sees code in an S3
// bucket it cannot reach.
var samMetadata = map[string]any{
	"aws:cdk:enable-path-metadata":  true,
	"aws:cdk:enable-asset-metadata": true,
}

func contextOr(app awscdk.App, key, def string) string {
	if v, ok := app.Node().TryGetContext(jsii.String(key)).(string); ok && v != "" {
		return v
	}
	return def
}

// splitList reads a comma-separated context value.
func splitList(s string) []*string {
	var out []*string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, jsii.String(v))
		}
	}
	return out
}
