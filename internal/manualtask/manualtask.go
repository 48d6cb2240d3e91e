// Package manualtask holds the tasks of manual sources: the systems the
// pipeline cannot read or change itself (see registry.ManualSource). Each
// request of a type such a source serves gets one task there; its owner
// answers it by uploading an export of the subject's data (access), by
// attesting what was done (erasure), or by saying the system holds nothing
// of the subject. The request waits until every task is answered.
package manualtask

import (
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/secret"
)

// Status is where a task stands.
type Status string

// Statuses of a task: open until its owner (or an operator) answers it,
// done (exported, or erased as asked), or none (the system holds nothing of
// the subject).
const (
	Open Status = "open"
	Done Status = "done"
	None Status = "none"
)

// Task is one manual source's part of one request. It holds ids, dates, who
// answered and a hash of the link's token; the subject's identities stay
// with the request.
type Task struct {
	RequestID string `json:"request_id"`
	SourceID  string `json:"source_id"`
	// Type is the request's type: what the owner is asked to do.
	Type string `json:"type"`
	// Owner is the source's owner when the task was made: an email
	// address or an SNS topic of the company's.
	Owner     string    `json:"owner"`
	Status    Status    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
	// Due is the last day to answer: the request's extension-notice point,
	// or its due date where the law allows no extension.
	Due time.Time `json:"due"`
	// TokenHash is the hash of the token in the owner's link; the link
	// works until TokenExpires, and a reminder issues a new one.
	TokenHash    string    `json:"token_hash,omitempty"`
	TokenExpires time.Time `json:"token_expires"`
	// NotifiedAt is when the owner was told of the task; zero until then.
	NotifiedAt  time.Time `json:"notified_at,omitzero"`
	RemindedAt  time.Time `json:"reminded_at,omitzero"`
	EscalatedAt time.Time `json:"escalated_at,omitzero"`

	// The answer: who gave it ("operator:NAME", or "owner:ADDRESS" through
	// the link), when, a note, and the export uploaded for access.
	By     string    `json:"by,omitempty"`
	At     time.Time `json:"at,omitzero"`
	Note   string    `json:"note,omitempty"`
	Export *Export   `json:"export,omitempty"`

	// Webhook is how a webhook source's endpoint was asked; nil for a
	// manual source. The owner is told (NotifiedAt) only when it fails.
	Webhook *WebhookState `json:"webhook,omitempty"`
}

// WebhookState is the part of a webhook source's task its endpoint plays.
type WebhookState struct {
	// CalledAt is when the endpoint was last called.
	CalledAt time.Time `json:"called_at,omitzero"`
	// Attempts counts the calls of the last try.
	Attempts int `json:"attempts,omitempty"`
	// Accepted: the endpoint will answer through the callback.
	Accepted bool `json:"accepted,omitempty"`
	// Failure is why the endpoint's part ended without an answer (a class
	// of failure, never the content of a message): the owner answers.
	Failure string `json:"failure,omitempty"`
	// CallbackHashes are the hashes of the tokens of the callback URLs
	// sent, the latest last (a call made again sends a new one, and the
	// endpoint may answer either); they work until the task's link would
	// (TokenExpires).
	CallbackHashes []string `json:"callback_hashes,omitempty"`
}

// IssueCallback gives the task a fresh callback token and returns it; only
// its hash is kept, beside those of the last calls before it.
func (t *Task) IssueCallback(expires time.Time) string {
	token := secret.NewToken()
	if t.Webhook == nil {
		t.Webhook = &WebhookState{}
	}
	t.Webhook.CallbackHashes = append(t.Webhook.CallbackHashes, secret.Hash(token))
	if n := len(t.Webhook.CallbackHashes); n > maxCallbacks {
		t.Webhook.CallbackHashes = t.Webhook.CallbackHashes[n-maxCallbacks:]
	}
	t.TokenExpires = expires.UTC()
	return token
}

// maxCallbacks is how many calls' callback URLs work at once.
const maxCallbacks = 3

// CallbackMatches reports in constant time whether token is one of the
// task's callback tokens.
func (t Task) CallbackMatches(token string) bool {
	ok := false
	if t.Webhook != nil {
		for _, h := range t.Webhook.CallbackHashes {
			ok = secret.Matches(token, h) || ok
		}
	}
	return ok
}

// AwaitsEndpoint reports whether an open task waits on its webhook's
// endpoint: called, and neither answered nor failed.
func (t Task) AwaitsEndpoint() bool {
	return t.IsOpen() && t.Webhook != nil && t.Webhook.Accepted && t.Webhook.Failure == ""
}

// Export is a file an owner uploaded: kept in the exports bucket, encrypted
// like the packages, until the package is built.
type Export struct {
	Key       string `json:"key"`
	MediaType string `json:"media_type"`
	Ext       string `json:"ext"`
	Size      int    `json:"size"`
	SHA256    string `json:"sha256"`
}

