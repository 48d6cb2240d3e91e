// Package notify writes the messages the pipeline sends to data subjects, in
// plain text and HTML. The messages name the request id, never what the
// subject asked about in detail, and links carry their own tokens.
package notify

import (
	"bytes"
	htmltemplate "html/template"
	"strings"
	"text/template"
	"time"
)

// Message is one email to one recipient.
type Message struct {
	To      string
	Subject string
	Text    string
	HTML    string
}

type content struct {
	RequestID string
	Link      string
	Expires   string
	Kind      string
	Received  string
	Due       string
	Reasons   []string
	NextSteps string
	Erasure   ErasureSummary
	Code      string
	CodePage  string
}

// ErasureSummary is what a completed deletion kept, and why: records the law
// requires to keep, and records kept without what identified the subject.
type ErasureSummary struct {
	Retained   []Retained
	Anonymized []Anonymized
}

// Retained is data kept because the law requires it.
type Retained struct {
	What     string // the source, as the company's registry describes it
	Records  int
	Reason   string
	Citation string
	Until    time.Time
}

// UntilDate is the last day, as people write it.
func (r Retained) UntilDate() string { return longDate(r.Until) }

// Anonymized is data kept with the fields that identified the subject removed.
type Anonymized struct {
	What    string
	Records int
	Fields  []string
}

// FieldList names the removed fields.
func (a Anonymized) FieldList() string { return strings.Join(a.Fields, ", ") }

