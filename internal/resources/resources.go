// Package resources describes the pipeline's own AWS resources once: the
// tables, buckets, functions and state machines. The CDK stack and the local
// stack both build from these definitions, so there is no second copy to drift.
package resources

// Attribute is a key attribute of a DynamoDB table.
type Attribute struct {
	Name string
	Type string // "S", "N" or "B"
}

// Table describes a DynamoDB table of the pipeline.
type Table struct {
	ID           string // logical id; also the local table name after the prefix
	PartitionKey Attribute
	SortKey      *Attribute
	TTLAttribute string
	EnvVar       string // the environment variable that carries its name
	Indexes      []Index
}

// Index is a global secondary index (all attributes projected). It is
// sparse: only items that have both key attributes appear in it.
type Index struct {
	Name         string
	PartitionKey Attribute
	SortKey      Attribute
}

// Indexes of the requests table, for the operators' queries.
var (
	// ByReceived lists requests by receipt time: request items carry kind
	// "request"; audit items have neither attribute.
	ByReceived = Index{Name: "by-received", PartitionKey: Attribute{Name: "kind", Type: "S"}, SortKey: Attribute{Name: "received_at", Type: "S"}}
	// ByStatus lists requests in a status by due date.
	ByStatus = Index{Name: "by-status", PartitionKey: Attribute{Name: "status", Type: "S"}, SortKey: Attribute{Name: "due_date", Type: "S"}}
)

// Requests holds requests (sk "request") and their audit events
// (sk "audit#<time>#<n>") under the request id. Personal data lives only here
// and in the exports bucket, both encrypted with the stack's KMS key.
var Requests = Table{
	ID:           "requests",
	PartitionKey: Attribute{Name: "pk", Type: "S"},
	SortKey:      &Attribute{Name: "sk", Type: "S"},
	TTLAttribute: "expires_at",
	EnvVar:       "REQUESTS_TABLE",
	Indexes:      []Index{ByReceived, ByStatus},
}

// Intake holds what the HTTP API shares across its instances for a short
// time: idempotency records ("idem#<sha256 of the key>") and rate-limit
// counters ("rate#<limit>#<window start>#<hash>"), each gone after
// expires_at. Only the api function uses it.
var Intake = Table{
	ID:           "intake",
	PartitionKey: Attribute{Name: "pk", Type: "S"},
	TTLAttribute: "expires_at",
	EnvVar:       "INTAKE_TABLE",
}

// Suppressions is the list the company's systems read: one item per subject,
// keyed by suppression.SubjectKey of the email, with one map attribute per
// flag that is set (opt_out_sale_sharing, limit_sensitive,
// restrict_processing, object), each holding request_id, at and via.
var Suppressions = Table{
	ID:           "suppressions",
	PartitionKey: Attribute{Name: "subject", Type: "S"},
	EnvVar:       "SUPPRESSIONS_TABLE",
}

// Tables are all of the pipeline's tables.
var Tables = []Table{Requests, Intake, Suppressions}

// Bucket describes an S3 bucket of the pipeline.
type Bucket struct {
	ID     string
	EnvVar string
	// Locked buckets keep every object version under S3 Object Lock.
	Locked bool
}

// Exports holds work files and the access packages delivered to subjects.
var Exports = Bucket{ID: "exports", EnvVar: "EXPORTS_BUCKET"}

// RawMail holds the messages sent to the privacy inbox, as the SES receipt
// rule stores them: kept while their request is open or an operator has
// not decided, then deleted.
var RawMail = Bucket{ID: "raw-mail", EnvVar: "RAW_MAIL_BUCKET"}

// ReceiptAnchors holds, under Object Lock, each erasure receipt's number and
// hash as it is written (see s3anchors).
var ReceiptAnchors = Bucket{ID: "receipt-anchors", EnvVar: "RECEIPT_ANCHORS_BUCKET", Locked: true}

// AnchorRetentionYears is how long an anchor is locked by default: as long
// as the longest retention of records the registry commonly names (ten
// years of accounting records).
const AnchorRetentionYears = 10

// Buckets are all of the pipeline's buckets.
var Buckets = []Bucket{Exports, RawMail, ReceiptAnchors}

// Queue describes an SQS queue of the pipeline.
type Queue struct {
	ID     string
	EnvVar string // the environment variable that carries its URL
}

