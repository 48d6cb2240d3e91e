package webhook

import (
	"errors"
	"testing"
)

func TestParseRecipientAck(t *testing.T) {
	n := RecipientNotice{Kind: KindRecipientNotice, NoticeID: "dsr-1.adco", RequestID: "dsr-1", RecipientID: "adco"}
	cases := []struct {
		name string
		body string
		bad  bool
	}{
		{"received", `{"notice_id":"dsr-1.adco","status":"received"}`, false},
		{"with space around", " {\"status\":\"received\",\"notice_id\":\"dsr-1.adco\"}\n", false},
		{"another notice", `{"notice_id":"dsr-2.adco","status":"received"}`, true},
		{"no notice id", `{"status":"received"}`, true},
		{"another status", `{"notice_id":"dsr-1.adco","status":"ok"}`, true},
		{"no status", `{"notice_id":"dsr-1.adco"}`, true},
		{"unknown field", `{"notice_id":"dsr-1.adco","status":"received","note":"x"}`, true},
		{"two values", `{"notice_id":"dsr-1.adco","status":"received"}{}`, true},
		{"empty", ``, true},
		{"not JSON", `OK`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := ParseRecipientAck([]byte(c.body), n)
			var m *Malformed
			if c.bad != errors.As(err, &m) {
				t.Fatalf("ParseRecipientAck = %+v, %v; want malformed: %v", a, err, c.bad)
			}
			if !c.bad && (a.NoticeID != n.NoticeID || a.Status != Received) {
				t.Fatalf("ack %+v", a)
			}
		})
	}
}
