package snstopics

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/notify"
)

type fakeSNS struct {
	in  []*sns.PublishInput
	err error
}

func (f *fakeSNS) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	f.in = append(f.in, in)
	return &sns.PublishOutput{}, f.err
}

func TestPublish(t *testing.T) {
	const topic = "arn:aws:sns:eu-west-1:123456789012:crm-requests"
	tests := []struct {
		name, subject, want string
	}{
		{"short subject", "Privacy request dsr-1: your part in crm", "Privacy request dsr-1: your part in crm"},
		{"long subject cut", strings.Repeat("ä", 120), strings.Repeat("ä", 99) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeSNS{}
			if err := New(f).Publish(context.Background(), topic, notify.Message{Subject: tt.subject, Text: "Answer the task: https://x/tasks/crm?token=t"}); err != nil {
				t.Fatal(err)
			}
			in := f.in[0]
			if aws.ToString(in.TopicArn) != topic || aws.ToString(in.Subject) != tt.want || utf8.RuneCountInString(aws.ToString(in.Subject)) > maxSubject ||
				!strings.Contains(aws.ToString(in.Message), "/tasks/crm?token=") {
				t.Fatalf("published %+v", in)
			}
		})
	}
	f := &fakeSNS{err: errors.New("throttled")}
	if err := New(f).Publish(context.Background(), topic, notify.Message{Subject: "s", Text: "t"}); !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("a failed publish: %v", err)
	}
}
