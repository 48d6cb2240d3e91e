// Package workflow holds the steps of the request workflow that run as Lambda
// tasks in the state machine (statemachines/request.asl.json). Each step takes
// and returns ids only; everything personal is read from and written to the
// store and the buckets.
package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/privacy-pipeline/dsr/internal/accesspkg"
	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/clock"
	"github.com/privacy-pipeline/dsr/internal/erasure"
	"github.com/privacy-pipeline/dsr/internal/links"
	"github.com/privacy-pipeline/dsr/internal/manualtask"
	"github.com/privacy-pipeline/dsr/internal/metrics"
	"github.com/privacy-pipeline/dsr/internal/notify"
	"github.com/privacy-pipeline/dsr/internal/policy"
	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/s3exports"
	"github.com/privacy-pipeline/dsr/internal/secret"
	"github.com/privacy-pipeline/dsr/internal/statute"
	"github.com/privacy-pipeline/dsr/internal/suppression"
	"github.com/privacy-pipeline/dsr/internal/webhook"
)

// Store keeps requests and their audit log.
type Store interface {
	Get(ctx context.Context, id string) (*request.Request, error)
	Save(ctx context.Context, r *request.Request, ev request.Event) error
	Record(ctx context.Context, id string, ev request.Event) error
}

// Mailer sends a message to a subject.
type Mailer interface {
	Send(ctx context.Context, m notify.Message) error
}

// SourceAdapter finds a subject's records in one kind of source and erases
// them as the source's erasure mode says (delete or anonymize); in a dry run
// it reports what it would do and changes nothing.
type SourceAdapter interface {
	// Find also returns the findings: places that may hold the subject but
	// could not be read or attributed (see erasure.Finding).
	Find(ctx context.Context, src *registry.Source, ids map[string][]string) ([]map[string]any, []erasure.Finding, error)
	// Erase writes each change down in the journal (nil in a dry run)
	// before it makes it, and marks it done after.
	Erase(ctx context.Context, src *registry.Source, ids map[string][]string, dryRun bool, j erasure.Journal) (erasure.Result, error)
	Applier
}

// Exports keeps collected records and access packages.
type Exports interface {
	PutPart(ctx context.Context, requestID, sourceID string, records []map[string]any) error
	// EachRecord reads a part a record at a time: a package is built
	// without holding a source whole.
	EachRecord(ctx context.Context, requestID, sourceID string, yield func(map[string]any) error) error
	DeletePart(ctx context.Context, requestID, sourceID string) error
	HasPart(ctx context.Context, requestID, sourceID string) (bool, error)
	// NewPackage returns where a package is streamed to, and its key.
	NewPackage(ctx context.Context, requestID string) (s3exports.PackageWriter, string)
	// Object results are what per-object tasks found or did, until their
	// source is finished.
	PutObjectResult(ctx context.Context, requestID, sourceID, objectKey string, result []byte) error
	ObjectResults(ctx context.Context, requestID, sourceID string) ([][]byte, error)
	DeleteObjectResults(ctx context.Context, requestID, sourceID string) error
	// The exports the owners of manual sources uploaded.
	ManualExport(ctx context.Context, key string) (io.ReadCloser, error)
	DeleteManualExport(ctx context.Context, key string) error
	MarkHeld(ctx context.Context, requestID, sourceID string) error
	Held(ctx context.Context, requestID, sourceID string) (bool, error)
	ClearHeld(ctx context.Context, requestID string, sourceIDs []string) error
}

// RawMail holds the raw messages of requests that came by email.
type RawMail interface {
	Delete(ctx context.Context, key string) error
}

// Permissions holds the signed permissions agents upload, often scans of
// identity documents.
type Permissions interface {
	// DeletePermission deletes one; one already gone is no error.
	DeletePermission(ctx context.Context, key string) error
	// ExpirePermission leaves one to the bucket's lifecycle rule, which
	// deletes it the retention's days from now.
	ExpirePermission(ctx context.Context, key, mediaType string) error
}

