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
	// "request"; slots have neither attribute.
	ByReceived = Index{Name: "by-received", PartitionKey: Attribute{Name: "kind", Type: "S"}, SortKey: Attribute{Name: "received_at", Type: "S"}}
	// ByStatus lists requests in a status by due date.
	ByStatus = Index{Name: "by-status", PartitionKey: Attribute{Name: "status", Type: "S"}, SortKey: Attribute{Name: "due_date", Type: "S"}}
)

// Requests holds requests (sk "request") under the request id, and the
// open slots of subjects (pk "open#<hash>", sk "slot", gone after
// expires_at). Personal data lives only here and in the exports bucket, both
// encrypted with the stack's KMS key. What a request's history must keep
// lives in tables of their own, which the functions that serve the public
// may not change (IAM cannot tell sort keys apart).
var Requests = Table{
	ID:           "requests",
	PartitionKey: Attribute{Name: "pk", Type: "S"},
	SortKey:      &Attribute{Name: "sk", Type: "S"},
	TTLAttribute: "expires_at",
	EnvVar:       "REQUESTS_TABLE",
	Indexes:      []Index{ByReceived, ByStatus},
}

// Audit holds the audit log: under each request id (and each mail's audit
// id), one item per event, sk "audit#<time>#<n>#<random>". It is append-only
// for every function: they may put events, none may read, change or delete
// them; operators read them. The random part keeps a writer that cannot read
// the log from naming, and so overwriting, an event already there.
var Audit = Table{
	ID:           "audit",
	PartitionKey: Attribute{Name: "pk", Type: "S"},
	SortKey:      &Attribute{Name: "sk", Type: "S"},
	EnvVar:       "AUDIT_TABLE",
}

