// Package sesmail sends notify messages through Amazon SES v2 as raw MIME
// (multipart/alternative: text and HTML), so every client shows its best part.
package sesmail

import (
	"bytes"
	"context"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/textproto"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/clock"
	"github.com/privacy-pipeline/dsr/internal/notify"
	"github.com/privacy-pipeline/dsr/internal/secret"
)

// API is the part of the SES v2 client this package uses.
type API interface {
	SendEmail(context.Context, *sesv2.SendEmailInput, ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// Sender sends messages from one address.
type Sender struct {
	api   API
	from  string
	clock clock.Clock
}

// New returns a sender using from as the From address.
func New(api API, from string, c clock.Clock) *Sender { return &Sender{api: api, from: from, clock: c} }

// Send delivers m. An SES failure is Unavailable, so the workflow retries it.
func (s *Sender) Send(ctx context.Context, m notify.Message) error {
	raw, err := Render(s.from, m, s.clock.Now())
	if err != nil {
		return apperr.Wrap(apperr.Internal, "A message could not be composed.", err)
	}
	_, err = s.api.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: &s.from,
		Destination:      &types.Destination{ToAddresses: []string{m.To}},
		Content:          &types.EmailContent{Raw: &types.RawMessage{Data: raw}},
	})
	if err != nil {
		return apperr.Wrap(apperr.Unavailable, "The mail service is unavailable.", err)
	}
	return nil
}

// Render writes m as an RFC 5322 message with text and HTML alternatives.
func Render(from string, m notify.Message, now time.Time) ([]byte, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	header := func(k, v string) { fmt.Fprintf(&buf, "%s: %s\r\n", k, v) }
	header("From", from)
	header("To", m.To)
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Date", now.UTC().Format(time.RFC1123Z))
	header("Message-ID", "<"+secret.NewToken()[:24]+"@privacy-pipeline>")
	header("MIME-Version", "1.0")
	if m.Language != "" {
		// RFC 3282: mail clients pick spelling and reading voice by it.
		header("Content-Language", string(m.Language))
	}
	header("Content-Type", `multipart/alternative; boundary="`+mw.Boundary()+`"`)
	buf.WriteString("\r\n")
	for _, part := range []struct{ ctype, body string }{
		{"text/plain; charset=utf-8", m.Text},
		{"text/html; charset=utf-8", m.HTML},
	} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.ctype},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write([]byte(part.body)); err != nil {
			return nil, err
		}
		if err := qp.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
