package webhook

import (
	"bytes"
	"encoding/json"
	"time"
)

// RecipientNotice tells a recipient of a subject's data what a request
// asks of it, for which identities: the message a recipient's endpoint
// receives, signed as every call is.
type RecipientNotice struct {
	Kind string `json:"kind"` // KindRecipientNotice
	// NoticeID is the same on every try of one notice: a recipient that
	// gets it twice acts once.
	NoticeID    string `json:"notice_id"`
	RequestID   string `json:"request_id"`
	RecipientID string `json:"recipient_id"`
	// Type is the request's type ("delete"); Action what the recipient is
	// asked to do: "erase", "correct", "restrict", "stop_selling_sharing"
	// or "limit_use" (see recipient.Action).
	Type   string `json:"type"`
	Action string `json:"action"`
	// Identities are the subject's values of the identity kinds the
	// registry says the recipient knows the subject by.
	Identities map[string][]string `json:"identities"`
	// Corrections are the corrected fields' new values (a correction
	// only).
	Corrections map[string]string `json:"corrections,omitempty"`
	// Jurisdiction is the law the request was made under (a statute code:
	// "EU", "US-CA"); Citation the provision that makes the company tell
	// its recipients, where the pipeline knows it.
	Jurisdiction string    `json:"jurisdiction"`
	Citation     string    `json:"citation,omitempty"`
	SentAt       time.Time `json:"sent_at"`
}

// KindRecipientNotice is the Kind of a RecipientNotice.
const KindRecipientNotice = "recipient_notice"

// RecipientAck is a recipient's answer to a notice: it has the notice and
// will act on it.
type RecipientAck struct {
	NoticeID string `json:"notice_id"`
	Status   string `json:"status"` // Received
}

// Received is the one status of a RecipientAck.
const Received = "received"

// ParseRecipientAck reads a recipient's answer to notice n: known fields
// only, n's id, and status "received". Anything else is Malformed, and the
// notice is sent again.
func ParseRecipientAck(body []byte, n RecipientNotice) (RecipientAck, error) {
	var a RecipientAck
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(&a); err != nil {
		return RecipientAck{}, &Malformed{Reason: "not the acknowledgement's JSON object"}
	}
	switch {
	case d.More():
		return RecipientAck{}, &Malformed{Reason: "more than one JSON value"}
	case a.NoticeID != n.NoticeID:
		return RecipientAck{}, &Malformed{Reason: "the acknowledgement names another notice"}
	case a.Status != Received:
		return RecipientAck{}, &Malformed{Reason: "status must be " + Received}
	}
	return a, nil
}
