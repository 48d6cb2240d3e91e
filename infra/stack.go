package main

import (
	"cmp"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsses"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/privacy-pipeline/dsr/internal/app"
	"github.com/privacy-pipeline/dsr/internal/policy"
	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/resources"
	"github.com/privacy-pipeline/dsr/internal/s3exports"
	"github.com/privacy-pipeline/dsr/statemachines"
)

// PipelineProps configure the pipeline. Every value may be a CloudFormation
// token (the stack passes its parameters).
type PipelineProps struct {
	// MailFrom is the sender address; its domain must be a verified SES identity.
	MailFrom string
	// RegistryFile is the data-source registry: the functions may read (and
	// erase) exactly the tables and buckets it lists.
	RegistryFile string
	// PolicyFile is the company's own policy on top of the law (empty: the
	// law alone); it is checked at synth and bundled beside the registry.
	PolicyFile string
	// AssetDir returns the folder holding a function's bootstrap binary.
	AssetDir func(fn string) string
	// OperatorEmail subscribes to the operators' alarm topic and gets
	// reviews and escalations; empty leaves both to be set up by hand.
	OperatorEmail string
	// ThrottleRate and ThrottleBurst limit the HTTP API (requests per second).
	ThrottleRate  float64
	ThrottleBurst float64
	// AllowedOrigins may call the API from browsers (CORS); none by default.
	// An empty string among them (an empty parameter) means none too.
	AllowedOrigins []*string
	// InboxAddress is the privacy inbox: mail to it becomes requests
	// (default: MailFrom).
	InboxAddress string
	// InboundJurisdiction applies to mailed requests that name no law
	// (default: EU).
	InboundJurisdiction string
	// PermissionRetentionDays keeps an agent's signed permission that many
	// days after its request closes: 0 (the default) deletes it at the
	// close; at most resources.MaxPermissionRetentionDays.
	PermissionRetentionDays float64
	// Emulators: the stack runs unchanged on LocalStack with these set.
	// TimeScale divides every workflow wait (default "1": real time);
	// EndpointURL points the functions' SDK at the emulator (default "":
	// AWS); S3PathStyle is "true" where the emulator needs path-style S3
	// (default "false").
	TimeScale   string
	EndpointURL string
	S3PathStyle string
	// AnchorRetentionYears is how long each receipt anchor stays locked
	// (default resources.AnchorRetentionYears). A number, not a token: it
	// becomes the bucket's Object Lock rule.
	AnchorRetentionYears int
}

// anchorDays is a number of years in days, leap days included, rounded up:
// Object Lock counts days.
func anchorDays(years float64) float64 { return math.Ceil(365.25 * years) }

func (p PipelineProps) anchorYears() float64 {
	if p.AnchorRetentionYears > 0 {
		return float64(p.AnchorRetentionYears)
	}
	return resources.AnchorRetentionYears
}

// PrivacyPipeline is the whole pipeline as one construct: NewPipelineStack
// deploys it as a stack of its own; an application can embed it in its
// own stack instead (one per stack: state machine names derive from the
// stack's).
type PrivacyPipeline struct {
	constructs.Construct
	// API is the HTTP API of data subjects.
	API awsapigatewayv2.HttpApi
	// Functions are the pipeline's Lambda functions, by name.
	Functions map[string]awslambda.Function
}