var (
	textTemplates = template.Must(template.New("").Parse(`
{{define "verify"}}We received a privacy request (reference {{.RequestID}}) that gave this email address.

If you made it, confirm it here:
{{.Link}}

Or enter this code at {{.CodePage}}
{{.Code}}

The link and the code work once, until {{.Expires}}. If you did not make the request, ignore this message: nothing will happen without your confirmation.
{{end}}
{{define "locked"}}Too many wrong confirmation links or codes were tried on privacy request {{.RequestID}}, so we stopped accepting them.

If you made the request, contact our privacy team and quote the reference {{.RequestID}}: we can confirm in another way that it is you. If you did not, you need do nothing: nothing was released.

If the request is not confirmed in time, we will close it and tell you.
{{end}}
{{define "download"}}Your {{.Kind}} request {{.RequestID}} is complete.

Download a copy of your data here (the link works until {{.Expires}}):
{{.Link}}
{{end}}
{{define "erased"}}Your deletion request {{.RequestID}} is complete.

We have erased your personal data from the systems listed in our privacy notice{{if or .Erasure.Retained .Erasure.Anonymized}}, except as follows{{end}}.
{{if .Erasure.Anonymized}}
Kept without what identified you:
{{range .Erasure.Anonymized}}- {{.What}} ({{.Records}} record{{if ne .Records 1}}s{{end}}): we removed {{.FieldList}}; the rest no longer refers to you.
{{end}}{{end}}{{if .Erasure.Retained}}
Kept because the law requires it:
{{range .Erasure.Retained}}- {{.What}} ({{.Records}} record{{if ne .Records 1}}s{{end}}): {{.Reason}} ({{.Citation}}). We keep them until {{.UntilDate}} at the latest and erase them then.
{{end}}{{end}}{{end}}
{{define "expired"}}We closed privacy request {{.RequestID}} because it was not confirmed in time: we could not check that it came from you.

You are welcome to make a new request at any time. {{.NextSteps}}
{{end}}
{{define "ack"}}We received your {{.Kind}} request {{.RequestID}} on {{.Received}}.

We will answer by {{.Due}} at the latest. If we need longer, as the law allows, we will tell you before then and say why.
{{end}}
{{define "extended"}}We need more time to answer your request {{.RequestID}}.

Why:
{{range .Reasons}}- {{.}}
{{end}}
We will answer by {{.Due}} at the latest.
{{end}}
{{define "denied"}}We cannot carry out your request {{.RequestID}}.

Why:
{{range .Reasons}}- {{.}}
{{end}}
What you can do: {{.NextSteps}}
{{end}}
{{define "cancelled"}}Your privacy request {{.RequestID}} is cancelled, as you asked. We will do nothing more about it.

You are welcome to make a new request at any time.
{{end}}
{{define "overdue"}}Request {{.RequestID}} is still open and its due date, {{.Due}}, has passed.

Find it with: privacyctl show {{.RequestID}}
{{end}}`))

	htmlTemplates = htmltemplate.Must(htmltemplate.New("").Parse(`
{{define "verify"}}<p>We received a privacy request (reference <strong>{{.RequestID}}</strong>) that gave this email address.</p>
<p>If you made it, <a href="{{.Link}}">confirm your request</a>.</p>
<p>Or enter this code at <a href="{{.CodePage}}">{{.CodePage}}</a>:</p>
<p style="font-size:1.5em;font-family:monospace;letter-spacing:.1em"><strong>{{.Code}}</strong></p>
<p>The link and the code work once, until {{.Expires}}. If you did not make the request, ignore this message: nothing will happen without your confirmation.</p>{{end}}
{{define "locked"}}<p>Too many wrong confirmation links or codes were tried on privacy request <strong>{{.RequestID}}</strong>, so we stopped accepting them.</p>
<p>If you made the request, contact our privacy team and quote the reference {{.RequestID}}: we can confirm in another way that it is you. If you did not, you need do nothing: nothing was released.</p>
<p>If the request is not confirmed in time, we will close it and tell you.</p>{{end}}
{{define "download"}}<p>Your {{.Kind}} request <strong>{{.RequestID}}</strong> is complete.</p>
<p><a href="{{.Link}}">Download a copy of your data</a> (the link works until {{.Expires}}).</p>{{end}}
{{define "erased"}}<p>Your deletion request <strong>{{.RequestID}}</strong> is complete.</p>
<p>We have erased your personal data from the systems listed in our privacy notice{{if or .Erasure.Retained .Erasure.Anonymized}}, except as follows{{end}}.</p>
{{- if .Erasure.Anonymized}}
<p>Kept without what identified you:</p><ul>{{range .Erasure.Anonymized}}<li>{{.What}} ({{.Records}} record{{if ne .Records 1}}s{{end}}): we removed {{.FieldList}}; the rest no longer refers to you.</li>{{end}}</ul>{{end}}
{{- if .Erasure.Retained}}
<p>Kept because the law requires it:</p><ul>{{range .Erasure.Retained}}<li>{{.What}} ({{.Records}} record{{if ne .Records 1}}s{{end}}): {{.Reason}} ({{.Citation}}). We keep them until <strong>{{.UntilDate}}</strong> at the latest and erase them then.</li>{{end}}</ul>{{end}}{{end}}
{{define "expired"}}<p>We closed privacy request <strong>{{.RequestID}}</strong> because it was not confirmed in time: we could not check that it came from you.</p>
<p>You are welcome to make a new request at any time. {{.NextSteps}}</p>{{end}}
{{define "ack"}}<p>We received your {{.Kind}} request <strong>{{.RequestID}}</strong> on {{.Received}}.</p>
<p>We will answer by <strong>{{.Due}}</strong> at the latest. If we need longer, as the law allows, we will tell you before then and say why.</p>{{end}}
{{define "extended"}}<p>We need more time to answer your request <strong>{{.RequestID}}</strong>.</p>
<p>Why:</p><ul>{{range .Reasons}}<li>{{.}}</li>{{end}}</ul>
<p>We will answer by <strong>{{.Due}}</strong> at the latest.</p>{{end}}
{{define "denied"}}<p>We cannot carry out your request <strong>{{.RequestID}}</strong>.</p>
<p>Why:</p><ul>{{range .Reasons}}<li>{{.}}</li>{{end}}</ul>
<p>What you can do: {{.NextSteps}}</p>{{end}}
{{define "cancelled"}}<p>Your privacy request <strong>{{.RequestID}}</strong> is cancelled, as you asked. We will do nothing more about it.</p>
<p>You are welcome to make a new request at any time.</p>{{end}}
{{define "overdue"}}<p>Request <strong>{{.RequestID}}</strong> is still open and its due date, {{.Due}}, has passed.</p>
<p>Find it with: <code>privacyctl show {{.RequestID}}</code></p>{{end}}`))
)

