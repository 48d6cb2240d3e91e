package main

import (
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"

	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/resources"
	"github.com/privacy-pipeline/dsr/internal/webhook"
)

// lambdas are the pipeline's functions as the stack deploys them: each with
// what it may do beyond its tables (resources.Function.Tables, granted to
// every function alike by grantTables) and what it is told besides the
// names of those tables. A function not in this list is not deployed
// (TestEveryFunctionDeclaresItsGrants).
var lambdas = []struct {
	resources.Function
	grant func(p *pipeline, fn awslambda.Function)
}{
	{resources.API, (*pipeline).grantAPI},
	{resources.Acknowledge, (*pipeline).grantAcknowledge},
	{resources.StartVerification, (*pipeline).sendsMail},
	{resources.ResolveIdentities, (*pipeline).grantResolveIdentities},
	{resources.CollectSource, (*pipeline).grantCollectSource},
	{resources.FinishLargeSource, (*pipeline).grantFinishLargeSource},
	{resources.BuildPackage, (*pipeline).grantBuildPackage},
	{resources.EraseSource, (*pipeline).grantEraseSource},
	{resources.AwaitHold, (*pipeline).grantAwaitHold},
	{resources.WriteReceipt, (*pipeline).grantWriteReceipt},
	{resources.AwaitFindings, (*pipeline).sendsMail},
	{resources.AwaitManualTasks, (*pipeline).grantAwaitManualTasks},
	{resources.AwaitReview, (*pipeline).sendsMail},
	{resources.RecordSuppression, func(*pipeline, awslambda.Function) {}}, // its tables alone
	{resources.ApplyCorrections, (*pipeline).grantApplyCorrections},
	{resources.TellRecipients, (*pipeline).grantTellRecipients},
	{resources.CloseRequest, (*pipeline).grantCloseRequest},
	{resources.CheckDeadline, (*pipeline).tellsOwners},
	{resources.CheckSiblings, func(*pipeline, awslambda.Function) {}},  // its table alone
	{resources.DeadlineReport, func(*pipeline, awslambda.Function) {}}, // its table alone
	{resources.Sweeper, (*pipeline).grantSweeper},
	{resources.Inbound, (*pipeline).grantInbound},
}

// fn is the deployed function f.
func (p *pipeline) fn(f resources.Function) awslambda.Function { return p.functions[f.Name] }

// grantFunctions gives each function what it needs and no more.
func (p *pipeline) grantFunctions() {
	p.grantTables()
	for _, l := range lambdas {
		l.grant(p, p.fn(l.Function))
	}
}

// allow lets fn do actions on resources.
func allow(fn awslambda.Function, actions []string, arns ...*string) {
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: jsii.Strings(actions...), Resources: &arns,
	}))
}

// grantAPI: the API serves data subjects and their agents. It makes
// requests and starts their workflows, resumes or fails the verification
// wait, hands out download links (presigned: it reads the packages), stores
// agents' signed permissions (a new upload deletes one stored under an
// older key, or one stored while its request closed), tells a subject when
// wrong attempts lock their request, and reads the account source, and only
// it, to check the details a requester gives where the law asks for more
// than an email address.
func (p *pipeline) grantAPI(fn awslambda.Function) {
	allow(fn, []string{"states:StartExecution", "states:SendTaskSuccess", "states:SendTaskFailure"}, p.machineARN(resources.RequestWorkflow))
	p.exports.GrantRead(fn, jsii.String(resources.PackagesPrefix+"*"))
	// Agents upload signed permissions, and owners of manual sources their
	// exports, each in one PutObject: CDK's GrantPut would add retention,
	// legal hold, tagging and multipart actions the API never takes (the
	// bucket's key is the stack's, which every function may use).
	allow(fn, []string{"s3:PutObject"}, p.permissionObjects(), p.exports.ArnForObjects(jsii.String(resources.ManualExportsPrefix+"*")))
	allow(fn, []string{"s3:DeleteObject"}, p.permissionObjects())
	p.sendsMail(fn)
	if acc := p.reg.Account(); acc != nil {
		allow(fn, lookupActions(acc.DynamoDB), *jsii.Strings(p.lookupResources(acc.DynamoDB)...)...)
	}
	// Webhook sources that answer later call back through the API, signed;
	// one that answers it could not hands its task to the owner.
	p.readsSecrets(fn, p.reg.SourceSecrets())
	p.publishesToOwners(fn)
}

