// Package app wires the pipeline together from its configuration: AWS
// clients made once per process, the adapters, the portal and the workflow
// steps. Lambda mains and the local stack both build on it, so the code that
// runs locally is the code that runs in the cloud. A main links only what
// its function reaches (see App and Extras); the local stack takes every
// part (internal/app/full).
package app

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/privacy-pipeline/dsr/internal/accounts"
	"github.com/privacy-pipeline/dsr/internal/clock"
	"github.com/privacy-pipeline/dsr/internal/console"
	"github.com/privacy-pipeline/dsr/internal/dynsrc"
	"github.com/privacy-pipeline/dsr/internal/dynstore"
	"github.com/privacy-pipeline/dsr/internal/erasure"
	"github.com/privacy-pipeline/dsr/internal/httpapi"
	"github.com/privacy-pipeline/dsr/internal/i18n"
	"github.com/privacy-pipeline/dsr/internal/idempotency"
	"github.com/privacy-pipeline/dsr/internal/manualtask"
	"github.com/privacy-pipeline/dsr/internal/metrics"
	"github.com/privacy-pipeline/dsr/internal/notify"
	"github.com/privacy-pipeline/dsr/internal/operator"
	"github.com/privacy-pipeline/dsr/internal/policy"
	"github.com/privacy-pipeline/dsr/internal/portal"
	"github.com/privacy-pipeline/dsr/internal/ratelimit"
	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/resources"
	"github.com/privacy-pipeline/dsr/internal/s3anchors"
	"github.com/privacy-pipeline/dsr/internal/s3exports"
	"github.com/privacy-pipeline/dsr/internal/s3mail"
	"github.com/privacy-pipeline/dsr/internal/sesmail"
	"github.com/privacy-pipeline/dsr/internal/sfnflow"
	"github.com/privacy-pipeline/dsr/internal/snstopics"
	"github.com/privacy-pipeline/dsr/internal/sqsinbox"
	"github.com/privacy-pipeline/dsr/internal/statute"
	"github.com/privacy-pipeline/dsr/internal/webhook"
	"github.com/privacy-pipeline/dsr/internal/workflow"
)

// Config is everything that differs between deployments. It holds names and
// settings, no secrets.
type Config struct {
	RequestsTable string
	// AuditTable holds the audit log; ReceiptsTable what erasure did and
	// the receipt chain. A function is told only the tables it may use.
	AuditTable    string
	ReceiptsTable string
	// IntakeTable keeps idempotency records and rate-limit counters of the
	// API; without it the API neither honours Idempotency-Key nor limits.
	IntakeTable string
	// SuppressionsTable is the suppression list the company's systems read.
	SuppressionsTable string
	ExportsBucket     string
	StateMachineARN   string
	// WatchStateMachineARN is the deadline watch's state machine.
	WatchStateMachineARN string
	MailFrom             string
	// OperatorEmail receives reviews and escalations (optional).
	OperatorEmail string
	// ReviewTypes are the request types an operator approves before delivery.
	ReviewTypes []request.Type
	BaseURL     string
	// RegistryFile is the data-source registry: workflow tasks find the
	// subject's data with it, the API its account details for verification.
	RegistryFile string
	// PolicyFile is the company's own policy on top of the law (see
	// internal/policy); empty is the law alone.
	PolicyFile string
	// ReceiptKeyID is the KMS HMAC key (id, ARN or alias) whose derived
	// secret hashes the keys erasure receipts list; only erasure needs it.
	ReceiptKeyID string
	// RawMailBucket holds the mail received at the privacy inbox.
	RawMailBucket string
	// ReceiptAnchorsBucket keeps the receipt chain's anchors under Object
	// Lock; the receipt task writes them, privacyctl receipts verify reads them.
	ReceiptAnchorsBucket string
	// OperatorQueueURL is the operators' inbox for mail the rules could not
	// turn into a request.
	OperatorQueueURL string
	// InboxAddress is the privacy inbox's address; mail from it (or from
	// MailFrom) is never a request.
	InboxAddress string
	// InboundJurisdiction applies to a mailed request that names no law.
	InboundJurisdiction string
	// TimeScale compresses workflow waits (see clock.Scale).
	TimeScale clock.Scale
	// S3PathStyle addresses buckets by path, as local S3 emulators need.
	S3PathStyle bool
	// LargeSourceMinObjects: an S3 source with more objects is worked one
	// object per task in a Distributed Map (0: never).
	LargeSourceMinObjects int
	// PermissionRetentionDays keeps an agent's signed permission that many
	// days after its request closes (0: deleted at the close).
	PermissionRetentionDays int
	// MetricsOut receives embedded-metric-format lines; nil is stdout, where
	// Lambda's log pipeline picks them up.
	MetricsOut io.Writer

	VerificationPeriod time.Duration
	VerifyLinkTTL      time.Duration
	DownloadTTL        time.Duration
	PresignTTL         time.Duration

	// ClientLimit bounds the POST requests of one client address, and
	// IdentityLimit the submissions for one email address.
	ClientLimit   ratelimit.Rule
	IdentityLimit ratelimit.Rule
	// IdempotencyTTL is how long an answer is kept for its Idempotency-Key,
	// IdempotencyLease how long a submission holds its key before a retry
	// may take it over (zero: idempotency.DefaultLease).
	IdempotencyTTL   time.Duration
	IdempotencyLease time.Duration
	// SweepMinAge is how long a request stays received, unchanged, before
	// the sweeper takes it for lost (zero: sweeper.DefaultMinAge). Only
	// local runs that last minutes shorten it.
	SweepMinAge time.Duration
}