// Steps carries out the workflow's tasks.
type Steps struct {
	Store    Store
	Mailer   Mailer
	Registry *registry.Registry
	Adapters map[string]SourceAdapter // by source kind: "dynamodb", "s3"
	// Objects works S3 sources object by object; LargeMinObjects is how
	// many objects make a source large (0: none is), LargeMinBytes how
	// many bytes do (0: DefaultLargeMinBytes).
	Objects         ObjectSource
	LargeMinObjects int
	LargeMinBytes   int64
	Exports         Exports
	// Outcomes keeps what erasure did in each source of a request.
	Outcomes Outcomes
	// Findings keeps what the sources held that could not be handled.
	Findings Findings
	// ManualTasks keeps the tasks of manual sources; Topics tells the
	// owners who are SNS topics (nil where none is).
	ManualTasks ManualTasks
	Topics      Topics
	// Webhooks calls the endpoints of webhook sources and of the
	// recipients told of a request (see internal/webhook).
	Webhooks Caller
	// Progress is the erasure journal.
	Progress Progress
	// KeyHasher hashes the keys erasure touched for the receipt; without one
	// the receipt lists no keys.
	KeyHasher KeyHasher
	// Receipts is the chain of erasure receipts.
	Receipts Receipts
	// Anchors keeps each receipt's hash beyond reach of change; without
	// them only the chain itself vouches for its receipts.
	Anchors Anchors
	// Suppressions is the list the company's systems read (opt-outs,
	// limits, restrictions, objections).
	Suppressions suppression.Store
	// Slots finds an open request asking for the same; without
	// it every request goes on by itself.
	Slots Slots
	// Corrector applies correction requests to the profile source.
	Corrector Corrector
	Clock     clock.Clock
	// BaseURL is the public address of the HTTP API, for links in mail.
	BaseURL string
	// VerifyLinkTTL is how long a verification link works.
	VerifyLinkTTL time.Duration
	// DownloadTTL is how long a download link works.
	DownloadTTL time.Duration

	Watch Watch
	// WatchWaits keeps the token of the wait each deadline watch is in.
	WatchWaits WatchWaits
	// WatchConsole is the deadline watch's state machine ARN, whose
	// executions the overdue mail links in the console; empty where there
	// is no console.
	WatchConsole string
	Metrics      Metrics
	// Scale compresses the deadline watch's waits (see clock.Scale).
	Scale clock.Scale
	// NoticeLead is how long before its last day the extension notice goes out.
	NoticeLead time.Duration
	// DecisionLead is how long before the notice point the operators are
	// asked whether to extend: the law allows an extension only where it is
	// necessary, which only a person can judge (the policy's
	// ask_extension_days_before).
	DecisionLead time.Duration
	// Policy is the company's own policy on top of the law; nil is the law
	// alone.
	Policy *policy.Policy
	// OperatorEmail receives reviews and escalations; empty sends none.
	OperatorEmail string
	// RawMail deletes a request's raw message when the request closes.
	RawMail RawMail
	// Permissions deletes an agent's signed permission when its request
	// closes, or PermissionRetentionDays later.
	Permissions             Permissions
	PermissionRetentionDays int

	// Rules are the statutory rules, which say what each notice to a
	// subject must carry; nil: the rules file the project embeds.
	Rules *statute.Rules
	// LeadAuthority is the supervisory authority the company names as its
	// lead (GDPR Art 56), named in notices under a law with no single
	// authority (EU) before the member states' authorities; empty: only
	// those are pointed to (Art 77).
	LeadAuthority notify.Authority
	// PrivacyNoticeURL is the address of the company's privacy notice, which
	// a notice refers to where the law says so (CCPA Regs §7024); empty: the
	// notice is named without an address.
	PrivacyNoticeURL string
	// DPO is the company's data protection officer, named in decisions.
	DPO notify.Authority
	// FollowUps makes the request that carries out a granted appeal.
	FollowUps FollowUps
}

