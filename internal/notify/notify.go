// Package notify writes the messages the pipeline sends to data subjects, in
// plain text and HTML, in the subject's language (texts from the message
// catalogue, internal/i18n). The messages name the request id, never what
// the subject asked about in detail, and links carry their own tokens.
package notify

import (
	"bytes"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/privacy-pipeline/dsr/internal/i18n"
)

// Message is one email to one recipient.
type Message struct {
	To      string
	Subject string
	Text    string
	HTML    string
	// Language is the language of the message, for its Content-Language.
	Language i18n.Lang
}

// Authority is a body a notice names, with where to reach it. Names are
// given in their own language, never translated.
type Authority struct {
	Name string
	URL  string
}

// Remedy is what a notice carries beyond its facts, as the law of the
// request requires: each element by its key in the statutory rules
// (statute.Elements), rendered in order in the subject's language, with what
// the elements name. The caller picks the elements from the rules; nothing
// here decides which law needs what.
type Remedy struct {
	Elements []string
	// Authority is the body the law names (a supervisory authority, a
	// commissioner, an Attorney General); empty where it names none.
	Authority Authority
	// Members lists the authorities where the law has no single one (the
	// GDPR's, one per member state).
	Members string
	// Lead is the authority the company names as its lead supervisory
	// authority, named first where the law names none.
	Lead Authority
	// Law is the law's name, and Provision the provision of it an operator
	// named, for a refusal that must name the provision relied on.
	Law, Provision string
	// OptOutLink is where the subject can opt out of sale and sharing
	// without verification; empty: they are asked to reply instead.
	OptOutLink string
	// PrivacyNotice is the address of the company's privacy notice, which
	// describes the categories of personal information it collects; empty:
	// the notice is named without an address.
	PrivacyNotice string
	// AppealLink opens the appeal form for the decided request; empty: the
	// subject is asked to reply.
	AppealLink string
	// DPO is the company's data protection officer, named in a decision for
	// questions about it; empty: the subject is asked to reply.
	DPO Authority
}

type content struct {
	// L is the language; templates call {{.L.T "key" "name" value}}.
	L         i18n.Lang
	RequestID string
	// Agent is the authorized agent who made the request, if any.
	Agent    string
	Link     string
	Expires  string
	Type     string
	Received string
	Due      string
	Reasons  []string
	Remedy   Remedy
	Erasure  ErasureSummary
	Code     string
	CodePage string
	// Choice is the catalogue key of what an opt-out, limit, restriction or
	// objection means from now on; ViaGPC says the browser signalled it.
	Choice string
	ViaGPC bool
	// First is the open request a new one joined.
	First string
	// Fields are the corrected fields, none when nothing was found.
	Fields string
	// Corrects names the fields a correction asks to change, for the
	// subject to see before confirming; CorrectsAsLetter says a correction
	// letter's changes are read by a person instead.
	Corrects         string
	CorrectsAsLetter bool
	// Granted says an appeal was granted; FollowUp is the request that
	// carries it out, due by Due.
	Granted  bool
	FollowUp string
	// Controller is who controls the data where we do not.
	Controller Authority
	// Recipients are those the request was passed on to, or was to be.
	Recipients []Recipient
}

// Recipient is one whom the company disclosed the subject's data to and
// passed the request on to (GDPR Art 19), by the name the subject knows;
// Reached says it was told, not only that it should have been.
type Recipient struct {
	Name    string
	Reached bool
}

// ToldNames lists the recipients told, "" for none.
func (c content) ToldNames() string { return c.recipientNames(true) }

// UnreachedNames lists the recipients that could not be told yet.
func (c content) UnreachedNames() string { return c.recipientNames(false) }

func (c content) recipientNames(reached bool) string {
	var names []string
	for _, r := range c.Recipients {
		if r.Reached == reached {
			names = append(names, r.Name)
		}
	}
	return strings.Join(names, ", ")
}

// statements are the elements that explain the decision rather than say
// what the subject can do: a refusal gives them before its remedies.
var statements = []string{"provision_relied_on", "categories_instead", "retained_use_limited", "verification_process", "how_handled"}

// RemedyLines are the remedy's elements, each a sentence in the message's
// language.
func (c content) RemedyLines() []string { return c.remedyLines(func(string) bool { return true }) }

// StatementLines are the elements that explain the decision.
func (c content) StatementLines() []string {
	return c.remedyLines(func(e string) bool { return slices.Contains(statements, e) })
}

// RecourseLines are the elements that say what the subject can do.
func (c content) RecourseLines() []string {
	return c.remedyLines(func(e string) bool { return !slices.Contains(statements, e) })
}

