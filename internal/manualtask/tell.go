package manualtask

import (
	"context"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/links"
	"github.com/privacy-pipeline/dsr/internal/notify"
	"github.com/privacy-pipeline/dsr/internal/registry"
)

// Mailer sends mail.
type Mailer interface {
	Send(ctx context.Context, m notify.Message) error
}

// Topics publishes to the SNS topics that owners of manual sources
// subscribe to.
type Topics interface {
	Publish(ctx context.Context, topicARN string, m notify.Message) error
}

// Teller tells the owner of a source of a task: by mail, or through the
// SNS topic the registry names (where nothing publishes to topics, the
// operators get the task to pass on).
type Teller struct {
	Mailer        Mailer
	Topics        Topics // nil where nothing publishes
	OperatorEmail string
	BaseURL       string
}

// Tell sends the owner of src the task t, with a link that works until the
// token's expiry. why says why the task is the owner's, where the source
// is a webhook whose endpoint did not answer; a reminder says it is one.
func (tl Teller) Tell(ctx context.Context, src *registry.Source, t Task, token string, reminder bool, why string) error {
	link := links.Base(tl.BaseURL).Task(t.RequestID, t.SourceID, token)
	msg := notify.ManualTask(src.Manual.Owner, notify.TaskMail{
		TaskID: t.ID(), RequestID: t.RequestID, Source: src.ID, Description: src.Description, Type: t.Type,
		Export: t.Exports(), Due: t.Due, LinkExpires: t.TokenExpires, Link: link, Reminder: reminder, Why: why,
	})
	switch {
	case !src.Manual.OwnerTopic():
		return tl.Mailer.Send(ctx, msg)
	case tl.Topics != nil:
		return tl.Topics.Publish(ctx, src.Manual.Owner, msg)
	case tl.OperatorEmail != "":
		// Nothing publishes to the topic here: the operators get the task
		// to pass on, rather than the request failing.
		msg.To = tl.OperatorEmail
		msg.Subject += " (for the owners at " + src.Manual.Owner + ")"
		return tl.Mailer.Send(ctx, msg)
	}
	return apperr.E(apperr.Internal, "Nobody can be told of a manual source's task: its owner is an SNS topic, and neither SNS nor an operator address is configured.")
}
