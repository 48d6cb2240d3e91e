// Package request is the domain at the centre: a data-subject request, its
// types and statuses, and the rules for moving between them. It knows nothing
// of AWS.
package request

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/i18n"
	"github.com/privacy-pipeline/dsr/internal/statute"
)

// Type is what the subject asks for.
type Type string

const (
	Access      Type = "access"
	Portability Type = "portability"
	Delete      Type = "delete"
	Correct     Type = "correct"
	Restrict    Type = "restrict"
	Object      Type = "object"
	OptOut      Type = "opt_out"
	Limit       Type = "limit"
	Appeal      Type = "appeal"
)

// AllTypes are every request type, in the order reports list them.
var AllTypes = []Type{Access, Portability, Delete, Correct, Restrict, Object, OptOut, Limit, Appeal}

// supportedTypes are the types the workflow can carry out end to end today.
var supportedTypes = []Type{Access, Portability, Delete, Correct, OptOut, Limit, Restrict, Object, Appeal}

// Status is where a request stands in its lifecycle.
type Status string

const (
	Received            Status = "received"
	PendingVerification Status = "pending_verification"
	Verified            Status = "verified"
	InProgress          Status = "in_progress"
	Completed           Status = "completed"
	Denied              Status = "denied"
	Expired             Status = "expired"
	Cancelled           Status = "cancelled"
	Failed              Status = "failed"
)

// transitions lists, for each status, the statuses it may move to. A
// request is made received (New) or, carrying out a granted appeal,
// verified (NewFollowUp); every later change is a Move.
var transitions = map[Status][]Status{
	Received:            {PendingVerification, InProgress, Denied, Cancelled, Failed},
	PendingVerification: {Verified, Expired, Denied, Cancelled, Failed},
	Verified:            {InProgress, PendingVerification, Denied, Cancelled, Failed},
	InProgress:          {Completed, Denied, Failed, Cancelled},
	Failed:              {InProgress, Completed, Denied, Cancelled},
}

// CanMove reports whether a request in status from may move to status to.
func CanMove(from, to Status) bool { return slices.Contains(transitions[from], to) }

// Move changes the request's status to to, as the transitions allow, at
// at, and returns the audit event of the change: actor did action, with
// note. The caller saves the request with that event (one write), so no
// status changes unrecorded. Moving to the status it has changes nothing
// but the time, and records the action.
func (r *Request) Move(to Status, at time.Time, actor, action, note string) (Event, error) {
	from := r.Status
	if from != to && !CanMove(from, to) {
		return Event{}, apperr.E(apperr.Conflict, fmt.Sprintf("A %s request cannot become %s.", from, to))
	}
	r.Status, r.UpdatedAt = to, at
	return Event{At: at, Actor: actor, Action: action, From: from, To: to, Note: note}, nil
}

// Closed reports whether no more work will happen on a request in status s.
func (s Status) Closed() bool {
	switch s {
	case Completed, Denied, Expired, Cancelled:
		return true
	}
	return false
}

// Jurisdictions are the codes a request may name. The deadline rules for each
// live in the statutory clock's rules file.
var Jurisdictions = []string{
	"EU", "EEA-NO", "EEA-IS", "EEA-LI", "UK", "CH",
	"US-CA", "US-VA", "US-CO", "US-CT", "US-UT", "US-TX", "US-OR", "US-MT", "US-IA",
	"US-DE", "US-NH", "US-NJ", "US-TN", "US-MN", "US-MD", "US-IN", "US-KY", "US-NE", "US-RI",
	"BR", "CA-FED", "CA-QC", "KR",
}

