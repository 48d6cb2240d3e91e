package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/notify"
	"github.com/privacy-pipeline/dsr/internal/recipient"
	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/webhook"
)

// Notices keeps what each recipient was told of a request, one delivery
// per recipient (see dynstore.Deliveries).
type Notices interface {
	// Delivery returns the delivery to a recipient; false when it was not
	// tried yet.
	Delivery(ctx context.Context, requestID, recipientID string) (recipient.Delivery, bool, error)
	PutDelivery(ctx context.Context, d recipient.Delivery) error
}

// recipientTries is how many times the workflow tries to tell a recipient
// before the operators are asked to: the step's first run and each retry
// the standard Retry makes of its TransientError. The last try settles the
// delivery instead of failing, so the request goes on before the Retry
// gives up and fails it.
var recipientTries = StandardRetry[0].MaxAttempts + 1

// TellRecipients passes a carried-out request on to each recipient the
// registry says is told of its type (GDPR Art 19; CCPA Regs §7022(b),
// §7023, §7026(f), §7027) and that knows the subject by an identity the
// request has, with the values of those identities only: through the
// recipient's webhook (a signed call the client makes up to
// webhook.DefaultAttempts times, answered by a signed acknowledgement of
// the notice) or by mail. Each delivery is kept, so a step run again tells
// only those not told yet.
//
// A recipient that cannot be reached fails the step with a TransientError
// once every other recipient had its try, and the state machine's Retry
// runs it again with backoff. The last try (recipientTries) settles the
// delivery as unreached, mails the operators to tell the recipient
// themselves, and lets the request go on: its receipt and final mail say
// the recipient could not be reached yet, never that it was told.
//
// An erasure is passed on once it is complete, at the receipt's gates (no
// open finding, every manual source answered, no legal hold), and before
// the receipt, which lists the deliveries. A dry run, and a correction that
// found nothing to correct, tell nobody.
func (s *Steps) TellRecipients(ctx context.Context, in RequestRef) error {
	r, err := s.load(ctx, in.RequestID)
	if err != nil {
		return err
	}
	if err := s.readyToTell(ctx, r); err != nil {
		return err
	}
	if r.DryRun || (r.Type == request.Correct && r.Correction.Items == 0) {
		return s.forgetCorrections(ctx, r)
	}
	recipients := s.Registry.NotifiedOf(string(r.Type))
	if len(recipients) > 0 && s.Notices == nil {
		return apperr.E(apperr.Internal, "No store of deliveries to recipients is configured.")
	}
	ids := subjectIdentities(r)
	var retrying []string
	for _, n := range recipients {
		sent := recipientIdentities(n, ids)
		if len(sent) == 0 {
			continue // it knows the subject by nothing the request has
		}
		d, err := s.tellRecipient(ctx, r, n, sent)
		if err != nil {
			return err
		}
		if d.Status == recipient.Retrying {
			retrying = append(retrying, n.ID)
		}
	}
	if len(retrying) > 0 {
		return apperr.E(apperr.Unavailable, fmt.Sprintf("Recipients not reached yet, tried again: %s.", strings.Join(retrying, ", ")))
	}
	return s.forgetCorrections(ctx, r)
}

// readyToTell fails unless r is carried out as far as its recipients are
// concerned: an erasure passed the receipt's gates, a correction applied,
// a choice recorded.
func (s *Steps) readyToTell(ctx context.Context, r *request.Request) error {
	if r.Status != request.InProgress {
		return apperr.E(apperr.Conflict, "Only a request in progress is passed on to recipients.")
	}
	switch {
	case r.Type == request.Delete:
		if r.DryRun {
			return nil
		}
		if r.OnHold {
			return apperr.Wrap(apperr.Conflict, "A legal hold blocks erasure until an operator releases it.", request.ErrOnHold)
		}
		if _, err := s.openFindings(ctx, r); err != nil {
			return err
		}
		_, err := s.openManualTasks(ctx, r)
		return err
	case r.Type == request.Correct:
		if r.Correction.Fields == nil {
			return apperr.E(apperr.Conflict, "The corrections were not applied.")
		}
	case !hasFlag(r.Type):
		return apperr.E(apperr.Conflict, "Requests of this type are passed on to no recipient.")
	}
	// Systems the pipeline cannot change carry out the correction or the
	// choice too, before anyone is told it is done.
	_, err := s.openManualTasks(ctx, r)
	return err
}