type pipeline struct {
	// scope holds every resource of the pipeline; stack is the stack it is in.
	scope    constructs.Construct
	stack    awscdk.Stack
	props    PipelineProps
	reg      *registry.Registry
	key      awskms.Key
	requests awsdynamodb.Table
	// audit is the append-only audit log; receipts what erasure did and
	// the receipt chain.
	audit    awsdynamodb.Table
	receipts awsdynamodb.Table
	intake   awsdynamodb.Table
	// receiptKey is the HMAC key behind the hashes in erasure receipts.
	receiptKey awskms.Key
	// suppressions is the list the company's systems read.
	suppressions awsdynamodb.Table
	exports      awss3.Bucket
	// anchors keeps each erasure receipt's number and hash under Object Lock.
	anchors    awss3.Bucket
	mailKey    awskms.Key
	rawMail    awss3.Bucket
	inbox      awssqs.Queue
	inboundDLQ awssqs.Queue
	functions  map[string]awslambda.Function
	machines   map[string]awsstepfunctions.StateMachine
	// keepsPermissions is true when closed requests' permissions are kept
	// for a while, which the retention may decide at deploy time; then
	// keepPolicy lets the functions that close requests keep them.
	keepsPermissions awscdk.CfnCondition
	keepPolicy       awsiam.Policy
}

// NewPrivacyPipeline defines the pipeline in scope.
func NewPrivacyPipeline(scope constructs.Construct, id string, props PipelineProps) (*PrivacyPipeline, error) {
	reg, err := registry.LoadFile(props.RegistryFile)
	if err != nil {
		return nil, err
	}
	if props.PolicyFile != "" {
		if _, err := policy.LoadFile(props.PolicyFile, app.KnownToPolicy()); err != nil {
			return nil, err
		}
	}
	if d := props.PermissionRetentionDays; !*awscdk.Token_IsUnresolved(d) && (d < 0 || d > resources.MaxPermissionRetentionDays || d != math.Trunc(d)) {
		return nil, fmt.Errorf("PermissionRetentionDays must be a whole number of days from 0 to %d, got %v", resources.MaxPermissionRetentionDays, d)
	}
	props.InboxAddress = cmp.Or(props.InboxAddress, props.MailFrom)
	props.InboundJurisdiction = cmp.Or(props.InboundJurisdiction, "EU")
	construct := constructs.NewConstruct(scope, &id)
	p := &pipeline{
		scope:     construct,
		stack:     awscdk.Stack_Of(scope),
		props:     props,
		reg:       reg,
		functions: map[string]awslambda.Function{},
		machines:  map[string]awsstepfunctions.StateMachine{},
	}
	p.newKey()
	p.newStorage()
	p.newMailStorage()
	api := p.newAPI()
	for _, f := range resources.Functions {
		p.newFunction(f.Name, api)
	}
	for _, def := range resources.StateMachines {
		sm, err := p.newStateMachine(def)
		if err != nil {
			return nil, err
		}
		p.machines[def.ID] = sm
	}
	p.grantFunctions()
	p.newReceiptRules()
	p.newSendingIdentity()
	p.newMonitoring(api)
	p.suppressNagFindings()
	p.newSuppressionReader()
	p.newOperatorOutputs(api)
	p.newTags(api)
	return &PrivacyPipeline{Construct: construct, API: api, Functions: p.functions}, nil
}

