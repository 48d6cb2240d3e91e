package main

import (
	"cmp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/privacy-pipeline/dsr/internal/resources"
)

// StackProps configure the pipeline stack. The inbox address, the allowed
// origins and the API's throttling become the stack's parameters, with
// these values as their defaults, so they can change at deploy time.
type StackProps struct {
	awscdk.StackProps
	PipelineProps
}

// NewPipelineStack deploys the pipeline as a stack of its own. The pipeline
// is its "Default" child, which CDK leaves out of logical ids: the stack's
// resources keep the ids they had before the pipeline became a construct.
func NewPipelineStack(scope constructs.Construct, id string, props StackProps) (awscdk.Stack, error) {
	stack := awscdk.NewStack(scope, &id, &props.StackProps)
	pp := props.PipelineProps
	var origins []string
	for _, o := range pp.AllowedOrigins {
		origins = append(origins, *o)
	}
	inbox := awscdk.NewCfnParameter(stack, jsii.String("PrivacyInboxAddress"), &awscdk.CfnParameterProps{
		Type:           jsii.String("String"),
		Default:        cmp.Or(pp.InboxAddress, pp.MailFrom),
		AllowedPattern: jsii.String(`^[^@\s]+@[^@\s]+\.[^@\s]+$`),
		Description:    jsii.String("The privacy inbox: mail to it becomes requests. Its domain needs an MX record to SES inbound and a verified SES identity."),
	})
	allowed := awscdk.NewCfnParameter(stack, jsii.String("AllowedOrigins"), &awscdk.CfnParameterProps{
		Type:        jsii.String("CommaDelimitedList"),
		Default:     strings.Join(origins, ","),
		Description: jsii.String("Origins whose pages may call the API from browsers (CORS), comma-separated, e.g. https://www.yourco.com; empty: none"),
	})
	rate := awscdk.NewCfnParameter(stack, jsii.String("ThrottleRateLimit"), &awscdk.CfnParameterProps{
		Type: jsii.String("Number"), Default: pp.ThrottleRate, MinValue: jsii.Number(1),
		Description: jsii.String("Steady requests per second the HTTP API accepts"),
	})
	burst := awscdk.NewCfnParameter(stack, jsii.String("ThrottleBurstLimit"), &awscdk.CfnParameterProps{
		Type: jsii.String("Number"), Default: pp.ThrottleBurst, MinValue: jsii.Number(1),
		Description: jsii.String("Requests the HTTP API accepts in a burst"),
	})
	retention := awscdk.NewCfnParameter(stack, jsii.String("PermissionRetentionDays"), &awscdk.CfnParameterProps{
		Type: jsii.String("Number"), Default: pp.PermissionRetentionDays, MinValue: jsii.Number(0), MaxValue: jsii.Number(resources.MaxPermissionRetentionDays),
		Description: jsii.String("Days an agent's signed permission is kept after its request closes; 0 deletes it at the close"),
	})
	// For emulators (LocalStack): in AWS they stay at their defaults.
	timeScale := awscdk.NewCfnParameter(stack, jsii.String("TimeScale"), &awscdk.CfnParameterProps{
		Type: jsii.String("Number"), Default: 1, MinValue: jsii.Number(1),
		Description: jsii.String("Divides every workflow wait (86400: a statutory day per second) while requests keep their true dates; 1 in production"),
	})
	endpoint := awscdk.NewCfnParameter(stack, jsii.String("AwsEndpointUrl"), &awscdk.CfnParameterProps{
		Type: jsii.String("String"), Default: "",
		Description: jsii.String("Emulators only: the AWS endpoint the functions call (e.g. LocalStack's); empty in AWS"),
	})
	pathStyle := awscdk.NewCfnParameter(stack, jsii.String("S3ForcePathStyle"), &awscdk.CfnParameterProps{
		Type: jsii.String("String"), Default: "false", AllowedValues: jsii.Strings("true", "false"),
		Description: jsii.String("Emulators only: address S3 buckets by path (true for LocalStack); false in AWS"),
	})
	pp.TimeScale = *timeScale.ValueAsString()
	pp.EndpointURL = *endpoint.ValueAsString()
	pp.S3PathStyle = *pathStyle.ValueAsString()
	pp.InboxAddress = *inbox.ValueAsString()
	pp.PermissionRetentionDays = *retention.ValueAsNumber()
	pp.AllowedOrigins = *allowed.ValueAsList()
	pp.ThrottleRate = *rate.ValueAsNumber()
	pp.ThrottleBurst = *burst.ValueAsNumber()
	if _, err := NewPrivacyPipeline(stack, "Default", pp); err != nil {
		return nil, err
	}
	return stack, nil
}
