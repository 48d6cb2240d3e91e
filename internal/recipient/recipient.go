// Package recipient is what the company records of telling the recipients
// of a subject's data about a request (GDPR Art 19; CCPA Regs §7022(b),
// §7023, §7026(f), §7027): one delivery per recipient, told or not, which
// the erasure receipt and the subject's final mail repeat. A delivery holds
// ids, names from the registry and classes of failure; never an identity.
package recipient

import (
	"strings"
	"time"
)

// Status is where telling one recipient stands.
type Status string

const (
	// Told: the recipient acknowledged the notice (webhook), or the
	// notice was handed to the mail service (email).
	Told Status = "told"
	// Retrying: the last try failed; the workflow tries again.
	Retrying Status = "retrying"
	// Unreached: every try failed; the operators were asked to tell the
	// recipient themselves. The subject is told the recipient could not
	// be reached yet.
	Unreached Status = "unreached"
)

// Channels by which a recipient is told.
const (
	Webhook = "webhook"
	Email   = "email"
)

// Delivery is what telling one recipient of one request came to.
type Delivery struct {
	RequestID   string `json:"request_id"`
	RecipientID string `json:"recipient_id"`
	// Name is the recipient as the subject knows it (the registry's).
	Name     string `json:"name"`
	Channel  string `json:"channel"`
	NoticeID string `json:"notice_id"`
	Status   Status `json:"status"`
	// Tries counts the workflow's tries; each makes up to
	// webhook.DefaultAttempts calls, or sends one mail.
	Tries int `json:"tries"`
	// Reason is the class of the last failure ("status 503", "no answer
	// within the timeout"), empty once told.
	Reason string `json:"reason,omitempty"`
	// At is when the recipient was told, or last tried.
	At time.Time `json:"at"`
	// By is "operator:NAME" for a recipient an operator told by hand after
	// the workflow could not reach it; empty when the workflow told it.
	By string `json:"by,omitempty"`
}

// Final reports whether the delivery is settled: a recipient told is not
// told again, and one the operators were asked about is theirs now.
func (d Delivery) Final() bool { return d.Status == Told || d.Status == Unreached }

// NoticeID names the notice of a request to a recipient. It is the same on
// every try, so a recipient told twice (a retry after an answer that was
// lost) can tell it is one notice.
func NoticeID(requestID, recipientID string) string { return requestID + "." + recipientID }

// Actions a notice asks of a recipient, by the request type it carries out.
var actions = map[string]string{
	"delete":   "erase",
	"correct":  "correct",
	"restrict": "restrict",
	"opt_out":  "stop_selling_sharing",
	"limit":    "limit_use",
}

// Action is what a recipient is asked to do for a request of type t, and
// false for a type no recipient is told of.
func Action(t string) (string, bool) {
	a, ok := actions[t]
	return a, ok
}

// Citation names the provision that makes the company tell its recipients
// of a request of type t under the law of jurisdiction (a statute code:
// "EU", "UK", "US-CA"), or "" where the pipeline knows none. The GDPR's
// Art 19 covers erasure, rectification and restriction; California's
// regulations name the notice for each right they give.
func Citation(jurisdiction, t string) string {
	switch {
	case jurisdiction == "EU" || strings.HasPrefix(jurisdiction, "EEA-"):
		if t == "delete" || t == "correct" || t == "restrict" {
			return "GDPR Art 19"
		}
	case jurisdiction == "UK":
		if t == "delete" || t == "correct" || t == "restrict" {
			return "UK GDPR Art 19"
		}
	case jurisdiction == "US-CA":
		return map[string]string{
			"delete":  "Cal. Code Regs. tit. 11 §7022(b)",
			"correct": "Cal. Code Regs. tit. 11 §7023",
			"opt_out": "Cal. Code Regs. tit. 11 §7026(f)",
			"limit":   "Cal. Code Regs. tit. 11 §7027",
		}[t]
	}
	return ""
}