// subjectIdentities are the identities the request has: those resolved,
// and the address it came from (a choice the law lets go unverified is
// never resolved).
func subjectIdentities(r *request.Request) map[string][]string {
	ids := maps.Clone(r.Identities)
	if ids == nil {
		ids = map[string][]string{}
	}
	if email := ids[registry.StartIdentity]; r.Email != "" && !slices.Contains(email, r.Email) {
		ids[registry.StartIdentity] = append(slices.Clone(email), r.Email)
	}
	return ids
}

// recipientIdentities are the values of ids of the identity kinds n knows
// a subject by.
func recipientIdentities(n *registry.Notified, ids map[string][]string) map[string][]string {
	out := map[string][]string{}
	for _, kind := range n.Identities {
		if len(ids[kind]) > 0 {
			out[kind] = slices.Clone(ids[kind])
		}
	}
	return out
}

// tellRecipient tries to tell n of r, unless an earlier try settled it,
// and keeps what came of it.
func (s *Steps) tellRecipient(ctx context.Context, r *request.Request, n *registry.Notified, ids map[string][]string) (recipient.Delivery, error) {
	d, found, err := s.Notices.Delivery(ctx, r.ID, n.ID)
	switch {
	case err != nil:
		return recipient.Delivery{}, err
	case found && d.Final():
		return d, nil
	case !found:
		d = recipient.Delivery{RequestID: r.ID, RecipientID: n.ID, Name: n.Name, Channel: recipient.Email, NoticeID: recipient.NoticeID(r.ID, n.ID)}
		if n.Webhook != nil {
			d.Channel = recipient.Webhook
		}
	}
	now := s.Clock.Now()
	d.Tries, d.At = d.Tries+1, now
	reason, again, err := s.sendNotice(ctx, r, n, ids, d.NoticeID, now)
	if err != nil {
		return recipient.Delivery{}, err
	}
	ev := request.Event{At: now, Actor: actor}
	switch {
	case reason == "":
		d.Status, d.Reason = recipient.Told, ""
		ev.Action, ev.Note = "recipient_told", fmt.Sprintf("recipient=%s channel=%s tries=%d", n.ID, d.Channel, d.Tries)
	case again && d.Tries < recipientTries:
		d.Status, d.Reason = recipient.Retrying, reason
		ev.Action, ev.Note = "recipient_not_reached", fmt.Sprintf("recipient=%s reason=%s tries=%d", n.ID, reason, d.Tries)
	default:
		d.Status, d.Reason = recipient.Unreached, reason
		ev.Action, ev.Note = "recipient_unreached", fmt.Sprintf("recipient=%s reason=%s tries=%d", n.ID, reason, d.Tries)
		if s.OperatorEmail != "" {
			if err := s.Mailer.Send(ctx, notify.RecipientUnreached(s.OperatorEmail, r.ID, string(r.Type), n.ID, n.Name, reason, d.Tries)); err != nil {
				return recipient.Delivery{}, err
			}
			ev.Note += " operators_told"
		}
	}
	if err := s.Notices.PutDelivery(ctx, d); err != nil {
		return recipient.Delivery{}, err
	}
	return d, s.Store.Record(ctx, r.ID, ev)
}