func (p *pipeline) newKey() {
	p.key = awskms.NewKey(p.scope, jsii.String("DataKey"), &awskms.KeyProps{
		Description:       jsii.String("Encrypts requests, exports and logs of the privacy pipeline"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	})
	// KMS does not rotate HMAC keys; the hashes it vouches for must stay
	// comparable for as long as receipts are kept, so it is never replaced.
	p.receiptKey = awskms.NewKey(p.scope, jsii.String("ReceiptKey"), &awskms.KeyProps{
		Description:   jsii.String("Hashes the keys that erasure receipts list; the secret never leaves KMS"),
		KeySpec:       awskms.KeySpec_HMAC_256,
		KeyUsage:      awskms.KeyUsage_GENERATE_VERIFY_MAC,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
}

func (p *pipeline) newStorage() {
	p.requests = p.newTable("RequestsTable", resources.Requests)
	p.audit = p.newTable("AuditTable", resources.Audit)
	p.receipts = p.newTable("ReceiptsTable", resources.Receipts)
	p.intake = p.newTable("IntakeTable", resources.Intake)
	p.suppressions = p.newTable("SuppressionsTable", resources.Suppressions)

	p.keepsPermissions = awscdk.NewCfnCondition(p.scope, jsii.String("KeepsClosedPermissions"), &awscdk.CfnConditionProps{
		Expression: awscdk.Fn_ConditionNot(awscdk.Fn_ConditionEquals(p.permissionRetention(), jsii.String("0"))),
	})
	days := func(kept, otherwise float64) awscdk.Duration {
		return awscdk.Duration_Days(awscdk.Token_AsNumber(awscdk.Fn_ConditionIf(p.keepsPermissions.LogicalId(), kept, otherwise)))
	}
	p.exports = awss3.NewBucket(p.scope, jsii.String("ExportsBucket"), private(p.key, &awss3.BucketProps{
		LifecycleRules: &[]*awss3.LifecycleRule{
			{Id: jsii.String("expire-work-files"), Prefix: jsii.String(resources.WorkPrefix), Expiration: awscdk.Duration_Days(jsii.Number(2))},
			{Id: jsii.String("expire-packages"), Prefix: jsii.String(resources.PackagesPrefix), Expiration: awscdk.Duration_Days(jsii.Number(30))},
			// Owners' exports are deleted with their package's build; one
			// whose request never got there goes after this.
			{Id: jsii.String("expire-manual-exports"), Prefix: jsii.String(resources.ManualExportsPrefix), Expiration: awscdk.Duration_Days(jsii.Number(resources.ManualExportDays))},
			// A package is streamed in parts; a build killed mid-way
			// leaves its parts, which go after a day.
			{Id: jsii.String("abort-incomplete-uploads"), AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(1))},
			// A closed request's permission, kept for the retention: the
			// closing step tagged it and wrote it anew, so the days count
			// from the close. With no retention nothing is tagged.
			{Id: jsii.String("expire-closed-permissions"), Prefix: jsii.String(resources.PermissionsPrefix),
				TagFilters: &map[string]any{s3exports.ClosedTagKey: s3exports.ClosedTagValue},
				Expiration: days(p.props.PermissionRetentionDays, 1)},
			// The backstop: a permission still here this long after it was
			// written outlived any request it could serve (one whose
			// closing step failed, or an upload that raced the close).
			{Id: jsii.String("expire-permissions"), Prefix: jsii.String(resources.PermissionsPrefix),
				Expiration: days(resources.LongestOpenDays+resources.MaxPermissionRetentionDays, resources.LongestOpenDays)},
		},
	}))

	// Anchors of the receipt chain: compliance-mode Object Lock, so no one
	// (the account's root included) can delete or overwrite one before its
	// retention ends. They hold receipt numbers and hashes, nothing personal.
	p.anchors = awss3.NewBucket(p.scope, jsii.String("ReceiptAnchorsBucket"), private(p.key, &awss3.BucketProps{
		Versioned:                  jsii.Bool(true),
		ObjectLockEnabled:          jsii.Bool(true),
		ObjectLockDefaultRetention: awss3.ObjectLockRetention_Compliance(awscdk.Duration_Days(jsii.Number(anchorDays(p.props.anchorYears())))),
	}))
}

// permissionRetention is the retention of closed requests' permissions, in
// days, as text (a parameter's reference in the standalone stack).
func (p *pipeline) permissionRetention() *string {
	if d := p.props.PermissionRetentionDays; !*awscdk.Token_IsUnresolved(d) {
		return jsii.String(strconv.Itoa(int(d)))
	}
	return awscdk.Token_AsString(jsii.Number(p.props.PermissionRetentionDays), nil)
}

// private makes props a bucket of the pipeline's: encrypted with key,
// closed to the public, TLS only, owned by the bucket's account, kept when
// the stack goes.
func private(key awskms.IKey, props *awss3.BucketProps) *awss3.BucketProps {
	props.Encryption = awss3.BucketEncryption_KMS
	props.EncryptionKey = key
	props.BucketKeyEnabled = jsii.Bool(true)
	props.BlockPublicAccess = awss3.BlockPublicAccess_BLOCK_ALL()
	props.EnforceSSL = jsii.Bool(true)
	props.ObjectOwnership = awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED
	props.RemovalPolicy = awscdk.RemovalPolicy_RETAIN
	return props
}

// newTable defines one of the pipeline's tables: on demand, encrypted with
// the stack's key, with point-in-time recovery, its TTL and its indexes.
func (p *pipeline) newTable(id string, t resources.Table) awsdynamodb.Table {
	props := &awsdynamodb.TableProps{
		PartitionKey:  &awsdynamodb.Attribute{Name: &t.PartitionKey.Name, Type: attributeType(t.PartitionKey.Type)},
		BillingMode:   awsdynamodb.BillingMode_PAY_PER_REQUEST,
		Encryption:    awsdynamodb.TableEncryption_CUSTOMER_MANAGED,
		EncryptionKey: p.key,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	}
	if t.TTLAttribute != "" {
		props.TimeToLiveAttribute = &t.TTLAttribute
	}
	if t.SortKey != nil {
		props.SortKey = &awsdynamodb.Attribute{Name: &t.SortKey.Name, Type: attributeType(t.SortKey.Type)}
	}
	table := awsdynamodb.NewTable(p.scope, jsii.String(id), props)
	for _, ix := range t.Indexes {
		table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
			IndexName:      jsii.String(ix.Name),
			PartitionKey:   &awsdynamodb.Attribute{Name: jsii.String(ix.PartitionKey.Name), Type: attributeType(ix.PartitionKey.Type)},
			SortKey:        &awsdynamodb.Attribute{Name: jsii.String(ix.SortKey.Name), Type: attributeType(ix.SortKey.Type)},
			ProjectionType: awsdynamodb.ProjectionType_ALL,
		})
	}
	return table
}