// DefaultInboundJurisdiction applies to mail that names no law.
const DefaultInboundJurisdiction = "EU"

// Defaults for durations; the statutory clock will refine them per law.
const (
	DefaultVerificationPeriod = 30 * 24 * time.Hour
	DefaultDownloadTTL        = 7 * 24 * time.Hour
	DefaultPresignTTL         = 5 * time.Minute
)

// Default rate limits: generous for people, tight for scripts. Requests are
// rare for one person; a mailbox should not get more than a few
// verification mails a day from strangers' submissions.
var (
	DefaultClientLimit   = ratelimit.Rule{Limit: 30, Window: time.Hour}
	DefaultIdentityLimit = ratelimit.Rule{Limit: 10, Window: 24 * time.Hour}
)

// ConfigFromEnv reads the configuration from environment variables.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		RequestsTable:         getenv(resources.Requests.EnvVar),
		AuditTable:            getenv(resources.Audit.EnvVar),
		ReceiptsTable:         getenv(resources.Receipts.EnvVar),
		IntakeTable:           getenv(resources.Intake.EnvVar),
		SuppressionsTable:     getenv(resources.Suppressions.EnvVar),
		ExportsBucket:         getenv(resources.Exports.EnvVar),
		StateMachineARN:       getenv(resources.RequestWorkflow.EnvVar),
		WatchStateMachineARN:  getenv(resources.DeadlineWatch.EnvVar),
		MailFrom:              getenv("MAIL_FROM"),
		OperatorEmail:         getenv("OPERATOR_EMAIL"),
		BaseURL:               getenv("PUBLIC_BASE_URL"),
		RegistryFile:          getenv("REGISTRY_FILE"),
		PolicyFile:            getenv("POLICY_FILE"),
		ReceiptKeyID:          getenv(resources.ReceiptKey.EnvVar),
		RawMailBucket:         getenv(resources.RawMail.EnvVar),
		ReceiptAnchorsBucket:  getenv(resources.ReceiptAnchors.EnvVar),
		OperatorQueueURL:      getenv(resources.OperatorInbox.EnvVar),
		InboxAddress:          getenv("PRIVACY_INBOX"),
		InboundJurisdiction:   cmp.Or(getenv("INBOUND_JURISDICTION"), DefaultInboundJurisdiction),
		TimeScale:             1,
		S3PathStyle:           getenv("S3_FORCE_PATH_STYLE") == "true",
		LargeSourceMinObjects: workflow.DefaultLargeMinObjects,
		VerificationPeriod:    DefaultVerificationPeriod,
		VerifyLinkTTL:         DefaultVerificationPeriod,
		DownloadTTL:           DefaultDownloadTTL,
		PresignTTL:            DefaultPresignTTL,
		ClientLimit:           DefaultClientLimit,
		IdentityLimit:         DefaultIdentityLimit,
		IdempotencyTTL:        idempotency.DefaultTTL,
	}
	for name, rule := range map[string]*ratelimit.Rule{"RATE_LIMIT_CLIENT": &c.ClientLimit, "RATE_LIMIT_IDENTITY": &c.IdentityLimit} {
		if s := getenv(name); s != "" {
			r, err := ratelimit.ParseRule(s)
			if err != nil {
				return Config{}, fmt.Errorf("%s: %w", name, err)
			}
			*rule = r
		}
	}
	if s := getenv("IDEMPOTENCY_TTL"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < time.Minute {
			return Config{}, fmt.Errorf("IDEMPOTENCY_TTL must be a duration of at least 1m, got %q", s)
		}
		c.IdempotencyTTL = d
	}
	if s := getenv("LARGE_SOURCE_MIN_OBJECTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return Config{}, fmt.Errorf("LARGE_SOURCE_MIN_OBJECTS must be a whole number >= 0, got %q", s)
		}
		c.LargeSourceMinObjects = n
	}
	if s := getenv(resources.PermissionRetentionEnvVar); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > resources.MaxPermissionRetentionDays {
			return Config{}, fmt.Errorf("%s must be a whole number of days from 0 to %d, got %q", resources.PermissionRetentionEnvVar, resources.MaxPermissionRetentionDays, s)
		}
		c.PermissionRetentionDays = n
	}
	if s := getenv("TIME_SCALE"); s != "" {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f < 1 {
			return Config{}, fmt.Errorf("TIME_SCALE must be a number >= 1, got %q", s)
		}
		c.TimeScale = clock.Scale(f)
	}
	for _, t := range strings.Split(getenv("REVIEW_TYPES"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			c.ReviewTypes = append(c.ReviewTypes, request.Type(t))
		}
	}
	for name, v := range map[string]string{
		resources.Requests.EnvVar: c.RequestsTable, resources.Exports.EnvVar: c.ExportsBucket,
		"MAIL_FROM": c.MailFrom, "PUBLIC_BASE_URL": c.BaseURL,
	} {
		if v == "" {
			return Config{}, fmt.Errorf("%s is not set", name)
		}
	}
	return c, nil
}

