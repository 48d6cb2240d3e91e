// Package portal is what a data subject can do over the web: submit a request,
// follow its status, confirm it through the emailed link and download the
// answer. Every read is authorized by a token; a wrong token and an unknown
// request get the same answer, so nothing can be learnt by guessing.
package portal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/clock"
	"github.com/privacy-pipeline/dsr/internal/links"
	"github.com/privacy-pipeline/dsr/internal/notify"
	"github.com/privacy-pipeline/dsr/internal/policy"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/secret"
	"github.com/privacy-pipeline/dsr/internal/sfnflow"
	"github.com/privacy-pipeline/dsr/internal/statute"
)

// Store keeps requests and their audit log.
type Store interface {
	Get(ctx context.Context, id string) (*request.Request, error)
	Save(ctx context.Context, r *request.Request, ev request.Event) error
}

// Workflow starts and resumes request workflows.
type Workflow interface {
	Start(ctx context.Context, in sfnflow.Input) error
	Resume(ctx context.Context, taskToken string) error
}

// Statute computes the statutory deadlines of a request and says which
// requests each law gives.
type Statute interface {
	Compute(in statute.Input) (statute.Deadlines, error)
	Grants(jurisdiction, typ string) (granted, verification bool)
}

// Mailer tells the subject.
type Mailer interface {
	Send(ctx context.Context, m notify.Message) error
}

// Presigner makes short-lived download URLs for access packages.
type Presigner interface {
	PresignPackage(ctx context.Context, key string, ttl time.Duration) (string, error)
}

// Limiter counts requests per subject and refuses those over its limit.
type Limiter interface {
	Allow(ctx context.Context, subject string) error
}

// Portal serves data subjects.
type Portal struct {
	Store     Store
	Workflow  Workflow
	Presigner Presigner
	Mailer    Mailer
	// Permissions keeps the signed permissions authorized agents upload.
	Permissions Permissions
	// Levels give each request its verification level; Accounts holds the
	// details that levels above email are checked against. Without Levels
	// every request is verified by email alone.
	Levels   Levels
	Accounts Accounts
	// Policy is the company's own policy on top of the law; nil is the law
	// alone.
	Policy *policy.Policy
	// SensitiveData says the registry holds sensitive personal information,
	// which raises some levels.
	SensitiveData bool
	Statute       Statute
	Clock         clock.Clock
	// BaseURL is the public address of the HTTP API.
	BaseURL string
	// VerificationPeriod is the longest a request waits for the subject to
	// confirm, in statutory (real) time; it always ends before the due date,
	// so an unconfirmed request is closed, with a notice, in time.
	VerificationPeriod time.Duration
	// ReviewTypes are the request types an operator approves before delivery.
	ReviewTypes []request.Type
	// TimeScale compresses workflow waits (see clock.Scale).
	TimeScale clock.Scale
	// PresignTTL is how long a presigned download URL works.
	PresignTTL time.Duration
	// Correctable are the profile fields a correction request may change
	// (the registry's account source says which).
	Correctable []string
	// IdentityLimit, when set, limits the submissions for one email address.
	IdentityLimit Limiter
	Log           *slog.Logger
}

// Receipt is the answer to a submitted request.
type Receipt struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	StatusURL string `json:"status_url"`
}

