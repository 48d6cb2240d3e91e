package devstack

import (
	"bytes"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/mail"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/privacy-pipeline/dsr/internal/inbound"
)

// MaxInboundBytes bounds a message posted to the dev endpoint. It is above
// the pipeline's own limit, so that an oversized mail can be tried out.
const MaxInboundBytes = 16 << 20

// receiveMail is POST /_dev/inbound: it does what SES does with a mail to
// the privacy inbox, on the same path as in the cloud. The raw message goes
// into the raw-mail bucket under a new message id (the receipt rule's S3
// action), then the inbound function is invoked through the Lambda API
// with an SES receipt event (the rule's Lambda action). Query parameters
// spf, dkim, dmarc, spam and virus set the verdicts (default PASS). It
// answers with what became of the mail, by ids.
func (s *Stack) receiveMail(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	verdict := func(name string) (string, bool) {
		v := strings.ToUpper(q.Get(name))
		switch v {
		case "":
			return inbound.Pass, true
		case inbound.Pass, inbound.Fail, inbound.Gray, inbound.ProcessingFailed, inbound.Disabled:
			return v, true
		}
		return "", false
	}
	var v [5]string
	for i, name := range []string{"spf", "dkim", "dmarc", "spam", "virus"} {
		var ok bool
		if v[i], ok = verdict(name); !ok {
			http.Error(w, name+" must be PASS, FAIL, GRAY, PROCESSING_FAILED or DISABLED", http.StatusBadRequest)
			return
		}
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxInboundBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			http.Error(w, "the message is larger than the 16 MiB this endpoint takes", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return
	}
	id := newMessageID()
	if err := s.App.RawMail().Put(r.Context(), s.App.RawMail().Key(id), raw); err != nil {
		http.Error(w, "the raw-mail bucket is unavailable", http.StatusBadGateway)
		return
	}
	fn := FunctionARN(s.Region, "inbound")
	ev := SESEvent(id, raw, time.Now().UTC(), fn, inbound.Verdicts{SPF: v[0], DKIM: v[1], DMARC: v[2], Spam: v[3], Virus: v[4]})
	body, _ := json.Marshal(ev)
	resp, err := http.Post(s.LambdaURL+invokePrefix+url.PathEscape(fn)+"/invocations", "application/json", bytes.NewReader(body))
	if err != nil {
		http.Error(w, "the Lambda host is unavailable", http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	w.Header().Set("Content-Type", "application/json")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Amz-Function-Error") != "" {
		// The function failed: in the cloud, Lambda would retry the event.
		w.WriteHeader(http.StatusBadGateway)
	}
	_, _ = w.Write(out)
}

var messageIDEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newMessageID makes an id shaped like SES's: 40 lower-case letters and digits.
func newMessageID() string {
	b := make([]byte, 25)
	_, _ = rand.Read(b)
	return messageIDEncoding.EncodeToString(b)
}

// SESEvent is the event SES gives a receipt rule's Lambda action for a
// message: its headers, the common ones parsed, and the verdicts.
func SESEvent(messageID string, raw []byte, at time.Time, functionARN string, v inbound.Verdicts) events.SimpleEmailEvent {
	m := events.SimpleEmailMessage{MessageID: messageID, Timestamp: at}
	if msg, err := mail.ReadMessage(bytes.NewReader(raw)); err == nil {
		names := make([]string, 0, len(msg.Header))
		for name := range msg.Header {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			for _, value := range msg.Header[name] {
				m.Headers = append(m.Headers, events.SimpleEmailHeader{Name: name, Value: value})
			}
		}
		h := msg.Header
		m.CommonHeaders = events.SimpleEmailCommonHeaders{
			From: nonEmpty(h.Get("From")), To: nonEmpty(h.Get("To")), ReturnPath: h.Get("Return-Path"),
			MessageID: h.Get("Message-Id"), Date: h.Get("Date"), Subject: h.Get("Subject"),
		}
		if a, err := mail.ParseAddress(h.Get("From")); err == nil {
			m.Source = a.Address
		}
		m.Destination = m.CommonHeaders.To
	}
	status := func(s string) events.SimpleEmailVerdict { return events.SimpleEmailVerdict{Status: s} }
	return events.SimpleEmailEvent{Records: []events.SimpleEmailRecord{{
		EventVersion: "1.0",
		EventSource:  "aws:ses",
		SES: events.SimpleEmailService{
			Mail: m,
			Receipt: events.SimpleEmailReceipt{
				Recipients:   m.Destination,
				Timestamp:    at,
				SPFVerdict:   status(v.SPF),
				DKIMVerdict:  status(v.DKIM),
				DMARCVerdict: status(v.DMARC),
				DMARCPolicy:  "none",
				SpamVerdict:  status(v.Spam),
				VirusVerdict: status(v.Virus),
				Action:       events.SimpleEmailReceiptAction{Type: "Lambda", InvocationType: "Event", FunctionARN: functionARN},
			},
		},
	}}}
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}
