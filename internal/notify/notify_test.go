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
		{"verification", func() (Message, error) {
			return Verification("a@b.co", "dsr-1", link, "BCDF-2345", "https://privacy.example.com/v1/requests/dsr-1/code", expires)
		},
			"Confirm your privacy request dsr-1", []string{"dsr-1", link, "BCDF-2345", "enter this code at https://privacy.example.com/v1/requests/dsr-1/code", "until 1 December 2026 09:30 UTC"}, "token=a&amp;b=%3cc%3e"},
		{"verification locked", func() (Message, error) { return VerificationLocked("a@b.co", "dsr-1") },
			"Confirmation stopped for privacy request dsr-1", []string{"Too many wrong", "quote the reference dsr-1", "nothing was released"}, ""},
		{"download", func() (Message, error) { return DownloadReady("a@b.co", "dsr-1", link, expires) },
			"Your data is ready: request dsr-1", []string{"1 December 2026 09:30 UTC", link}, "token=a&amp;b=%3cc%3e"},
		{"erased", func() (Message, error) { return Erased("a@b.co", "dsr-1", ErasureSummary{}) },
			"Your data has been deleted: request dsr-1", []string{"erased your personal data from the systems listed in our privacy notice.\n"}, ""},
		{"erased, some kept", func() (Message, error) {
			return Erased("a@b.co", "dsr-1", ErasureSummary{
				Retained: []Retained{{What: "Invoices <PDF>", Records: 2, Reason: "Tax audits.", Citation: "AO § 147(3)",
					Until: time.Date(2036, 3, 1, 0, 0, 0, 0, time.UTC)}},
				Anonymized: []Anonymized{{What: "Product reviews", Records: 1, Fields: []string{"email", "author_name"}}},
			})
		}, "Your data has been deleted: request dsr-1", []string{"privacy notice, except as follows.",
			"- Product reviews (1 record): we removed email, author_name; the rest no longer refers to you.",
			"- Invoices <PDF> (2 records): Tax audits. (AO § 147(3)). We keep them until 1 March 2036 at the latest"}, "Invoices &lt;PDF&gt;"},
		{"never verified", func() (Message, error) { return NeverVerified("a@b.co", "dsr-1", "You can complain to the regulator.") },
			"Privacy request dsr-1 closed", []string{"not confirmed in time", "You can complain to the regulator."}, ""},
		{"acknowledgement", func() (Message, error) {
			return Acknowledgement("a@b.co", "dsr-1", "access", time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC), time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC))
		}, "We received your privacy request dsr-1", []string{"access request dsr-1 on 31 January 2026", "answer by 2 March 2026"}, ""},
		{"extension", func() (Message, error) {
			return Extension("a@b.co", "dsr-1", []string{"Archives <offsite>.", "A supplier holds part."}, time.Date(2026, 4, 30, 0, 0, 0, 0, time.UTC))
		}, "We need more time: request dsr-1", []string{"- Archives <offsite>.", "- A supplier holds part.", "answer by 30 April 2026"}, "Archives &lt;offsite&gt;."},
		{"denial", func() (Message, error) {
			return Denial("a@b.co", "dsr-1", []string{"Manifestly unfounded."}, "You can complain to a supervisory authority.")
		}, "Your privacy request dsr-1 was refused", []string{"- Manifestly unfounded.", "What you can do: You can complain to a supervisory authority."}, ""},
		{"overdue", func() (Message, error) {
			return Overdue("a@b.co", "dsr-1", time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC))
		},
			"OVERDUE: privacy request dsr-1", []string{"due date, 2 March 2026, has passed", "privacyctl show dsr-1"}, ""},
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
				t.Errorf("html does not escape the input:\n%s", m.HTML)
			}
			if strings.Contains(m.HTML, "<c>") {
				t.Error("html contains unescaped input")
			}
		})
	}
}