// Status is what the status URL shows: nothing personal.
type Status struct {
	ID           string     `json:"id"`
	Type         string     `json:"type"`
	Status       string     `json:"status"`
	Jurisdiction string     `json:"jurisdiction"`
	ReceivedAt   time.Time  `json:"received_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	CompletedAt  *time.Time `json:"completed_at"`
	// Due is the last day on which the answer is on time; Extended says
	// whether it was moved under the law's extension.
	Due      string `json:"due"`
	Extended bool   `json:"extended"`
}

// Offer is a request type a subject may make under a law.
type Offer struct {
	Type request.Type
	// Verification says whether the subject confirms the request by mail
	// before anything happens (not where the law forbids requiring it).
	Verification bool
	// Fields are, for a correction, the profile fields it may change.
	Fields []string
}

// Offered lists the requests a subject may make under the law of
// jurisdiction: the types the pipeline carries out that the law gives, in
// the domain's order. An unknown jurisdiction offers nothing.
func (p *Portal) Offered(jurisdiction string) []Offer {
	var offers []Offer
	for _, typ := range request.SupportedTypes() {
		if typ == request.Correct && len(p.Correctable) == 0 {
			continue // no profile source names fields to correct
		}
		if granted, verification := p.Statute.Grants(jurisdiction, string(typ)); granted {
			o := Offer{Type: typ, Verification: verification}
			if typ == request.Correct {
				o.Fields = slices.Clone(p.Correctable)
			}
			offers = append(offers, o)
		}
	}
	return offers
}

var errNoSuchLink = apperr.Keyed(apperr.NotFound, "error.link")

// StartTimeout bounds the start of a stored request's workflow, which runs
// on after the caller's deadline: long enough for the SDK's retries, short
// enough that the invocation ends before Lambda stops it.
const StartTimeout = 10 * time.Second

// Submit stores a new request and starts its workflow.
func (p *Portal) Submit(ctx context.Context, in request.Submission) (Receipt, error) {
	valid, invalid := in.Validate()
	if invalid == nil {
		var err error
		if valid, err = p.appealUnderItsLaw(ctx, valid); err != nil {
			return Receipt{}, err
		}
	}
	if invalid == nil && valid.Corrections != nil {
		if bad := request.CheckCorrectable(*valid.Corrections, p.Correctable); len(bad) > 0 {
			invalid = apperr.InvalidFields(bad...)
		}
	}
	if in.Mail != nil && invalid == nil {
		// A mail makes one request: its handling retried after the
		// request was stored finds it, before anything is counted again.
		id := request.MailRequestID(valid.Mail.Key, valid.Mail.Part, valid.Mail.ReceivedAt, p.Clock.Now())
		r, err := p.Store.Get(ctx, id)
		switch {
		case err == nil:
			return p.madeByMailBefore(ctx, r, valid)
		case !apperr.Is(err, apperr.NotFound):
			return Receipt{}, err
		}
	}
	email, emailOK := request.NormalEmail(in.Email)
	if emailOK && p.IdentityLimit != nil && (in.Mail == nil || in.Mail.Part == 0) {
		// Counted whether or not the address is known, so a 429 tells
		// nothing about it; it bounds the mail one address can be sent.
		// A mail that asks for several requests counts once: its later
		// requests are never refused after its first was made.
		if err := p.IdentityLimit.Allow(ctx, email); err != nil {
			return Receipt{}, err
		}
	}
	if in.GPC && emailOK {
		if invalid == nil && request.Type(valid.Type) == request.OptOut {
			// The request is the opt-out the signal asks for.
			return p.create(ctx, valid, request.ViaGPC)
		}
		if err := p.honourGPC(ctx, email, in.Jurisdiction, in.Language); err != nil {
			return Receipt{}, err
		}
	}
	if invalid != nil {
		return Receipt{}, invalid
	}
	return p.create(ctx, valid, "")
}

// GPCJurisdiction is the law a Global Privacy Control opt-out falls under
// when the submission names none that gives the right: California's, whose
// regulations make the signal binding (CCPA Regs §7025).
const GPCJurisdiction = "US-CA"

// honourGPC records an opt-out of sale and sharing for the address a
// submission with `Sec-GPC: 1` gave, whatever else the submission asked and
// even if its other fields are invalid: the signal is a request of its own
// (CCPA Regs §7025), made by whoever may use the address. It runs as an
// opt_out request without verification, so it is audited, counted in the
// records and confirmed by mail like any other.
func (p *Portal) honourGPC(ctx context.Context, email, jurisdiction, language string) error {
	in := request.Submission{Type: string(request.OptOut), Email: email, Jurisdiction: jurisdiction, Language: language, GPC: true}
	valid, err := in.Validate()
	if err == nil {
		_, err = p.Statute.Compute(statute.Input{Jurisdiction: valid.Jurisdiction, Type: valid.Type, Received: p.Clock.Now()})
	}
	if err != nil {
		valid = request.Submission{Type: string(request.OptOut), Email: email, Jurisdiction: GPCJurisdiction, GPC: true}
	}
	_, err = p.create(ctx, valid, request.ViaGPC)
	return err
}

// create stores a request made from a valid submission and starts its workflow.
func (p *Portal) create(ctx context.Context, in request.Submission, via string) (Receipt, error) {
	now := p.Clock.Now()
	received := now
	if in.Mail != nil && !in.Mail.ReceivedAt.IsZero() && in.Mail.ReceivedAt.Before(now) {
		// The law's time runs from the mail's arrival, however long it
		// waited (for an operator, say) before it became a request.
		received = in.Mail.ReceivedAt
	}
	r := request.New(in, received)
	r.Via, r.UpdatedAt = via, now
	var err error
	if r.Deadlines, err = p.Statute.Compute(statute.Input{Jurisdiction: r.Jurisdiction, Type: string(r.Type), Received: received}); err != nil {
		if errors.Is(err, statute.ErrNotProvided) {
			return Receipt{}, apperr.InvalidFields(apperr.Field("type", "error.type.not_provided"))
		}
		return Receipt{}, apperr.Wrap(apperr.Invalid, "No deadline rules for this request.", err)
	}
	// The company's policy may promise an earlier answer, extend nothing,
	// or verify more than the law asks (never where it forbids asking).
	r.Deadlines = p.Policy.Deadlines(r.Deadlines)
	r.Language = p.Policy.Language(r.Language)
	if p.Levels != nil {
		r.Verification.Level = p.Policy.Level(p.Levels.For(r.Jurisdiction, string(r.Type), p.SensitiveData), string(r.Type))
	}
	token := secret.NewToken()
	r.StatusTokenHash = secret.Hash(token)
	if err := p.Store.Save(ctx, r, receivedEvent(in, via, now)); err != nil {
		if in.Mail != nil && errors.Is(err, request.ErrChanged) {
			// The same mail's handling, running at the same time, stored it first.
			stored, gerr := p.Store.Get(ctx, r.ID)
			if gerr != nil {
				return Receipt{}, gerr
			}
			return p.madeByMailBefore(ctx, stored, in)
		}
		return Receipt{}, err
	}
	// From here on the request exists: its workflow starts, and a failure is
	// recorded, even if the caller's deadline runs out meanwhile. Whatever
	// is still lost (the process ends first) the sweeper starts later.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), StartTimeout)
	defer cancel()
	if err = p.Workflow.Start(ctx, p.WorkflowInput(r)); err != nil {
		// The request is kept; the sweeper tries again, and an operator sees the flag.
		p.flagForOperator(ctx, r)
		return Receipt{}, err
	}
	return Receipt{ID: r.ID, Status: string(r.Status), StatusURL: links.Base(p.BaseURL).Status(r.ID, token)}, nil
}

// WorkflowInput is the execution input of r's workflow: the one the portal
// starts it with and the one the sweeper starts a lost request with. It
// depends on the stored request and the configuration only, not on the
// time, so a second start with it is harmless (the execution is named by
// the request id).
func (p *Portal) WorkflowInput(r *request.Request) sfnflow.Input {
	in := sfnflow.Input{
		RequestID:                  r.ID,
		Type:                       string(r.Type),
		Jurisdiction:               r.Jurisdiction,
		VerificationTimeoutSeconds: p.TimeScale.Seconds(p.verificationWindow(r)),
		// An appeal is always decided by a person; a granted appeal's
		// follow-up was that decision.
		// A correction letter whose new values were not read waits for an
		// operator to give them.
		OperatorReview:       (slices.Contains(p.ReviewTypes, r.Type) || r.Type == request.Appeal || r.AwaitsCorrections()) && r.Appeal.FollowsAppeal == "",
		ReviewTimeoutSeconds: p.TimeScale.Seconds(p.reviewWindow(r)),
		SkipVerification:     !r.NeedsVerification() && r.Appeal.FollowsAppeal == "",
		VerifiedByAppeal:     r.Appeal.FollowsAppeal != "",
	}
	if r.Type == request.Delete && len(r.Mail.Siblings) > 0 {
		// An erasure the same mail asked for besides a copy (or anything
		// else) waits until those requests are closed: a copy made after
		// it would be empty.
		in.WaitForSiblings, in.SiblingPollSeconds = true, p.TimeScale.Seconds(SiblingPoll)
	}
	return in
}

// SiblingPoll is how often an erasure that waits for the other requests of
// its mail looks whether they are closed.
const SiblingPoll = 15 * time.Minute

// madeByMailBefore answers a mail whose request already exists (its id is
// the mail's): the handling of the mail was retried after the request was
// stored. The request stands; if it has not begun, its workflow is started
// (a start that failed the first time flagged it for an operator, which is
// then cleared). Asking the same mail for another request is a conflict.
// The receipt has no status link: the first attempt's token is not kept.
func (p *Portal) madeByMailBefore(ctx context.Context, r *request.Request, in request.Submission) (Receipt, error) {
	if r.Mail.Key != in.Mail.Key {
		return Receipt{}, apperr.E(apperr.Conflict, "Another request has this mail's request id.")
	}
	if string(r.Type) != in.Type || r.Jurisdiction != in.Jurisdiction {
		return Receipt{}, apperr.E(apperr.Conflict, fmt.Sprintf("This mail already made request %s, of another type or law.", r.ID))
	}
	if r.Status == request.Received && r.JoinedTo == "" {
		err := p.Workflow.Start(ctx, p.WorkflowInput(r))
		switch {
		case err == nil && r.NeedsOperator:
			r.NeedsOperator = false
			if err := p.Store.Save(ctx, r, request.Event{At: p.Clock.Now(), Actor: "system", Action: "workflow_started", From: r.Status, To: r.Status}); err != nil {
				return Receipt{}, err
			}
		case err != nil && !apperr.Is(err, apperr.Conflict): // Conflict: its workflow runs, or ran
			return Receipt{}, err
		}
	}
	return Receipt{ID: r.ID, Status: string(r.Status)}, nil
}

// receivedEvent is the first entry of a request's audit log: who made it,
// how it came (via a signal; by mail, with SES's verdicts on the sender).
func receivedEvent(in request.Submission, via string, now time.Time) request.Event {
	ev := request.Event{At: now, Actor: "subject", Action: "received", To: request.Received}
	var note []string
	if via != "" {
		note = append(note, "via="+via)
	}
	if in.Mail != nil {
		note = append(note, strings.TrimSpace("channel=email "+in.Mail.Verdicts))
		if in.Mail.Operator != "" {
			ev.Actor = "operator:" + in.Mail.Operator
		}
	}
	ev.Note = strings.Join(note, " ")
	return ev
}

func (p *Portal) flagForOperator(ctx context.Context, r *request.Request) {
	r.NeedsOperator = true
	now := p.Clock.Now()
	if err := p.Store.Save(ctx, r, request.Event{At: now, Actor: "system", Action: "workflow_start_failed", From: r.Status, To: r.Status, Note: "needs_operator"}); err != nil {
		p.Log.ErrorContext(ctx, "request could not be flagged", "request_id", r.ID, "error_kind", apperr.KindOf(err).String())
	}
}

// verificationWindow is how long the workflow waits for the subject to
// confirm: the verification period, but ending the day before the due date,
// so the request closes with its notice in time.
func (p *Portal) verificationWindow(r *request.Request) time.Duration {
	d := r.Deadlines
	untilDue := d.Due.AddDays(-1).StartOfDay(d.Location()).Sub(r.ReceivedAt)
	return max(time.Hour, min(p.VerificationPeriod, untilDue))
}

// reviewWindow is how long an operator review may wait: until the latest
// date the law allows for the answer.
func (p *Portal) reviewWindow(r *request.Request) time.Duration {
	d := r.Deadlines
	last := d.Due
	if d.ExtendedDue != nil {
		last = *d.ExtendedDue
	}
	return max(time.Hour, last.EndOfDay(d.Location()).Sub(r.ReceivedAt))
}

// authorized loads a request when token matches the hash that pick selects.
// Unknown ids and wrong tokens both end in the same NotFound.
func (p *Portal) authorized(ctx context.Context, id, token string, pick func(*request.Request) string) (*request.Request, error) {
	if !request.ValidID(id) || token == "" {
		secret.Matches(token, secret.Hash("")) // same work as a real check
		return nil, errNoSuchLink
	}
	r, err := p.Store.Get(ctx, id)
	if apperr.Is(err, apperr.NotFound) {
		secret.Matches(token, secret.Hash(""))
		return nil, errNoSuchLink
	}
	if err != nil {
		return nil, err
	}
	if !secret.Matches(token, pick(r)) {
		return nil, errNoSuchLink
	}
	return r, nil
}

// Status returns the status of a request to the holder of its status token.
func (p *Portal) Status(ctx context.Context, id, token string) (Status, error) {
	r, err := p.authorized(ctx, id, token, func(r *request.Request) string { return r.StatusTokenHash })
	if err != nil {
		return Status{}, err
	}
	s := Status{ID: r.ID, Type: string(r.Type), Status: string(r.Status), Jurisdiction: r.Jurisdiction, ReceivedAt: r.ReceivedAt, UpdatedAt: r.UpdatedAt,
		Due: r.Deadlines.Due.String(), Extended: r.Extended}
	if !r.CompletedAt.IsZero() {
		s.CompletedAt = &r.CompletedAt
	}
	if r.JoinedTo != "" {
		p.asIfAlone(r, &s)
	}
	return s, nil
}

// asIfAlone shows a request that joined an open one as a lone request made
// at the same moment would look to the holder of its status link, field by
// field, so that holder (who may have used someone else's address) learns
// nothing of that person's other requests; the subject was told by mail.
//
// The join happened where a lone request's workflow starts its
// verification (r.CompletedAt); from then on a lone request that nobody
// confirms waits for confirmation, its updated_at moved by each wrong link or
// code (counted on the joined request too, see awaitsConfirmation); the
// deadline watch extends it at its notice point where the law allows and
// the period has not yet ended; and it expires when the workflow's wait for
// confirmation times out. Where no confirmation is asked, a lone request is
// carried out at once: completed.
func (p *Portal) asIfAlone(r *request.Request, s *Status) {
	joined := r.CompletedAt
	if !r.NeedsVerification() {
		s.Status, s.CompletedAt = string(request.Completed), &joined
		return
	}
	now := p.Clock.Now()
	s.Status, s.CompletedAt = string(request.PendingVerification), nil
	// A lone request waiting for its subject's confirmation is never
	// extended (nothing is decided for it), so neither is this one.
	end := p.aloneExpiry(r)
	if !now.Before(end) {
		s.Status, s.UpdatedAt = string(request.Expired), end
	}
}

// aloneExpiry is when a lone request's wait for confirmation, had it
// started when r joined, would time out: the workflow waits a whole number
// of (scaled) seconds.
func (p *Portal) aloneExpiry(r *request.Request) time.Time {
	return r.CompletedAt.Add(time.Duration(p.TimeScale.Seconds(p.verificationWindow(r))) * time.Second)
}

func (p *Portal) verifiable(ctx context.Context, id, token string) (*request.Request, error) {
	r, err := p.authorized(ctx, id, token, func(r *request.Request) string { return r.Verification.TokenHash })
	if err != nil {
		return nil, err
	}
	if !p.awaitsConfirmation(r) {
		return nil, errNoSuchLink
	}
	return r, nil
}

// awaitsConfirmation reports whether r still takes a link or a code. A
// request that joined another takes them (never rightly: it has none) while
// a lone one would, so wrong attempts count and move its status as they
// would a lone one's.
func (p *Portal) awaitsConfirmation(r *request.Request) bool {
	now := p.Clock.Now()
	if r.JoinedTo != "" {
		return r.NeedsVerification() && !r.Verification.Locked && now.Before(r.Verification.ExpiresAt) && now.Before(p.aloneExpiry(r))
	}
	return r.Status == request.PendingVerification && !r.Verification.Locked && now.Before(r.Verification.ExpiresAt)
}

// CheckVerification tells whether a verification link is still good, without
// using it: GET on the link only shows a page, so mail scanners that fetch
// links cannot confirm a request. A wrong token here is not counted as a
// failed attempt: GET changes nothing. It returns what the confirmation asks
// for besides the link.
func (p *Portal) CheckVerification(ctx context.Context, id, token string) (Requirement, error) {
	r, err := p.verifiable(ctx, id, token)
	if err != nil {
		return Requirement{}, err
	}
	return p.requirement(r), nil
}

// proof is what a visitor shows to confirm a request: the link's token or
// the mailed code.
type proof struct {
	method  string // for the audit log: email_link or email_code
	given   string
	details Details
	matches func(r *request.Request) bool
	// refused is the one answer to every refusal (unknown request, wrong or
	// used secret, expired, locked), so a refusal tells nothing.
	refused error
}

// ConfirmVerification uses the verification link once and resumes the
// workflow; d are the details the request's level asks for, if any.
func (p *Portal) ConfirmVerification(ctx context.Context, id, token string, d Details) error {
	return p.confirm(ctx, id, proof{method: "email_link", given: token, details: d, refused: errNoSuchLink,
		matches: func(r *request.Request) bool { return secret.Matches(token, r.Verification.TokenHash) }})
}

var (
	errWrongCode = apperr.InvalidFields(apperr.Field("code", "code.wrong"))
	errCodeShape = apperr.InvalidFields(apperr.Field("code", "code.shape"))
)

// ConfirmCode confirms a request with the code mailed beside the link; it
// works as the link does, once. Input that cannot be a code is refused
// before anything is read, and is not counted as a failed attempt.
func (p *Portal) ConfirmCode(ctx context.Context, id, code string, d Details) error {
	if secret.NormalizeCode(code) == "" {
		return errCodeShape
	}
	return p.confirm(ctx, id, proof{method: "email_code", given: code, details: d, refused: errWrongCode,
		matches: func(r *request.Request) bool { return secret.CodeMatches(r.ID, code, r.Verification.CodeHash) }})
}

// confirm checks a proof against a request waiting for confirmation. A right
// one verifies the request and resumes the workflow; a wrong one is counted,
// and the request locks at request.MaxVerifyFailures.
func (p *Portal) confirm(ctx context.Context, id string, pr proof) error {
	// Saves are conditional on the version read: of two concurrent
	// confirmations only one gets through, and the other finds the link used
	// when it reads again; concurrent wrong attempts are all counted. A save
	// lost to another writer (the deadline watch) is tried again on a fresh
	// read.
	for attempt := 0; ; attempt++ {
		r, err := p.awaiting(ctx, id, pr)
		if err != nil {
			return err
		}
		right := r.JoinedTo == "" && pr.matches(r)
		method := pr.method
		var answer error // what a wrong attempt answers
		tokenHash, codeHash := r.Verification.TokenHash, r.Verification.CodeHash
		if right && r.Agent.Email != "" && r.Agent.PermissionKey == "" {
			// The subject cannot confirm an agent's authority that the
			// agent has not yet shown; nothing is counted or used up.
			return errNoPermission
		}
		if right {
			outcome, detailsErr, err := p.checkDetails(ctx, r, pr.details)
			switch {
			case err != nil:
				return err
			case outcome == detailsMissing:
				return detailsErr
			case outcome == detailsOperator:
				return p.handToOperator(ctx, r, pr.method)
			case outcome == detailsWrong:
				right, answer, method = false, detailsErr, pr.method+"+data_points"
			}
		}
		if right {
			err = p.markVerified(ctx, r, pr)
		} else {
			err = p.countFailure(ctx, r, method)
		}
		if errors.Is(err, request.ErrChanged) && attempt < 2 {
			continue
		}
		if err != nil {
			if apperr.Is(err, apperr.Conflict) {
				return pr.refused
			}
			return err
		}
		if !right {
			if r.Verification.Locked {
				p.tellLocked(ctx, r)
				return pr.refused // link and code are void now
			}
			if answer != nil {
				return answer
			}
			return pr.refused
		}
		if err := p.Workflow.Resume(ctx, r.Verification.TaskToken); err != nil {
			if apperr.Is(err, apperr.Conflict) {
				// The workflow stopped waiting (the period ran out): the
				// link is void, and the request goes back to unconfirmed,
				// so the workflow's close expires it as it was.
				p.undoConfirmation(ctx, r, "", "", "too_late")
				return pr.refused
			}
			p.undoConfirmation(ctx, r, tokenHash, codeHash, "workflow_unavailable")
			return err
		}
		return nil
	}
}

// awaiting loads the request a proof is for, when it still takes one. An
// unknown id does the same hashing as a known one.
func (p *Portal) awaiting(ctx context.Context, id string, pr proof) (*request.Request, error) {
	if !request.ValidID(id) || pr.given == "" {
		secret.Matches(pr.given, secret.Hash(""))
		return nil, pr.refused
	}
	r, err := p.Store.Get(ctx, id)
	if apperr.Is(err, apperr.NotFound) {
		secret.Matches(pr.given, secret.Hash(""))
		return nil, pr.refused
	}
	if err != nil {
		return nil, err
	}
	if !p.awaitsConfirmation(r) {
		return nil, pr.refused
	}
	return r, nil
}

func (p *Portal) markVerified(ctx context.Context, r *request.Request, pr proof) error {
	now := p.Clock.Now()
	r.ClearVerification()
	note := "method=" + pr.method
	if r.Verification.Level.DataPoints > 0 {
		// How many details were asked for, never which matched.
		note += fmt.Sprintf(" data_points=%d", r.Verification.Level.DataPoints)
	}
	if r.Verification.Level.Declaration {
		r.Verification.DeclaredBy = strings.TrimSpace(pr.details.Signature)
		note += " declaration=signed"
	}
	ev, err := r.Move(request.Verified, now, "subject", "verified", note)
	if err != nil {
		return err
	}
	return p.Store.Save(ctx, r, ev)
}

// handToOperator records that the email address is proven but the level
// cannot be checked online (the account source holds too few details): link
// and code are used up, and the request waits for an operator, who verifies
// it another way (privacyctl verify).
func (p *Portal) handToOperator(ctx context.Context, r *request.Request, method string) error {
	now := p.Clock.Now()
	r.ClearVerification()
	r.NeedsOperator, r.UpdatedAt = true, now
	ev := request.Event{At: now, Actor: "subject", Action: "email_confirmed", From: r.Status, To: r.Status, Note: "method=" + method + " needs_operator=identity_check"}
	if err := p.Store.Save(ctx, r, ev); err != nil {
		return err
	}
	return ErrOperatorCheck
}

// countFailure records a wrong link or code. At the limit the request locks:
// link and code are void, and an operator can still verify the subject by
// other means (privacyctl verify) while the workflow waits.
func (p *Portal) countFailure(ctx context.Context, r *request.Request, method string) error {
	now := p.Clock.Now()
	r.Verification.Failures++
	r.UpdatedAt = now
	action := "verification_failed"
	if r.Verification.Failures >= request.MaxVerifyFailures {
		r.Verification.Locked = true
		r.ClearVerification()
		action = "verification_locked"
	}
	note := fmt.Sprintf("method=%s failures=%d", method, r.Verification.Failures)
	return p.Store.Save(ctx, r, request.Event{At: now, Actor: "system", Action: action, From: r.Status, To: r.Status, Note: note})
}

// tellLocked mails the subject that the request no longer takes links or
// codes. The lock is saved whatever happens to the mail; a failure to send
// is logged for operators, who see the lock in the audit log.
func (p *Portal) tellLocked(ctx context.Context, r *request.Request) {
	msg, err := notify.VerificationLocked(r.Language, r.Email, r.ID)
	if err == nil {
		err = p.Mailer.Send(ctx, msg)
	}
	if err != nil {
		p.Log.ErrorContext(ctx, "lock notice not sent", "request_id", r.ID, "error_kind", apperr.KindOf(err).String())
	}
}

// undoConfirmation puts a confirmed request back to pending when the workflow
// could not be resumed, so the subject can use the same link or code again.
func (p *Portal) undoConfirmation(ctx context.Context, r *request.Request, tokenHash, codeHash, why string) {
	now := p.Clock.Now()
	r.Verification.TokenHash, r.Verification.CodeHash = tokenHash, codeHash
	ev, err := r.Move(request.PendingVerification, now, "system", "verification_undone", why)
	if err == nil {
		err = p.Store.Save(ctx, r, ev)
	}
	if err != nil {
		p.Log.ErrorContext(ctx, "confirmation could not be undone", "request_id", r.ID, "error_kind", apperr.KindOf(err).String())
	}
}

// DownloadURL returns a short-lived URL of the access package to the holder
// of the download token sent to the verified address.
func (p *Portal) DownloadURL(ctx context.Context, id, token string) (string, error) {
	r, err := p.authorized(ctx, id, token, func(r *request.Request) string { return r.Delivery.TokenHash })
	if err != nil {
		return "", err
	}
	if r.Delivery.ExportKey == "" || !p.Clock.Now().Before(r.Delivery.ExpiresAt) {
		return "", errNoSuchLink
	}
	return p.Presigner.PresignPackage(ctx, r.Delivery.ExportKey, p.PresignTTL)
}
