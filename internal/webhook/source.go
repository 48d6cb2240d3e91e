package webhook

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// SourceCall is what a webhook source is sent for a request: the ids, what
// to do, the identities the registry says it knows a subject by, and where
// to answer later if it does not answer at once.
type SourceCall struct {
	Kind        string              `json:"kind"` // KindSourceRequest
	RequestID   string              `json:"request_id"`
	SourceID    string              `json:"source_id"`
	Type        string              `json:"type"`
	Identities  map[string][]string `json:"identities"`
	CallbackURL string              `json:"callback_url"`
	// Corrections are, for a correction, the fields and their new values.
	Corrections map[string]string `json:"corrections,omitempty"`
	// Due is the last day to answer (YYYY-MM-DD); after it the owner is
	// asked instead.
	Due string `json:"due"`
}

// KindSourceRequest is the Kind of a SourceCall.
const KindSourceRequest = "source_request"

// Statuses of a SourceAnswer.
const (
	// Done: the records are attached (access), or the subject's data was
	// erased as asked.
	Done = "done"
	// None: the system holds nothing of the subject.
	None = "none"
	// Accepted: the answer will come through the callback (only at once).
	Accepted = "accepted"
	// Failed: the system could not do it; its owner is asked instead.
	Failed = "failed"
)

// SourceAnswer is a webhook source's answer: at once, as the reply to the
// call, or later, as the body of a callback.
type SourceAnswer struct {
	RequestID string `json:"request_id"`
	SourceID  string `json:"source_id"`
	Status    string `json:"status"`
	// Records are the subject's records, each a JSON object (access).
	Records []json.RawMessage `json:"records,omitempty"`
	// Erased counts the records erased, where the system counts them.
	Erased *int `json:"erased,omitempty"`
	// Note is free text for the operators; it stays with the task.
	Note string `json:"note,omitempty"`
}

// MaxNote is the longest note an answer may carry, in bytes.
const MaxNote = 2000

// ParseSourceAnswer reads a source's answer to the call c and checks every
// part of it: known fields only, the call's ids, a status that fits (an
// answer through the callback cannot be accepted again), records only for
// an access request and each a JSON object, a count only for an erasure,
// and a note of text. Nothing in an answer is trusted before this.
func ParseSourceAnswer(body []byte, c SourceCall, callback bool) (SourceAnswer, error) {
	var a SourceAnswer
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(&a); err != nil {
		return SourceAnswer{}, &Malformed{Reason: "not the answer's JSON object"}
	}
	if d.More() {
		return SourceAnswer{}, &Malformed{Reason: "more than one JSON value"}
	}
	exports := c.Type == "access" || c.Type == "portability"
	statuses := []string{Done, None, Failed}
	if !callback {
		statuses = append(statuses, Accepted)
	}
	switch {
	case a.RequestID != c.RequestID || a.SourceID != c.SourceID:
		return SourceAnswer{}, &Malformed{Reason: "the answer names another request or source"}
	case !slices.Contains(statuses, a.Status):
		return SourceAnswer{}, &Malformed{Reason: "status must be one of " + strings.Join(statuses, ", ")}
	case len(a.Records) > 0 && (!exports || a.Status != Done):
		return SourceAnswer{}, &Malformed{Reason: "records come only with a done answer to an access request"}
	case exports && a.Status == Done && a.Records == nil:
		return SourceAnswer{}, &Malformed{Reason: "a done answer to an access request carries the records (an empty list if none)"}
	case a.Erased != nil && (exports || a.Status != Done || *a.Erased < 0):
		return SourceAnswer{}, &Malformed{Reason: "erased counts what a done erasure erased"}
	case len(a.Note) > MaxNote || !utf8.ValidString(a.Note) || strings.IndexFunc(a.Note, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) >= 0:
		return SourceAnswer{}, &Malformed{Reason: "the note is not text of at most 2000 bytes"}
	}
	for _, r := range a.Records {
		if t := bytes.TrimSpace(r); len(t) == 0 || t[0] != '{' {
			return SourceAnswer{}, &Malformed{Reason: "each record must be a JSON object"}
		}
	}
	return a, nil
}
