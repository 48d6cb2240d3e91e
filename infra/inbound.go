package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsses"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssesactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/privacy-pipeline/dsr/internal/inbound"
	"github.com/privacy-pipeline/dsr/internal/resources"
	"github.com/privacy-pipeline/dsr/internal/s3mail"
)

// Days mail is kept once nobody needs it: quarantined and discarded mail can
// be looked at again for this long, then it expires.
const expiredMailDays = 30

// newMailStorage defines where mail to the privacy inbox lives: the raw-mail
// bucket under its own key (SES writes into it, and may use no other key),
// the operators' inbox queue and the inbound function's dead-letter queue.
func (p *pipeline) newMailStorage() {
	p.mailKey = awskms.NewKey(p.scope, jsii.String("MailKey"), &awskms.KeyProps{
		Description:       jsii.String("Encrypts the raw mail received at the privacy inbox"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	})
	tagged := func(id, disposition string) *awss3.LifecycleRule {
		return &awss3.LifecycleRule{
			Id:         jsii.String(id),
			Prefix:     jsii.String(resources.InboundMailPrefix),
			TagFilters: &map[string]any{s3mail.DispositionTag: disposition},
			Expiration: awscdk.Duration_Days(jsii.Number(expiredMailDays)),
		}
	}
	// Mail kept for an open request, or waiting for an operator, has no
	// expiry: the closing step deletes the first, an operator decides the
	// second (and the queue's age alarm says when one waits too long).
	p.rawMail = awss3.NewBucket(p.scope, jsii.String("RawMailBucket"), private(p.mailKey, &awss3.BucketProps{
		LifecycleRules: &[]*awss3.LifecycleRule{
			tagged("expire-quarantined-mail", inbound.Quarantined),
			tagged("expire-discarded-mail", inbound.Discarded),
			{Id: jsii.String("abort-incomplete-uploads"), AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(1))},
		},
	}))
	queue := func(id string) awssqs.Queue {
		return awssqs.NewQueue(p.scope, jsii.String(id), &awssqs.QueueProps{
			Encryption:          awssqs.QueueEncryption_KMS,
			EncryptionMasterKey: p.key,
			EnforceSSL:          jsii.Bool(true),
			RetentionPeriod:     awscdk.Duration_Days(jsii.Number(14)), // the most SQS keeps
			RemovalPolicy:       awscdk.RemovalPolicy_RETAIN,
		})
	}
	p.inbox = queue("OperatorInboxQueue")
	p.inboundDLQ = queue("InboundDeadLetterQueue")
	cdknag.NagSuppressions_AddResourceSuppressions(p.inbox, &[]*cdknag.NagPackSuppression{
		{Id: jsii.String("AwsSolutions-SQS3"), Reason: jsii.String(
			"The operators' inbox is read by people, not consumers: every listing receives each message and gives " +
				"it back, so a redrive policy would move waiting mail away after a few listings. Its alarms say " +
				"when mail waits, and when it has waited two days.")},
	}, jsii.Bool(true))
}

// newReceiptRules defines the SES receipt rule set: mail to the privacy
// inbox is scanned for spam and viruses, stored in the raw-mail bucket, and
// then handed to the inbound function, asynchronously (its failures retry
// and end in its dead-letter queue). SES allows one active rule set per
// region: activating it is a deliberate step (see the stack's outputs).
func (p *pipeline) newReceiptRules() {
	fn := p.fn(resources.Inbound)
	ruleSetName := jsii.String(*p.stack.StackName() + "-inbound")
	ruleName := jsii.String("privacy-inbox")
	set := awsses.NewReceiptRuleSet(p.scope, jsii.String("InboundRuleSet"), &awsses.ReceiptRuleSetProps{ReceiptRuleSetName: ruleSetName})
	rule := set.AddRule(jsii.String("PrivacyInbox"), &awsses.ReceiptRuleOptions{
		ReceiptRuleName: ruleName,
		Recipients:      &[]*string{jsii.String(p.props.InboxAddress)},
		ScanEnabled:     jsii.Bool(true),
		TlsPolicy:       awsses.TlsPolicy_OPTIONAL,
		Actions: &[]awsses.IReceiptRuleAction{
			awssesactions.NewS3(&awssesactions.S3Props{Bucket: p.rawMail, ObjectKeyPrefix: jsii.String(resources.InboundMailPrefix)}),
			awssesactions.NewLambda(&awssesactions.LambdaProps{Function: fn, InvocationType: awssesactions.LambdaInvocationType_EVENT}),
		},
	})
	_ = rule
	// SES writes with the bucket's default encryption, so it needs the mail
	// key, and only for this account's rule set.
	p.mailKey.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("ses.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:GenerateDataKey", "kms:Decrypt"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": p.stack.Account()},
			"ArnLike": map[string]any{"aws:SourceArn": p.stack.FormatArn(&awscdk.ArnComponents{
				Service: jsii.String("ses"), Resource: jsii.String("receipt-rule-set"),
				ResourceName: jsii.String(*ruleSetName + ":receipt-rule/*"), ArnFormat: awscdk.ArnFormat_SLASH_RESOURCE_NAME,
			})},
		},
	}), nil)

	awscdk.NewCfnOutput(p.scope, jsii.String("ReceiptRuleSetName"), &awscdk.CfnOutputProps{
		Description: jsii.String("Activate once (one rule set is active per region): aws ses set-active-receipt-rule-set --rule-set-name <this>; publish an MX record for the inbox's domain to inbound-smtp.<region>.amazonaws.com"),
		Value:       ruleSetName,
	})
	awscdk.NewCfnOutput(p.scope, jsii.String("InboundDeadLetterQueueUrl"), &awscdk.CfnOutputProps{
		Description: jsii.String("SES events the inbound function gave up on; send one in again with aws lambda invoke (README)"),
		Value:       p.inboundDLQ.QueueUrl(),
	})
	awscdk.NewCfnOutput(p.scope, jsii.String("InboundFunctionName"), &awscdk.CfnOutputProps{
		Value: fn.FunctionName(),
	})
}

// newMailAlarms pages operators when mail is stuck: an event the inbound
// function gave up on, or mail waiting in the inbox for days while the
// statutory clock runs.
func (p *pipeline) newMailAlarms(action awscloudwatchactions.SnsAction) {
	alarm := func(id, what string, m awscloudwatch.IMetric, threshold float64) {
		awscloudwatch.NewAlarm(p.scope, jsii.String(id), &awscloudwatch.AlarmProps{
			AlarmDescription:   jsii.String(what),
			Metric:             m,
			Threshold:          jsii.Number(threshold),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		}).AddAlarmAction(action)
	}
	maxOver := func(minutes float64) *awscloudwatch.MetricOptions {
		return &awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum"), Period: awscdk.Duration_Minutes(jsii.Number(minutes))}
	}
	alarm("InboundDeadLetters", "Mail the inbound function could not handle waits in its dead-letter queue; its message is in the raw-mail bucket, untagged.",
		p.inboundDLQ.MetricApproximateNumberOfMessagesVisible(maxOver(5)), 1)
	alarm("InboxMailWaiting", "Mail waits for an operator (privacyctl inbox).",
		p.inbox.MetricApproximateNumberOfMessagesVisible(maxOver(60)), 1)
	alarm("InboxMailOld", "Mail has waited two days for an operator; the queue keeps it 14 days (privacyctl inbox).",
		p.inbox.MetricApproximateAgeOfOldestMessage(maxOver(60)), 2*24*3600)
}
