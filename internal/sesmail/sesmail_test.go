package sesmail

import (
	"mime"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/i18n"
	"github.com/privacy-pipeline/dsr/internal/notify"
)

// TestRenderLanguage: a message says its language (RFC 3282), and a subject
// line outside ASCII is encoded so any mail client reads it back.
func TestRenderLanguage(t *testing.T) {
	tests := []struct {
		lang i18n.Lang
		want string
	}{
		{i18n.German, "de"},
		{i18n.Finnish, "fi"},
		{"", ""},
	}
	for _, tt := range tests {
		m := notify.Message{To: "a@b.co", Subject: "Bestätigen Sie Ihre Datenschutzanfrage dsr-1", Text: "x", HTML: "<p>x</p>", Language: tt.lang}
		raw, err := Render("privacy@example.com", m, time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		msg, err := mail.ReadMessage(strings.NewReader(string(raw)))
		if err != nil {
			t.Fatal(err)
		}
		if got := msg.Header.Get("Content-Language"); got != tt.want {
			t.Errorf("Content-Language %q, want %q", got, tt.want)
		}
		subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		if err != nil || subject != m.Subject {
			t.Errorf("subject %q (%v), want %q", subject, err, m.Subject)
		}
	}
}