// Receipts holds what erasure did: under each request id the outcome of
// each source (sk "erasure#<source>", further chunks "erasure-chunk#...")
// and the pointer to its receipt (sk "receipt"); the hash-chained receipts
// (pk "receipt-chain", sk the receipt's number) and their further chunks
// (pk "receipt-chain-chunks"). Only the functions that erase and write
// receipts may change it.
var Receipts = Table{
	ID:           "receipts",
	PartitionKey: Attribute{Name: "pk", Type: "S"},
	SortKey:      &Attribute{Name: "sk", Type: "S"},
	EnvVar:       "RECEIPTS_TABLE",
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
var Tables = []Table{Requests, Audit, Receipts, Intake, Suppressions}

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

// Agents' signed permissions, in the exports bucket, are deleted when their
// request closes or, where operators keep them a while, this many days
// later (the stack's PermissionRetentionDays parameter).
const (
	PermissionRetentionEnvVar  = "PERMISSION_RETENTION_DAYS"
	MaxPermissionRetentionDays = 365
	// LongestOpenDays is longer than the statutory rules keep any request
	// open (135 days: received in Iowa, confirmed the day before the due
	// date, from which the clock starts, and extended), with room for an
	// operator to close one that fell overdue. A lifecycle rule deletes any
	// permission left this long plus the retention: none should be.
	LongestOpenDays = 180
)

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

// DynamoDB actions, by their IAM names. A TransactWriteItems call needs, on
// each item's table, the action of that item (PutItem for a Put); a
// condition on an item needs no action of its own.
const (
	GetItem    = "dynamodb:GetItem"
	PutItem    = "dynamodb:PutItem"
	UpdateItem = "dynamodb:UpdateItem"
	DeleteItem = "dynamodb:DeleteItem"
	// Query reaches the table's indexes too.
	Query = "dynamodb:Query"
	// BatchWriteItem needs no other action: its puts and deletes are
	// granted by it alone.
	BatchWriteItem = "dynamodb:BatchWriteItem"
)

// Access is what a function may do in one of the pipeline's tables: the
// CDK stack grants exactly this, and the local stack's end-to-end tests
// check that no function does more.
type Access struct {
	Table   Table
	Actions []string
}

// Access that many functions share.
var (
	// readRequest reads requests by id.
	readRequest = Access{Requests, []string{GetItem}}
	// saveRequest reads and writes requests by id (and open slots); every
	// save puts its audit event in the same transaction.
	saveRequest = Access{Requests, []string{GetItem, PutItem}}
	// appendAudit adds audit events and can do nothing else there.
	appendAudit = Access{Audit, []string{PutItem}}
	// putOutcome replaces a source's erasure outcome with the one the
	// journal adds up (reading it for its revision and chunks).
	putOutcome = Access{Receipts, []string{GetItem, PutItem}}
	// journal writes erasure steps down and marks them done, reads them
	// back, and keeps findings (a conditional put).
	journal = Access{Receipts, []string{BatchWriteItem, Query}}
	// readFindings reads what erasure or collection could not handle.
	readFindings = Access{Receipts, []string{Query}}
	// readJournal reads what erasure changed in a source.
	readJournal = Access{Receipts, []string{Query}}
	// keepFindings adds findings (a conditional put) and reads them.
	keepFindings = Access{Receipts, []string{PutItem, Query}}
)

// Function is one Lambda function of the pipeline: its folder under
// functions/, for workflow tasks the ASL placeholder for its ARN, and what
// it may do in the pipeline's tables (the company's sources are granted
// from the registry).
type Function struct {
	Name        string
	Placeholder string
	Tables      []Access
}

// Functions are all Lambda functions, in the order a request meets them.
// The api and inbound functions serve the public: they may append to the
// audit log and nothing more, and may not touch what erasure recorded.
var Functions = []Function{
	{Name: "api", Tables: []Access{saveRequest, appendAudit,
		// Idempotency records and rate counters, item by item.
		{Intake, []string{GetItem, PutItem, UpdateItem, DeleteItem}}}},
	// Acknowledging takes the subject's open slot (a conditional put).
	{Name: "acknowledge", Placeholder: "AcknowledgeFunctionArn", Tables: []Access{saveRequest, appendAudit}},
	{Name: "start-verification", Placeholder: "StartVerificationFunctionArn", Tables: []Access{saveRequest, appendAudit}},
	// Resolving again (a redrive) keeps the identities of the sources
	// erasure changed: it reads their journal.
	{Name: "resolve-identities", Placeholder: "ResolveIdentitiesFunctionArn", Tables: []Access{saveRequest, appendAudit, readJournal}},
	// Collecting keeps what it could not read as findings.
	{Name: "collect-source", Placeholder: "CollectSourceFunctionArn", Tables: []Access{readRequest, appendAudit, keepFindings}},
	// Finishing a large source adds up what its objects' tasks journaled.
	{Name: "finish-large-source", Placeholder: "FinishLargeSourceFunctionArn", Tables: []Access{readRequest, appendAudit, putOutcome, journal}},
	// The package says what could not be read.
	{Name: "build-package", Placeholder: "BuildPackageFunctionArn", Tables: []Access{saveRequest, appendAudit, readFindings}},
	// Erasing journals each change and keeps what it could not erase.
	{Name: "erase-source", Placeholder: "EraseSourceFunctionArn", Tables: []Access{readRequest, appendAudit, putOutcome, journal, keepFindings}},
	{Name: "await-hold", Placeholder: "AwaitHoldFunctionArn", Tables: []Access{saveRequest, appendAudit}},
	// The receipt task reads the outcomes, the findings and the chain's
	// head, and appends to the chain.
	{Name: "write-receipt", Placeholder: "WriteReceiptFunctionArn", Tables: []Access{readRequest, appendAudit,
		{Receipts, []string{GetItem, PutItem, Query}}}},
	// Waiting on findings keeps the task token beside them.
	{Name: "await-findings", Placeholder: "AwaitFindingsFunctionArn", Tables: []Access{readRequest, appendAudit, keepFindings}},
	{Name: "await-review", Placeholder: "AwaitReviewFunctionArn", Tables: []Access{saveRequest, appendAudit}},
	{Name: "record-suppression", Placeholder: "RecordSuppressionFunctionArn", Tables: []Access{saveRequest, appendAudit,
		// Flags are set item by item, never removed.
		{Suppressions, []string{GetItem, UpdateItem}}}},
	{Name: "apply-corrections", Placeholder: "ApplyCorrectionsFunctionArn", Tables: []Access{saveRequest, appendAudit}},
	// Closing a delete request reads its outcomes and findings for the
	// confirmation mail.
	{Name: "close-request", Placeholder: "CloseRequestFunctionArn", Tables: []Access{saveRequest, appendAudit,
		{Receipts, []string{GetItem, Query}}}},
	{Name: "check-deadline", Placeholder: "CheckDeadlineFunctionArn", Tables: []Access{saveRequest, appendAudit}},
	// An erasure a mail asked for besides other requests reads whether
	// they are closed.
	{Name: "check-siblings", Placeholder: "CheckSiblingsFunctionArn", Tables: []Access{readRequest}},
	// deadline-report runs on a schedule, outside the workflows: it counts
	// open requests through the status index.
	{Name: "deadline-report", Tables: []Access{{Requests, []string{Query}}}},
	// sweeper runs on a schedule: it finds requests still received through
	// the status index and starts their workflows, or flags them.
	{Name: "sweeper", Tables: []Access{{Requests, []string{GetItem, PutItem, Query}}, appendAudit}},
	// inbound runs for each mail the SES receipt rule receives: it makes
	// requests as the api does, audits each mail, and counts mailed
	// requests against the per-address limit.
	{Name: "inbound", Tables: []Access{saveRequest, appendAudit, {Intake, []string{UpdateItem}}}},
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