// grantAwaitManualTasks: making the tasks of manual sources tells their
// owners; a webhook source's task is first put to its endpoint, with a call
// signed by its secret.
func (p *pipeline) grantAwaitManualTasks(fn awslambda.Function) {
	p.tellsOwners(fn)
	p.readsSecrets(fn, p.reg.SourceSecrets())
}

// grantTellRecipients: recipients are told by mail, or through their
// webhooks with calls signed by their secrets, and only those.
func (p *pipeline) grantTellRecipients(fn awslambda.Function) {
	p.sendsMail(fn)
	p.readsSecrets(fn, p.reg.NotifiedSecrets())
}

// readsSecrets lets fn read the webhook secrets refs name, and only those:
// an SSM parameter (a SecureString under the account's aws/ssm key, which
// SSM decrypts for whoever may read the parameter) or a Secrets Manager
// secret (its ARN ends in a suffix Secrets Manager adds to the name).
func (p *pipeline) readsSecrets(fn awslambda.Function, refs []string) {
	var params, secrets []string
	stack := awscdk.Stack_Of(p.stack)
	for _, ref := range refs {
		switch {
		case strings.HasPrefix(ref, webhook.SSMPrefix):
			name := strings.TrimPrefix(strings.TrimPrefix(ref, webhook.SSMPrefix), "/")
			params = append(params, *stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("ssm"), Resource: jsii.String("parameter"), ResourceName: jsii.String(name)}))
		case strings.HasPrefix(ref, webhook.SecretsManagerPrefix):
			name := strings.TrimPrefix(ref, webhook.SecretsManagerPrefix)
			if !strings.HasPrefix(name, "arn:") {
				name = *stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("secretsmanager"), Resource: jsii.String("secret"), ResourceName: jsii.String(name + "-??????"), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME})
			}
			secrets = append(secrets, name)
		}
	}
	if len(params) > 0 {
		allow(fn, []string{"ssm:GetParameter"}, *jsii.Strings(params...)...)
	}
	if len(secrets) > 0 {
		allow(fn, []string{"secretsmanager:GetSecretValue"}, *jsii.Strings(secrets...)...)
	}
}

// tellsOwners: the owners of manual sources are told of their tasks by
// mail, or through the SNS topics the registry names, and only those.
func (p *pipeline) tellsOwners(fn awslambda.Function) {
	p.sendsMail(fn)
	p.publishesToOwners(fn)
}

// publishesToOwners lets fn publish to the SNS topics the registry names
// as owners, and only those.
func (p *pipeline) publishesToOwners(fn awslambda.Function) {
	var topics []string
	for _, src := range p.reg.Sources {
		if src.Manual != nil && src.Manual.OwnerTopic() && !slices.Contains(topics, src.Manual.Owner) {
			topics = append(topics, src.Manual.Owner)
		}
	}
	if len(topics) > 0 {
		allow(fn, []string{"sns:Publish"}, *jsii.Strings(topics...)...)
	}
}

// grantAcknowledge: acknowledging mails the subject, starts the deadline
// watch, and, joining a request to an open one, closes it.
func (p *pipeline) grantAcknowledge(fn awslambda.Function) {
	allow(fn, []string{"states:StartExecution"}, p.machineARN(resources.DeadlineWatch))
	p.sendsMail(fn)
	p.closesRequests(fn)
}

// grantResolveIdentities: resolving reads the sources for the subject's
// identities, and starts a collection or an erasure afresh: it lists and
// removes what an earlier run (before a redrive) left of the large sources'
// work.
func (p *pipeline) grantResolveIdentities(fn awslambda.Function) {
	p.grantSources(fn, false)
	p.exports.GrantRead(fn, jsii.String(resources.WorkPrefix+"*"))
	p.exports.GrantDelete(fn, jsii.String(resources.WorkPrefix+"*"))
}

// grantCollectSource: collecting reads the sources and keeps what it found
// in work files.
func (p *pipeline) grantCollectSource(fn awslambda.Function) {
	p.exports.GrantReadWrite(fn, jsii.String(resources.WorkPrefix+"*"))
	p.grantSources(fn, false)
}

// grantFinishLargeSource: finishing a large source adds up its objects'
// work files, removes them, and hashes the keys erasure touched.
func (p *pipeline) grantFinishLargeSource(fn awslambda.Function) {
	p.exports.GrantReadWrite(fn, jsii.String(resources.WorkPrefix+"*"))
	p.exports.GrantDelete(fn, jsii.String(resources.WorkPrefix+"*"))
	p.hashesReceiptKeys(fn)
}

