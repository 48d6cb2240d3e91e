package notify

import (
	"strings"
	"testing"
	"time"
)

func TestMessages(t *testing.T) {
	link := "https://privacy.example.com/v1/requests/dsr-1/verify?token=a&b=<c>"
	expires := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	tests := []struct {
		name     string
		build    func() (Message, error)
		subject  string
		text     []string
		htmlLink string
	}{
		{"verification", func() (Message, error) { return Verification("a@b.co", "dsr-1", link) },
			"Confirm your privacy request dsr-1", []string{"dsr-1", link}, "token=a&amp;b=%3cc%3e"},
		{"download", func() (Message, error) { return DownloadReady("a@b.co", "dsr-1", link, expires) },
			"Your data is ready: request dsr-1", []string{"1 December 2026 09:30 UTC", link}, "token=a&amp;b=%3cc%3e"},
		{"erased", func() (Message, error) { return Erased("a@b.co", "dsr-1") },
			"Your data has been deleted: request dsr-1", []string{"erased your personal data"}, ""},
		{"never verified", func() (Message, error) { return NeverVerified("a@b.co", "dsr-1") },
			"Privacy request dsr-1 closed", []string{"not confirmed in time"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := tt.build()
			if err != nil {
				t.Fatal(err)
			}
			if m.To != "a@b.co" || m.Subject != tt.subject {
				t.Fatalf("to %q subject %q", m.To, m.Subject)
			}
			for _, want := range tt.text {
				if !strings.Contains(m.Text, want) {
					t.Errorf("text lacks %q:\n%s", want, m.Text)
				}
			}
			if tt.htmlLink != "" && !strings.Contains(m.HTML, tt.htmlLink) {
				t.Errorf("html does not escape the link:\n%s", m.HTML)
			}
			if strings.Contains(m.HTML, "<c>") {
				t.Error("html contains unescaped input")
			}
		})
	}
}