// Request is one data-subject request. Its fields are the request itself, its
// status and dates; what belongs to one step of the work (verification, an
// agent, the delivery of an export, a review, a denial, a hold, ...) is a
// named part, so that a reader finds a step's state, and the token that
// resumes it, in one place. The parts are a shape in Go only: the store keeps
// every field under the flat attribute it always had (see dynstore).
//
// Email, Identities, Agent.Email, Verification.DeclaredBy and
// Correction.Values are personal data: they stay in the encrypted store and
// never travel in workflow payloads, logs or errors.
type Request struct {
	ID           string
	Type         Type
	Status       Status
	Jurisdiction string
	Email        string
	// Language is the subject's language, chosen with the submission: every
	// later mail and page about the request speaks it.
	Language   i18n.Lang
	ReceivedAt time.Time
	UpdatedAt  time.Time

	// StatusTokenHash authorizes GET on the status URL.
	StatusTokenHash string

	// Verification is how the subject proves the request is theirs.
	Verification Verification
	// Agent is the authorized agent who made the request for the subject,
	// if any.
	Agent Agent

	// Identities are the subject's identifiers found across sources, by kind
	// (email, user_id, ...), resolved once the subject is verified.
	Identities map[string][]string

	// Delivery is the access package and the link that downloads it.
	Delivery      Delivery
	NeedsOperator bool
	CompletedAt   time.Time
	// Mail is what a request that came by email keeps of its mail.
	Mail ByMail

	// Deadlines are the statutory dates, fixed at receipt; an extension moves
	// Deadlines.Due to Deadlines.ExtendedDue and sets Extended.
	Deadlines statute.Deadlines
	Extended  bool
	// Extension is the operators' part in the deadline: why it was
	// extended, or what was decided instead.
	Extension Extension
	// Overdue is set when the due date passed with the request still open.
	Overdue bool
	// Review is an operator's review the workflow waits on.
	Review Review
	// Denial is why the request was refused, as the subject is told.
	Denial Denial
	// Redrives counts how often an operator resumed the failed workflow; the
	// current execution is named by the id, then "<id>-r<n>".
	Redrives int

	// Via says how the request came when not by the subject's own choice of
	// type: ViaGPC for an opt-out signalled by Global Privacy Control.
	Via string
	// JoinedTo is the open request asking for the same (subject, type,
	// law, dry run, corrections) that this one was added to instead of
	// being carried out twice.
	JoinedTo string
	// DryRun marks a delete request that runs the whole workflow but changes
	// nothing: erasure reports what it would do, in the receipt and the mail.
	DryRun bool
	// OnHold is a legal hold placed by an operator: erasure waits until it
	// is released (or the request is denied). Hold says why, and holds the
	// waiting step.
	OnHold bool
	Hold   Hold
	// Correction is what a correction request asks for and what it changed.
	Correction Correction
	// Appeal links the request to appeals: the decision it appeals, the
	// appeal of it, and what a granted appeal led to.
	Appeal AppealLinks

	// Version counts saved changes; a save succeeds only on the version it read,
	// so two concurrent writers cannot overwrite each other.
	Version int
}

// Verification is how the subject proves a request is theirs: a link and a
// code mailed to the address, checked to the level the law asks. It is one
// part because the link, the code and the count of wrong tries live and die
// together.
type Verification struct {
	// TokenHash authorizes the one confirmation of the verification link;
	// it is cleared when used.
	TokenHash string
	// CodeHash is the hash of the short code mailed with the link
	// (secret.CodeHash), which confirms the request as the link does; it
	// expires and is cleared with the link.
	CodeHash  string
	ExpiresAt time.Time
	// Failures counts wrong links and codes tried on this request. At
	// MaxVerifyFailures the request is Locked: link and code are void,
	// and only an operator can verify the subject.
	Failures int
	Locked   bool
	// Level is how sure the verification must be (details besides the
	// email address, a declaration), fixed at receipt from the
	// jurisdiction's rules.
	Level statute.Level
	// DeclaredBy is the name signed under the declaration under penalty of
	// perjury, where the level asks for one.
	DeclaredBy string
	// TaskToken resumes the workflow step waiting for verification.
	TaskToken string
}

// Agent is the authorized agent who made a request for the subject (CCPA
// Regs §7063). The agent follows the status; everything the subject is owed
// (links, data, notices) goes to the subject's address alone, which is why
// the agent's address is kept apart from Request.Email.
type Agent struct {
	Email string
	// PermissionKey is the object key of the signed permission the agent
	// uploaded (derived from the id), PermissionType its media type.
	PermissionKey  string
	PermissionType string
	// PowerOfAttorney: the agent declared a power of attorney, so an operator
	// reviews the document instead of asking the subject (§7063(b)).
	PowerOfAttorney bool
}

// Delivery is the access package of a request and the link that downloads
// it: the link's hash and expiry mean nothing without the package.
type Delivery struct {
	// ExportKey is the object key of the access package.
	ExportKey string
	// TokenHash authorizes the download link until ExpiresAt.
	TokenHash string
	ExpiresAt time.Time
}

// ByMail is what a request that came by email keeps of its mail (see
// MailOrigin for what the mail brought).
type ByMail struct {
	// Key is the raw message's object key, kept until the request closes.
	Key string
	// UnauthenticatedSender is set when the sender's domain did not pass
	// DMARC: the request is always verified.
	UnauthenticatedSender bool
	// Siblings are the other requests the same mail made, in the mail's
	// order ("send me a copy, then delete my account"). An erasure among
	// them waits until the others are closed, and the mail is kept until
	// the last of them closes.
	Siblings []string
}