// App holds the wired components of one process. What every function uses
// is made by New; the workflow steps and the operators' inbox are made on
// first use (see part), and the readers of S3 sources and the receipt key
// come from packages of their own (see Extras): a function's binary links
// only what its handler reaches.
type App struct {
	cfg      Config
	awsCfg   aws.Config
	extras   Extras
	ddb      *dynamodb.Client
	s3       *s3.Client
	sfn      *sfn.Client
	intake   *dynstore.Intake
	log      *slog.Logger
	store    *dynstore.Store
	mailer   *sesmail.Sender
	portal   *portal.Portal
	workflow *sfnflow.Workflow
	metrics  *metrics.EMF
	receipts *dynstore.Receipts
	findings *dynstore.Findings
	tasks    *dynstore.ManualTasks
	exports  *s3exports.Store
	progress *dynstore.Progress
	anchors  *s3anchors.Store // nil when no anchor bucket is configured
	rawMail  *s3mail.Store
	rules    *statute.Rules
	policy   *policy.Policy     // nil: the law alone
	registry *registry.Registry // nil when none is configured

	stepsPart   part[*workflow.Steps]
	inboxPart   part[*sqsinbox.Queue]
	secretsPart part[*webhook.SecretStore]
	topicsPart  part[*snstopics.Topics]
}

// part is a component made on first use. The linker leaves out what no
// reachable code calls, so a main whose handler never asks for a part
// does not carry it, nor the clients and libraries it wires in.
type part[T any] struct {
	once  sync.Once
	value T
}

func (p *part[T]) get(make func() T) T {
	p.once.Do(func() { p.value = make() })
	return p.value
}

// LoadAWS returns the AWS configuration from the environment (region,
// credentials, AWS_ENDPOINT_URL for local stacks).
func LoadAWS(ctx context.Context) (aws.Config, error) {
	return config.LoadDefaultConfig(ctx)
}