// ID is the task's id: the request's and the source's, which are each
// validated to letters, digits and "-".
func (t Task) ID() string { return ID(t.RequestID, t.SourceID) }

// ID names the task of a source in a request.
func ID(requestID, sourceID string) string { return requestID + "/" + sourceID }

// ParseID splits a task id into the request's and the source's.
func ParseID(id string) (requestID, sourceID string, err error) {
	requestID, sourceID, ok := strings.Cut(id, "/")
	if !ok || requestID == "" || sourceID == "" || strings.Contains(sourceID, "/") {
		return "", "", apperr.InvalidFields(apperr.FieldError{Field: "task", Detail: "A task id is REQUEST_ID/SOURCE_ID (privacyctl tasks lists them)."})
	}
	return requestID, sourceID, nil
}

// IsOpen reports whether the task waits for an answer.
func (t Task) IsOpen() bool { return t.Status == Open }

// Exports reports whether the task asks for an export of the subject's data
// (access, portability) rather than an attestation.
func (t Task) Exports() bool { return t.Type == "access" || t.Type == "portability" }

// Issue gives the task a fresh link token, valid until expires, and returns
// it; only its hash is kept. An earlier link stops working.
func (t *Task) Issue(expires time.Time) string {
	token := secret.NewToken()
	t.TokenHash, t.TokenExpires = secret.Hash(token), expires.UTC()
	return token
}

// Authorize checks the token of an owner's link: it must be the task's
// latest, unexpired, and the task still open. The answers say no more than
// needed: a wrong token and a task that does not exist are the same.
func (t Task) Authorize(token string, now time.Time) error {
	if !secret.Matches(token, t.TokenHash) {
		return apperr.E(apperr.NotFound, "This link is not valid. Ask the privacy team for a new one.")
	}
	if !now.Before(t.TokenExpires) {
		return apperr.E(apperr.Forbidden, "This link has expired. Ask the privacy team for a new one.")
	}
	if !t.IsOpen() {
		return apperr.E(apperr.Conflict, "This task was answered already ("+string(t.Status)+").")
	}
	return nil
}

// MaxNote is the longest note an answer may carry, in bytes.
const MaxNote = 2000

// Answer is what an owner or an operator says about a task.
type Answer struct {
	Status Status
	// By is "operator:NAME" or "owner:ADDRESS".
	By   string
	Note string
	// File is the export, for a task that asks for one (see CheckExport).
	File []byte
}

// check validates an answer to task t.
func (a Answer) check(t Task) error {
	var errs []apperr.FieldError
	switch a.Status {
	case Done, None:
	default:
		errs = append(errs, apperr.FieldError{Field: "status", Detail: "Answer done or none."})
	}
	switch {
	case a.Status == Done && t.Exports() && a.File == nil:
		errs = append(errs, apperr.FieldError{Field: "file", Detail: "Upload the export of the subject's data (CSV, JSON or PDF), or answer that the system holds none."})
	case a.File != nil && (!t.Exports() || a.Status != Done):
		errs = append(errs, apperr.FieldError{Field: "file", Detail: "Only an access task's done answer takes a file."})
	}
	if len(a.Note) > MaxNote {
		errs = append(errs, apperr.FieldError{Field: "note", Detail: "The note is longer than 2000 bytes."})
	} else if !utf8.ValidString(a.Note) || strings.IndexFunc(a.Note, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) >= 0 {
		errs = append(errs, apperr.FieldError{Field: "note", Detail: "The note holds characters that are not text."})
	}
	if strings.TrimSpace(a.By) == "" {
		errs = append(errs, apperr.FieldError{Field: "by", Detail: "Say who answers."})
	}
	if len(errs) > 0 {
		return apperr.InvalidFields(errs...)
	}
	return nil
}

// What says in a few words what an answered task attests.
func (t Task) What() string {
	switch {
	case t.Status == None:
		return "holds nothing of the subject"
	case t.Status == Done && t.Exports():
		return "exported"
	case t.Status == Done && t.Type == "delete":
		return "erased"
	case t.Status == Done && t.Type == "correct":
		return "corrected"
	case t.Status == Done && t.Type == "restrict":
		return "restricted"
	case t.Status == Done && t.Type == "opt_out":
		return "stopped selling and sharing"
	case t.Status == Done && t.Type == "limit":
		return "limited the use of sensitive data"
	case t.Status == Done:
		return "done"
	}
	return "open"
}

// Causes of the workflow's waits on tasks (see workflow.TaskError).
var (
	// ErrOpen: a step that needs every task answered (the package, the
	// receipt) found one open, or none made yet.
	ErrOpen = errors.New("manual tasks wait for their owners")
	// ErrNoneOpen: the workflow came to wait on tasks already answered.
	ErrNoneOpen = errors.New("no manual task waits")
)