// grantBuildPackage: the package is built from the work files, which it
// removes, into the packages.
func (p *pipeline) grantBuildPackage(fn awslambda.Function) {
	p.exports.GrantReadWrite(fn, jsii.String(resources.WorkPrefix+"*"))
	p.exports.GrantDelete(fn, jsii.String(resources.WorkPrefix+"*"))
	p.exports.GrantPut(fn, jsii.String(resources.PackagesPrefix+"*"))
	// The exports owners of manual sources uploaded go into the package.
	p.exports.GrantRead(fn, jsii.String(resources.ManualExportsPrefix+"*"))
	p.exports.GrantDelete(fn, jsii.String(resources.ManualExportsPrefix+"*"))
}

// grantEraseSource: erasing changes the sources as their erasure modes say,
// hashes the keys it touched, and, per object, keeps what it did in a work
// file until the source is finished.
func (p *pipeline) grantEraseSource(fn awslambda.Function) {
	p.hashesReceiptKeys(fn)
	p.exports.GrantPut(fn, jsii.String(resources.WorkPrefix+"*"))
	p.grantSources(fn, true)
}

// grantAwaitHold: waiting on a legal hold clears the marks of large
// sources held back, which are worked again after the wait.
func (p *pipeline) grantAwaitHold(fn awslambda.Function) {
	p.exports.GrantDelete(fn, jsii.String(resources.WorkPrefix+"*"))
}

// grantWriteReceipt: the receipt task adds anchors and may do nothing else
// there. Only PutObject: CDK's GrantPut would add retention and legal hold
// changes, which a compliance lock makes harmless but are not needed. The
// stack key (bucket encryption) is the one its tables use, which every
// function may already use.
func (p *pipeline) grantWriteReceipt(fn awslambda.Function) {
	// The receipt hashes the keys of its findings and the notes of the
	// owners' attestations.
	p.hashesReceiptKeys(fn)
	fn.AddEnvironment(jsii.String(resources.ReceiptAnchors.EnvVar), p.anchors.BucketName(), nil)
	allow(fn, []string{"s3:PutObject"}, p.anchors.ArnForObjects(jsii.String(resources.AnchorsPrefix+"*")))
}

// grantApplyCorrections: corrections reach the profile source alone, found
// and updated item by item.
func (p *pipeline) grantApplyCorrections(fn awslambda.Function) {
	if profile := p.reg.Account(); profile != nil && len(profile.Correctable) > 0 {
		actions := append(lookupActions(profile.DynamoDB), "dynamodb:GetItem", "dynamodb:UpdateItem")
		allow(fn, slices.Compact(slices.Sorted(slices.Values(actions))), *jsii.Strings(p.lookupResources(profile.DynamoDB)...)...)
	}
}

// grantCloseRequest: closing ends the wait its deadline watch is in (a task
// token: the watch then ends SUCCEEDED, where stopping it would leave it
// ABORTED), starts the request a granted appeal makes, tells the
// subject, and deletes the request's raw mail and agent's permission.
func (p *pipeline) grantCloseRequest(fn awslambda.Function) {
	allow(fn, []string{"states:SendTaskFailure"}, p.machineARN(resources.DeadlineWatch))
	allow(fn, []string{"states:StartExecution"}, p.machineARN(resources.RequestWorkflow))
	p.sendsMail(fn)
	p.closesRequests(fn)
	fn.AddEnvironment(jsii.String(resources.RawMail.EnvVar), p.rawMail.BucketName(), nil)
	allow(fn, []string{"s3:DeleteObject"}, p.inboundMail())
}

// grantSweeper: the sweeper looks up a stored request's execution by name
// and starts it when it is missing, and resumes the workflow of a confirmed request
// that was never told; nothing else.
func (p *pipeline) grantSweeper(fn awslambda.Function) {
	allow(fn, []string{"states:StartExecution"}, p.machineARN(resources.RequestWorkflow))
	allow(fn, []string{"states:DescribeExecution"}, p.executionsARN(resources.RequestWorkflow))
	allow(fn, []string{"states:SendTaskSuccess"}, p.machineARN(resources.RequestWorkflow))
}

// grantInbound: the inbound function turns mail into requests, as the API
// does (and starts their workflows), or into items of the operators'
// inbox; it reads and tags the raw mail.
func (p *pipeline) grantInbound(fn awslambda.Function) {
	allow(fn, []string{"s3:GetObject", "s3:GetObjectTagging", "s3:PutObjectTagging"}, p.inboundMail())
	p.mailKey.GrantDecrypt(fn)
	p.inbox.GrantSendMessages(fn)
	allow(fn, []string{"states:StartExecution"}, p.machineARN(resources.RequestWorkflow))
	for name, value := range map[string]*string{
		resources.RawMail.EnvVar:       p.rawMail.BucketName(),
		resources.OperatorInbox.EnvVar: p.inbox.QueueUrl(),
		"PRIVACY_INBOX":                jsii.String(p.props.InboxAddress),
		"INBOUND_JURISDICTION":         jsii.String(p.props.InboundJurisdiction),
	} {
		fn.AddEnvironment(jsii.String(name), value, nil)
	}
}

