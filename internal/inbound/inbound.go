package inbound

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/clock"
	"github.com/privacy-pipeline/dsr/internal/mailparse"
	"github.com/privacy-pipeline/dsr/internal/portal"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// Verdict statuses, as SES reports them.
const (
	Pass             = "PASS"
	Fail             = "FAIL"
	Gray             = "GRAY"
	ProcessingFailed = "PROCESSING_FAILED"
	Disabled         = "DISABLED"
)

// Verdicts are SES's checks of a received message: the sender's domain
// (SPF, DKIM, DMARC) and the content (spam, virus).
type Verdicts struct {
	SPF   string `json:"spf"`
	DKIM  string `json:"dkim"`
	DMARC string `json:"dmarc"`
	Spam  string `json:"spam"`
	Virus string `json:"virus"`
}

// Normalized returns the verdicts with every status one SES defines; an
// unknown or missing one becomes GRAY (neither pass nor fail).
func (v Verdicts) Normalized() Verdicts {
	norm := func(s string) string {
		switch s = strings.ToUpper(strings.TrimSpace(s)); s {
		case Pass, Fail, Gray, ProcessingFailed, Disabled:
			return s
		}
		return Gray
	}
	return Verdicts{SPF: norm(v.SPF), DKIM: norm(v.DKIM), DMARC: norm(v.DMARC), Spam: norm(v.Spam), Virus: norm(v.Virus)}
}

// String is the verdicts for audit notes and logs: statuses only.
func (v Verdicts) String() string {
	v = v.Normalized()
	return fmt.Sprintf("spf=%s dkim=%s dmarc=%s spam=%s virus=%s", v.SPF, v.DKIM, v.DMARC, v.Spam, v.Virus)
}

// authenticated tells whether the sender's domain passed DMARC, so that the
// From address is the domain's to use. Without a pass (a failure, or a
// domain that publishes no policy) anyone may have written it.
func (v Verdicts) authenticated() bool { return v.Normalized().DMARC == Pass }

// quarantine tells whether the content checks failed, and why. Such mail is
// not answered: an answer would confirm the address to a spammer, and a
// virus is nobody's request.
func (v Verdicts) quarantine() (string, bool) {
	v = v.Normalized()
	switch {
	case v.Virus == Fail:
		return ReasonVirus, true
	case v.Spam == Fail:
		return ReasonSpam, true
	}
	return "", false
}

// Mail is a received message as SES announces it: ids and verdicts. What it
// says is read from the raw-mail bucket.
type Mail struct {
	// ID is SES's message id, which also names the raw object.
	ID         string
	Key        string
	ReceivedAt time.Time
	Verdicts   Verdicts
}

var mailIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,127}$`)

// ValidMailID reports whether s has the shape of an SES message id, so that
// no other string reaches an object key or an audit key.
func ValidMailID(s string) bool { return mailIDPattern.MatchString(s) }

// AuditID is the key under which the audit log of a mail is kept, beside
// requests' own logs.
func AuditID(mailID string) string { return "mail-" + mailID }

// Why a mail waits for an operator.
const (
	ReasonSpam       = "spam"
	ReasonVirus      = "virus"
	ReasonTooLarge   = "too_large"
	ReasonUnreadable = "unreadable"
	ReasonNoSender   = "no_sender"
	// ReasonSeveralSenders: more than one From header, or more than one
	// address in From. Reading one of them would answer, and make a
	// request for, whichever a forger put first.
	ReasonSeveralSenders = "several_senders"
	ReasonAutomatic      = "automatic"
	ReasonUnclassified   = "unclassified"
	ReasonAmbiguous      = "ambiguous"
	ReasonNotSupported   = "type_not_supported"
	ReasonRefused        = "refused"
	ReasonRateLimited    = "rate_limited"
	// ReasonNoReference: an appeal quoting no reference of ours, or
	// several; an operator finds the decision it appeals.
	ReasonNoReference = "appeal_without_reference"
)

// What becomes of a raw message: the tag on its object, which the bucket's
// lifecycle rules read. Untagged mail has not been handled yet.
const (
	ForRequest  = "request"     // kept until the request closes
	ForOperator = "inbox"       // kept until an operator decides
	Quarantined = "quarantined" // expires by lifecycle
	Discarded   = "discarded"   // expires by lifecycle
	// Gone is no tag: the outcome of an event for a mail no longer stored.
	Gone = "gone"
)

// Item is one mail waiting for an operator. It carries ids and labels only:
// what the mail says stays in the raw-mail bucket.
type Item struct {
	ID          string    `json:"id"`
	Key         string    `json:"key"`
	ReceivedAt  time.Time `json:"received_at"`
	Reason      string    `json:"reason"`
	Quarantined bool      `json:"quarantined,omitempty"`
	// Language is the language the mail is written in ("fr"), which may be
	// one the catalogue does not speak.
	Language string `json:"language,omitempty"`
	// Guess is the likeliest request type, and Why what the rules could
	// not tell (one of the Why* words), for the operator to decide.
	Guess    string   `json:"guess,omitempty"`
	Why      string   `json:"why,omitempty"`
	Verdicts Verdicts `json:"verdicts"`
}

// RawStore holds raw messages and what became of them.
type RawStore interface {
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	Disposition(ctx context.Context, key string) (string, error)
	SetDisposition(ctx context.Context, key, disposition string) error
}

// Queue is the operators' inbox.
type Queue interface {
	Put(ctx context.Context, it Item) error
}

// Submitter makes requests the way the web form does, and says which a
// law offers.
type Submitter interface {
	Submit(ctx context.Context, in request.Submission) (portal.Receipt, error)
	Offered(jurisdiction string) []portal.Offer
}

// Auditor appends to an audit log.
type Auditor interface {
	Record(ctx context.Context, id string, ev request.Event) error
}

// Processor handles each mail to the privacy inbox once: a request, or an
// item in the operators' inbox. Nothing is dropped.
type Processor struct {
	Raw    RawStore
	Queue  Queue
	Portal Submitter
	Audit  Auditor
	Clock  clock.Clock
	// Jurisdiction applies when a mail names no law.
	Jurisdiction string
	// OwnAddresses are the pipeline's own addresses: mail from them is
	// never a request (it would be a loop).
	OwnAddresses []string
	Limits       mailparse.Limits
	Log          *slog.Logger
}

// Outcome is what became of a mail.
type Outcome struct {
	Disposition string
	Reason      string
	// RequestIDs are the requests the mail made, in its order; RequestID
	// is the first.
	RequestID  string
	RequestIDs []string
	Language   string
}

// Process handles one mail. An error means nothing was decided and the
// call may be repeated; a mail handled before is not handled again.
func (p *Processor) Process(ctx context.Context, m Mail) (Outcome, error) {
	if !ValidMailID(m.ID) {
		return Outcome{}, apperr.E(apperr.Invalid, "The mail has no valid message id.")
	}
	done, err := p.Raw.Disposition(ctx, m.Key)
	if apperr.Is(err, apperr.NotFound) {
		// The stored mail is gone: its request closed (which deletes it),
		// or it expired after an operator's decision. An event delivered
		// again now has nothing left to do.
		return Outcome{Disposition: Gone, Reason: "already_handled"}, nil
	}
	if err != nil {
		return Outcome{}, err
	}
	if done != "" {
		return Outcome{Disposition: done, Reason: "already_handled"}, nil
	}
	if reason, bad := m.Verdicts.quarantine(); bad {
		return p.toOperator(ctx, m, Item{Reason: reason, Quarantined: true})
	}
	msg, err := p.read(ctx, m.Key)
	switch {
	case errors.Is(err, mailparse.ErrTooLarge):
		return p.toOperator(ctx, m, Item{Reason: ReasonTooLarge})
	case errors.Is(err, mailparse.ErrMalformed), errors.Is(err, mailparse.ErrTooComplex):
		return p.toOperator(ctx, m, Item{Reason: ReasonUnreadable})
	case err != nil:
		return Outcome{}, err
	}
	c := Classify(msg.Subject, msg.Text)
	it := Item{Language: c.Written, Guess: string(c.Guess), Why: c.Why}
	switch {
	case msg.Senders > 1:
		it.Reason = ReasonSeveralSenders
	case msg.From == "":
		it.Reason = ReasonNoSender
	case msg.Automatic || p.own(msg.From):
		it.Reason = ReasonAutomatic
	default:
		it.Reason = c.OperatorReason()
	}
	if it.Reason != "" {
		return p.toOperator(ctx, m, it)
	}
	jurisdiction := cmp.Or(c.Jurisdiction, p.Jurisdiction)
	offers := p.Portal.Offered(jurisdiction)
	if len(c.Types) > 1 {
		// Every request or none: a mail half made into requests would
		// leave the rest to nobody.
		for _, t := range c.Types {
			if !slices.ContainsFunc(offers, func(o portal.Offer) bool { return o.Type == t }) {
				it.Reason, it.Guess = ReasonNotSupported, string(t)
				return p.toOperator(ctx, m, it)
			}
		}
	}
	out := Outcome{Disposition: ForRequest, Language: string(c.Language)}
	for part, typ := range c.Types {
		// The request is for the author in From, and all mail about it
		// goes there: Reply-To is anyone's to write. A sender whose domain
		// failed DMARC may be forged; verification by a link mailed to
		// From still decides, as for every request.
		origin := &request.MailOrigin{Key: m.Key, Verdicts: m.Verdicts.String(), SenderAuthenticated: m.Verdicts.authenticated(), ReceivedAt: m.ReceivedAt}
		if len(c.Types) > 1 {
			origin.Part, origin.Parts = part, len(c.Types)
		}
		in := request.Submission{
			Type:         string(typ),
			Email:        msg.From,
			Jurisdiction: jurisdiction,
			Language:     string(c.Language),
			Mail:         origin,
			Corrections:  correctable(typ, c.Corrections, offers),
		}
		if typ == request.Appeal {
			// The decision mail asks an appeal to quote its reference; with
			// none, or several, the mail goes to an operator.
			in.AppealOf = Reference(msg.Subject, msg.Text)
		}
		receipt, err := p.Portal.Submit(ctx, in)
		switch {
		case err == nil:
			out.RequestIDs = append(out.RequestIDs, receipt.ID)
			continue
		case part > 0:
			// The first request stands, and each was checked above: this
			// mail is retried whole, which finds the requests made.
			return Outcome{}, apperr.Wrap(apperr.Unavailable, "A later request of the mail could not be made.", err)
		case apperr.Is(err, apperr.Invalid):
			it.Reason = ReasonRefused
			switch {
			case fieldIs(err, "type"):
				it.Reason = ReasonNotSupported
			case fieldIs(err, "appeal_of"):
				it.Reason = ReasonNoReference
			}
			return p.toOperator(ctx, m, it)
		case apperr.Is(err, apperr.RateLimited):
			// Too many requests for this address: an operator sees the mail
			// rather than Lambda retrying it into the dead-letter queue.
			it.Reason = ReasonRateLimited
			return p.toOperator(ctx, m, it)
		}
		return Outcome{}, err
	}
	out.RequestID = out.RequestIDs[0]
	if err := p.Raw.SetDisposition(ctx, m.Key, ForRequest); err != nil {
		return Outcome{}, err
	}
	p.record(ctx, m.ID, "system", "made_request", "request_id="+strings.Join(out.RequestIDs, ",")+" "+m.Verdicts.String())
	return out, nil
}

// correctable are the new values a correction asks for that the law's
// offer lets a subject correct; nil for any other request.
func correctable(typ request.Type, c request.Corrections, offers []portal.Offer) *request.Corrections {
	if typ != request.Correct || len(c) == 0 {
		return nil
	}
	i := slices.IndexFunc(offers, func(o portal.Offer) bool { return o.Type == request.Correct })
	if i < 0 {
		return nil
	}
	out := request.Corrections{}
	for f, v := range c {
		if slices.Contains(offers[i].Fields, f) {
			out[f] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return &out
}

func (p *Processor) read(ctx context.Context, key string) (*mailparse.Message, error) {
	body, err := p.Raw.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	return mailparse.Parse(body, p.Limits)
}

func (p *Processor) own(addr string) bool {
	for _, a := range p.OwnAddresses {
		if strings.EqualFold(a, addr) {
			return true
		}
	}
	return false
}

// toOperator puts a mail in the operators' inbox and labels its raw object.
// The queue comes first: a mail labelled but not queued would be forgotten.
func (p *Processor) toOperator(ctx context.Context, m Mail, it Item) (Outcome, error) {
	it.ID, it.Key, it.ReceivedAt, it.Verdicts = m.ID, m.Key, m.ReceivedAt, m.Verdicts.Normalized()
	if err := p.Queue.Put(ctx, it); err != nil {
		return Outcome{}, err
	}
	disposition := ForOperator
	if it.Quarantined {
		disposition = Quarantined
	}
	if err := p.Raw.SetDisposition(ctx, m.Key, disposition); err != nil {
		return Outcome{}, err
	}
	p.record(ctx, m.ID, "system", "queued", "reason="+it.Reason+" "+m.Verdicts.String())
	return Outcome{Disposition: disposition, Reason: it.Reason, Language: it.Language}, nil
}

// record appends to a mail's audit log. The decision stands even when the
// log cannot be written; the failure is logged.
func (p *Processor) record(ctx context.Context, mailID, actor, action, note string) {
	ev := request.Event{At: p.Clock.Now(), Actor: actor, Action: action, Note: note}
	if err := p.Audit.Record(ctx, AuditID(mailID), ev); err != nil {
		p.Log.ErrorContext(ctx, "mail audit not written", "mail_id", mailID, "action", action, "error_kind", apperr.KindOf(err).String())
	}
}

func fieldIs(err error, field string) bool {
	var e *apperr.Error
	if errors.As(err, &e) {
		for _, f := range e.Fields {
			if f.Field == field {
				return true
			}
		}
	}
	return false
}

// referencePattern finds request ids in a mail.
var referencePattern = regexp.MustCompile(`\bdsr-[0-9]{8}-[0-9a-hjkmnp-tv-z]{16}\b`)

// Reference is the one request id a mail quotes (in its subject or text),
// or "" when it quotes none or several different ones.
func Reference(subject, text string) string {
	var found string
	for _, part := range []string{subject, text} {
		for _, id := range referencePattern.FindAllString(strings.ToLower(part), -1) {
			if found != "" && id != found {
				return ""
			}
			found = id
		}
	}
	return found
}