// Task inputs and outputs. They carry ids only.
type (
	// VerificationTask starts verification; TaskToken resumes the workflow.
	VerificationTask struct {
		RequestID string `json:"request_id"`
		TaskToken string `json:"task_token"`
	}
	// RequestRef names a request.
	RequestRef struct {
		RequestID string `json:"request_id"`
	}
	// Plan lists the sources to visit.
	Plan struct {
		// Sources are worked one task each.
		Sources []string `json:"sources"`
		// Large are worked one object per task, one source after the
		// other (see large.go). Never null, so the state machine can test
		// its first element.
		Large []LargeSource `json:"large"`
		// Next is Large[0], or null: the state machine reads its fields
		// ($.plan.next.bucket), because the local interpreter returns a
		// field of an array element ($.plan.large[0].bucket) as a list.
		Next *LargeSource `json:"next"`
	}
	// SourceTask names one source of one request and, for a large source,
	// one object of it.
	SourceTask struct {
		RequestID string `json:"request_id"`
		SourceID  string `json:"source_id"`
		Key       string `json:"key,omitempty"`
	}
	// SourceResult counts what one source held.
	SourceResult struct {
		SourceID string `json:"source_id"`
		Records  int    `json:"records"`
	}
)

const actor = "system"

func (s *Steps) load(ctx context.Context, id string) (*request.Request, error) {
	if !request.ValidID(id) {
		return nil, apperr.E(apperr.Invalid, "The task input has no valid request id.")
	}
	r, err := s.Store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	// An operator's cancel ends the workflow where it is: a step that comes
	// after it does nothing and says so, and the state machine catches
	// RequestCancelled into a Succeed state. (A request joined to another is
	// cancelled by its own workflow, which has ended already.)
	if r.Status == request.Cancelled && r.JoinedTo == "" {
		return nil, apperr.Wrap(apperr.Conflict, "The request was cancelled.", request.ErrCancelled)
	}
	return r, nil
}

// move changes the status of r (if it differs) and saves it with the
// change's audit event.
func (s *Steps) move(ctx context.Context, r *request.Request, to request.Status, action, note string) error {
	ev, err := r.Move(to, s.Clock.Now(), actor, action, note)
	if err != nil {
		return err
	}
	return s.Store.Save(ctx, r, ev)
}

// StartVerification mails the subject a single-use confirmation link and a
// short code that does the same, and records the task token that the
// confirmation will resume. Only hashes of the link's token and of the code
// are stored. A new start (a retry, a redrive) issues a fresh pair and clears
// the count of wrong attempts.
func (s *Steps) StartVerification(ctx context.Context, in VerificationTask) error {
	r, err := s.load(ctx, in.RequestID)
	if err != nil {
		return err
	}
	if in.TaskToken == "" {
		return apperr.E(apperr.Invalid, "The task input has no task token.")
	}
	token, code := secret.NewToken(), secret.NewCode()
	r.Verification.TokenHash = secret.Hash(token)
	r.Verification.CodeHash = secret.CodeHash(r.ID, code)
	r.Verification.ExpiresAt = s.Clock.Now().Add(s.VerifyLinkTTL)
	r.Verification.Failures, r.Verification.Locked = 0, false
	r.Verification.TaskToken = in.TaskToken
	if err := s.move(ctx, r, request.PendingVerification, "verification_sent", ""); err != nil {
		return err
	}
	public := links.Base(s.BaseURL)
	link, codePage := public.Verify(r.ID, token, r.Language), public.Code(r.ID, r.Language)
	var msg notify.Message
	if r.Agent.Email != "" {
		// To the subject, never the agent: the subject confirms the agent's
		// authority directly.
		msg, err = notify.VerificationForAgent(r.Language, r.Email, r.ID, string(r.Type), r.Agent.Email, link, secret.FormatCode(code), codePage, r.Verification.ExpiresAt, r.Correction.Values.Fields())
	} else {
		msg, err = notify.Verification(r.Language, r.Email, r.ID, string(r.Type), link, secret.FormatCode(code), codePage, r.Verification.ExpiresAt, r.Correction.Values.Fields())
	}
	if err != nil {
		return apperr.Wrap(apperr.Internal, "The verification message could not be written.", err)
	}
	return s.Mailer.Send(ctx, msg)
}

