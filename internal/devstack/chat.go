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
}

// DemoChatTranscripts are how many transcripts the chat service keeps of
// the demo subject.
const DemoChatTranscripts = 2

func newDemoChat() *demoChat {
	return &demoChat{transcripts: map[string][]map[string]any{
		DemoSubject: {
			{"chat_id": "c-501", "started": "2026-03-02T10:14:00Z", "topic": "Delivery date", "messages": 6},
			{"chat_id": "c-517", "started": "2026-05-19T16:40:00Z", "topic": "Invoice copy", "messages": 3},
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
