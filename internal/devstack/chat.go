package devstack

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/privacy-pipeline/dsr/internal/webhook"
)

// demoChat is the help-desk service that keeps the demo company's live
// chat transcripts, reached through the chat webhook source: it answers an
// access request at once with the subject's transcripts, and an erasure
// later, through the callback, once it has deleted them.
type demoChat struct {
	mu          sync.Mutex
	transcripts map[string][]map[string]any // by lower-case email
	calls       map[string][]webhook.SourceCall
}

// DemoChatSubject is known to the chat service only, which keeps
// DemoChatTranscripts transcripts of hers.
const (
	DemoChatSubject     = "kim.chat@example.com"
	DemoChatTranscripts = 2
)

func newDemoChat() *demoChat {
	return &demoChat{calls: map[string][]webhook.SourceCall{}, transcripts: map[string][]map[string]any{
		DemoChatSubject: {
			{"chat_id": "c-601", "started": "2026-04-11T08:30:00Z", "topic": "Lost password", "messages": 4},
			{"chat_id": "c-644", "started": "2026-06-01T13:05:00Z", "topic": "Plan upgrade", "messages": 7},
		},
		DemoSubject: {
			{"chat_id": "c-501", "started": "2026-03-02T10:14:00Z", "topic": "Delivery date", "messages": 6},
			{"chat_id": "c-517", "started": "2026-05-19T16:40:00Z", "topic": "Invoice copy", "messages": 3},
		},
		DemoCRMSubject: {
			{"chat_id": "c-588", "started": "2026-09-09T11:00:00Z", "topic": "Team seats", "messages": 5},
		},
		"john.roe@example.com": {
			{"chat_id": "c-502", "started": "2026-03-03T09:01:00Z", "topic": "Refund", "messages": 9},
		},
	}}
}

// CallbackDelay is how long the demo chat service takes to erase.
const CallbackDelay = 500 * time.Millisecond

// serveChat answers a call of the chat webhook source.
func (h *Hooks) serveChat(name string, body []byte) (int, any) {
	var c webhook.SourceCall
	if err := json.Unmarshal(body, &c); err != nil || c.Kind != webhook.KindSourceRequest {
		return http.StatusBadRequest, map[string]string{"error": "not a source request"}
	}
	var emails []string
	for _, e := range c.Identities["email"] {
		emails = append(emails, strings.ToLower(strings.TrimSpace(e)))
	}
	answer := webhook.SourceAnswer{RequestID: c.RequestID, SourceID: c.SourceID}
	h.chat.mu.Lock()
	defer h.chat.mu.Unlock()
	var held []map[string]any
	for _, e := range emails {
		held = append(held, h.chat.transcripts[e]...)
	}
	switch c.Type {
	case "access", "portability":
		answer.Status, answer.Records = webhook.None, nil
		if len(held) > 0 {
			answer.Status = webhook.Done
			for _, t := range held {
				b, _ := json.Marshal(t)
				answer.Records = append(answer.Records, b)
			}
		}
		return http.StatusOK, answer
	case "delete":
		for _, e := range emails {
			delete(h.chat.transcripts, e)
		}
		later := webhook.SourceAnswer{RequestID: c.RequestID, SourceID: c.SourceID, Status: webhook.None}
		if n := len(held); n > 0 {
			later.Status, later.Erased = webhook.Done, &n
		}
		go func() {
			time.Sleep(CallbackDelay)
			h.callBack(name, c.CallbackURL, later)
		}()
		answer.Status = webhook.Accepted
		return http.StatusAccepted, answer
	case "correct", "opt_out":
		// Transcripts are not corrected, nor sold: done, at once.
		answer.Status = webhook.None
		if len(held) > 0 {
			answer.Status = webhook.Done
			h.chat.calls[c.Type] = append(h.chat.calls[c.Type], c)
		}
		return http.StatusOK, answer
	}
	return http.StatusBadRequest, map[string]string{"error": "type not served"}
}

// ChatHolds says how many transcripts the demo chat service keeps of the
// person with this email address.
func (h *Hooks) ChatHolds(email string) int {
	h.chat.mu.Lock()
	defer h.chat.mu.Unlock()
	return len(h.chat.transcripts[strings.ToLower(email)])
}

// ChatCorrections are the corrections the chat service was asked to make
// for a request (a test's view of what its endpoint received).
func (h *Hooks) ChatCorrections(requestID string) map[string]string {
	h.chat.mu.Lock()
	defer h.chat.mu.Unlock()
	for _, c := range h.chat.calls["correct"] {
		if c.RequestID == requestID {
			return c.Corrections
		}
	}
	return nil
}