// sendsMail lets fn mail subjects and operators from the sender's identity.
func (p *pipeline) sendsMail(fn awslambda.Function) {
	allow(fn, []string{"ses:SendEmail", "ses:SendRawEmail"}, *jsii.Strings(p.sesIdentityARNs()...)...)
}

// hashesReceiptKeys lets fn derive the secret that hashes the keys erasure
// receipts list: the erasing functions (a large source's outcome is added
// up, and its keys hashed, when the source is finished) and the receipt.
func (p *pipeline) hashesReceiptKeys(fn awslambda.Function) {
	fn.AddEnvironment(jsii.String(resources.ReceiptKey.EnvVar), p.receiptKey.KeyArn(), nil)
	p.receiptKey.Grant(fn, jsii.String("kms:GenerateMac"))
}

// closesRequests lets fn forget the signed permission of a request it
// closes: delete it or, only when closed ones are kept for a while
// (keepClosedPermissions), tag it and write it anew for the lifecycle rule
// (a copy onto itself: read, put, tag).
func (p *pipeline) closesRequests(fn awslambda.Function) {
	allow(fn, []string{"s3:DeleteObject"}, p.permissionObjects())
	fn.AddEnvironment(jsii.String(resources.PermissionRetentionEnvVar), p.permissionRetention(), nil)
	p.keepClosedPermissions().AttachToRole(fn.Role())
}

// keepClosedPermissions is the policy, in force only when the retention is
// not zero, that lets the functions that close requests keep their
// permissions for the lifecycle rule.
func (p *pipeline) keepClosedPermissions() awsiam.Policy {
	if p.keepPolicy == nil {
		p.keepPolicy = awsiam.NewPolicy(p.scope, jsii.String("KeepClosedPermissionsPolicy"), &awsiam.PolicyProps{
			Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions: jsii.Strings("s3:GetObject", "s3:PutObject", "s3:PutObjectTagging"), Resources: &[]*string{p.permissionObjects()},
			})},
		})
		p.keepPolicy.Node().DefaultChild().(awsiam.CfnPolicy).CfnOptions().SetCondition(p.keepsPermissions)
	}
	return p.keepPolicy
}

// permissionObjects are the agents' signed permissions in the exports bucket.
func (p *pipeline) permissionObjects() *string {
	return p.exports.ArnForObjects(jsii.String(resources.PermissionsPrefix + "*"))
}

// inboundMail are the messages in the raw-mail bucket.
func (p *pipeline) inboundMail() *string {
	return jsii.String(*p.rawMail.BucketArn() + "/" + resources.InboundMailPrefix + "*")
}

// grantTables gives each function exactly what resources.Functions says it
// may do in each of the pipeline's tables, and tells it the names of those
// tables only.
func (p *pipeline) grantTables() {
	tables := map[string]awsdynamodb.Table{
		resources.Requests.ID: p.requests, resources.Audit.ID: p.audit, resources.Receipts.ID: p.receipts,
		resources.Intake.ID: p.intake, resources.Suppressions.ID: p.suppressions,
	}
	for _, f := range resources.Functions {
		fn := p.fn(f)
		for _, access := range f.Tables {
			table := tables[access.Table.ID]
			arns := []*string{table.TableArn()}
			// Only a query reaches an index (CDK's Table.Grant would
			// add them to every action).
			if slices.Contains(access.Actions, resources.Query) && len(access.Table.Indexes) > 0 {
				arns = append(arns, jsii.String(*table.TableArn()+"/index/*"))
			}
			allow(fn, access.Actions, arns...)
			fn.AddEnvironment(jsii.String(access.Table.EnvVar), table.TableName(), nil)
		}
		if len(f.Tables) > 0 {
			// The tables are encrypted with the stack's key: what CDK's
			// read and write grants give on it.
			p.key.Grant(fn, *jsii.Strings("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*")...)
		}
	}
}

