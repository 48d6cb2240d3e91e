package devstack

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/mail"
	"sort"
	"strings"
	"time"
)

// Mail is one message the system sent, as the dev mailbox shows it.
type Mail struct {
	To      []string  `json:"to"`
	Subject string    `json:"subject"`
	Text    string    `json:"text"`
	HTML    string    `json:"html"`
	SentAt  time.Time `json:"sent_at"`
}

// readMailbox returns the mail sent through moto's SES, oldest first.
func readMailbox(motoURL string) ([]Mail, error) {
	// Only SES: the whole dump races with writes to other services
	// (see moto_launcher.py).
	resp, err := http.Get(motoURL + "/moto-api/data.json?service=ses")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("moto data: HTTP %d", resp.StatusCode)
	}
	var data struct {
		SES struct {
			RawMessage []struct {
				Destinations []string `json:"destinations"`
				RawData      string   `json:"raw_data"`
			} `json:"RawMessage"`
		} `json:"ses"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&data); err != nil {
		return nil, fmt.Errorf("moto data: %w", err)
	}
	mails := []Mail{}
	for _, raw := range data.SES.RawMessage {
		m, err := ParseMail(raw.RawData)
		if err != nil {
			return nil, err
		}
		if len(m.To) == 0 {
			m.To = raw.Destinations
		}
		mails = append(mails, m)
	}
	sort.SliceStable(mails, func(i, j int) bool { return mails[i].SentAt.Before(mails[j].SentAt) })
	return mails, nil
}

// ParseMail reads an RFC 5322 message with text and HTML parts.
func ParseMail(raw string) (Mail, error) {
	msg, err := mail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		return Mail{}, fmt.Errorf("parsing mail: %w", err)
	}
	var m Mail
	dec := new(mime.WordDecoder)
	if m.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		m.Subject = msg.Header.Get("Subject")
	}
	if to, err := msg.Header.AddressList("To"); err == nil {
		for _, a := range to {
			m.To = append(m.To, a.Address)
		}
	}
	if d, err := msg.Header.Date(); err == nil {
		m.SentAt = d.UTC()
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mediaType, "multipart/") {
		b, _ := io.ReadAll(msg.Body)
		m.Text = string(b)
		return m, nil
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart() // decodes quoted-printable
		if err == io.EOF {
			break
		}
		if err != nil {
			return Mail{}, fmt.Errorf("parsing mail part: %w", err)
		}
		b, err := io.ReadAll(part)
		if err != nil {
			return Mail{}, err
		}
		body := strings.ReplaceAll(string(b), "\r\n", "\n")
		switch ct, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type")); ct {
		case "text/plain":
			m.Text = body
		case "text/html":
			m.HTML = body
		}
	}
	return m, nil
}