// Extension is the operators' part in a request's deadline (Request.Extended
// and Request.Deadlines say whether and to when it was extended).
type Extension struct {
	// Reasons are given to the subject with the extended date.
	Reasons []string
	// TaskToken resumes the deadline watch's question to the operators
	// whether to extend; Decision is their answer where it was to let the
	// date stand (ExtensionKept), or what the watch did when nobody answered
	// (ExtensionUndecided).
	TaskToken string
	Decision  string
}

// Review is an operator's review of a request that the workflow waits on.
type Review struct {
	// TaskToken resumes the workflow step waiting for an operator.
	TaskToken string
}

// Denial is why a request was refused: what the subject's notice says.
type Denial struct {
	// Reasons are given by the operator who refused the request.
	Reasons []string
	// Provision names the provision of law the refusal rests on, where the
	// law wants it named (Quebec).
	Provision string
	// OtherController and OtherControllerContact say who controls the data
	// when a request is refused because we do not (LGPD Art 18 §4): the
	// subject is told to ask them.
	OtherController        string
	OtherControllerContact string
}

// Hold is a legal hold on a request (see Request.OnHold).
type Hold struct {
	// Reasons say why the data must be kept.
	Reasons []string
	// TaskToken resumes the workflow step waiting on the hold.
	TaskToken string
}

// Correction is what a correction request asks for and what it changed.
type Correction struct {
	// Values are the new values asked for; they are cleared once applied,
	// leaving Fields and Items.
	Values Corrections
	Fields []string
	Items  int
}

// AppealLinks tie a request to appeals, in both directions, so that either
// side can be found from the other.
type AppealLinks struct {
	// Of is the decided request an appeal asks to reconsider.
	Of string
	// AppealedBy, on a decided request, is the appeal that reconsiders it:
	// a decision is appealed once.
	AppealedBy string
	// GrantReasons are the reasons of the operator who granted an appeal.
	GrantReasons []string
	// FollowUp, on a granted appeal, is the request that carries out what
	// the appealed decision refused; FollowsAppeal, on that request, is the
	// appeal.
	FollowUp      string
	FollowsAppeal string
}

// ViaGPC marks a request made by the browser's Global Privacy Control signal.
const ViaGPC = "gpc"

// Submission is what a subject submits: by the form, the API, a mail or an
// agent.
type Submission struct {
	Type         string
	Email        string
	Jurisdiction string
	// Language is a BCP 47 code of a catalogue language; empty means English.
	Language string
	// GPC is set when the submission carried `Sec-GPC: 1`.
	GPC bool
	// AgentEmail, when set, is the address of an authorized agent who
	// submits for the subject at Email (CCPA Regs §7063).
	AgentEmail string
	// DryRun asks a delete request to change nothing and report what it would.
	DryRun bool
	// Corrections are the new values of a correction request; a pointer,
	// so that a Submission stays comparable.
	Corrections *Corrections
	// AppealOf is the id of the decided request an appeal reconsiders.
	AppealOf string
	// Mail is set for a request that came by email; never from a form.
	Mail *MailOrigin
}

// MailOrigin describes the mail a request came in. It holds no personal
// data: the message stays in the raw-mail bucket under Key.
type MailOrigin struct {
	// Key is the raw message's object key; the message is deleted when the
	// request closes.
	Key string
	// Verdicts are SES's checks of the sender and content, for the audit
	// log ("spf=PASS dkim=PASS dmarc=FAIL ...").
	Verdicts string
	// Operator is set when an operator made the request from a mail the
	// rules could not read.
	Operator string
	// SenderAuthenticated is set when the sender's domain passed DMARC.
	// Otherwise the From address may be forged, and the request is verified
	// even where the law lets it go unverified.
	SenderAuthenticated bool
	// ReceivedAt is when the mail arrived; it dates the request's id.
	ReceivedAt time.Time
	// Part is which of the mail's requests this is (from 0), of Parts; a
	// mail that makes one request leaves both 0.
	Part, Parts int
}

// MaxMailParts is the most requests one mail makes.
const MaxMailParts = 4

// MaxVerifyFailures is how many wrong links or codes a request takes before
// it stops accepting any: with a code of 26^8 values, five guesses succeed
// with odds of about one in 4·10^10.
const MaxVerifyFailures = 5