// New wires an App. Clients are made once per process, not per invocation.
func New(cfg Config, awsCfg aws.Config, log *slog.Logger, extras Extras) (*App, error) {
	ddb := dynamodb.NewFromConfig(awsCfg)
	s3c := s3.NewFromConfig(awsCfg, func(o *s3.Options) { o.UsePathStyle = cfg.S3PathStyle })
	exports := s3exports.New(s3c, cfg.ExportsBucket)
	store := dynstore.NewStore(ddb, cfg.RequestsTable, cfg.AuditTable)
	clk := clock.System{}
	rules, err := statute.Load()
	if err != nil {
		return nil, err
	}
	sfnc := sfn.NewFromConfig(awsCfg)
	a := &App{cfg: cfg, awsCfg: awsCfg, extras: extras, ddb: ddb, s3: s3c, sfn: sfnc, log: log, store: store, rules: rules,
		metrics:  metrics.NewEMF(cmp.Or[io.Writer](cfg.MetricsOut, os.Stdout)),
		workflow: sfnflow.New(sfnc, cfg.StateMachineARN),
		rawMail:  s3mail.New(s3c, cfg.RawMailBucket, resources.InboundMailPrefix)}
	a.mailer = sesmail.New(sesv2.NewFromConfig(awsCfg), cfg.MailFrom, clk)
	a.portal = &portal.Portal{
		Store:              store,
		Mailer:             a.mailer,
		Workflow:           a.workflow,
		Presigner:          exports,
		Permissions:        exports,
		Statute:            rules,
		ReviewTypes:        cfg.ReviewTypes,
		Clock:              clk,
		BaseURL:            cfg.BaseURL,
		VerificationPeriod: cfg.VerificationPeriod,
		TimeScale:          cfg.TimeScale,
		PresignTTL:         cfg.PresignTTL,
		Log:                log,
	}
	if cfg.IntakeTable != "" {
		a.intake = dynstore.NewIntake(ddb, cfg.IntakeTable)
		a.portal.IdentityLimit = &ratelimit.Limiter{Name: "identity", Rule: cfg.IdentityLimit, Counter: a.intake, Clock: clk}
	}
	a.receipts = dynstore.NewReceipts(ddb, cfg.ReceiptsTable).RefuseUnmovedChain(cfg.RequestsTable)
	// What erasure could not handle, and its journal, are erasure's
	// records too: kept where the functions that serve the public cannot
	// change them.
	a.findings = dynstore.NewFindings(ddb, cfg.ReceiptsTable)
	a.progress = dynstore.NewProgress(ddb, cfg.ReceiptsTable, clk.Now)
	a.exports = exports
	if cfg.ReceiptAnchorsBucket != "" {
		a.anchors = s3anchors.New(s3c, cfg.ReceiptAnchorsBucket)
	}
	levels, err := statute.LoadVerification(rules)
	if err != nil {
		return nil, err
	}
	if cfg.PolicyFile != "" {
		if a.policy, err = policy.LoadFile(cfg.PolicyFile, KnownToPolicy()); err != nil {
			return nil, err
		}
	}
	a.portal.Policy = a.policy
	a.portal.Levels = levels
	if cfg.RegistryFile != "" {
		if a.registry, err = registry.LoadFile(cfg.RegistryFile); err != nil {
			return nil, err
		}
		// Details a requester gives are checked against the account source.
		if acc := accounts.New(a.registry, dynsrc.New(ddb)); acc != nil {
			a.portal.Accounts = acc
		}
		a.portal.SensitiveData = a.registry.HoldsSensitive()
		a.portal.Correctable = a.registry.Correctable()
	}
	// The tasks of manual sources live under their requests, read by key.
	var manual []string
	if a.registry != nil {
		for _, src := range a.registry.Sources {
			if src.Manual != nil {
				manual = append(manual, src.ID)
			}
		}
	}
	a.tasks = dynstore.NewManualTasks(ddb, cfg.RequestsTable, manual)
	return a, nil
}

// steps are the workflow's steps.
func (a *App) steps() *workflow.Steps { return a.stepsPart.get(a.newSteps) }