func attributeType(t string) awsdynamodb.AttributeType {
	switch t {
	case "N":
		return awsdynamodb.AttributeType_NUMBER
	case "B":
		return awsdynamodb.AttributeType_BINARY
	}
	return awsdynamodb.AttributeType_STRING
}

func (p *pipeline) newAPI() awsapigatewayv2.HttpApi {
	api := awsapigatewayv2.NewHttpApi(p.scope, jsii.String("HttpApi"), &awsapigatewayv2.HttpApiProps{
		Description:        jsii.String("Privacy requests from data subjects"),
		CreateDefaultStage: jsii.Bool(false),
	})
	p.allowOrigins(api)
	stage := awsapigatewayv2.NewHttpStage(p.scope, jsii.String("DefaultStage"), &awsapigatewayv2.HttpStageProps{
		HttpApi:    api,
		StageName:  jsii.String("$default"),
		AutoDeploy: jsii.Bool(true),
		Throttle: &awsapigatewayv2.ThrottleSettings{
			RateLimit:  jsii.Number(p.props.ThrottleRate),
			BurstLimit: jsii.Number(p.props.ThrottleBurst),
		},
	})
	// Access logs name the route, never the path's query (links carry tokens)
	// nor the caller's address.
	accessLogs := awslogs.NewLogGroup(p.scope, jsii.String("ApiAccessLogs"), &awslogs.LogGroupProps{
		Retention: awslogs.RetentionDays_ONE_YEAR, EncryptionKey: p.key,
	})
	stage.Node().DefaultChild().(awsapigatewayv2.CfnStage).SetAccessLogSettings(&awsapigatewayv2.CfnStage_AccessLogSettingsProperty{
		DestinationArn: accessLogs.LogGroupArn(),
		Format: jsii.String(`{"requestId":"$context.requestId","time":"$context.requestTime","method":"$context.httpMethod",` +
			`"route":"$context.routeKey","status":"$context.status","latencyMs":"$context.responseLatency",` +
			`"bytes":"$context.responseLength","integrationError":"$context.integrationErrorMessage"}`),
	})
	return api
}