// resolve walks the registry from an email, and from the identities known
// already, to every identity the sources provide. It reads; it stores
// nothing.
func (s *Steps) resolve(ctx context.Context, email string, known map[string][]string) (map[string][]string, error) {
	ids := map[string][]string{registry.StartIdentity: {email}}
	for kind, values := range known {
		for _, v := range values {
			if !slices.Contains(ids[kind], v) {
				ids[kind] = append(ids[kind], v)
			}
		}
	}
	// asked counts, per source, the lookup values it was last asked with: a
	// source is asked again only when its lookup identities grew.
	asked := map[string]int{}
	for range maxChainDepth(s.Registry) {
		grew := false
		for _, src := range s.Registry.Sources {
			if len(src.Provides) == 0 {
				continue
			}
			n := 0
			for _, kind := range src.LookupIdentities() {
				n += len(ids[kind])
			}
			if n == 0 || n == asked[src.ID] {
				continue
			}
			asked[src.ID] = n
			// What it cannot read is reported when the source is collected
			// or erased.
			records, _, err := s.adapter(src).Find(ctx, src, ids)
			if err != nil {
				return nil, err
			}
			for kind, field := range src.Provides {
				for _, rec := range records {
					if v := identityValue(rec[field]); v != "" && !slices.Contains(ids[kind], v) {
						ids[kind] = append(ids[kind], v)
						grew = true
					}
				}
			}
		}
		if !grew {
			break
		}
	}
	return ids, nil
}

// identityValue is a record field's value as an identity: a string, or a
// number (a numeric account id) by its digits; anything else is none.
func identityValue(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return ""
}

// maxChainDepth bounds the identity walk; a registry cannot chain further
// than it has sources.
func maxChainDepth(r *registry.Registry) int { return len(r.Sources) + 1 }

// ResolveIdentities walks the registry from the verified email to every
// identity the sources provide (email -> user id -> ...), stores them on the
// request and returns the sources to visit. A redriven deletion resolves
// again after erasure may have deleted the very records that led to some
// identities (the account that gave the user id): those a source erasure
// changed provided are kept and walked from, so the sources not yet erased
// still find the subject by them. The others are resolved afresh, so an
// identity an operator corrected in a source before the redrive is the
// corrected one.
func (s *Steps) ResolveIdentities(ctx context.Context, in RequestRef) (Plan, error) {
	r, err := s.load(ctx, in.RequestID)
	if err != nil {
		return Plan{}, err
	}
	known, err := s.erasedIdentities(ctx, r)
	if err != nil {
		return Plan{}, err
	}
	ids, err := s.resolve(ctx, r.Email, known)
	if err != nil {
		return Plan{}, err
	}
	r.Identities = ids
	plan, err := s.plan(ctx, r)
	if err != nil {
		return Plan{}, err
	}
	if err := s.clearLargeWork(ctx, r, plan); err != nil {
		return Plan{}, err
	}
	firstTime := r.Status == request.Verified // not again after a redrive
	if err := s.move(ctx, r, request.InProgress, "identities_resolved", fmt.Sprintf("identity_kinds=%d", len(ids))); err != nil {
		return Plan{}, err
	}
	if firstTime {
		s.Metrics.Count(metrics.Verified, r)
	}
	return plan, nil
}

// erasedIdentities are the identities a deletion resolved before that
// sources erasure has changed provided: their records may be gone, and
// resolving cannot find them again.
func (s *Steps) erasedIdentities(ctx context.Context, r *request.Request) (map[string][]string, error) {
	if r.Type != request.Delete || len(r.Identities) == 0 {
		return nil, nil
	}
	known := map[string][]string{}
	for _, src := range s.Registry.Sources {
		if len(src.Provides) == 0 {
			continue
		}
		entries, err := s.Progress.Entries(ctx, r.ID, src.ID, "")
		if err != nil {
			return nil, err
		}
		if len(entries) == 0 {
			continue
		}
		for kind := range src.Provides {
			known[kind] = r.Identities[kind]
		}
	}
	return known, nil
}

func (s *Steps) adapter(src *registry.Source) SourceAdapter { return s.Adapters[src.Kind()] }

func (s *Steps) source(id string) (*registry.Source, error) {
	src := s.Registry.Source(id)
	if src == nil {
		return nil, apperr.E(apperr.Invalid, "The task names a source that is not in the registry.")
	}
	return src, nil
}