// AwaitsCorrections reports whether r is a correction letter whose new
// values were not read from it: an operator gives them, once the subject
// has confirmed, before anything is corrected.
func (r *Request) AwaitsCorrections() bool {
	return r.Type == Correct && len(r.Correction.Values) == 0 && r.Correction.Fields == nil
}

// ClearVerification voids the emailed link and code.
func (r *Request) ClearVerification() {
	r.Verification.TokenHash, r.Verification.CodeHash = "", ""
}

// MaxEmailLength is the longest address SMTP allows (RFC 5321 path limit).
const MaxEmailLength = 254

// Validate checks a submission and returns it normalized, or an Invalid error
// naming every wrong field.
func (in Submission) Validate() (Submission, error) {
	var fields []apperr.FieldError
	out := Submission{
		Type:         strings.TrimSpace(in.Type),
		Email:        strings.ToLower(strings.TrimSpace(in.Email)),
		Jurisdiction: strings.ToUpper(strings.TrimSpace(in.Jurisdiction)),
		Language:     string(i18n.Default),
		GPC:          in.GPC,
	}
	switch {
	case out.Type == "":
		fields = append(fields, apperr.Field("type", "error.type.required"))
	case !slices.Contains(supportedTypes, Type(out.Type)):
		fields = append(fields, apperr.Field("type", "error.type.unsupported", "types", joinTypes(supportedTypes)))
	}
	if key := checkEmail(out.Email); key != "" {
		fields = append(fields, apperr.Field("email", key))
	}
	switch {
	case out.Jurisdiction == "":
		fields = append(fields, apperr.Field("jurisdiction", "error.jurisdiction.required"))
	case !slices.Contains(Jurisdictions, out.Jurisdiction):
		fields = append(fields, apperr.Field("jurisdiction", "error.jurisdiction.unknown"))
	}
	if agent := strings.ToLower(strings.TrimSpace(in.AgentEmail)); agent != "" {
		switch key := checkEmail(agent); {
		case key != "":
			fields = append(fields, apperr.Field("agent_email", key))
		case agent == out.Email:
			fields = append(fields, apperr.Field("agent_email", "error.agent.same"))
		}
		out.AgentEmail = agent
	}
	if in.DryRun {
		if out.Type != string(Delete) {
			fields = append(fields, apperr.Field("dry_run", "error.dry_run.delete_only"))
		}
		out.DryRun = true
	}
	appealOf := strings.TrimSpace(in.AppealOf)
	switch {
	case out.Type == string(Appeal) && appealOf == "":
		fields = append(fields, apperr.Field("appeal_of", "error.appeal_of.required"))
	case out.Type == string(Appeal) && !ValidID(appealOf):
		fields = append(fields, apperr.Field("appeal_of", "error.appeal_of.invalid"))
	case out.Type != string(Appeal) && appealOf != "":
		fields = append(fields, apperr.Field("appeal_of", "error.appeal_of.appeal_only"))
	}
	out.AppealOf = appealOf
	corrections, bad := checkCorrections(out.Type, in.Corrections, in.Mail != nil)
	fields = append(fields, bad...)
	out.Corrections = corrections
	if code := strings.TrimSpace(in.Language); code != "" {
		l, ok := i18n.Parse(code)
		if !ok {
			fields = append(fields, apperr.Field("language", "error.language.unknown", "languages", joinLanguages()))
		}
		out.Language = string(l)
	}
	if in.Mail != nil {
		if !mailKeyPattern.MatchString(in.Mail.Key) {
			fields = append(fields, apperr.FieldError{Field: "mail", Detail: "The mail has no valid object key."})
		}
		if p := in.Mail; p.Parts < 0 || p.Parts > MaxMailParts || p.Part < 0 || (p.Part > 0 && p.Part >= p.Parts) {
			fields = append(fields, apperr.FieldError{Field: "mail", Detail: "The mail's part is not one of its parts."})
		}
		m := *in.Mail
		out.Mail = &m
	}
	if len(fields) > 0 {
		return Submission{}, apperr.InvalidFields(fields...)
	}
	return out, nil
}

// NormalEmail returns the address trimmed and lower-cased, and whether it is
// a valid address on its own, whatever the other fields of a submission hold.
func NormalEmail(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	return s, checkEmail(s) == ""
}

// mailKeyPattern is the shape of a raw message's object key: a folder and
// an SES message id.
var mailKeyPattern = regexp.MustCompile(`^[A-Za-z0-9/_-]{1,64}/[A-Za-z0-9][A-Za-z0-9-]{0,127}$`)