// remedyLines renders the elements keep selects. An element whose text
// needs what the remedy lacks says it another way (no lead authority: the
// member states' authorities; no opt-out link: reply), never with a gap.
func (c content) remedyLines(keep func(string) bool) []string {
	r := c.Remedy
	lines := make([]string, 0, len(r.Elements))
	for _, e := range r.Elements {
		if !keep(e) {
			continue
		}
		key, link := "remedy."+e, r.OptOutLink
		switch e {
		case "supervisory_authority":
			switch {
			case r.Authority.Name != "":
			case r.Lead.Name != "":
				key += ".lead"
			default:
				key += ".member_state"
			}
		case "provision_relied_on":
			if r.Provision != "" {
				key += ".section"
			}
		case "opt_out_offer":
			if r.OptOutLink == "" {
				key += ".reply"
			}
		case "appeal":
			if r.AppealLink != "" {
				key, link = key+".link", r.AppealLink
			}
		case "categories_instead":
			if link = r.PrivacyNotice; link != "" {
				key += ".link"
			}
		}
		args := []string{"id", c.RequestID, "authority", r.Authority.Name, "url", r.Authority.URL,
			"lead", r.Lead.Name, "lead_url", r.Lead.URL, "members", r.Members,
			"law", r.Law, "provision", r.Provision, "link", link}
		lines = append(lines, c.L.T(key, args...))
	}
	return lines
}

// Records says how many records, in the message's language.
func (c content) Records(n int) string {
	if n == 1 {
		return c.L.T("mail.records.one")
	}
	return c.L.T("mail.records.other", "count", fmt.Sprint(n))
}

// ErasureSummary is what a completed deletion kept, and why: records the law
// requires to keep, and records kept without what identified the subject.
type ErasureSummary struct {
	Retained   []Retained
	Anonymized []Anonymized
	// Deleted is only told after a dry run: what erasure would delete.
	Deleted []Deleted
}

// Deleted is data erasure deletes.
type Deleted struct {
	What    string
	Records int
}

// Kept reports whether anything was kept.
func (e ErasureSummary) Kept() bool { return len(e.Retained) > 0 || len(e.Anonymized) > 0 }

// Retained is data kept because the law requires it. What, Reason and
// Citation are the company's registry's words, given as written.
type Retained struct {
	What     string // the source, as the company's registry describes it
	Records  int
	Reason   string
	Citation string
	Until    time.Time
}

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
{{define "verify"}}{{.L.T "mail.verify.intro" "id" .RequestID}}

{{.L.T "mail.verify.type" "type" .Type}}
{{if .Corrects}}
{{.L.T "mail.verify.corrects" "fields" .Corrects}}
{{else if .CorrectsAsLetter}}
{{.L.T "mail.verify.corrects_letter"}}
{{end}}{{if .Agent}}
{{.L.T "mail.verify.agent" "agent" .Agent}}
{{end}}
{{.L.T "mail.verify.action"}}
{{.Link}}

{{.L.T "mail.verify.code" "page" .CodePage}}
{{.Code}}

{{.L.T "mail.verify.once" "expires" .Expires}} {{.L.T "mail.verify.ignore"}}
{{end}}
{{define "locked"}}{{.L.T "mail.locked.body" "id" .RequestID}}

{{.L.T "mail.locked.next" "id" .RequestID}}

{{.L.T "mail.locked.close"}}
{{end}}
{{define "download"}}{{.L.T "mail.download.done" "id" .RequestID}}

{{.L.T "mail.download.action"}}
{{.Link}}

{{.L.T "mail.download.expires" "expires" .Expires}}
{{end}}
{{define "erased"}}{{.L.T "mail.erased.done" "id" .RequestID}}

{{if .Erasure.Kept}}{{.L.T "mail.erased.body_except"}}{{else}}{{.L.T "mail.erased.body"}}{{end}}
{{if .Erasure.Anonymized}}
{{.L.T "mail.erased.anonymized"}}
{{range .Erasure.Anonymized}}- {{$.L.T "mail.erased.anonymized_item" "what" .What "records" ($.Records .Records) "fields" .FieldList}}
{{end}}{{end}}{{if .Erasure.Retained}}
{{.L.T "mail.erased.retained"}}
{{range .Erasure.Retained}}- {{$.L.T "mail.erased.retained_item" "what" .What "records" ($.Records .Records) "reason" .Reason "citation" .Citation "date" ($.L.Date .Until)}}
{{end}}{{template "remedy_text" .}}{{end}}{{template "recipients" .}}{{end}}
{{define "recipients"}}{{with .ToldNames}}
{{$.L.T "mail.recipients.told" "names" .}}
{{end}}{{with .UnreachedNames}}
{{$.L.T "mail.recipients.unreached" "names" .}}
{{end}}{{end}}
{{define "dry_run"}}{{.L.T "mail.dry_run.done" "id" .RequestID}}

