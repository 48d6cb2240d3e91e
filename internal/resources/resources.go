// Package resources describes the pipeline's own AWS resources once: the
// tables, buckets, functions and state machines. The CDK stack and the local
// stack both build from these definitions, so there is no second copy to drift.
package resources

import "strings"

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

// Where things live in the pipeline's buckets, defined once: the adapters
// (s3exports, s3mail, s3anchors) write under them, the stack's lifecycle
// rules expire and its grants reach them, and the request workflow's
// Distributed Maps write their results under MapRunsPrefix.
const (
	// WorkPrefix, in Exports, holds work files: collected records, what
	// per-object tasks found or did, marks of sources a hold kept back.
	// They expire after two days.
	WorkPrefix = "work/"
	// MapRunsPrefix, among the work files, holds what Distributed Map runs
	// write (their ResultWriter).
	MapRunsPrefix = WorkPrefix + "map-runs/"
	// PackagesPrefix, in Exports, holds access packages; they expire after
	// 30 days.
	PackagesPrefix = "packages/"
	// PermissionsPrefix, in Exports, holds the signed permissions agents
	// upload, often scans of identity documents: one object per request,
	// deleted when the request closes (see workflow.Steps.ForgetPermission);
	// the bucket's lifecycle deletes any left behind.
	PermissionsPrefix = "agents/"
	// ManualExportsPrefix, in Exports, holds the exports owners of manual
	// sources upload, until the package is built from them (which deletes
	// them). A request may wait for its other tasks longer than work files
	// live, so they have a prefix of their own; the bucket's lifecycle
	// deletes any left behind after ManualExportDays.
	ManualExportsPrefix = "manual/"
	ManualExportDays    = 180
	// InboundMailPrefix, in RawMail, is where the SES receipt rule stores
	// each message.
	InboundMailPrefix = "inbound/"
	// AnchorsPrefix, in ReceiptAnchors, holds the anchors.
	AnchorsPrefix = "anchors/"
)

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
// functions/ (Name), whether the state machines invoke it as a task, and
// what it may do in the pipeline's tables (the company's sources are
// granted from the registry). What else it may do is declared beside it
// in infra/functions.go.
type Function struct {
	Name string
	// Task functions are invoked by the state machines, through the ASL
	// placeholder Placeholder names.
	Task   bool
	Tables []Access
}