// allowOrigins lets pages of the allowed origins call the API from browsers
// (CORS: API Gateway answers preflight requests). The origins may come from
// a parameter, so whether any is given is decided by CloudFormation.
func (p *pipeline) allowOrigins(api awsapigatewayv2.HttpApi) {
	if len(p.props.AllowedOrigins) == 0 {
		return
	}
	origins := &p.props.AllowedOrigins
	given := awscdk.NewCfnCondition(p.scope, jsii.String("HasAllowedOrigins"), &awscdk.CfnConditionProps{
		Expression: awscdk.Fn_ConditionNot(awscdk.Fn_ConditionEquals(awscdk.Fn_Join(jsii.String(""), origins), jsii.String(""))),
	})
	// Written with CloudFormation's names: inside Fn::If, CDK passes the
	// value through as it is.
	cors := map[string]any{
		"AllowOrigins":  origins,
		"AllowMethods":  []string{"GET", "POST", "PUT", "OPTIONS"},
		"AllowHeaders":  []string{"content-type", "idempotency-key"},
		"ExposeHeaders": []string{"location", "retry-after", "idempotent-replayed"},
		"MaxAge":        3600,
	}
	api.Node().DefaultChild().(awsapigatewayv2.CfnApi).SetCorsConfiguration(
		awscdk.Fn_ConditionIf(given.LogicalId(), cors, awscdk.Aws_NO_VALUE()))
}

// newFunction defines a Go Lambda the standard way: arm64, provided.al2023,
// the bootstrap built by `make build`, JSON logs kept a year.
func (p *pipeline) newFunction(name string, api awsapigatewayv2.HttpApi) {
	id := camel(name)
	logs := awslogs.NewLogGroup(p.scope, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention:     awslogs.RetentionDays_ONE_YEAR,
		EncryptionKey: p.key,
	})
	props := &awslambda.FunctionProps{
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         awslambda.Code_FromAsset(jsii.String(p.props.AssetDir(name)), nil),
		MemorySize:   jsii.Number(512),
		Timeout:      awscdk.Duration_Minutes(jsii.Number(5)),
		Tracing:      awslambda.Tracing_ACTIVE,
		LogGroup:     logs,
		Environment: &map[string]*string{
			resources.Exports.EnvVar: p.exports.BucketName(),
			"MAIL_FROM":              &p.props.MailFrom,
			"OPERATOR_EMAIL":         &p.props.OperatorEmail,
			"PUBLIC_BASE_URL":        api.ApiEndpoint(),
			"REGISTRY_FILE":          jsii.String("sources.yaml"),
			// Declared even at their cloud values (no endpoint of its own,
			// which the SDK ignores when empty; virtual-hosted S3; real
			// time), so that an emulator can set them: `sam local invoke
			// --env-vars` sets only variables the template declares, and
			// LocalStack takes them as the stack's parameters.
			"AWS_ENDPOINT_URL":    jsii.String(p.props.EndpointURL),
			"S3_FORCE_PATH_STYLE": jsii.String(cmp.Or(p.props.S3PathStyle, "false")),
			"TIME_SCALE":          jsii.String(cmp.Or(p.props.TimeScale, "1")),
		},
	}
	if p.props.PolicyFile != "" {
		(*props.Environment)["POLICY_FILE"] = jsii.String("policy.yaml")
	}
	if name == resources.Inbound.Name {
		// SES invokes it asynchronously: Lambda retries a failed event
		// twice, then keeps it in the dead-letter queue, which alarms.
		props.DeadLetterQueue = p.inboundDLQ
		props.RetryAttempts = jsii.Number(2)
		props.MaxEventAge = awscdk.Duration_Hours(jsii.Number(6))
	}
	fn := awslambda.NewFunction(p.scope, jsii.String(id+"Function"), props)
	p.functions[name] = fn
	if name == resources.API.Name {
		integration := awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("ApiIntegration"), fn, nil)
		api.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
			Path: jsii.String("/{proxy+}"),
			// PUT: agents upload permissions (PUT /v1/requests/{id}/permission).
			Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod_GET, awsapigatewayv2.HttpMethod_POST, awsapigatewayv2.HttpMethod_PUT},
			Integration: integration,
		})
		api.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
			Path:        jsii.String("/"),
			Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod_GET},
			Integration: integration,
		})
	}
}