{{.L.T "mail.dry_run.would"}}
{{range .Erasure.Deleted}}- {{$.L.T "mail.dry_run.deleted_item" "what" .What "records" ($.Records .Records)}}
{{end}}{{range .Erasure.Anonymized}}- {{$.L.T "mail.dry_run.anonymized_item" "what" .What "records" ($.Records .Records) "fields" .FieldList}}
{{end}}{{range .Erasure.Retained}}- {{$.L.T "mail.dry_run.retained_item" "what" .What "records" ($.Records .Records) "reason" .Reason "citation" .Citation "date" ($.L.Date .Until)}}
{{end}}{{if not (or .Erasure.Deleted .Erasure.Anonymized .Erasure.Retained)}}{{.L.T "mail.dry_run.nothing"}}
{{end}}{{end}}
{{define "remedy_list"}}{{range .StatementLines}}
{{.}}
{{end}}{{with .RecourseLines}}
{{$.L.T "mail.next_steps"}}
{{range .}}- {{.}}
{{end}}{{else}}
{{.L.T "mail.questions"}}
{{end}}{{with .Remedy.DPO.Name}}
{{$.L.T "mail.dpo" "name" . "contact" $.Remedy.DPO.URL}}
{{end}}{{end}}
{{define "remedy_text"}}{{range .RemedyLines}}
{{.}}
{{end}}{{end}}
{{define "expired"}}{{.L.T "mail.expired.body" "id" .RequestID}}
{{template "remedy_list" .}}
{{.L.T "mail.new_request"}}
{{end}}
{{define "ack"}}{{.L.T "mail.ack.received" "id" .RequestID "date" .Received}}
{{.L.T "mail.ack.type" "type" .Type}}

{{.L.T "mail.ack.due" "date" .Due}}
{{template "remedy_text" .}}{{end}}
{{define "extended"}}{{.L.T "mail.extended.intro" "id" .RequestID}}

{{.L.T "mail.reasons"}}
{{range .Reasons}}- {{.}}
{{end}}
{{.L.T "mail.extended.due" "date" .Due}}
{{template "remedy_text" .}}{{end}}
{{define "denied"}}{{.L.T "mail.denied.intro" "id" .RequestID}}

{{.L.T "mail.reasons"}}
{{range .Reasons}}- {{.}}
{{end}}{{template "remedy_list" .}}{{end}}
{{define "appeal_decided"}}{{if .Granted}}{{.L.T "mail.appeal_decided.granted" "id" .RequestID}}{{else}}{{.L.T "mail.appeal_decided.upheld" "id" .RequestID}}{{end}}

{{.L.T "mail.reasons"}}
{{range .Reasons}}- {{.}}
{{end}}{{with .FollowUp}}
{{$.L.T "mail.appeal_decided.follow_up" "id" . "date" $.Due}}
{{end}}{{if not .Granted}}{{template "remedy_list" .}}{{end}}{{end}}
{{define "nothing_to_appeal"}}{{.L.T "mail.nothing_to_appeal.body" "id" .RequestID "ref" .First}}

{{.L.T "mail.nothing_to_appeal.next"}}
{{end}}
{{define "not_controller"}}{{.L.T "mail.not_controller.body" "id" .RequestID}}
{{.Controller.Name}}{{with .Controller.URL}} ({{.}}){{end}}

{{.L.T "mail.not_controller.next"}}
{{end}}
{{define "cancelled"}}{{.L.T "mail.cancelled.body" "id" .RequestID}}

{{.L.T "mail.new_request"}}
{{end}}
{{define "corrected"}}{{.L.T "mail.corrected.done" "id" .RequestID}}

{{if .Fields}}{{.L.T "mail.corrected.body" "fields" .Fields}}{{else}}{{.L.T "mail.corrected.none"}}{{end}}
{{template "recipients" .}}{{end}}
{{define "joined"}}{{.L.T "mail.joined.body" "id" .RequestID "first" .First}}

{{.L.T "mail.joined.ignore"}}
{{end}}
{{define "recorded"}}{{.L.T "mail.recorded.done" "id" .RequestID}}
{{if .ViaGPC}}
{{.L.T "mail.recorded.gpc"}}
{{end}}
{{.L.T .Choice}}

{{.L.T "mail.recorded.checked"}}
{{template "recipients" .}}{{end}}
{{define "overdue"}}Request {{.RequestID}} is still open and its due date, {{.Due}}, has passed.