func (a *App) newSteps() *workflow.Steps {
	cfg, clk := a.cfg, clock.System{}
	var objects S3Sources = missing("the reader of S3 sources")
	if a.extras.S3Sources != nil {
		objects = a.extras.S3Sources(a.s3)
	}
	var keys workflow.KeyHasher = missing("the receipt key")
	if a.extras.ReceiptKeys != nil {
		keys = a.extras.ReceiptKeys(a.awsCfg, cfg.ReceiptKeyID)
	}
	steps := &workflow.Steps{
		Store:    a.store,
		Mailer:   a.mailer,
		Registry: a.registry,
		Adapters: map[string]workflow.SourceAdapter{
			"dynamodb": dynsrc.New(a.ddb),
			"s3":       objects,
		},
		Objects:         objects,
		LargeMinObjects: cfg.LargeSourceMinObjects,
		Exports:         a.exports,
		Outcomes:        a.receipts,
		Findings:        a.findings,
		ManualTasks:     a.tasks,
		Progress:        a.progress,
		Receipts:        a.receipts,
		KeyHasher:       keys,
		Clock:           clk,
		BaseURL:         cfg.BaseURL,
		VerifyLinkTTL:   cfg.VerifyLinkTTL,
		DownloadTTL:     cfg.DownloadTTL,
		Watch:           sfnflow.NewWatch(a.sfn, cfg.WatchStateMachineARN, a.store),
		WatchWaits:      a.store,
		WatchConsole:    consoleOf(a.awsCfg, cfg.WatchStateMachineARN),
		Metrics:         a.metrics,
		Scale:           cfg.TimeScale,
		NoticeLead:      workflow.DefaultNoticeLead,
		Policy:          a.policy,
		DecisionLead:    a.policy.DecisionLead(),
		OperatorEmail:   cfg.OperatorEmail,
		RawMail:         a.rawMail,
		Permissions:     a.exports,
		Rules:           a.rules,

		PermissionRetentionDays: cfg.PermissionRetentionDays,
	}
	steps.Webhooks = webhook.NewClient(a.secrets(), clk)
	steps.Topics = a.topics()
	steps.TaskAnswers = a.taskAnswers(steps.Mailer, steps.Topics)
	steps.Notices = dynstore.NewDeliveries(a.ddb, cfg.RequestsTable)
	if a.anchors != nil {
		steps.Anchors = a.anchors
	}
	if pol := a.policy; pol != nil {
		// Who the company names in its notices.
		if c := pol.LeadAuthority; c != nil {
			steps.LeadAuthority = notify.Authority{Name: c.Name, URL: c.Reach()}
		}
		if c := pol.DPO; c != nil {
			steps.DPO = notify.Authority{Name: c.Name, URL: c.Reach()}
		}
		steps.PrivacyNoticeURL = pol.PrivacyNoticeURL
	}
	steps.Slots = a.store
	steps.FollowUps = a.portal
	steps.Corrector = dynsrc.New(a.ddb)
	if cfg.SuppressionsTable != "" {
		steps.Suppressions = dynstore.NewSuppressions(a.ddb, cfg.SuppressionsTable)
	}
	return steps
}

// FromEnv wires an App from the environment, logging JSON to stdout.
func FromEnv(ctx context.Context, extras Extras) (*App, error) {
	log := NewLogger(os.Stdout)
	cfg, err := ConfigFromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	awsCfg, err := LoadAWS(ctx)
	if err != nil {
		return nil, err
	}
	return New(cfg, awsCfg, log, extras)
}

// NewLogger returns the JSON logger every process uses.
func NewLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// API returns the HTTP API handler.
func (a *App) API() http.Handler {
	var opts []httpapi.Option
	if a.intake != nil {
		clk := clock.System{}
		opts = append(opts,
			httpapi.WithIdempotency(&idempotency.Keeper{Store: a.intake, Clock: clk, TTL: a.cfg.IdempotencyTTL, Lease: a.cfg.IdempotencyLease}),
			httpapi.WithClientLimit(&ratelimit.Limiter{Name: "client", Rule: a.cfg.ClientLimit, Counter: a.intake, Clock: clk}))
	}
	if pol := a.portal.Policy; pol != nil && len(pol.Languages) > 0 {
		langs := make([]i18n.Lang, len(pol.Languages))
		for i, l := range pol.Languages {
			langs[i] = i18n.Lang(l)
		}
		opts = append(opts, httpapi.WithLanguages(langs))
	}
	// Owners of manual sources answer their tasks through their links.
	opts = append(opts, httpapi.WithTasks(a.TaskAnswers()))
	return httpapi.New(a.portal, a.log, opts...)
}

// consoleOf is arn where the AWS console shows it, and "" where AWS is an
// emulator at an endpoint of its own (the local stack, LocalStack).
func consoleOf(awsCfg aws.Config, arn string) string {
	if awsCfg.BaseEndpoint != nil {
		return ""
	}
	return arn
}

// ExecutionConsoleURL is the console page of the request workflow's
// execution named name, or "" where there is no console.
func (a *App) ExecutionConsoleURL(name string) string {
	machine := consoleOf(a.awsCfg, a.cfg.StateMachineARN)
	if machine == "" {
		return ""
	}
	return console.ExecutionURL(sfnflow.ExecutionARN(machine, name))
}

// Config returns the configuration the App was wired with.
func (a *App) Config() Config { return a.cfg }

// Registry returns the data-source registry; nil when none was configured.
func (a *App) Registry() *registry.Registry { return a.registry }