// checkEmail returns the catalogue key of what is wrong with an address, or "".
func checkEmail(s string) string {
	if s == "" {
		return "error.email.required"
	}
	if len(s) > MaxEmailLength {
		return "error.email.too_long"
	}
	addr, err := mail.ParseAddress(s)
	// Only a bare address is accepted: no display names, no groups.
	if err != nil || addr.Address != s || addr.Name != "" || !strings.Contains(s[strings.LastIndex(s, "@")+1:], ".") {
		return "error.email.invalid"
	}
	return ""
}

func joinLanguages() string {
	s := make([]string, len(i18n.Supported))
	for i, l := range i18n.Supported {
		s[i] = string(l)
	}
	return strings.Join(s, ", ")
}

// SupportedTypes are the request types the pipeline carries out end to end,
// in the order a form offers them.
func SupportedTypes() []Type { return slices.Clone(supportedTypes) }

func joinTypes(ts []Type) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// New makes a request from a validated submission, received at now.
func New(in Submission, now time.Time) *Request {
	id := NewID(now)
	var siblings []string
	if in.Mail != nil {
		id = MailRequestID(in.Mail.Key, in.Mail.Part, in.Mail.ReceivedAt, now)
		for part := range in.Mail.Parts {
			if part != in.Mail.Part {
				siblings = append(siblings, MailRequestID(in.Mail.Key, part, in.Mail.ReceivedAt, now))
			}
		}
	}
	r := &Request{
		ID:           id,
		Type:         Type(in.Type),
		Status:       Received,
		Jurisdiction: in.Jurisdiction,
		Email:        in.Email,
		Language:     i18n.Lang(in.Language),
		DryRun:       in.DryRun,
		ReceivedAt:   now,
		UpdatedAt:    now,
		Agent:        Agent{Email: in.AgentEmail},
		Correction:   Correction{Values: derefCorrections(in.Corrections)},
		Appeal:       AppealLinks{Of: in.AppealOf},
	}
	if in.Mail != nil {
		r.Mail.Key = in.Mail.Key
		r.Mail.UnauthenticatedSender = !in.Mail.SenderAuthenticated
		r.Mail.Siblings = siblings
	}
	return r
}

func derefCorrections(c *Corrections) Corrections {
	if c == nil {
		return nil
	}
	return *c
}

var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// NewID returns a request id: the receipt date, for people reading lists in the
// console, and 80 random bits. Ids are not secrets; tokens authorize.
func NewID(now time.Time) string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return "dsr-" + now.UTC().Format("20060102") + "-" + idEncoding.EncodeToString(b)
}

// MailRequestID is the id of a request a mail makes: derived from the
// mail's object key and which of its requests it is (part, from 0), so one
// mail makes each of its requests once however often its handling is
// retried (storing a second request of the same id fails), and dated by the
// mail's arrival (now when that is unknown). The first part's id is the one
// a mail that makes one request has always had.
func MailRequestID(key string, part int, arrived, now time.Time) string {
	if arrived.IsZero() {
		arrived = now
	}
	name := "mail:" + key
	if part > 0 {
		name += "#" + strconv.Itoa(part)
	}
	sum := sha256.Sum256([]byte(name))
	return "dsr-" + arrived.UTC().Format("20060102") + "-" + idEncoding.EncodeToString(sum[:10])
}

// NewFollowUp makes the request that carries out what a granted appeal
// reversed, from in, received at now, and the audit event of its making.
// It is verified from the start: the subject confirmed the appeal from the
// same address. Its id derives from the appeal's (FollowUpID).
func NewFollowUp(in Submission, appeal *Request, now time.Time) (*Request, Event) {
	r := New(in, now)
	r.ID, r.Status, r.Appeal.FollowsAppeal = FollowUpID(appeal.ID, appeal.ReceivedAt), Verified, appeal.ID
	return r, Event{At: now, Actor: "system", Action: "received", To: Verified, Note: "follows_appeal=" + appeal.ID + " verified_by=appeal"}
}

// FollowUpID is the id of the request a granted appeal makes: derived from
// the appeal's id, so the appeal's close, retried, finds the request it
// made; dated by the appeal's receipt.
func FollowUpID(appealID string, appealReceived time.Time) string {
	sum := sha256.Sum256([]byte("follow-up:" + appealID))
	return "dsr-" + appealReceived.UTC().Format("20060102") + "-" + idEncoding.EncodeToString(sum[:10])
}