Find it with: privacyctl show {{.RequestID}}
{{if .Link}}Its deadline watch in the console: {{.Link}}
{{end}}{{end}}`))

	htmlTemplates = htmltemplate.Must(htmltemplate.New("").Parse(`
{{define "verify"}}<p>{{.L.T "mail.verify.intro" "id" .RequestID}}</p>
<p>{{.L.T "mail.verify.type" "type" .Type}}</p>
{{if .Corrects}}<p>{{.L.T "mail.verify.corrects" "fields" .Corrects}}</p>{{else if .CorrectsAsLetter}}<p>{{.L.T "mail.verify.corrects_letter"}}</p>{{end}}
{{if .Agent}}<p>{{.L.T "mail.verify.agent" "agent" .Agent}}</p>{{end}}
<p>{{.L.T "mail.verify.action"}}</p>
<p><a href="{{.Link}}">{{.L.T "mail.verify.link"}}</a></p>
<p>{{.L.T "mail.verify.code" "page" .CodePage}}</p>
<p style="font-size:1.5em;font-family:monospace;letter-spacing:.1em"><strong>{{.Code}}</strong></p>
<p>{{.L.T "mail.verify.once" "expires" .Expires}} {{.L.T "mail.verify.ignore"}}</p>{{end}}
{{define "locked"}}<p>{{.L.T "mail.locked.body" "id" .RequestID}}</p>
<p>{{.L.T "mail.locked.next" "id" .RequestID}}</p>
<p>{{.L.T "mail.locked.close"}}</p>{{end}}
{{define "download"}}<p>{{.L.T "mail.download.done" "id" .RequestID}}</p>
<p><a href="{{.Link}}">{{.L.T "mail.download.link"}}</a></p>
<p>{{.L.T "mail.download.expires" "expires" .Expires}}</p>{{end}}
{{define "erased"}}<p>{{.L.T "mail.erased.done" "id" .RequestID}}</p>
<p>{{if .Erasure.Kept}}{{.L.T "mail.erased.body_except"}}{{else}}{{.L.T "mail.erased.body"}}{{end}}</p>
{{- if .Erasure.Anonymized}}
<p>{{.L.T "mail.erased.anonymized"}}</p><ul>{{range .Erasure.Anonymized}}<li>{{$.L.T "mail.erased.anonymized_item" "what" .What "records" ($.Records .Records) "fields" .FieldList}}</li>{{end}}</ul>{{end}}
{{- if .Erasure.Retained}}
<p>{{.L.T "mail.erased.retained"}}</p><ul>{{range .Erasure.Retained}}<li>{{$.L.T "mail.erased.retained_item" "what" .What "records" ($.Records .Records) "reason" .Reason "citation" .Citation "date" ($.L.Date .Until)}}</li>{{end}}</ul>{{template "remedy_text" .}}{{end}}{{template "recipients" .}}{{end}}
{{define "recipients"}}{{with .ToldNames}}
<p>{{$.L.T "mail.recipients.told" "names" .}}</p>{{end}}{{with .UnreachedNames}}
<p>{{$.L.T "mail.recipients.unreached" "names" .}}</p>{{end}}{{end}}
{{define "dry_run"}}<p>{{.L.T "mail.dry_run.done" "id" .RequestID}}</p>
<p>{{.L.T "mail.dry_run.would"}}</p><ul>
{{- range .Erasure.Deleted}}<li>{{$.L.T "mail.dry_run.deleted_item" "what" .What "records" ($.Records .Records)}}</li>{{end}}
{{- range .Erasure.Anonymized}}<li>{{$.L.T "mail.dry_run.anonymized_item" "what" .What "records" ($.Records .Records) "fields" .FieldList}}</li>{{end}}
{{- range .Erasure.Retained}}<li>{{$.L.T "mail.dry_run.retained_item" "what" .What "records" ($.Records .Records) "reason" .Reason "citation" .Citation "date" ($.L.Date .Until)}}</li>{{end}}
{{- if not (or .Erasure.Deleted .Erasure.Anonymized .Erasure.Retained)}}<li>{{.L.T "mail.dry_run.nothing"}}</li>{{end}}</ul>{{end}}
{{define "remedy_list"}}{{range .StatementLines}}
<p>{{.}}</p>{{end}}{{with .RecourseLines}}
<p>{{$.L.T "mail.next_steps"}}</p><ul>{{range .}}<li>{{.}}</li>{{end}}</ul>{{else}}
<p>{{.L.T "mail.questions"}}</p>{{end}}{{with .Remedy.DPO.Name}}
<p>{{$.L.T "mail.dpo" "name" . "contact" $.Remedy.DPO.URL}}</p>{{end}}{{end}}
{{define "remedy_text"}}{{range .RemedyLines}}
<p>{{.}}</p>{{end}}{{end}}
{{define "expired"}}<p>{{.L.T "mail.expired.body" "id" .RequestID}}</p>
{{- template "remedy_list" .}}
<p>{{.L.T "mail.new_request"}}</p>{{end}}
{{define "ack"}}<p>{{.L.T "mail.ack.received" "id" .RequestID "date" .Received}}<br>
{{.L.T "mail.ack.type" "type" .Type}}</p>
<p>{{.L.T "mail.ack.due" "date" .Due}}</p>{{template "remedy_text" .}}{{end}}
{{define "extended"}}<p>{{.L.T "mail.extended.intro" "id" .RequestID}}</p>
<p>{{.L.T "mail.reasons"}}</p><ul>{{range .Reasons}}<li>{{.}}</li>{{end}}</ul>
<p>{{.L.T "mail.extended.due" "date" .Due}}</p>{{template "remedy_text" .}}{{end}}
{{define "denied"}}<p>{{.L.T "mail.denied.intro" "id" .RequestID}}</p>
<p>{{.L.T "mail.reasons"}}</p><ul>{{range .Reasons}}<li>{{.}}</li>{{end}}</ul>
{{- template "remedy_list" .}}{{end}}
{{define "appeal_decided"}}<p>{{if .Granted}}{{.L.T "mail.appeal_decided.granted" "id" .RequestID}}{{else}}{{.L.T "mail.appeal_decided.upheld" "id" .RequestID}}{{end}}</p>
<p>{{.L.T "mail.reasons"}}</p><ul>{{range .Reasons}}<li>{{.}}</li>{{end}}</ul>
{{- with .FollowUp}}
<p>{{$.L.T "mail.appeal_decided.follow_up" "id" . "date" $.Due}}</p>{{end}}
{{- if not .Granted}}{{template "remedy_list" .}}{{end}}{{end}}
{{define "nothing_to_appeal"}}<p>{{.L.T "mail.nothing_to_appeal.body" "id" .RequestID "ref" .First}}</p>
<p>{{.L.T "mail.nothing_to_appeal.next"}}</p>{{end}}
{{define "not_controller"}}<p>{{.L.T "mail.not_controller.body" "id" .RequestID}}<br>
{{.Controller.Name}}{{with .Controller.URL}} ({{.}}){{end}}</p>
<p>{{.L.T "mail.not_controller.next"}}</p>{{end}}
{{define "cancelled"}}<p>{{.L.T "mail.cancelled.body" "id" .RequestID}}</p>
<p>{{.L.T "mail.new_request"}}</p>{{end}}
{{define "corrected"}}<p>{{.L.T "mail.corrected.done" "id" .RequestID}}</p>
<p>{{if .Fields}}{{.L.T "mail.corrected.body" "fields" .Fields}}{{else}}{{.L.T "mail.corrected.none"}}{{end}}</p>{{template "recipients" .}}{{end}}
{{define "joined"}}<p>{{.L.T "mail.joined.body" "id" .RequestID "first" .First}}</p>
<p>{{.L.T "mail.joined.ignore"}}</p>{{end}}
{{define "recorded"}}<p>{{.L.T "mail.recorded.done" "id" .RequestID}}</p>
{{- if .ViaGPC}}
<p>{{.L.T "mail.recorded.gpc"}}</p>{{end}}
<p>{{.L.T .Choice}}</p>
<p>{{.L.T "mail.recorded.checked"}}</p>{{template "recipients" .}}{{end}}
{{define "overdue"}}<p>Request <strong>{{.RequestID}}</strong> is still open and its due date, {{.Due}}, has passed.</p>
<p>Find it with: <code>privacyctl show {{.RequestID}}</code></p>{{if .Link}}
<p><a href="{{.Link}}">Its deadline watch in the console</a></p>{{end}}{{end}}`))
)

// render writes message name to one recipient. The subject line is the
// catalogue's name+".subject" in c.L.
func render(name, to string, c content) (Message, error) {
	if _, ok := i18n.Parse(string(c.L)); !ok {
		c.L = i18n.Default
	}
	var text, html bytes.Buffer
	if err := textTemplates.ExecuteTemplate(&text, name, c); err != nil {
		return Message{}, err
	}
	if err := htmlTemplates.ExecuteTemplate(&html, name, c); err != nil {
		return Message{}, err
	}
	subject := c.L.T("mail."+name+".subject", "id", c.RequestID)
	return Message{To: to, Subject: subject, Text: text.String(), HTML: html.String(), Language: c.L}, nil
}

// Verification asks the subject to confirm the request through link, or by
// entering code on codePage; both work until expires. It names the request
// type (typ, "access") as it was understood, so that a subject whose letter
// was read otherwise can say so instead of confirming.
// corrects are the fields a correction request asks to change (none for
// other requests): the mail names them, not their new values.
func Verification(l i18n.Lang, to, requestID, typ, link, code, codePage string, expires time.Time, corrects []string) (Message, error) {
	return render("verify", to, content{L: l, RequestID: requestID, Type: l.T("type." + typ), Link: link, Code: code, CodePage: codePage, Expires: l.DateTime(expires.UTC()),
		Corrects: l.Details(corrects), CorrectsAsLetter: typ == "correct" && len(corrects) == 0})
}

// VerificationForAgent is Verification for a request an authorized agent
// made: it names the agent, so the subject confirms the agent's authority
// directly (CCPA Regs §7063(a)(2)).
func VerificationForAgent(l i18n.Lang, to, requestID, typ, agent, link, code, codePage string, expires time.Time, corrects []string) (Message, error) {
	return render("verify", to, content{L: l, RequestID: requestID, Type: l.T("type." + typ), Agent: agent, Link: link, Code: code, CodePage: codePage, Expires: l.DateTime(expires.UTC()),
		Corrects: l.Details(corrects), CorrectsAsLetter: typ == "correct" && len(corrects) == 0})
}

// VerificationLocked tells the subject that the request stopped accepting
// confirmations after too many wrong attempts, and how to go on.
func VerificationLocked(l i18n.Lang, to, requestID string) (Message, error) {
	return render("locked", to, content{L: l, RequestID: requestID})
}

// DownloadReady tells the subject where to download their data until expires.
func DownloadReady(l i18n.Lang, to, requestID, link string, expires time.Time) (Message, error) {
	return render("download", to, content{L: l, RequestID: requestID, Link: link, Expires: l.DateTime(expires.UTC())})
}

// Erased confirms a completed erasure and says what was kept, and why.
// Where the law kept some of the data, the erasure was carried out in part,
// and the mail carries what the law requires of that notice (remedy: the
// rules' partial notice); where nothing was kept, the remedy is not told.
// It names the recipients the erasure was passed on to, and those that
// could not be reached yet.
func Erased(l i18n.Lang, to, requestID string, kept ErasureSummary, remedy Remedy, recipients ...Recipient) (Message, error) {
	return render("erased", to, content{L: l, RequestID: requestID, Erasure: kept, Remedy: remedy, Recipients: recipients})
}

// DryRun tells the subject that a dry-run deletion changed nothing, and
// what erasure would do.
func DryRun(l i18n.Lang, to, requestID string, would ErasureSummary) (Message, error) {
	return render("dry_run", to, content{L: l, RequestID: requestID, Erasure: would})
}

// NeverVerified tells the subject the request closed unconfirmed, and what
// the law requires that notice to carry (remedy: the rules' unverified
// notice).
func NeverVerified(l i18n.Lang, to, requestID string, remedy Remedy) (Message, error) {
	return render("expired", to, content{L: l, RequestID: requestID, Remedy: remedy})
}

// Acknowledgement confirms receipt and says when the answer is due; typ is
// the request type ("access"). remedy is what the law requires the
// acknowledgement to carry besides (the rules' ack notice).
func Acknowledgement(l i18n.Lang, to, requestID, typ string, received, due time.Time, remedy Remedy) (Message, error) {
	return render("ack", to, content{L: l, RequestID: requestID, Type: l.T("type." + typ), Received: l.Date(received), Due: l.Date(due), Remedy: remedy})
}

// Extension tells the subject the answer will take longer, why, until when,
// and what the law requires the notice to carry besides (the rules'
// extension notice). Without reasons of an operator it gives the
// catalogue's default reason, in the subject's language.
func Extension(l i18n.Lang, to, requestID string, reasons []string, newDue time.Time, remedy Remedy) (Message, error) {
	if len(reasons) == 0 {
		// An extension is lawful only with its real reasons: there is no
		// stock one to fall back on.
		return Message{}, errors.New("an extension notice needs its reasons")
	}
	return render("extended", to, content{L: l, RequestID: requestID, Reasons: reasons, Due: l.Date(newDue), Remedy: remedy})
}

// Denial tells the subject the request is refused, why, and what they can
// do (remedy: the rules' denial notice).
func Denial(l i18n.Lang, to, requestID string, reasons []string, remedy Remedy) (Message, error) {
	return render("denied", to, content{L: l, RequestID: requestID, Reasons: reasons, Remedy: remedy})
}

// AppealDecided tells the subject the decision on their appeal requestID,
// with its reasons. A denied appeal carries what the law requires (remedy:
// the rules' denial notice for appeals, the Attorney General where the law
// says so), never another appeal; a granted one says the request will be
// carried out.
func AppealDecided(l i18n.Lang, to, requestID string, granted bool, reasons []string, remedy Remedy) (Message, error) {
	c := content{L: l, RequestID: requestID, Reasons: reasons, Granted: granted}
	if !granted {
		c.Remedy = remedy
	}
	return render("appeal_decided", to, c)
}

// AppealGranted tells the subject their appeal requestID is granted, why,
// and that the request is now carried out as followUp, answered by due.
func AppealGranted(l i18n.Lang, to, requestID string, reasons []string, followUp string, due time.Time) (Message, error) {
	if len(reasons) == 0 || followUp == "" {
		return Message{}, errors.New("a granted appeal needs its reasons and the request that carries it out")
	}
	return render("appeal_decided", to, content{L: l, RequestID: requestID, Reasons: reasons, Granted: true, FollowUp: followUp, Due: l.Date(due)})
}

// NothingToAppeal tells the subject their appeal requestID names no
// decision of ours they can appeal (ref, as they gave it), without saying
// why: the reference may be someone else's.
func NothingToAppeal(l i18n.Lang, to, requestID, ref string) (Message, error) {
	return render("nothing_to_appeal", to, content{L: l, RequestID: requestID, First: ref})
}

// NotController tells the subject that we are not the controller of the
// data their request is about, and who is (LGPD Art 18 §4: one of the two
// answers to a request that cannot be met at once).
func NotController(l i18n.Lang, to, requestID string, controller Authority) (Message, error) {
	if controller.Name == "" {
		return Message{}, fmt.Errorf("notify: a notice that we are not the controller must say who is")
	}
	return render("not_controller", to, content{L: l, RequestID: requestID, Controller: controller})
}

// Overdue tells the operators that a request passed its due date open. It
// is for the privacy team and always in English.
func Overdue(to, requestID string, due time.Time, consoleURL string) (Message, error) {
	var text, html bytes.Buffer
	c := content{L: i18n.English, RequestID: requestID, Due: i18n.English.Date(due), Link: consoleURL}
	if err := textTemplates.ExecuteTemplate(&text, "overdue", c); err != nil {
		return Message{}, err
	}
	if err := htmlTemplates.ExecuteTemplate(&html, "overdue", c); err != nil {
		return Message{}, err
	}
	return Message{To: to, Subject: "OVERDUE: privacy request " + requestID, Text: text.String(), HTML: html.String(), Language: i18n.English}, nil
}

// FindingsOpen tells an operator that a request's erasure waits until they
// look at the places in the sources that may still hold the subject. It
// names the request and counts the places; which they are is shown by
// privacyctl, not mailed.
func FindingsOpen(to, requestID string, open int) (Message, error) {
	text := fmt.Sprintf("Erasure for request %s is not done: %d places in the sources may still hold the subject and could not be erased (a record that does not parse, the subject's value where the registry does not look, an object that cannot be read).\n\nThe subject is not told the erasure is done until each is resolved:\n\nprivacyctl findings %s\nprivacyctl resolve %s FINDING_ID --erased-by-hand|--not-subject [--note TEXT]\n", requestID, open, requestID, requestID)
	html := fmt.Sprintf("<p>Erasure for request <strong>%s</strong> is not done: %d places in the sources may still hold the subject and could not be erased.</p><p>The subject is not told the erasure is done until each is resolved:</p><p><code>privacyctl findings %s</code></p>",
		htmltemplate.HTMLEscapeString(requestID), open, htmltemplate.HTMLEscapeString(requestID))
	return Message{To: to, Subject: "Erasure waits for you: privacy request " + requestID, Text: text, HTML: html, Language: i18n.English}, nil
}

// Cancelled confirms a cancellation to the subject.
func Cancelled(l i18n.Lang, to, requestID string) (Message, error) {
	return render("cancelled", to, content{L: l, RequestID: requestID})
}

// ChoiceKey is the catalogue key of what a recorded choice of the request
// type means, or "" for types that record none.
func ChoiceKey(typ string) string {
	switch typ {
	case "opt_out", "limit", "restrict", "object":
		return "mail.recorded.choice." + typ
	}
	return ""
}

// Recorded confirms that an opt-out, limit, restriction or objection is on
// record; viaGPC says it came from the browser's Global Privacy Control. It
// names the recipients the choice was passed on to, and those that could
// not be reached yet.
func Recorded(l i18n.Lang, to, requestID, typ string, viaGPC bool, recipients ...Recipient) (Message, error) {
	key := ChoiceKey(typ)
	if key == "" {
		return Message{}, fmt.Errorf("notify: no confirmation for %q requests", typ)
	}
	return render("recorded", to, content{L: l, RequestID: requestID, Choice: key, ViaGPC: viaGPC, Recipients: recipients})
}

// Joined tells the subject that a new request was added to their open
// request first of the same kind instead of being carried out twice.
func Joined(l i18n.Lang, to, requestID, first string) (Message, error) {
	return render("joined", to, content{L: l, RequestID: requestID, First: first})
}

// Corrected confirms a correction: the fields corrected (their names, never
// the values), or, when no record was found, that there was nothing to
// correct; and the recipients the correction was passed on to, and those
// that could not be reached yet.
func Corrected(l i18n.Lang, to, requestID string, fields []string, found bool, recipients ...Recipient) (Message, error) {
	c := content{L: l, RequestID: requestID, Recipients: recipients}
	if found {
		c.Fields = strings.Join(fields, ", ")
	}
	return render("corrected", to, c)
}

// ExtensionDecision asks the operators whether a request must be extended:
// the law allows it only where necessary, and the notice must give the real
// reasons. It is for the privacy team and always in English.
func ExtensionDecision(to, requestID string, noticeBy, due, extendedDue time.Time) Message {
	l := i18n.English
	text := fmt.Sprintf("Request %s is due %s. If it needs longer, extend it by %s at the latest (to %s), giving the real reasons; they are sent to the subject:\n\n"+
		"privacyctl extend %s --reason \"...\"\n\nIf the date stands, say so:\n\nprivacyctl keep-date %s\n\n"+
		"Without a decision by %s, the company's policy applies (by default the date stands and the request is flagged).\n",
		requestID, l.Date(due), l.Date(noticeBy), l.Date(extendedDue), requestID, requestID, l.Date(noticeBy))
	return Message{To: to, Subject: "Decide: extend privacy request " + requestID + "?", Text: text, HTML: "<pre>" + htmltemplate.HTMLEscapeString(text) + "</pre>", Language: l}
}

// ExtensionUndecided tells the operators that nobody decided whether to
// extend a request by the last day for its notice: its date stands.
func ExtensionUndecided(to, requestID string, due, noticeBy time.Time) Message {
	l := i18n.English
	text := fmt.Sprintf("Nobody decided whether request %s needs an extension. Its date stands: it is due %s. "+
		"An extension can still be sent until the end of %s:\n\nprivacyctl extend %s --reason \"...\"\n", requestID, l.Date(due), l.Date(noticeBy), requestID)
	return Message{To: to, Subject: "Undecided extension: privacy request " + requestID, Text: text, HTML: "<pre>" + htmltemplate.HTMLEscapeString(text) + "</pre>", Language: l}
}

// ExtensionForFacts is the extension notice whose reasons are facts of the
// request's own state (workflow.Fact*), each said in the subject's language
// (mail.extended.fact.<fact>).
func ExtensionForFacts(l i18n.Lang, to, requestID string, facts []string, newDue time.Time, remedy Remedy) (Message, error) {
	reasons := make([]string, len(facts))
	for i, f := range facts {
		reasons[i] = l.T("mail.extended.fact." + f)
	}
	return Extension(l, to, requestID, reasons, newDue, remedy)
}

// TaskMail is what the owner of a manual source is told of a task: ids,
// the source, what is asked and until when, and the link. Never the
// subject's identities: the link's page shows them to whoever holds it.
type TaskMail struct {
	TaskID, RequestID, Source, Description, Type string
	// Export: the owner uploads the subject's data; otherwise attests.
	Export           bool
	Due, LinkExpires time.Time
	Link             string
	Reminder         bool
	// Why says why the task is the owner's: the system's own endpoint (a
	// webhook source) did not answer. Empty for a manual source.
	Why string
}

// ManualTask asks the owner of a manual source (in English: a company's
// own staff) to export the subject's data there, or to erase it, and to
// answer through the link or privacyctl.
func ManualTask(to string, t TaskMail) Message {
	ask := "erase the subject's data in it, then attest what was done"
	switch {
	case t.Export:
		ask = "export the subject's data from it (CSV, JSON or PDF, up to 4 MiB) and upload the file"
	case t.Type == "correct":
		ask = "correct the subject's data in it as the page shows, then attest what was done"
	case t.Type == "restrict":
		ask = "restrict the processing of the subject's data in it (keep it, but use it for nothing else), then attest what was done"
	case t.Type == "opt_out":
		ask = "stop selling or sharing the subject's personal information from it, then attest what was done"
	case t.Type == "limit":
		ask = "limit the use of the subject's sensitive personal information in it to what the law allows, then attest what was done"
	}
	subject := "Privacy request " + t.RequestID + ": your part in " + t.Source
	if t.Reminder {
		subject = "Reminder: " + subject
	}
	due := t.Due.Format("2 January 2006")
	why, whyHTML := "", ""
	if t.Why != "" {
		why = t.Why + "\n\n"
		whyHTML = "<p>" + htmltemplate.HTMLEscapeString(t.Why) + "</p>"
	}
	text := fmt.Sprintf("A %s request needs your system %q (%s).\n\n%sPlease %s, or say that it holds nothing of the subject, by %s:\n\n%s\n\nThe page shows whom to look for. The link works until %s; the request must be answered in time by law.\nTask %s\n",
		t.Type, t.Source, t.Description, why, ask, due, t.Link, t.LinkExpires.Format("2 January 2006 15:04 MST"), t.TaskID)
	html := fmt.Sprintf(`<p>A %s request needs your system <strong>%s</strong> (%s).</p>%s<p>Please %s, or say that it holds nothing of the subject, by <strong>%s</strong>:</p><p><a href="%s">Answer the task</a></p><p>The page shows whom to look for. The link works until %s; the request must be answered in time by law.<br>Task %s</p>`,
		htmltemplate.HTMLEscapeString(t.Type), htmltemplate.HTMLEscapeString(t.Source), htmltemplate.HTMLEscapeString(t.Description), whyHTML,
		htmltemplate.HTMLEscapeString(ask), due, htmltemplate.HTMLEscapeString(t.Link), t.LinkExpires.Format("2 January 2006 15:04 MST"), htmltemplate.HTMLEscapeString(t.TaskID))
	return Message{To: to, Subject: subject, Text: text, HTML: html, Language: i18n.English}
}

// ManualTasksLate tells the operators which manual sources have not
// answered a request at its extension-notice point.
func ManualTasksLate(to, requestID string, taskIDs []string, due time.Time) Message {
	list := strings.Join(taskIDs, "\n")
	text := fmt.Sprintf("Request %s is due %s, and these manual sources have not answered:\n\n%s\n\nAsk their owners, then answer for them:\n\nprivacyctl task done TASK_ID [--file F] [--note TEXT]\nprivacyctl task none TASK_ID\n",
		requestID, due.Format("2 January 2006"), list)
	html := fmt.Sprintf("<p>Request <strong>%s</strong> is due %s, and these manual sources have not answered:</p><pre>%s</pre><p><code>privacyctl tasks %s</code></p>",
		htmltemplate.HTMLEscapeString(requestID), due.Format("2 January 2006"), htmltemplate.HTMLEscapeString(list), htmltemplate.HTMLEscapeString(requestID))
	return Message{To: to, Subject: "Manual sources are late: privacy request " + requestID, Text: text, HTML: html, Language: i18n.English}
}
