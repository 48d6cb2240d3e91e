package main

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/privacy-pipeline/dsr/internal/resources"
)

// newOperatorOutputs outputs every name privacyctl needs (resources.Outputs,
// which `privacyctl --stack NAME` reads) and the console pages operators
// start from.
func (p *pipeline) newOperatorOutputs(api awsapigatewayv2.HttpApi) {
	values := map[string]*string{
		"RequestsTableName":        p.requests.TableName(),
		"AuditTableName":           p.audit.TableName(),
		"ReceiptsTableName":        p.receipts.TableName(),
		"IntakeTableName":          p.intake.TableName(),
		"SuppressionsTableName":    p.suppressions.TableName(),
		"ExportsBucketName":        p.exports.BucketName(),
		"RawMailBucketName":        p.rawMail.BucketName(),
		"ReceiptAnchorsBucketName": p.anchors.BucketName(),
		"OperatorInboxQueueUrl":    p.inbox.QueueUrl(),
		"RequestWorkflowArn":       p.machineARN(resources.RequestWorkflow),
		"DeadlineWatchArn":         p.machineARN(resources.DeadlineWatch),
		"ReceiptKeyArn":            p.receiptKey.KeyArn(),
		"ApiUrl":                   api.ApiEndpoint(),
		"MailFrom":                 jsii.String(p.props.MailFrom),
		"PrivacyInbox":             jsii.String(p.props.InboxAddress),
	}
	for _, o := range resources.Outputs {
		v, ok := values[o.Key]
		if !ok {
			panic(fmt.Sprintf("no value for the stack output %s", o.Key)) // a programming error: the test synthesizes
		}
		awscdk.NewCfnOutput(p.scope, jsii.String(o.Key), &awscdk.CfnOutputProps{
			Description: jsii.String(o.EnvVar + " for privacyctl (privacyctl --stack reads it)"),
			Value:       v,
		})
	}
	awscdk.NewCfnOutput(p.scope, jsii.String("DashboardUrl"), &awscdk.CfnOutputProps{
		Description: jsii.String("The operators' dashboard"),
		Value:       p.dashboardURL(),
	})
	awscdk.NewCfnOutput(p.scope, jsii.String("RequestWorkflowConsoleUrl"), &awscdk.CfnOutputProps{
		Description: jsii.String("The request workflow's executions (one per request, named by its id)"),
		Value:       p.machineConsoleURL(resources.RequestWorkflow),
	})
}

// consoleURL is a page of the console in the stack's region.
func (p *pipeline) consoleURL(path string, rest ...*string) *string {
	region := p.stack.Region()
	parts := []*string{jsii.String("https://"), region, jsii.String(".console.aws.amazon.com/" + path + "?region="), region}
	return awscdk.Fn_Join(jsii.String(""), &[]*string{awscdk.Fn_Join(jsii.String(""), &parts), awscdk.Fn_Join(jsii.String(""), &rest)})
}

// dashboardURL is the console page of the operators' dashboard.
func (p *pipeline) dashboardURL() *string {
	return p.consoleURL("cloudwatch/home", jsii.String("#dashboards:name="), p.dashboardName())
}

// machineConsoleURL is the console page of a state machine, with its
// executions.
func (p *pipeline) machineConsoleURL(sm resources.StateMachine) *string {
	return p.consoleURL("states/home", jsii.String("#/statemachines/view/"), p.machineARN(sm))
}

// dashboardName is the dashboard's physical name.
func (p *pipeline) dashboardName() *string {
	return jsii.String(*p.stack.StackName() + "-requests")
}

// Tag keys on every taggable resource: which application it belongs to,
// which part of it, and the most sensitive data it holds or handles, for
// cost reports, access reviews and data inventories.
const (
	TagApplication        = "application"
	TagComponent          = "component"
	TagDataClassification = "data-classification"
)

// Data classifications: personal data in clear; pseudonymous (request ids,
// keyed hashes, ids that a person can be found by only with other data);
// internal (no data about people).
const (
	ClassPersonal     = "personal"
	ClassPseudonymous = "pseudonymous"
	ClassInternal     = "internal"
)

// newTags tags every resource: the pipeline's defaults first, then each
// resource that differs (the tag nearest a resource wins).
func (p *pipeline) newTags(api awsapigatewayv2.HttpApi) {
	// CloudFormation takes no tags on a dashboard (cfn-lint refuses them).
	notTaggable := &awscdk.TagProps{ExcludeResourceTypes: jsii.Strings("AWS::CloudWatch::Dashboard")}
	tag := func(c constructs.IConstruct, key, value string) {
		awscdk.Tags_Of(c).Add(jsii.String(key), jsii.String(value), notTaggable)
	}
	tag(p.scope, TagApplication, "privacy-pipeline")
	tag(p.scope, TagComponent, "workflow")
	tag(p.scope, TagDataClassification, ClassInternal)

	for _, c := range []constructs.IConstruct{api, p.functions["api"], p.intake} {
		tag(c, TagComponent, "api")
	}
	for _, c := range []constructs.IConstruct{p.functions["inbound"], p.rawMail, p.mailKey, p.inbox, p.inboundDLQ} {
		tag(c, TagComponent, "inbound")
	}
	tag(p.suppressions, TagComponent, "suppression-list")
	for _, c := range []constructs.IConstruct{p.functions["deadline-report"], p.functions["sweeper"]} {
		tag(c, TagComponent, "operations")
	}
	tag(p.anchors, TagComponent, "receipts")

	// Every function reads or writes personal data, and so do the HTTP API
	// (submissions) and the stores of requests, packages and mail; the
	// keys that encrypt them are classed as what they protect.
	personal := []constructs.IConstruct{api, p.requests, p.exports, p.rawMail, p.inbox, p.inboundDLQ, p.key, p.mailKey}
	for _, fn := range p.functions {
		personal = append(personal, fn)
	}
	for _, c := range personal {
		tag(c, TagDataClassification, ClassPersonal)
	}
	// Ids, keyed hashes and counters by hashed subject; executions carry
	// ids only.
	pseudonymous := []constructs.IConstruct{p.audit, p.receipts, p.intake, p.suppressions, p.receiptKey}
	for _, m := range p.machines {
		pseudonymous = append(pseudonymous, m)
	}
	for _, c := range pseudonymous {
		tag(c, TagDataClassification, ClassPseudonymous)
	}
	// A function's role is its child and would take its class; a role
	// holds no data.
	for _, fn := range p.functions {
		tag(fn.Role(), TagDataClassification, ClassInternal)
	}
}