// ValidID reports whether s has the shape of a request id, so malformed ids are
// refused before they reach storage or a workflow.
func ValidID(s string) bool {
	if len(s) != len("dsr-20060102-")+16 || !strings.HasPrefix(s, "dsr-") || s[12] != '-' {
		return false
	}
	for _, c := range s[4:12] {
		if c < '0' || c > '9' {
			return false
		}
	}
	for _, c := range s[13:] {
		if !strings.ContainsRune("0123456789abcdefghjkmnpqrstvwxyz", c) {
			return false
		}
	}
	return true
}

// ErrChanged is the cause of a save that lost a race: the request changed
// since it was read. Reading it again and retrying is the cure, so workflow
// steps treat it as transient.
var ErrChanged = errors.New("the request changed since it was read")

// ErrOnHold is the cause of erasure refused while a legal hold is on the
// request; the workflow waits for its release.
var ErrOnHold = errors.New("a legal hold blocks erasure")

// ErrNotOnHold is the cause of a wait for a hold that is no longer there.
var ErrNotOnHold = errors.New("the request is not on legal hold")

// ErrFindingsOpen is the cause of erasure that cannot be reported done:
// places in the sources that may hold the subject wait for an operator.
var ErrFindingsOpen = errors.New("findings wait for an operator")

// Extension decisions besides extending (which sets Extended).
const (
	ExtensionKept      = "kept"      // an operator let the date stand
	ExtensionUndecided = "undecided" // nobody decided in time; the date stands
)

// ErrNothingToAppeal is the cause of an appeal that names no decision its
// subject can appeal: none of theirs under the same law, not decided, or
// appealed before.
var ErrNothingToAppeal = errors.New("nothing to appeal")

// ErrNoOpenFindings is the cause of a wait for findings already resolved.
var ErrNoOpenFindings = errors.New("no finding waits for an operator")

// Event is one entry of a request's append-only audit log: who or what did
// what, when, and how the status changed. It holds no personal data.
type Event struct {
	At     time.Time
	Actor  string // "subject", "system", "operator:<name>"
	Action string // "received", "verification_sent", "verified", ...
	From   Status
	To     Status
	Note   string // ids and counts only
}

// Query selects requests for operators' lists and records.
type Query struct {
	// Statuses, when given, selects requests in these statuses, by due
	// date; otherwise requests received between Since and Until (open end
	// when zero), by receipt time.
	Statuses []Status
	Since    time.Time
	Until    time.Time
}

// OpenStatuses are the statuses of requests still being worked on.
var OpenStatuses = []Status{Received, PendingVerification, Verified, InProgress, Failed}

// NeedsVerification reports whether the subject must confirm the request
// before it is carried out: where the law allows asking (its rules say so),
// never where its verification level asks for none (opt-out and limit,
// internal/statute/verification.yaml), and never for a Global Privacy
// Control signal (CCPA Regs §7025).
func (r *Request) NeedsVerification() bool {
	if r.Mail.UnauthenticatedSender {
		// A forged From address could otherwise opt a stranger out: the
		// CCPA lets a business verify a request it believes may be
		// fraudulent (11 CCR §7026(d)).
		return true
	}
	return r.Via != ViaGPC && r.Deadlines.VerificationRequired && !r.Verification.Level.None
}

// NoticePoint is when the deadline watch looks at the request the first
// time: lead before the last day for an extension notice (or before the due
// date where no extension is possible), and never before receipt.
func (r *Request) NoticePoint(lead time.Duration) time.Time {
	day := r.Deadlines.Due
	if r.Deadlines.ExtensionNoticeBy != nil {
		day = *r.Deadlines.ExtensionNoticeBy
	}
	at := day.StartOfDay(r.Deadlines.Location()).Add(-lead)
	if at.Before(r.ReceivedAt) {
		return r.ReceivedAt
	}
	return at
}

// Execution is the name of the request's current workflow execution.
func (r *Request) Execution() string {
	if r.Redrives == 0 {
		return r.ID
	}
	return r.ID + "-r" + strconv.Itoa(r.Redrives)
}

// ErrCancelled is the cause of a workflow step refused because an operator
// cancelled the request: the workflow ends there, successfully, as a
// cancellation is an ordinary end.
var ErrCancelled = errors.New("the request was cancelled")

// ErrClosed is the cause of a deadline watch's wait refused or ended because
// the request closed: the watch has nothing left to guard and ends
// successfully.
var ErrClosed = errors.New("the request is closed")
