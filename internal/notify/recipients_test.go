package notify

import (
	"strings"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/i18n"
)

// The subject's final mails name the recipients told and those not reached
// yet, each only as what it is.
func TestFinalMailsNameRecipients(t *testing.T) {
	both := []Recipient{{Name: "AdCo <Ltd>", Reached: true}, {Name: "Mailhouse Ltd", Reached: true}, {Name: "Slow Co", Reached: false}}
	told := []Recipient{{Name: "AdCo <Ltd>", Reached: true}}
	unreached := []Recipient{{Name: "Slow Co", Reached: false}}
	tests := []struct {
		name    string
		lang    i18n.Lang
		mail    func(rs ...Recipient) (Message, error)
		rs      []Recipient
		want    []string
		notWant []string
	}{
		{"erased, told and not", i18n.English, func(rs ...Recipient) (Message, error) {
			return Erased(i18n.English, "a@b.co", "dsr-1", ErasureSummary{}, Remedy{}, rs...)
		}, both, []string{"disclosed your personal data to: AdCo <Ltd>, Mailhouse Ltd.", "We could not reach Slow Co yet"}, nil},
		{"erased, all told", i18n.English, func(rs ...Recipient) (Message, error) {
			return Erased(i18n.English, "a@b.co", "dsr-1", ErasureSummary{}, Remedy{}, rs...)
		}, told, []string{"disclosed your personal data to: AdCo <Ltd>."}, []string{"could not reach"}},
		{"erased, none to tell", i18n.English, func(rs ...Recipient) (Message, error) {
			return Erased(i18n.English, "a@b.co", "dsr-1", ErasureSummary{}, Remedy{}, rs...)
		}, nil, nil, []string{"disclosed your personal data to", "could not reach"}},
		{"corrected, none reached", i18n.English, func(rs ...Recipient) (Message, error) {
			return Corrected(i18n.English, "a@b.co", "dsr-1", []string{"name"}, true, rs...)
		}, unreached, []string{"as you asked: name.", "We could not reach Slow Co yet"}, []string{"disclosed your personal data to"}},
		{"opt-out in German", i18n.German, func(rs ...Recipient) (Message, error) {
			return Recorded(i18n.German, "a@b.co", "dsr-1", "opt_out", false, rs...)
		}, both, []string{"offengelegt haben: AdCo <Ltd>, Mailhouse Ltd.", "Slow Co konnten wir noch nicht erreichen"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := tt.mail(tt.rs...)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range tt.want {
				if !strings.Contains(m.Text, want) {
					t.Errorf("text lacks %q:\n%s", want, m.Text)
				}
			}
			for _, not := range tt.notWant {
				if strings.Contains(m.Text, not) || strings.Contains(m.HTML, not) {
					t.Errorf("mail has %q:\n%s", not, m.Text)
				}
			}
			if strings.Contains(m.HTML, "AdCo <Ltd>") {
				t.Errorf("html does not escape the name:\n%s", m.HTML)
			}
			if len(tt.rs) > 0 && !strings.Contains(m.HTML, "<p>") {
				t.Errorf("html lacks its paragraphs:\n%s", m.HTML)
			}
		})
	}
}

func TestRecipientNotice(t *testing.T) {
	n := RecipientMail{NoticeID: "dsr-1.mailhouse", RequestID: "dsr-1", Recipient: "Mailhouse Ltd", Type: "correct", Action: "correct",
		Identities:   map[string][]string{"user_id": {"u-1"}, "email": {"a@b.co", "a.b@b.co"}},
		Corrections:  map[string]string{"phone": "555 <0101>"},
		Jurisdiction: "US-CA", Citation: "Cal. Code Regs. tit. 11 §7023"}
	m, err := RecipientNotice("privacy@mailhouse.example", n)
	if err != nil {
		t.Fatal(err)
	}
	if m.To != "privacy@mailhouse.example" || m.Subject != "Privacy request dsr-1: please correct a person's data" || m.Language != i18n.English {
		t.Fatalf("to %q subject %q language %q", m.To, m.Subject, m.Language)
	}
	for _, want := range []string{"To Mailhouse Ltd:", "(dsr-1, correct)", "  email: a@b.co\n  email: a.b@b.co\n  user_id: u-1\n",
		"The corrected values:\n  phone: 555 <0101>\n", "made under: US-CA; Cal. Code Regs. tit. 11 §7023.", "Notice dsr-1.mailhouse."} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, m.Text)
		}
	}
	if !strings.Contains(m.HTML, "555 &lt;0101&gt;") {
		t.Errorf("html does not escape the values:\n%s", m.HTML)
	}
	n.Action, n.Corrections = "erase", nil
	if m, _ = RecipientNotice("privacy@mailhouse.example", n); strings.Contains(m.Text, "corrected values") || !strings.Contains(m.Text, "Please erase") {
		t.Errorf("an erasure notice:\n%s", m.Text)
	}
	n.Action = "inform"
	if _, err := RecipientNotice("privacy@mailhouse.example", n); err == nil {
		t.Error("a notice of an unknown action was written")
	}
}

func TestRecipientUnreached(t *testing.T) {
	m := RecipientUnreached("ops@example.com", "dsr-1", "delete", "adco", "AdCo Ltd", "status 503", 5)
	if m.To != "ops@example.com" || m.Subject != "Recipient not reached: privacy request dsr-1" {
		t.Fatalf("to %q subject %q", m.To, m.Subject)
	}
	for _, want := range []string{"Request dsr-1 (delete)", "AdCo Ltd (adco)", "5 tries failed; the last: status 503.", "privacyctl show dsr-1"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, m.Text)
		}
	}
}
