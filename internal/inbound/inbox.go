package inbound

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/clock"
	"github.com/privacy-pipeline/dsr/internal/mailparse"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// InboxQueue is the operators' inbox as operators use it.
type InboxQueue interface {
	Queue
	List(ctx context.Context) ([]Item, error)
	// Take removes an item, so one operator acts on it; NotFound when it
	// is not (or no longer) there.
	Take(ctx context.Context, mailID string) (Item, error)
}

// Inbox is what operators do with mail the rules could not decide: read
// it, make it a request of the type they judge, or discard it. Every
// decision is in the mail's audit log.
type Inbox struct {
	Queue  InboxQueue
	Raw    RawStore
	Portal Submitter
	Audit  Auditor
	Clock  clock.Clock
	// Jurisdiction applies when neither the operator nor the mail names one.
	Jurisdiction string
	Limits       mailparse.Limits
}

// DiscardReasons are why an operator may discard a mail. They are fixed
// words, so the audit log holds no free text about a person.
var DiscardReasons = []string{"spam", "not_a_request", "duplicate", "answered"}

// List returns the mail waiting for operators.
func (b *Inbox) List(ctx context.Context) ([]Item, error) { return b.Queue.List(ctx) }

// Read returns a waiting mail and what it says, for an operator to judge.
// A mail that cannot be parsed comes back with the parse error.
func (b *Inbox) Read(ctx context.Context, mailID string) (Item, *mailparse.Message, error) {
	if !ValidMailID(mailID) {
		return Item{}, nil, apperr.E(apperr.Invalid, "Not a mail id.")
	}
	items, err := b.Queue.List(ctx)
	if err != nil {
		return Item{}, nil, err
	}
	i := slices.IndexFunc(items, func(it Item) bool { return it.ID == mailID })
	if i < 0 {
		return Item{}, nil, apperr.E(apperr.NotFound, "No such mail in the inbox.")
	}
	msg, err := b.parse(ctx, items[i].Key)
	return items[i], msg, err
}

// Letter reads the mail a request came by (its raw message's key), for an
// operator to read what it asks. The message is gone once its requests
// closed.
func (b *Inbox) Letter(ctx context.Context, key string) (*mailparse.Message, error) {
	return b.parse(ctx, key)
}

func (b *Inbox) parse(ctx context.Context, key string) (*mailparse.Message, error) {
	body, err := b.Raw.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	msg, err := mailparse.Parse(body, b.Limits)
	switch {
	case errors.Is(err, mailparse.ErrTooLarge):
		return nil, apperr.Wrap(apperr.Invalid, "The mail is larger than the limit; read it from the raw-mail bucket.", err)
	case err != nil:
		return nil, apperr.Wrap(apperr.Invalid, "The mail is not readable MIME; read it from the raw-mail bucket.", err)
	}
	return msg, nil
}

// MakeRequest turns a waiting mail into a request of the given type for
// the mail's From address, which then gets the acknowledgement and the
// verification link like any subject. It returns the request id.
func (b *Inbox) MakeRequest(ctx context.Context, mailID string, typ request.Type, jurisdiction, by string) (string, error) {
	if err := checkActor(mailID, by); err != nil {
		return "", err
	}
	it, err := b.Queue.Take(ctx, mailID)
	if err != nil {
		return "", err
	}
	id, err := b.makeRequest(ctx, it, typ, jurisdiction, by)
	if err != nil {
		return "", b.putBack(ctx, it, err)
	}
	if err := b.Raw.SetDisposition(ctx, it.Key, ForRequest); err != nil {
		// The request stands and deletes the mail when it closes.
		return id, apperr.Wrap(apperr.Unavailable, fmt.Sprintf("Request %s was made, but the mail's label was not updated.", id), err)
	}
	return id, b.record(ctx, mailID, by, "made_request", "request_id="+id)
}

func (b *Inbox) makeRequest(ctx context.Context, it Item, typ request.Type, jurisdiction, by string) (string, error) {
	msg, err := b.parse(ctx, it.Key)
	if err != nil {
		return "", err
	}
	if msg.From == "" {
		return "", apperr.E(apperr.Invalid, "The mail names no single sender to answer; discard it.")
	}
	c := Classify(msg.Subject, msg.Text)
	receipt, err := b.Portal.Submit(ctx, request.Submission{
		Type:         string(typ),
		Email:        msg.From,
		Jurisdiction: cmp.Or(jurisdiction, c.Jurisdiction, b.Jurisdiction),
		Language:     string(c.Language),
		Mail:         &request.MailOrigin{Key: it.Key, Verdicts: it.Verdicts.String(), Operator: by, SenderAuthenticated: it.Verdicts.authenticated(), ReceivedAt: it.ReceivedAt},
	})
	if err != nil {
		return "", err
	}
	return receipt.ID, nil
}

// Discard drops a waiting mail for one of DiscardReasons; its raw message
// expires by the bucket's lifecycle.
func (b *Inbox) Discard(ctx context.Context, mailID, reason, by string) error {
	if err := checkActor(mailID, by); err != nil {
		return err
	}
	if !slices.Contains(DiscardReasons, reason) {
		return apperr.InvalidFields(apperr.FieldError{Field: "reason", Detail: "Say why with one of: " + strings.Join(DiscardReasons, ", ") + "."})
	}
	it, err := b.Queue.Take(ctx, mailID)
	if err != nil {
		return err
	}
	if err := b.Raw.SetDisposition(ctx, it.Key, Discarded); err != nil {
		return b.putBack(ctx, it, err)
	}
	return b.record(ctx, mailID, by, "discarded", "reason="+reason)
}

func checkActor(mailID, by string) error {
	if !ValidMailID(mailID) {
		return apperr.E(apperr.Invalid, "Not a mail id.")
	}
	if strings.TrimSpace(by) == "" {
		return apperr.E(apperr.Invalid, "Say who acts.")
	}
	return nil
}

// putBack returns a taken item to the queue after its action failed, so
// that nothing is lost; it returns the action's error.
func (b *Inbox) putBack(ctx context.Context, it Item, cause error) error {
	if err := b.Queue.Put(context.WithoutCancel(ctx), it); err != nil {
		return apperr.Wrap(apperr.Unavailable, fmt.Sprintf("The action failed and mail %s could not be put back in the inbox; its message is kept in the raw-mail bucket at %s.", it.ID, it.Key), cause)
	}
	return cause
}

// record appends to a mail's audit log; the action is done either way,
// and the operator is told when the log could not be written.
func (b *Inbox) record(ctx context.Context, mailID, by, action, note string) error {
	ev := request.Event{At: b.Clock.Now(), Actor: "operator:" + by, Action: action, Note: note}
	if err := b.Audit.Record(ctx, AuditID(mailID), ev); err != nil {
		return apperr.Wrap(apperr.Unavailable, fmt.Sprintf("Done (%s), but the audit log could not be written.", note), err)
	}
	return nil
}