// lookupActions are what finding the subject in a table takes: a Query or
// a GetItem, and DescribeTable for the key schema.
func lookupActions(d *registry.DynamoDBSource) []string {
	if d.GetItem() {
		return []string{"dynamodb:DescribeTable", "dynamodb:GetItem"}
	}
	return []string{"dynamodb:DescribeTable", "dynamodb:Query"}
}

// lookupResources are the table and, for a lookup on an index, its indexes.
func (p *pipeline) lookupResources(d *registry.DynamoDBSource) []string {
	table := *awscdk.Stack_Of(p.stack).FormatArn(&awscdk.ArnComponents{Service: jsii.String("dynamodb"), Resource: jsii.String("table"), ResourceName: &d.Table})
	if d.Index == "" {
		return []string{table}
	}
	return []string{table, table + "/index/*"}
}

// grantSources lets fn read the registry's sources and, when erase is set,
// change them only as each source's erasure mode needs: delete items and
// objects, or update items and replace objects to anonymize; a retained
// source stays read-only.
func (p *pipeline) grantSources(fn awslambda.Function, erase bool) {
	// S3 grants are gathered by bucket and by action set, so a registry of
	// many sources makes few statements (a role's policies have a size
	// limit); each still names exactly the prefixes of its sources.
	versioned := map[string]bool{}               // buckets whose versioning erasure asks
	listings := map[string]map[string][]string{} // listing actions -> bucket -> prefixes
	objects := map[string][]string{}             // object actions -> object ARNs
	for _, src := range p.reg.Automated() {
		mode := ""
		if erase {
			mode = src.Erasure
		}
		switch {
		case src.DynamoDB != nil:
			actions := lookupActions(src.DynamoDB)
			switch mode {
			case registry.EraseDelete:
				// Each delete is conditional; a failed condition, and a
				// change begun but not marked done, are read again.
				actions = append(actions, "dynamodb:DeleteItem", "dynamodb:GetItem")
			case registry.EraseAnonymize:
				actions = append(actions, "dynamodb:UpdateItem", "dynamodb:GetItem")
			}
			fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions:   jsii.Strings(slices.Compact(slices.Sorted(slices.Values(actions)))...),
				Resources: jsii.Strings(p.lookupResources(src.DynamoDB)...),
			}))
		case src.S3 != nil:
			bucket := "arn:" + *p.stack.Partition() + ":s3:::" + src.S3.Bucket
			// Erasure also reaches the older versions of objects in a
			// versioned bucket: it asks whether the bucket is versioned,
			// lists the versions, reads them and deletes those that hold
			// the subject.
			listing := []string{"s3:ListBucket"}
			actions := []string{"s3:GetObject"}
			// A rewrite keeps the object's tags (reads them, writes them
			// with it) and aborts a multipart upload it cannot complete.
			rewrite := []string{"s3:PutObject", "s3:GetObjectTagging", "s3:PutObjectTagging", "s3:AbortMultipartUpload"}
			switch mode {
			case registry.EraseDelete:
				actions = append(append(actions, rewrite...), "s3:DeleteObject")
			case registry.EraseAnonymize:
				actions = append(actions, rewrite...)
			}
			if mode == registry.EraseDelete || mode == registry.EraseAnonymize {
				listing = append(listing, "s3:ListBucketVersions")
				actions = append(actions, "s3:GetObjectVersion", "s3:DeleteObjectVersion")
				versioned[bucket] = true
			}
			l := strings.Join(listing, ",")
			if listings[l] == nil {
				listings[l] = map[string][]string{}
			}
			listings[l][bucket] = append(listings[l][bucket], src.S3.ListPrefix()+"*")
			a := strings.Join(actions, ",")
			objects[a] = append(objects[a], bucket+"/"+src.S3.ListPrefix()+"*")
		}
	}
	for _, bucket := range slices.Sorted(maps.Keys(versioned)) {
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions: jsii.Strings("s3:GetBucketVersioning"), Resources: jsii.Strings(bucket),
		}))
	}
	for _, l := range slices.Sorted(maps.Keys(listings)) {
		for _, bucket := range slices.Sorted(maps.Keys(listings[l])) {
			fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions:    jsii.Strings(strings.Split(l, ",")...),
				Resources:  jsii.Strings(bucket),
				Conditions: &map[string]any{"StringLike": map[string]any{"s3:prefix": slices.Compact(slices.Sorted(slices.Values(listings[l][bucket])))}},
			}))
		}
	}
	for _, a := range slices.Sorted(maps.Keys(objects)) {
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings(strings.Split(a, ",")...),
			Resources: jsii.Strings(slices.Compact(slices.Sorted(slices.Values(objects[a])))...),
		}))
	}
}