func camel(name string) string {
	var b strings.Builder
	for _, part := range strings.Split(name, "-") {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

func (p *pipeline) newStateMachine(sm resources.StateMachine) (awsstepfunctions.StateMachine, error) {
	asl, err := statemachines.Definition(sm.File)
	if err != nil {
		return nil, err
	}
	subs := map[string]*string{}
	distributed := strings.Contains(asl, `"Mode": "DISTRIBUTED"`)
	if distributed {
		// Distributed Map children run as Express workflows: each works
		// one object, in seconds.
		subs[resources.ObjectExecutionTypePlaceholder] = jsii.String("EXPRESS")
		subs[resources.ExportsBucketPlaceholder] = p.exports.BucketName()
	}
	var invoked []awslambda.Function
	for _, f := range resources.Functions {
		if f.Placeholder() != "" && slices.Contains(statemachines.Placeholders(asl), f.Placeholder()) {
			subs[f.Placeholder()] = p.functions[f.Name].FunctionArn()
			invoked = append(invoked, p.functions[f.Name])
		}
	}
	for _, name := range statemachines.Placeholders(asl) {
		if subs[name] == nil {
			return nil, fmt.Errorf("%s: no value for placeholder %s", sm.File, name)
		}
	}
	id := camel(sm.ID)
	logs := awslogs.NewLogGroup(p.scope, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention:     awslogs.RetentionDays_ONE_YEAR,
		EncryptionKey: p.key,
	})
	machine := awsstepfunctions.NewStateMachine(p.scope, jsii.String(id), &awsstepfunctions.StateMachineProps{
		StateMachineName:        p.machineName(sm),
		StateMachineType:        awsstepfunctions.StateMachineType_STANDARD,
		DefinitionBody:          awsstepfunctions.DefinitionBody_FromString(&asl),
		DefinitionSubstitutions: &subs,
		TracingEnabled:          jsii.Bool(true),
		// Execution data is ids only by design; still, it stays out of the logs.
		Logs: &awsstepfunctions.LogOptions{
			Destination:          logs,
			Level:                awsstepfunctions.LogLevel_ALL,
			IncludeExecutionData: jsii.Bool(false),
		},
	})
	// One statement for every function the machine invokes, each with its
	// versions, rather than a grant each: the role's policy stays within
	// the size of one inline policy as tasks are added (past it, CDK
	// splits the policy after the rules' suppressions are recorded).
	var invokes []*string
	for _, fn := range invoked {
		invokes = append(invokes, fn.FunctionArn(), jsii.String(*fn.FunctionArn()+":*"))
	}
	machine.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: jsii.Strings("lambda:InvokeFunction"), Resources: &invokes,
	}))
	if distributed {
		p.grantDistributedMaps(machine, sm)
	}
	// Functions find the machine by an ARN built from its name, not by a
	// reference: the machine refers to the functions, so a reference back
	// would be a dependency cycle.
	for _, fn := range p.functions {
		fn.AddEnvironment(jsii.String(sm.EnvVar), p.machineARN(sm), nil)
	}
	return machine, nil
}

// machineName is the state machine's physical name: the stack's name and
// the machine's id, so several stacks can share an account and region.
func (p *pipeline) machineName(sm resources.StateMachine) *string {
	return jsii.String(*p.stack.StackName() + "-" + sm.ID)
}

func (p *pipeline) machineARN(sm resources.StateMachine) *string {
	return p.stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("states"), Resource: jsii.String("stateMachine"), ResourceName: p.machineName(sm),
		ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})
}