// sendNotice tells n of r, under the notice's id: by a signed webhook
// call, whose answer must acknowledge the notice, or by mail. It returns
// why n was not reached ("" when it was) and whether trying again may
// help. An error is a fault on our side (a secret that cannot be read, mail
// that cannot be sent), which fails the step as any other.
func (s *Steps) sendNotice(ctx context.Context, r *request.Request, n *registry.Notified, ids map[string][]string, noticeID string, now time.Time) (reason string, again bool, err error) {
	action, _ := recipient.Action(string(r.Type))
	var corrections map[string]string
	if r.Type == request.Correct {
		if len(r.Correction.Values) == 0 {
			// Cleared before the recipients had them (a registry that
			// named none when the correction was applied).
			return "the corrected values are no longer held", false, nil
		}
		corrections = maps.Clone(r.Correction.Values)
	}
	citation := recipient.Citation(r.Jurisdiction, string(r.Type))
	if n.Webhook == nil {
		msg, err := notify.RecipientNotice(n.Email, notify.RecipientMail{NoticeID: noticeID, RequestID: r.ID, Recipient: n.Name,
			Type: string(r.Type), Action: action, Identities: ids, Corrections: corrections, Jurisdiction: r.Jurisdiction, Citation: citation})
		if err != nil {
			return "", false, apperr.Wrap(apperr.Internal, "The notice to a recipient could not be written.", err)
		}
		return "", false, s.Mailer.Send(ctx, msg)
	}
	if s.Webhooks == nil {
		return "", false, apperr.E(apperr.Internal, "No webhook client is configured.")
	}
	notice := webhook.RecipientNotice{Kind: webhook.KindRecipientNotice, NoticeID: noticeID, RequestID: r.ID, RecipientID: n.ID,
		Type: string(r.Type), Action: action, Identities: ids, Corrections: corrections,
		Jurisdiction: r.Jurisdiction, Citation: citation, SentAt: now.UTC()}
	body, err := json.Marshal(notice)
	if err != nil {
		return "", false, apperr.Wrap(apperr.Internal, "The notice to a recipient could not be written.", err)
	}
	ep := webhook.Endpoint{URL: n.Webhook.URL, Secret: n.Webhook.Secret, Timeout: n.Webhook.TimeoutDuration()}
	_, err = s.Webhooks.Call(ctx, ep, body, func(reply webhook.Reply) error {
		_, err := webhook.ParseRecipientAck(reply.Body, notice)
		return err
	})
	var failure *webhook.Failure
	if errors.As(err, &failure) {
		return failure.Reason, true, nil
	}
	return "", false, err
}

// forgetCorrections clears a correction's new values once its recipients
// have them, or the operators were asked to pass them on: the profile
// holds them, and the request need not.
func (s *Steps) forgetCorrections(ctx context.Context, r *request.Request) error {
	if r.Type != request.Correct || len(r.Correction.Values) == 0 {
		return nil
	}
	r.Correction.Values = nil
	return s.move(ctx, r, r.Status, "corrections_cleared", "")
}

// deliveries are what the recipients of r's type were told of it, in the
// registry's order; those never tried are left out.
func (s *Steps) deliveries(ctx context.Context, r *request.Request) ([]recipient.Delivery, error) {
	if s.Registry == nil || r.DryRun {
		return nil, nil
	}
	recipients := s.Registry.NotifiedOf(string(r.Type))
	if len(recipients) == 0 {
		return nil, nil
	}
	if s.Notices == nil {
		return nil, apperr.E(apperr.Internal, "No store of deliveries to recipients is configured.")
	}
	var out []recipient.Delivery
	for _, n := range recipients {
		d, ok, err := s.Notices.Delivery(ctx, r.ID, n.ID)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, d)
		}
	}
	return out, nil
}

// toldRecipients is how r's final mail names the recipients it was passed
// on to: reached only when told.
func (s *Steps) toldRecipients(ctx context.Context, r *request.Request) ([]notify.Recipient, error) {
	ds, err := s.deliveries(ctx, r)
	if err != nil {
		return nil, err
	}
	out := make([]notify.Recipient, len(ds))
	for i, d := range ds {
		out[i] = notify.Recipient{Name: d.Name, Reached: d.Status == recipient.Told}
	}
	return out, nil
}