func render(name, to, subject string, c content) (Message, error) {
	var text, html bytes.Buffer
	if err := textTemplates.ExecuteTemplate(&text, name, c); err != nil {
		return Message{}, err
	}
	if err := htmlTemplates.ExecuteTemplate(&html, name, c); err != nil {
		return Message{}, err
	}
	return Message{To: to, Subject: subject, Text: text.String(), HTML: html.String()}, nil
}

// Verification asks the subject to confirm the request through link, or by
// entering code on codePage; both work until expires.
func Verification(to, requestID, link, code, codePage string, expires time.Time) (Message, error) {
	return render("verify", to, "Confirm your privacy request "+requestID,
		content{RequestID: requestID, Link: link, Code: code, CodePage: codePage, Expires: expires.UTC().Format("2 January 2006 15:04 MST")})
}

// VerificationLocked tells the subject that the request stopped accepting
// confirmations after too many wrong attempts, and how to go on.
func VerificationLocked(to, requestID string) (Message, error) {
	return render("locked", to, "Confirmation stopped for privacy request "+requestID, content{RequestID: requestID})
}

// DownloadReady tells the subject where to download their data until expires.
func DownloadReady(to, requestID, link string, expires time.Time) (Message, error) {
	return render("download", to, "Your data is ready: request "+requestID,
		content{RequestID: requestID, Link: link, Kind: "access", Expires: expires.UTC().Format("2 January 2006 15:04 MST")})
}

// Erased confirms a completed erasure and says what was kept, and why.
func Erased(to, requestID string, kept ErasureSummary) (Message, error) {
	return render("erased", to, "Your data has been deleted: request "+requestID, content{RequestID: requestID, Erasure: kept})
}

// NeverVerified tells the subject the request closed unconfirmed, and what
// they can do next.
func NeverVerified(to, requestID, nextSteps string) (Message, error) {
	return render("expired", to, "Privacy request "+requestID+" closed", content{RequestID: requestID, NextSteps: nextSteps})
}

// longDate writes a date the way people read it: 2 March 2026.
func longDate(d time.Time) string { return d.Format("2 January 2006") }

// Acknowledgement confirms receipt and says when the answer is due.
func Acknowledgement(to, requestID, kind string, received, due time.Time) (Message, error) {
	return render("ack", to, "We received your privacy request "+requestID,
		content{RequestID: requestID, Kind: kind, Received: longDate(received), Due: longDate(due)})
}

// Extension tells the subject the answer will take longer, why, and until when.
func Extension(to, requestID string, reasons []string, newDue time.Time) (Message, error) {
	return render("extended", to, "We need more time: request "+requestID,
		content{RequestID: requestID, Reasons: reasons, Due: longDate(newDue)})
}

// Denial tells the subject the request is refused, why, and what they can do.
func Denial(to, requestID string, reasons []string, nextSteps string) (Message, error) {
	return render("denied", to, "Your privacy request "+requestID+" was refused",
		content{RequestID: requestID, Reasons: reasons, NextSteps: nextSteps})
}

// Overdue tells the operators that a request passed its due date open.
func Overdue(to, requestID string, due time.Time) (Message, error) {
	return render("overdue", to, "OVERDUE: privacy request "+requestID,
		content{RequestID: requestID, Due: longDate(due)})
}

// Cancelled confirms a cancellation to the subject.
func Cancelled(to, requestID string) (Message, error) {
	return render("cancelled", to, "Privacy request "+requestID+" cancelled", content{RequestID: requestID})
}