// executionsARN covers every execution of a state machine.
func (p *pipeline) executionsARN(sm resources.StateMachine) *string {
	return p.stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("states"), Resource: jsii.String("execution"), ResourceName: jsii.String(*p.machineName(sm) + ":*"),
		ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})
}

// grantDistributedMaps lets a machine run Distributed Maps over the
// registry's large-source candidates: start and stop its own child
// executions, list the sources' prefixes (ItemReader) and write the map
// runs' results to the exports bucket (ResultWriter).
func (p *pipeline) grantDistributedMaps(machine awsstepfunctions.StateMachine, sm resources.StateMachine) {
	machine.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: jsii.Strings("states:StartExecution"), Resources: &[]*string{p.machineARN(sm)},
	}))
	children := p.stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("states"), Resource: jsii.String("execution"), ResourceName: jsii.String(*p.machineName(sm) + "/*"),
		ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})
	machine.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: jsii.Strings("states:DescribeExecution", "states:StopExecution"), Resources: &[]*string{children},
	}))
	for _, src := range p.reg.Sources {
		if src.S3 == nil || src.S3.Templated() {
			continue // a key template source is never worked object by object
		}
		machine.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:    jsii.Strings("s3:ListBucket"),
			Resources:  jsii.Strings("arn:" + *p.stack.Partition() + ":s3:::" + src.S3.Bucket),
			Conditions: &map[string]any{"StringLike": map[string]any{"s3:prefix": []string{src.S3.Prefix + "*"}}},
		}))
	}
	p.exports.GrantPut(machine, jsii.String(resources.MapRunsPrefix+"*"))
}

// newSendingIdentity creates the SES identity of the sender's domain, with
// Easy DKIM; its DNS records are in the stack's outputs to publish.
func (p *pipeline) newSendingIdentity() {
	domain := p.props.MailFrom[strings.LastIndex(p.props.MailFrom, "@")+1:]
	id := awsses.NewEmailIdentity(p.scope, jsii.String("SendingIdentity"), &awsses.EmailIdentityProps{
		Identity: awsses.Identity_Domain(jsii.String(domain)),
	})
	for i, name := range []*string{id.DkimDnsTokenName1(), id.DkimDnsTokenName2(), id.DkimDnsTokenName3()} {
		value := []*string{id.DkimDnsTokenValue1(), id.DkimDnsTokenValue2(), id.DkimDnsTokenValue3()}[i]
		awscdk.NewCfnOutput(p.scope, jsii.String(fmt.Sprintf("DkimCname%d", i+1)), &awscdk.CfnOutputProps{
			Description: jsii.String("Publish as a CNAME record so SES can sign mail from " + domain),
			Value:       awscdk.Fn_Join(jsii.String(" CNAME "), &[]*string{name, value}),
		})
	}
}

func (p *pipeline) sesIdentityARNs() []string {
	domain := p.props.MailFrom[strings.LastIndex(p.props.MailFrom, "@")+1:]
	base := fmt.Sprintf("arn:%s:ses:%s:%s:identity/", *p.stack.Partition(), *p.stack.Region(), *p.stack.Account())
	return []string{base + domain, base + p.props.MailFrom}
}