// OperatorInbox holds the mail that waits for an operator: mail the rules
// could not read or classify, and quarantined mail.
var OperatorInbox = Queue{ID: "operator-inbox", EnvVar: "OPERATOR_QUEUE_URL"}

// Queues are all of the pipeline's queues.
var Queues = []Queue{OperatorInbox}

// Key is a KMS key of the pipeline, other than the one that encrypts its data.
type Key struct {
	ID     string
	Alias  string // the local stack names the key by this alias
	EnvVar string
}

// ReceiptKey is an HMAC key that never leaves KMS: erasure receipts list the
// keys erasure touched (which may hold an email or a user id) as hashes made
// with a secret only this key can derive (see internal/kmsmac). Only the
// function that erases uses it.
var ReceiptKey = Key{ID: "receipt-key", Alias: "alias/dsr-receipt-key", EnvVar: "RECEIPT_KEY_ID"}

// Function is one Lambda function of the pipeline: its folder under
// functions/ and, for workflow tasks, the ASL placeholder for its ARN.
type Function struct {
	Name        string
	Placeholder string
}

// Functions are all Lambda functions, in the order a request meets them.
var Functions = []Function{
	{Name: "api"},
	{Name: "acknowledge", Placeholder: "AcknowledgeFunctionArn"},
	{Name: "start-verification", Placeholder: "StartVerificationFunctionArn"},
	{Name: "resolve-identities", Placeholder: "ResolveIdentitiesFunctionArn"},
	{Name: "collect-source", Placeholder: "CollectSourceFunctionArn"},
	{Name: "finish-large-source", Placeholder: "FinishLargeSourceFunctionArn"},
	{Name: "build-package", Placeholder: "BuildPackageFunctionArn"},
	{Name: "erase-source", Placeholder: "EraseSourceFunctionArn"},
	{Name: "await-hold", Placeholder: "AwaitHoldFunctionArn"},
	{Name: "write-receipt", Placeholder: "WriteReceiptFunctionArn"},
	{Name: "await-findings", Placeholder: "AwaitFindingsFunctionArn"},
	{Name: "await-review", Placeholder: "AwaitReviewFunctionArn"},
	{Name: "record-suppression", Placeholder: "RecordSuppressionFunctionArn"},
	{Name: "apply-corrections", Placeholder: "ApplyCorrectionsFunctionArn"},
	{Name: "close-request", Placeholder: "CloseRequestFunctionArn"},
	{Name: "check-deadline", Placeholder: "CheckDeadlineFunctionArn"},
	// deadline-report runs on a schedule, outside the workflows.
	{Name: "deadline-report"},
	// sweeper runs on a schedule: it starts the workflows of requests
	// stored without one.
	{Name: "sweeper"},
	// inbound runs for each mail the SES receipt rule receives.
	{Name: "inbound"},
}

// ASL placeholders that are not function ARNs. The CDK stack and the local
// stack fill them differently.
const (
	// ObjectExecutionTypePlaceholder is the execution type of the child
	// workflows of a Distributed Map: EXPRESS in the cloud (cheap, fast),
	// STANDARD on the local stack, whose interpreter runs no other.
	ObjectExecutionTypePlaceholder = "ObjectExecutionType"
	// ExportsBucketPlaceholder names the exports bucket, where a
	// Distributed Map writes its run's results.
	ExportsBucketPlaceholder = "ExportsBucketName"
)

// StateMachine is a Step Functions state machine defined by an ASL file in
// statemachines/.
type StateMachine struct {
	ID     string
	File   string
	EnvVar string
}

// RequestWorkflow runs one request from verification to delivery.
var RequestWorkflow = StateMachine{ID: "request-workflow", File: "request.asl.json", EnvVar: "REQUEST_STATE_MACHINE_ARN"}

// DeadlineWatch runs beside each request: it sends the extension notice in
// time and escalates a request still open at its due date.
var DeadlineWatch = StateMachine{ID: "deadline-watch", File: "deadline-watch.asl.json", EnvVar: "WATCH_STATE_MACHINE_ARN"}

// StateMachines are all state machines of the pipeline.
var StateMachines = []StateMachine{RequestWorkflow, DeadlineWatch}
