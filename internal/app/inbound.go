package app

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/privacy-pipeline/dsr/internal/clock"
	"github.com/privacy-pipeline/dsr/internal/inbound"
	"github.com/privacy-pipeline/dsr/internal/mailparse"
	"github.com/privacy-pipeline/dsr/internal/s3mail"
	"github.com/privacy-pipeline/dsr/internal/sqsinbox"
	"github.com/privacy-pipeline/dsr/internal/workflow"
)

// InboundResult says what became of each mail of an SES event, by ids. SES
// invokes the function asynchronously and ignores it; the local stack's
// dev endpoint shows it.
type InboundResult struct {
	Mails []MailOutcome `json:"mails"`
}

// MailOutcome is what became of one mail.
type MailOutcome struct {
	MailID      string `json:"mail_id"`
	Disposition string `json:"disposition"`
	Reason      string `json:"reason,omitempty"`
	RequestID   string `json:"request_id,omitempty"`
	// RequestIDs are all the requests the mail made, in its order: a mail
	// may ask for a copy and then an erasure.
	RequestIDs []string `json:"request_ids,omitempty"`
}

// MailFromSES reads the ids and verdicts of one received mail from an SES
// receipt event; the message itself is in the raw-mail bucket, where the
// rule's S3 action put it under the message id.
func MailFromSES(ses events.SimpleEmailService, raw *s3mail.Store) inbound.Mail {
	r := ses.Receipt
	received := r.Timestamp
	if received.IsZero() {
		received = ses.Mail.Timestamp
	}
	return inbound.Mail{
		ID:         ses.Mail.MessageID,
		Key:        raw.Key(ses.Mail.MessageID),
		ReceivedAt: received.UTC(),
		Verdicts: inbound.Verdicts{SPF: r.SPFVerdict.Status, DKIM: r.DKIMVerdict.Status, DMARC: r.DMARCVerdict.Status,
			Spam: r.SpamVerdict.Status, Virus: r.VirusVerdict.Status}.Normalized(),
	}
}

func (a *App) processor() *inbound.Processor {
	return &inbound.Processor{
		Raw:          a.rawMail,
		Queue:        a.inbox(),
		Portal:       a.portal,
		Audit:        a.store,
		Clock:        clock.System{},
		Jurisdiction: a.cfg.InboundJurisdiction,
		OwnAddresses: []string{a.cfg.MailFrom, a.cfg.InboxAddress},
		Limits:       mailparse.DefaultLimits,
		Log:          a.log,
	}
}

// Inbound is the handler of the SES receipt rule's Lambda action. It logs
// ids, verdicts and outcomes only: the event's headers name the sender.
// An error makes Lambda retry the event and, in the end, put it in the
// function's dead-letter queue; mail handled before is not handled again.
func (a *App) Inbound() func(context.Context, events.SimpleEmailEvent) (InboundResult, error) {
	p := a.processor()
	return func(ctx context.Context, ev events.SimpleEmailEvent) (InboundResult, error) {
		var res InboundResult
		for _, rec := range ev.Records {
			m := MailFromSES(rec.SES, a.rawMail)
			if !inbound.ValidMailID(m.ID) {
				m.ID = "(invalid)"
			}
			out, err := p.Process(ctx, m)
			if err != nil {
				a.log.ErrorContext(ctx, "mail not handled", "mail_id", m.ID, "error_code", workflow.ErrorCode(err))
				return res, workflow.TaskError(err)
			}
			a.log.InfoContext(ctx, "mail handled", "mail_id", m.ID, "disposition", out.Disposition, "reason", out.Reason,
				"request_ids", out.RequestIDs, "language", out.Language, "verdicts", m.Verdicts.String())
			res.Mails = append(res.Mails, MailOutcome{MailID: m.ID, Disposition: out.Disposition, Reason: out.Reason, RequestID: out.RequestID,
				RequestIDs: out.RequestIDs})
		}
		return res, nil
	}
}

// Inbox returns what operators do with mail waiting for them.
func (a *App) Inbox() *inbound.Inbox {
	return &inbound.Inbox{Queue: a.inbox(), Raw: a.rawMail, Portal: a.portal, Audit: a.store, Clock: clock.System{},
		Jurisdiction: a.cfg.InboundJurisdiction, Limits: mailparse.DefaultLimits}
}

// inbox is the operators' inbox; only the inbound function and the
// operators' tools reach it, and only they link the SQS client.
func (a *App) inbox() *sqsinbox.Queue {
	return a.inboxPart.get(func() *sqsinbox.Queue { return sqsinbox.New(sqs.NewFromConfig(a.awsCfg), a.cfg.OperatorQueueURL) })
}

// RawMail returns the raw-mail bucket.
func (a *App) RawMail() *s3mail.Store { return a.rawMail }