// suppressNagFindings records, with reasons, the AwsSolutions findings that
// are decisions rather than oversights, on the pipeline's resources only (a
// stack that embeds it keeps its own rules). Everything else must pass the
// rules (TestCdkNag).
func (p *pipeline) suppressNagFindings() {
	regex := func(r string) cdknag.RegexAppliesTo { return cdknag.RegexAppliesTo{Regex: jsii.String(r)} }
	cdknag.NagSuppressions_AddResourceSuppressions(p.scope, &[]*cdknag.NagPackSuppression{
		{Id: jsii.String("AwsSolutions-IAM4"), Reason: jsii.String(
			"AWSLambdaBasicExecutionRole grants only log-stream creation and writes for the function's own logs."),
			AppliesTo: &[]any{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}},
		{Id: jsii.String("AwsSolutions-IAM5"), Reason: jsii.String(
			"Wildcards are the narrowest AWS allows here: X-Ray trace writes take no resource (Resource::*); " +
				"CDK's KMS and S3 grants use action families on one key and one bucket; the rest are the indexes of " +
				"one table, fixed prefixes of the exports bucket (agents/ for the permissions agents upload, manual/ for the exports owners of manual sources upload), of the raw-mail bucket and of the receipt anchors bucket (anchors/, written by the receipt task only), the executions of one state machine (and the child executions " +
				"of its Distributed Maps), and the tables, " +
				"indexes and prefixes the data-source registry names. TestStackPolicies checks that no action is a " +
				"wildcard and that only the erase function may write to the company's sources."),
			AppliesTo: &[]any{
				"Resource::*",
				"Action::kms:GenerateDataKey*", "Action::kms:ReEncrypt*",
				"Action::s3:GetBucket*", "Action::s3:GetObject*", "Action::s3:List*", "Action::s3:Abort*", "Action::s3:DeleteObject*",
				regex(`/^Resource::.*\/index\/\*$/`),
				regex(`/^Resource::.*\/(` + prefixes() + `)\*$/`),
				regex(`/^Resource::arn:.*:states:.*:execution:.*:\*$/`),
				regex(`/^Resource::arn:.*:states:.*:execution:[^:]*\/\*$/`), // a Distributed Map's child executions
				regex(`/^Resource::arn:<AWS::Partition>:s3:::.*\*$/`),
				regex(`/^Resource::<[A-Za-z]+Function[0-9A-F]+\.Arn>:\*$/`), // versions of the functions a machine invokes
			}},
		{Id: jsii.String("AwsSolutions-APIG4"), Reason: jsii.String(
			"The intake is public by law: anyone may make a request. Every read is authorized by an unguessable " +
				"per-request token checked in constant time; the API is throttled.")},
		{Id: jsii.String("AwsSolutions-S1"), Reason: jsii.String(
			"Server access logs would record requester IP addresses next to request ids; each request's " +
				"audit log records the package's creation and download links instead.")},
	}, jsii.Bool(true))
}

// prefixes are the pipeline's bucket prefixes a grant may end in, as a
// regular expression's alternatives.
func prefixes() string {
	var alts []string
	for _, p := range []string{resources.WorkPrefix, resources.MapRunsPrefix, resources.PackagesPrefix, resources.PermissionsPrefix, resources.ManualExportsPrefix, resources.InboundMailPrefix, resources.AnchorsPrefix} {
		alts = append(alts, strings.ReplaceAll(regexp.QuoteMeta(p), "/", `\/`))
	}
	return strings.Join(alts, "|")
}

// newSuppressionReader makes the managed policy that the company attaches to
// the roles of its systems that must check the suppression list: read items
// by key, decrypt with the stack's key, nothing else.
func (p *pipeline) newSuppressionReader() {
	policy := awsiam.NewManagedPolicy(p.scope, jsii.String("SuppressionListReader"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("Read the privacy pipeline's suppression list by subject key"),
		Statements: &[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions:   jsii.Strings("dynamodb:GetItem", "dynamodb:BatchGetItem"),
				Resources: jsii.Strings(*p.suppressions.TableArn()),
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions:    jsii.Strings("kms:Decrypt"),
				Resources:  jsii.Strings(*p.key.KeyArn()),
				Conditions: &map[string]any{"StringEquals": map[string]any{"kms:ViaService": "dynamodb." + *p.stack.Region() + ".amazonaws.com"}},
			}),
		},
	})
	awscdk.NewCfnOutput(p.scope, jsii.String("SuppressionListReaderPolicy"), &awscdk.CfnOutputProps{
		Description: jsii.String("Attach to the roles of systems that check the suppression list"),
		Value:       policy.ManagedPolicyArn(),
	})
}