// Placeholder is the ASL placeholder for the ARN of a task function:
// "close-request" is ${CloseRequestFunctionArn}. Other functions have none.
func (f Function) Placeholder() string {
	if !f.Task {
		return ""
	}
	var b strings.Builder
	for _, part := range strings.Split(f.Name, "-") {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String() + "FunctionArn"
}

// The pipeline's Lambda functions. The api and inbound functions serve the
// public: they may append to the audit log and nothing more, and may not
// touch what erasure recorded.
var (
	API = Function{Name: "api", Tables: []Access{saveRequest, appendAudit,
		// Idempotency records and rate counters, item by item.
		{Intake, []string{GetItem, PutItem, UpdateItem, DeleteItem}}}}
	// Acknowledging takes the subject's open slot (a conditional put).
	Acknowledge       = Function{Name: "acknowledge", Task: true, Tables: []Access{saveRequest, appendAudit}}
	StartVerification = Function{Name: "start-verification", Task: true, Tables: []Access{saveRequest, appendAudit}}
	// Resolving again (a redrive) keeps the identities of the sources
	// erasure changed: it reads their journal.
	ResolveIdentities = Function{Name: "resolve-identities", Task: true, Tables: []Access{saveRequest, appendAudit, readJournal}}
	// Collecting keeps what it could not read as findings.
	CollectSource = Function{Name: "collect-source", Task: true, Tables: []Access{readRequest, appendAudit, keepFindings}}
	// Finishing a large source adds up what its objects' tasks journaled.
	FinishLargeSource = Function{Name: "finish-large-source", Task: true, Tables: []Access{readRequest, appendAudit, putOutcome, journal}}
	// The package says what could not be read.
	BuildPackage = Function{Name: "build-package", Task: true, Tables: []Access{saveRequest, appendAudit, readFindings}}
	// Erasing journals each change and keeps what it could not erase.
	EraseSource = Function{Name: "erase-source", Task: true, Tables: []Access{readRequest, appendAudit, putOutcome, journal, keepFindings}}
	AwaitHold   = Function{Name: "await-hold", Task: true, Tables: []Access{saveRequest, appendAudit}}
	// The receipt task reads the outcomes, the findings and the chain's
	// head, and appends to the chain.
	WriteReceipt = Function{Name: "write-receipt", Task: true, Tables: []Access{readRequest, appendAudit,
		{Receipts, []string{GetItem, PutItem, Query}}}}
	// Waiting on findings keeps the task token beside them.
	AwaitFindings = Function{Name: "await-findings", Task: true, Tables: []Access{readRequest, appendAudit, keepFindings}}
	// Waiting on the owners of manual sources makes their tasks and keeps
	// the task token beside them, under the request (dynstore.ManualTasks).
	AwaitManualTasks  = Function{Name: "await-manual-tasks", Task: true, Tables: []Access{saveRequest, appendAudit}}
	AwaitReview       = Function{Name: "await-review", Task: true, Tables: []Access{saveRequest, appendAudit}}
	RecordSuppression = Function{Name: "record-suppression", Task: true, Tables: []Access{saveRequest, appendAudit,
		// Flags are set item by item, never removed.
		{Suppressions, []string{GetItem, UpdateItem}}}}
	ApplyCorrections = Function{Name: "apply-corrections", Task: true, Tables: []Access{saveRequest, appendAudit}}
	// Telling recipients keeps each delivery under the request (read and
	// put by key, as requests are), clears a correction's values once
	// passed on, and passes an erasure on only once no finding is open.
	TellRecipients = Function{Name: "tell-recipients", Task: true, Tables: []Access{saveRequest, appendAudit, readFindings}}
	// Closing a delete request reads its outcomes and findings for the
	// confirmation mail.
	CloseRequest = Function{Name: "close-request", Task: true, Tables: []Access{saveRequest, appendAudit,
		{Receipts, []string{GetItem, Query}}}}
	// The deadline watch also reminds the owners of manual sources (a fresh
	// link in each open task, under the request) and escalates their tasks.
	// CheckDeadline reads a delete's findings: open ones are a reason an
	// extension may state.
	CheckDeadline = Function{Name: "check-deadline", Task: true, Tables: []Access{saveRequest, appendAudit, readFindings}}
	// An erasure a mail asked for besides other requests reads whether
	// they are closed.
	CheckSiblings = Function{Name: "check-siblings", Task: true, Tables: []Access{readRequest}}
	// DeadlineReport runs on a schedule, outside the workflows: it counts
	// open requests through the status index.
	DeadlineReport = Function{Name: "deadline-report", Tables: []Access{{Requests, []string{Query}}}}
	// Sweeper runs on a schedule: it finds requests still received through
	// the status index and starts their workflows, or flags them.
	Sweeper = Function{Name: "sweeper", Tables: []Access{{Requests, []string{GetItem, PutItem, Query}}, appendAudit}}
	// Inbound runs for each mail the SES receipt rule receives: it makes
	// requests as the api does, audits each mail, and counts mailed
	// requests against the per-address limit.
	Inbound = Function{Name: "inbound", Tables: []Access{saveRequest, appendAudit, {Intake, []string{UpdateItem}}}}
)

// Functions are all Lambda functions, in the order a request meets them;
// each has its folder functions/<Name>/.
var Functions = []Function{
	API, Acknowledge, StartVerification, ResolveIdentities, CollectSource, FinishLargeSource, BuildPackage,
	EraseSource, AwaitHold, WriteReceipt, AwaitFindings, AwaitManualTasks, AwaitReview, RecordSuppression, ApplyCorrections,
	TellRecipients, CloseRequest, CheckDeadline, CheckSiblings, DeadlineReport, Sweeper, Inbound,
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

// Output is a stack output naming one of the pipeline's resources (or
// settings) for operators: `privacyctl --stack NAME` reads each output into
// the environment variable the functions read it from, so an operator needs
// no other setup than credentials for the stack's account.
type Output struct {
	Key    string // the CloudFormation output's logical id
	EnvVar string
}

// Outputs are every name privacyctl needs, as the stack outputs them.
var Outputs = []Output{
	{"RequestsTableName", Requests.EnvVar},
	{"AuditTableName", Audit.EnvVar},
	{"ReceiptsTableName", Receipts.EnvVar},
	{"IntakeTableName", Intake.EnvVar},
	{"SuppressionsTableName", Suppressions.EnvVar},
	{"ExportsBucketName", Exports.EnvVar},
	{"RawMailBucketName", RawMail.EnvVar},
	{"ReceiptAnchorsBucketName", ReceiptAnchors.EnvVar},
	{"OperatorInboxQueueUrl", OperatorInbox.EnvVar},
	{"RequestWorkflowArn", RequestWorkflow.EnvVar},
	{"DeadlineWatchArn", DeadlineWatch.EnvVar},
	{"ReceiptKeyArn", ReceiptKey.EnvVar},
	{"ApiUrl", "PUBLIC_BASE_URL"},
	{"MailFrom", "MAIL_FROM"},
	{"PrivacyInbox", "PRIVACY_INBOX"},
}
