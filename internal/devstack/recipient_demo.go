package devstack

import (
	"encoding/json"
	"net/http"

	"github.com/privacy-pipeline/dsr/internal/webhook"
)

// serveRecipient is the demo ad partner's endpoint for the notices the
// pipeline sends its recipients: the stack has checked the signature, and
// lists the call (GET /_dev/webhooks); it acknowledges every notice, as a
// recipient that will act on it.
func (h *Hooks) serveRecipient(_ string, body []byte) (int, any) {
	var n webhook.RecipientNotice
	if err := json.Unmarshal(body, &n); err != nil || n.Kind != webhook.KindRecipientNotice || n.NoticeID == "" {
		return http.StatusBadRequest, map[string]string{"error": "not a recipient notice"}
	}
	return http.StatusOK, webhook.RecipientAck{NoticeID: n.NoticeID, Status: webhook.Received}
}