// CollectSource stores the subject's records from one source for packaging.
func (s *Steps) CollectSource(ctx context.Context, in SourceTask) (SourceResult, error) {
	r, err := s.load(ctx, in.RequestID)
	if err != nil {
		return SourceResult{}, err
	}
	src, err := s.source(in.SourceID)
	if err != nil {
		return SourceResult{}, err
	}
	if in.Key != "" {
		return s.collectObject(ctx, r, src, in.Key)
	}
	records, findings, err := s.adapter(src).Find(ctx, src, r.Identities)
	if err != nil {
		return SourceResult{}, err
	}
	if err := s.recordFindings(ctx, r, src, findings); err != nil {
		return SourceResult{}, err
	}
	if err := s.Exports.PutPart(ctx, r.ID, src.ID, src.Exported(records)); err != nil {
		return SourceResult{}, err
	}
	return SourceResult{SourceID: src.ID, Records: len(records)}, nil
}

// BuildPackage zips the collected records with a manifest into the exports
// bucket and removes the work files.
func (s *Steps) BuildPackage(ctx context.Context, in RequestRef) error {
	r, err := s.load(ctx, in.RequestID)
	if err != nil {
		return err
	}
	if r.Delivery.ExportKey != "" {
		// Built and recorded by an earlier attempt that timed out while it
		// removed the work files, some of which are gone: only their
		// removal is left.
		return s.deleteParts(ctx, r)
	}
	tasks, err := s.openManualTasks(ctx, r)
	if err != nil {
		return err
	}
	findings, err := s.Findings.Findings(ctx, r.ID)
	if err != nil {
		return err
	}
	var sources []accesspkg.SourceRecords
	for _, src := range s.Registry.Sources {
		if src.Manual != nil {
			// Only the sources asked, as their owners answered: an export,
			// or nothing held.
			i := slices.IndexFunc(tasks, func(t manualtask.Task) bool { return t.SourceID == src.ID })
			if i < 0 {
				continue
			}
			sr := accesspkg.SourceRecords{Source: src}
			if e := tasks[i].Export; e != nil && tasks[i].Status == manualtask.Done {
				sr.File = &accesspkg.File{Ext: e.Ext, MediaType: e.MediaType,
					Open: func() (io.ReadCloser, error) { return s.Exports.ManualExport(ctx, e.Key) }}
			}
			sources = append(sources, sr)
			continue
		}
		unreadable := 0
		for _, f := range findings {
			if f.SourceID == src.ID {
				unreadable += 1 + f.More
			}
		}
		sources = append(sources, accesspkg.SourceRecords{Source: src, Unreadable: unreadable,
			Records: func(yield func(map[string]any) error) error { return s.Exports.EachRecord(ctx, r.ID, src.ID, yield) }})
	}
	// Streamed from the parts into the bucket: no source is held whole, no
	// file is written.
	pkg, key := s.Exports.NewPackage(ctx, r.ID)
	m, err := accesspkg.Stream(pkg, r.ID, string(r.Type), r.Language, s.Clock.Now(), sources)
	if err == nil {
		err = pkg.Close()
	}
	if err != nil {
		pkg.Abort()
		var ae *apperr.Error
		if errors.As(err, &ae) { // the parts or the bucket
			return err
		}
		return apperr.Wrap(apperr.Internal, "The package could not be written.", err)
	}
	total := 0
	for _, ms := range m.Sources {
		total += ms.Records
	}
	r.Delivery.ExportKey = key
	if err := s.move(ctx, r, r.Status, "package_built", fmt.Sprintf("sources=%d records=%d", len(m.Sources), total)); err != nil {
		return err
	}
	return s.deleteParts(ctx, r)
}

// deleteParts removes the work files of a request whose package is built;
// one already gone is no error.
func (s *Steps) deleteParts(ctx context.Context, r *request.Request) error {
	for _, src := range s.Registry.Automated() {
		if err := s.Exports.DeletePart(ctx, r.ID, src.ID); err != nil {
			return err
		}
	}
	if s.ManualTasks == nil || len(s.Registry.Manual(string(r.Type))) == 0 {
		return nil
	}
	tasks, err := s.ManualTasks.Tasks(ctx, r.ID)
	if err != nil {
		return err
	}
	for _, t := range tasks {
		if t.Export != nil {
			if err := s.Exports.DeleteManualExport(ctx, t.Export.Key); err != nil {
				return err
			}
		}
	}
	return nil
}

// Caller makes signed webhook calls (see webhook.Client).
type Caller interface {
	Call(ctx context.Context, ep webhook.Endpoint, body []byte, check func(webhook.Reply) error) (webhook.Reply, error)
}
