// Package snstopics publishes the tasks of manual sources to the SNS topics
// their owners subscribe to (see registry.ManualSource).
package snstopics

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/notify"
)

// API is the part of the SNS client used here.
type API interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Topics publishes messages to SNS topics.
type Topics struct{ api API }

// New returns Topics publishing through api.
func New(api API) *Topics { return &Topics{api: api} }

// maxSubject is the longest subject SNS takes (for email subscribers).
const maxSubject = 100

// Publish sends m to the topic: its subject (cut to what SNS takes) and
// its text, which email subscribers receive as the mail. The message holds
// ids and a link, never personal data (see notify.ManualTask).
func (t *Topics) Publish(ctx context.Context, topicARN string, m notify.Message) error {
	subject := m.Subject
	if r := []rune(subject); len(r) > maxSubject {
		subject = string(r[:maxSubject-1]) + "…"
	}
	_, err := t.api.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topicARN), Subject: aws.String(subject), Message: aws.String(m.Text)})
	if err != nil {
		return apperr.Wrap(apperr.Unavailable, "The owners' topic is unavailable.", err)
	}
	return nil
}