// PlanErasure says what erasing a verified delete request would do, changing nothing.
func (a *App) PlanErasure(ctx context.Context, id string) ([]erasure.Outcome, error) {
	return a.steps().PlanErasure(ctx, id)
}

// Receipts returns the erasure outcomes and the receipt chain.
func (a *App) Receipts() *dynstore.Receipts { return a.receipts }

// Anchors returns the receipt chain's anchors; false when no anchor bucket
// is configured.
func (a *App) Anchors() (*s3anchors.Store, bool) { return a.anchors, a.anchors != nil }

// Portal returns what data subjects do, as the API serves it.
func (a *App) Portal() *portal.Portal { return a.portal }

// MoveHistory moves the audit events and erasure records that earlier
// versions kept in the requests table into the audit and receipts tables
// (see dynstore.MoveHistory).
func (a *App) MoveHistory(ctx context.Context, remove bool) (dynstore.Moved, error) {
	return dynstore.MoveHistory(ctx, a.ddb, a.cfg.RequestsTable, a.cfg.AuditTable, a.cfg.ReceiptsTable, remove)
}

// Store returns the request store.
func (a *App) Store() *dynstore.Store { return a.store }

// Run is the whole body of a Lambda main: wire the App from the environment
// and serve the handler that pick selects. Only start-up failures exit.
func Run(pick func(*App) any) { RunWith(Extras{}, pick) }

// RunWith is Run for a function that uses some of the Extras.
func RunWith(extras Extras, pick func(*App) any) {
	a, err := FromEnv(context.Background(), extras)
	if err != nil {
		slog.Error("start-up failed", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(pick(a))
}

// Operator returns the operators' actions.
func (a *App) Operator() *operator.Operator {
	steps := a.steps()
	return &operator.Operator{Store: a.store, Workflow: a.workflow, Watch: steps.Watch, Mailer: steps.Mailer, Extender: steps, Clock: clock.System{},
		RawMail: steps, Findings: a.findings, Permissions: steps, Correctable: a.portal.Correctable, ManualWaits: a.tasks,
		Deliveries: a.Deliveries()}
}

// TaskAnswers records answers to the tasks of manual sources, from
// operators and from owners through their links.
func (a *App) TaskAnswers() *manualtask.Answerer { return a.taskAnswers(a.mailer, a.topics()) }

// taskAnswers is TaskAnswers telling owners through mailer and topics:
// webhook sources' callbacks hand tasks to owners, and need the secrets
// that sign them.
func (a *App) taskAnswers(mailer manualtask.Mailer, topics manualtask.Topics) *manualtask.Answerer {
	return &manualtask.Answerer{Store: a.tasks, Files: a.exports, Workflow: a.workflow, Audit: a.store, Clock: clock.System{},
		Registry: a.registry, Requests: a.store, Secrets: a.secrets(),
		Teller: manualtask.Teller{Mailer: mailer, Topics: topics, OperatorEmail: a.cfg.OperatorEmail, BaseURL: a.cfg.BaseURL}}
}

// secrets are the webhook secrets, read from SSM or Secrets Manager.
func (a *App) secrets() *webhook.SecretStore {
	return a.secretsPart.get(func() *webhook.SecretStore {
		return &webhook.SecretStore{SSM: ssm.NewFromConfig(a.awsCfg), SecretsManager: secretsmanager.NewFromConfig(a.awsCfg), Now: clock.System{}.Now}
	})
}

// topics publishes owners' tasks to their SNS topics.
func (a *App) topics() *snstopics.Topics {
	return a.topicsPart.get(func() *snstopics.Topics { return snstopics.New(sns.NewFromConfig(a.awsCfg)) })
}

// Deliveries returns what recipients were told of each request.
func (a *App) Deliveries() *dynstore.Deliveries {
	return dynstore.NewDeliveries(a.ddb, a.cfg.RequestsTable)
}

// ManualTasks returns the store of the tasks of manual sources.
func (a *App) ManualTasks() *dynstore.ManualTasks { return a.tasks }

// Reports returns the operators' reports.
func (a *App) Reports() *operator.Reports {
	return &operator.Reports{Store: a.store, Clock: clock.System{}}
}

// KnownToPolicy is what a policy file may name: the catalogue's languages
// and the request types.
func KnownToPolicy() policy.Known {
	var k policy.Known
	for _, l := range i18n.Supported {
		k.Languages = append(k.Languages, string(l))
	}
	for _, t := range request.AllTypes {
		k.RequestTypes = append(k.RequestTypes, string(t))
	}
	return k
}
