package httpapi

import (
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/i18n"
	"github.com/privacy-pipeline/dsr/internal/links"
	"github.com/privacy-pipeline/dsr/internal/portal"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// The pages are server-rendered HTML that works without JavaScript and with
// a keyboard alone: every input has a label, choices are grouped in a
// fieldset with a legend, hints and errors are tied to their input with
// aria-describedby, and a form with errors starts with a summary whose
// links lead to the fields. Every text comes from the message catalogue in
// the reader's language (see pageLanguage).
var pages = template.Must(template.New("").Parse(`
{{define "head"}}<!doctype html>
<html lang="{{.L}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{if .Errors}}{{.L.T "form.error.prefix"}} {{end}}{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1b1b1b}
label,legend{display:block;margin-top:1rem;font-weight:600}fieldset{border:0;padding:0;margin:0}fieldset+fieldset,input+fieldset{margin-top:1.5rem}
input,select,button{font-size:1rem;padding:.4rem;margin-top:.25rem}input[type=email]{width:100%;max-width:25rem;box-sizing:border-box}
.choice{margin-top:.5rem}.choice label{display:inline;font-weight:400}.choice .hint{margin:0 0 0 1.8rem}
.hint{color:#4a4a4a;margin:.25rem 0}.error{color:#b00020;font-weight:600;margin:.25rem 0}
.summary{border:3px solid #b00020;padding:.5rem 1rem;margin-bottom:1rem}.summary a{color:#b00020}
[aria-invalid=true]{border:2px solid #b00020}
a:focus,button:focus,input:focus,select:focus,.summary:focus{outline:3px solid #fd0;outline-offset:2px}
nav ul{list-style:none;padding:0;margin:0;display:flex;gap:1rem;justify-content:flex-end}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:600}dd{margin:0}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}</style></head><body>
{{if .Languages}}<nav aria-label="{{.L.T "lang.menu"}}"><ul>{{range .Languages}}<li>{{if .Current}}<span lang="{{.Lang}}" aria-current="true">{{.Name}}</span>{{else}}<a href="{{.URL}}" lang="{{.Lang}}" hreflang="{{.Lang}}">{{.Name}}</a>{{end}}</li>{{end}}</ul></nav>{{end}}
<main>
{{if .Errors}}<div class="summary" role="alert" aria-labelledby="error-summary-title" tabindex="-1" autofocus>
<h2 id="error-summary-title">{{.L.T "form.errors.title"}}</h2>
<ul>{{range .Errors}}<li>{{if .Target}}<a href="#{{.Target}}">{{.Text}}</a>{{else}}{{.Text}}{{end}}</li>{{end}}</ul></div>{{end}}
<h1>{{.Title}}</h1>{{end}}

{{define "foot"}}</main></body></html>{{end}}

{{define "fielderror"}}{{if .Text}}<p id="{{.ID}}-error" class="error"><span class="visually-hidden">{{.L.T "form.error.prefix"}}</span> {{.Text}}</p>{{end}}{{end}}

{{define "law"}}{{template "head" .}}
<p>{{.L.T "form.intro"}}</p>
<form method="get" action="/">
<input type="hidden" name="lang" value="{{.L}}">
<label for="jurisdiction">{{.L.T "form.jurisdiction.label"}}</label>
<p id="jurisdiction-hint" class="hint">{{.L.T "form.jurisdiction.hint"}}</p>
{{template "fielderror" .Form.ErrorOf "jurisdiction"}}
<select id="jurisdiction" name="jurisdiction" aria-describedby="jurisdiction-hint{{if .Form.Has "jurisdiction"}} jurisdiction-error{{end}}"{{if .Form.Has "jurisdiction"}} aria-invalid="true"{{end}}>
{{range .Form.Groups}}<optgroup label="{{.Label}}">{{range .Laws}}<option value="{{.Code}}"{{if .Selected}} selected{{end}}>{{.Name}}</option>{{end}}</optgroup>
{{end}}</select>
<p><button type="submit">{{.L.T "form.jurisdiction.continue"}}</button></p>
</form>
{{template "foot" .}}{{end}}

{{define "form"}}{{template "head" .}}
<p>{{.L.T "form.law" "law" .Form.LawName}} <a href="{{.Form.ChangeLaw}}">{{.L.T "form.law.change"}}</a></p>
<form method="post" action="/v1/requests" novalidate>
<input type="hidden" name="jurisdiction" value="{{.Form.Jurisdiction}}">
<input type="hidden" name="language" value="{{.L}}">
<fieldset{{if .Form.Has "type"}} aria-describedby="type-error"{{end}}>
<legend>{{.L.T "form.type.legend"}}</legend>
{{template "fielderror" .Form.ErrorOf "type"}}
{{range $i, $c := .Form.Choices}}<div class="choice">
<input type="radio" id="{{$c.ID}}" name="type" value="{{$c.Value}}" aria-describedby="{{$c.ID}}-hint"{{if $c.Checked}} checked{{end}}>
<label for="{{$c.ID}}">{{$c.Label}}</label>
<p id="{{$c.ID}}-hint" class="hint">{{$c.Hint}}</p></div>
{{end}}</fieldset>
{{if .Form.Corrections}}<fieldset id="corrections"{{if .Form.Has "corrections"}} aria-describedby="corrections-error"{{end}}>
<legend>{{.L.T "form.corrections.legend"}}</legend>
<p id="corrections-hint" class="hint">{{.L.T "form.corrections.hint"}}</p>
{{template "fielderror" .Form.ErrorOf "corrections"}}
{{range .Form.Corrections}}<label for="{{.ID}}">{{.Label}}</label>
{{template "fielderror" $.Form.ErrorOf .Name}}
<input id="{{.ID}}" name="{{.Name}}" type="text" maxlength="{{.MaxLength}}" autocomplete="off" value="{{.Value}}" aria-describedby="corrections-hint{{if $.Form.Has .Name}} {{.Name}}-error{{end}}"{{if $.Form.Has .Name}} aria-invalid="true"{{end}}>
{{end}}</fieldset>
{{end}}{{if .Form.Appeal}}<label for="appeal_of">{{.L.T "form.appeal_of.label"}}</label>
<p id="appeal_of-hint" class="hint">{{.L.T "form.appeal_of.hint"}}</p>
{{template "fielderror" .Form.ErrorOf "appeal_of"}}
<input id="appeal_of" name="appeal_of" type="text" autocomplete="off" spellcheck="false" maxlength="64" value="{{.Form.AppealOf}}" aria-describedby="appeal_of-hint{{if .Form.Has "appeal_of"}} appeal_of-error{{end}}"{{if .Form.Has "appeal_of"}} aria-invalid="true"{{end}}>
{{end}}<label for="email">{{.L.T "form.email.label"}}</label>
<p id="email-hint" class="hint">{{.L.T "form.email.hint"}}</p>
{{template "fielderror" .Form.ErrorOf "email"}}
<input id="email" name="email" type="email" autocomplete="email" spellcheck="false" maxlength="254" value="{{.Form.Email}}" aria-describedby="email-hint{{if .Form.Has "email"}} email-error{{end}}"{{if .Form.Has "email"}} aria-invalid="true"{{end}}>
<fieldset id="agent">
<legend>{{.L.T "form.agent.legend"}}</legend>
<p id="agent_email-hint" class="hint">{{.L.T "form.agent.hint"}}</p>
<label for="agent_email">{{.L.T "form.agent.label"}}</label>
{{template "fielderror" .Form.ErrorOf "agent_email"}}
<input id="agent_email" name="agent_email" type="email" spellcheck="false" maxlength="254" value="{{.Form.AgentEmail}}" aria-describedby="agent_email-hint{{if .Form.Has "agent_email"}} agent_email-error{{end}}"{{if .Form.Has "agent_email"}} aria-invalid="true"{{end}}>
</fieldset>
<p><button type="submit">{{.L.T "form.submit"}}</button></p>
</form>
{{template "foot" .}}{{end}}

{{define "done"}}{{template "head" .}}
<p>{{.L.T "done.reference" "id" .Done.ID}}</p>
<h2>{{.L.T "done.next.title"}}</h2>
{{if .Done.PermissionAction}}<ol><li>{{.L.T "done.agent.next.upload"}}</li><li>{{.L.T "done.agent.next.confirm"}}</li><li>{{.L.T "done.agent.next.result"}}</li></ol>
{{else}}<ol><li>{{.L.T "done.next.ack"}}</li>{{if .Done.Verification}}<li>{{.L.T "done.next.verify"}}</li>{{end}}<li>{{.L.T .Done.ResultKey}}</li></ol>{{end}}
<p>{{.L.T "done.status.hint"}}</p>
<p><a href="{{.Done.StatusLink}}">{{.L.T "done.status.link"}}</a></p>
{{if .Done.PermissionAction}}<h2>{{.L.T "done.agent.title"}}</h2>
<p>{{.L.T "done.agent.text"}}</p>
{{template "permissionform" .}}
<p>{{.L.T "done.agent.later"}} <a href="{{.Done.PermissionAction}}">{{.L.T "done.agent.later.link"}}</a></p>{{end}}
{{if and .CodeAction (not .Done.PermissionAction)}}<h2>{{.L.T "verify.title"}}</h2>
<p>{{.L.T "done.code"}}</p>
{{template "codeform" .}}{{end}}
{{template "foot" .}}{{end}}

{{define "permissionform"}}<form method="post" action="{{.Done.PermissionAction}}" enctype="multipart/form-data" novalidate>
<label for="permission">{{.L.T "done.agent.file"}}</label>
<p id="permission-hint" class="hint">{{.L.T "done.agent.file.hint"}}</p>
{{if .Message}}<p id="permission-error" class="error"><span class="visually-hidden">{{.L.T "form.error.prefix"}}</span> {{.Message}}</p>{{end}}
<input id="permission" name="permission" type="file" accept="application/pdf,image/png,image/jpeg" aria-describedby="permission-hint{{if .Message}} permission-error{{end}}"{{if .Message}} aria-invalid="true"{{end}}>
<div class="choice"><input type="checkbox" id="power_of_attorney" name="power_of_attorney" value="true">
<label for="power_of_attorney">{{.L.T "done.agent.poa"}}</label></div>
<p><button type="submit">{{.L.T "done.agent.send"}}</button></p>
</form>{{end}}

{{define "upload"}}{{template "head" .}}
<p>{{.L.T "done.agent.text"}}</p>
{{template "permissionform" .}}
{{template "foot" .}}{{end}}

{{define "permission"}}{{template "head" .}}
<p>{{.Message}}</p>
<p><a href="{{.Action}}">{{.L.T "done.status.link"}}</a></p>
{{template "foot" .}}{{end}}

{{define "codeform"}}<form method="post" action="{{.CodeAction}}" novalidate>
<input type="hidden" name="lang" value="{{.L}}">
<label for="code">{{.L.T "code.label"}}</label>
{{if .CodeError}}<p id="code-error" class="error"><span class="visually-hidden">{{.L.T "form.error.prefix"}}</span> {{.CodeError}}</p>{{end}}
<input id="code" name="code" autocomplete="one-time-code" autocapitalize="characters" spellcheck="false" maxlength="20" size="12" value="{{.Code}}"{{if .CodeError}} aria-invalid="true" aria-describedby="code-error"{{end}}>
{{template "details" .}}
<p><button type="submit">{{.L.T "code.button"}}</button></p></form>{{end}}

{{define "details"}}{{with .Details}}
{{if .Need}}<fieldset id="details"{{if .DetailsError}} aria-describedby="details-error"{{end}}><legend>{{.Legend}}</legend>
{{if .DetailsError}}<p id="details-error" class="error"><span class="visually-hidden">{{$.L.T "form.error.prefix"}}</span> {{.DetailsError}}</p>{{end}}
{{range .Kinds}}<label for="{{.ID}}">{{.Label}}</label>
<input id="{{.ID}}" name="{{.ID}}" maxlength="200"{{if $.Details.DetailsError}} aria-invalid="true"{{end}}>
{{end}}</fieldset>{{end}}
{{if .Declaration}}<fieldset><legend>{{$.L.T "declaration.legend"}}</legend>
<p>{{$.L.T "declaration.text"}}</p>
<label for="signature">{{$.L.T "declaration.signature"}}</label>
{{if .SignatureError}}<p id="signature-error" class="error"><span class="visually-hidden">{{$.L.T "form.error.prefix"}}</span> {{.SignatureError}}</p>{{end}}
<input id="signature" name="signature" autocomplete="name" maxlength="200"{{if .SignatureError}} aria-invalid="true" aria-describedby="signature-error"{{end}}></fieldset>{{end}}
{{end}}{{end}}

{{define "code"}}{{template "head" .}}
<p>{{.L.T "code.intro" "id" .ID}}</p>
{{template "codeform" .}}
{{template "foot" .}}{{end}}

{{define "verify"}}{{template "head" .}}
<p>{{.L.T "verify.intro" "id" .ID}}</p>
{{if .Corrects}}<p>{{.L.T "mail.verify.corrects" "fields" .Corrects}}</p>{{end}}
<form method="post" action="{{.Action}}" novalidate><input type="hidden" name="token" value="{{.Token}}"><input type="hidden" name="lang" value="{{.L}}">
{{template "details" .}}
<button type="submit">{{.L.T "verify.button"}}</button></form>
<p>{{.L.T "verify.not_me"}}</p>
{{template "foot" .}}{{end}}

{{define "confirmed"}}{{template "head" .}}
<p>{{.L.T "confirmed.body" "id" .ID}}</p>
<p>{{.L.T "confirmed.next"}}</p>
{{template "foot" .}}{{end}}

{{define "status"}}{{template "head" .}}
{{with .Status}}<dl>
<dt>{{$.L.T "status.reference"}}</dt><dd>{{.ID}}</dd>
<dt>{{$.L.T "status.type"}}</dt><dd>{{.Type}}</dd>
<dt>{{$.L.T "status.law"}}</dt><dd>{{.Law}}</dd>
<dt>{{$.L.T "status.status"}}</dt><dd id="status">{{.Status}}</dd>
<dt>{{$.L.T "status.received"}}</dt><dd>{{.Received}}</dd>
<dt>{{$.L.T "status.due"}}</dt><dd>{{.Due}}{{if .Extended}} ({{$.L.T "status.extended"}}){{end}}</dd>
{{if .Completed}}<dt>{{$.L.T "status.completed"}}</dt><dd>{{.Completed}}</dd>{{end}}
</dl>{{end}}
{{template "foot" .}}{{end}}

{{define "error"}}{{template "head" .}}
<p>{{.Message}}</p>
{{template "foot" .}}{{end}}`))

// page is what every page template reads; each page fills its part.
type page struct {
	L         i18n.Lang
	Title     string
	Languages []langLink
	Errors    []summaryError

	Form    *formView
	Done    *doneView
	Status  *statusView
	ID      string
	Action  string
	Token   string
	Message string
	// CodeAction, when set, shows the form for the mailed code.
	CodeAction string
	CodeError  string
	// Code keeps a right code in its field while details are asked for.
	Code string
	// Details, when set, asks for details besides the link or code.
	Details *detailsView
	// Corrects names the fields a correction being confirmed changes.
	Corrects string
}

// detailsView is the part of a confirmation form that asks for data points
// and the signed declaration, where the request's level needs them.
type detailsView struct {
	Need           int
	Legend         string
	Kinds          []detailKind
	Declaration    bool
	DetailsError   string
	SignatureError string
}

type detailKind struct{ ID, Label string }

func detailsViewFor(l i18n.Lang, req portal.Requirement, errs []apperr.FieldError) *detailsView {
	if req.DataPoints == 0 && !req.Declaration {
		return nil
	}
	v := &detailsView{Need: req.DataPoints, Legend: l.T("details.legend", "count", strconv.Itoa(req.DataPoints)), Declaration: req.Declaration}
	for _, k := range req.Kinds {
		v.Kinds = append(v.Kinds, detailKind{ID: k.ID, Label: l.T("datapoint." + k.ID)})
	}
	for _, e := range errs {
		switch e.Field {
		case "details":
			v.DetailsError = e.In(l)
		case "signature":
			v.SignatureError = e.In(l)
		}
	}
	return v
}

type langLink struct {
	Lang    i18n.Lang
	Name    string
	URL     string
	Current bool
}

type summaryError struct{ Target, Text string }

// pageLanguage is the reader's language: a lang parameter (the language
// menu, or a link from a mail) wins, then the browser's Accept-Language.
// Only the languages the company offers are chosen; another falls back to
// the first offered.
func (a *api) pageLanguage(r *http.Request) i18n.Lang {
	if l, ok := i18n.Parse(r.URL.Query().Get("lang")); ok {
		return a.offered(l)
	}
	if r.PostForm != nil { // read by the handler, within the body limit
		if l, ok := i18n.Parse(r.PostForm.Get("lang")); ok {
			return a.offered(l)
		}
	}
	return a.offered(i18n.FromAcceptLanguage(r.Header.Get("Accept-Language")))
}

// offered is l when the company offers it, else the first it offers.
func (a *api) offered(l i18n.Lang) i18n.Lang {
	if len(a.languages) == 0 || slices.Contains(a.languages, l) {
		return l
	}
	return a.languages[0]
}

// languageMenu links the page at u in every language; u keeps its other
// parameters, so a verification link stays a verification link.
func (a *api) languageMenu(current i18n.Lang, u url.URL) []langLink {
	langs := a.languages
	if len(langs) == 0 {
		langs = i18n.Supported
	}
	if len(langs) < 2 {
		return nil // nothing to choose
	}
	links := make([]langLink, 0, len(langs))
	for _, l := range langs {
		q := u.Query()
		q.Set("lang", string(l))
		link := url.URL{Path: u.Path, RawQuery: q.Encode()}
		links = append(links, langLink{Lang: l, Name: l.Name(), URL: link.String(), Current: l == current})
	}
	return links
}

func render(w http.ResponseWriter, status int, name string, p page) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", string(p.L))
	h.Add("Vary", "Accept-Language")
	w.WriteHeader(status)
	_ = pages.ExecuteTemplate(w, name, p)
}

// formView is the request form: first the law (step "law"), then the
// request types that law gives and the email address (step "form").
type formView struct {
	L            i18n.Lang
	Jurisdiction string
	LawName      string
	ChangeLaw    string
	Email        string
	AgentEmail   string
	Choices      []choice
	// Appeal says the law gives an appeal; AppealOf is the reference of
	// the decision appealed.
	Appeal   bool
	AppealOf string
	// Corrections are the inputs for the new values of a correction.
	Corrections []correctionInput
	Groups      []lawGroup
	fieldErrors map[string]string
}

type correctionInput struct {
	ID, Name, Label, Value string
	MaxLength              int
}

type choice struct {
	ID, Value, Label, Hint string
	Checked                bool
}

type lawGroup struct {
	Label string
	Laws  []law
}

type law struct {
	Code, Name string
	Selected   bool
}

type fieldError struct {
	L        i18n.Lang
	ID, Text string
}

// ErrorOf is the inline error of a field, for the "fielderror" template.
func (f *formView) ErrorOf(field string) fieldError {
	return fieldError{L: f.L, ID: field, Text: f.fieldErrors[field]}
}

// Has reports whether field has an error.
func (f *formView) Has(field string) bool { return f.fieldErrors[field] != "" }

// lawGroups lists the jurisdictions for the law menu, grouped by region and
// sorted by name in the reader's language.
func lawGroups(l i18n.Lang, selected string) []lawGroup {
	groups := []lawGroup{{Label: l.T("jurisdiction.group.europe")}, {Label: l.T("jurisdiction.group.us")}, {Label: l.T("jurisdiction.group.other")}}
	for _, code := range request.Jurisdictions {
		g := 2
		switch {
		case code == "EU" || code == "UK" || code == "CH" || strings.HasPrefix(code, "EEA-"):
			g = 0
		case strings.HasPrefix(code, "US-"):
			g = 1
		}
		groups[g].Laws = append(groups[g].Laws, law{Code: code, Name: l.T("jurisdiction." + code), Selected: code == selected})
	}
	c := collate.New(language.Make(string(l)))
	for _, g := range groups {
		slices.SortStableFunc(g.Laws, func(a, b law) int {
			switch { // the European Union heads its group: most of Europe lives under it
			case a.Code == "EU":
				return -1
			case b.Code == "EU":
				return 1
			}
			return c.CompareString(a.Name, b.Name)
		})
	}
	return groups
}

// maxReferenceLength bounds the reference a link may prefill (ids have 29
// characters; the input allows a little slack for pasted spaces).
const maxReferenceLength = 64

// form shows the law step, or the request step when the query names a law.
func (a *api) form(w http.ResponseWriter, r *http.Request) {
	l := a.pageLanguage(r)
	code := strings.ToUpper(strings.TrimSpace(r.URL.Query().Get("jurisdiction")))
	if !r.URL.Query().Has("jurisdiction") {
		a.renderLawStep(w, r, http.StatusOK, l, "EU", nil)
		return
	}
	if !slices.Contains(request.Jurisdictions, code) {
		a.renderLawStep(w, r, http.StatusBadRequest, l, "EU", []apperr.FieldError{apperr.Field("jurisdiction", "error.jurisdiction.required")})
		return
	}
	menu := a.languageMenu(l, *r.URL)
	// A decision mail's appeal link opens the form at the appeal of its
	// request; the values are only shown, and checked when submitted.
	q := r.URL.Query()
	in := request.Submission{Jurisdiction: code}
	if q.Get("type") == string(request.Appeal) {
		in.Type, in.AppealOf = string(request.Appeal), strings.TrimSpace(q.Get("appeal_of"))
		if len(in.AppealOf) > maxReferenceLength {
			in.AppealOf = ""
		}
	}
	a.renderRequestStep(w, http.StatusOK, l, menu, in, nil)
}

func (a *api) renderLawStep(w http.ResponseWriter, r *http.Request, status int, l i18n.Lang, selected string, errs []apperr.FieldError) {
	f := &formView{L: l, Groups: lawGroups(l, selected)}
	p := page{L: l, Title: l.T("form.title"), Languages: a.languageMenu(l, url.URL{Path: "/"}), Form: f}
	p.Errors, f.fieldErrors = describeErrors(l, errs, func(field string) string {
		if field == "jurisdiction" {
			return "jurisdiction"
		}
		return ""
	})
	render(w, status, "law", p)
}

// renderRequestStep shows the request form for the law of in.Jurisdiction,
// with in's values and the errors of errs.
func (a *api) renderRequestStep(w http.ResponseWriter, status int, l i18n.Lang, menu []langLink, in request.Submission, errs []apperr.FieldError) {
	f := &formView{L: l, Jurisdiction: in.Jurisdiction, LawName: l.T("jurisdiction." + in.Jurisdiction), Email: in.Email, AgentEmail: in.AgentEmail,
		ChangeLaw: links.FormPage(l)}
	offers := a.portal.Offered(in.Jurisdiction)
	for i, o := range offers {
		id := "type-" + string(o.Type)
		if i == 0 {
			id = "type" // the error summary's link for the group leads to the first choice
		}
		f.Choices = append(f.Choices, choice{ID: id, Value: string(o.Type), Label: l.T("form.type." + string(o.Type) + ".label"),
			Hint: l.T("form.type." + string(o.Type) + ".hint"), Checked: in.Type == string(o.Type) || (len(offers) == 1)})
		if o.Type == request.Appeal {
			f.Appeal, f.AppealOf = true, in.AppealOf
		}
		for _, field := range o.Fields {
			ci := correctionInput{ID: "correct-" + field, Name: "corrections." + field, Label: l.Detail(field), MaxLength: request.MaxCorrectionValue}
			if in.Corrections != nil {
				ci.Value = (*in.Corrections)[field]
			}
			f.Corrections = append(f.Corrections, ci)
		}
	}
	p := page{L: l, Title: l.T("form.title"), Languages: menu, Form: f}
	p.Errors, f.fieldErrors = describeErrors(l, errs, func(field string) string {
		switch {
		case field == "type", field == "email", field == "agent_email":
			return field
		case field == "appeal_of" && f.Appeal:
			return field
		case field == "corrections" && f.Corrections != nil:
			return "corrections"
		case strings.HasPrefix(field, "corrections."):
			// The input of that field, when the form has one; else the group.
			name := strings.TrimPrefix(field, "corrections.")
			if slices.ContainsFunc(f.Corrections, func(c correctionInput) bool { return c.Name == field }) {
				return "correct-" + name
			}
			if f.Corrections != nil {
				return "corrections"
			}
		}
		return ""
	})
	render(w, status, "form", p)
}

// describeErrors says each field error in l, for the summary (linked to the
// field where target names one on the page) and inline beside the field.
func describeErrors(l i18n.Lang, errs []apperr.FieldError, target func(field string) string) ([]summaryError, map[string]string) {
	var summary []summaryError
	inline := map[string]string{}
	for _, e := range errs {
		text := e.In(l)
		t := target(e.Field)
		summary = append(summary, summaryError{Target: t, Text: text})
		if t != "" && inline[e.Field] == "" {
			inline[e.Field] = text
		}
	}
	return summary, inline
}

// renderFormError answers an invalid form submission: the request step
// again with the input kept and every error said; the law step when the
// law itself is wrong.
func (a *api) renderFormError(w http.ResponseWriter, r *http.Request, in request.Submission, err error) {
	l := submissionLanguage(r, in)
	var fields []apperr.FieldError
	if e, ok := err.(*apperr.Error); ok {
		fields = e.Fields
	}
	in.Jurisdiction = strings.ToUpper(strings.TrimSpace(in.Jurisdiction))
	if !slices.Contains(request.Jurisdictions, in.Jurisdiction) {
		var lawErrs []apperr.FieldError
		for _, f := range fields {
			if f.Field == "jurisdiction" {
				lawErrs = append(lawErrs, f)
			}
		}
		a.renderLawStep(w, r, http.StatusBadRequest, l, "EU", lawErrs)
		return
	}
	menu := a.languageMenu(l, url.URL{Path: "/", RawQuery: url.Values{"jurisdiction": {in.Jurisdiction}}.Encode()})
	a.renderRequestStep(w, http.StatusBadRequest, l, menu, in, fields)
}

// submissionLanguage is the language of the pages after a form submission:
// the one the form was shown in.
func submissionLanguage(r *http.Request, in request.Submission) i18n.Lang {
	if l, ok := i18n.Parse(in.Language); ok {
		return l
	}
	return i18n.FromAcceptLanguage(r.Header.Get("Accept-Language"))
}

type doneView struct {
	ID, StatusLink, ResultKey string
	Verification              bool
	// PermissionAction, for an agent's request, is where the agent sends
	// the subject's signed permission (the status token authorizes it).
	PermissionAction string
}

// renderDone is the page after a successful submission: what happens next,
// and the status link.
func (a *api) renderDone(w http.ResponseWriter, r *http.Request, in request.Submission, receipt portal.Receipt) {
	l := submissionLanguage(r, in)
	d := &doneView{ID: receipt.ID, StatusLink: links.WithLang(receipt.StatusURL, l), ResultKey: "done.next.other", Verification: true}
	switch request.Type(in.Type) {
	case request.Access:
		d.ResultKey = "done.next.access"
	case request.Delete:
		d.ResultKey = "done.next.delete"
	}
	for _, o := range a.portal.Offered(strings.ToUpper(strings.TrimSpace(in.Jurisdiction))) {
		if string(o.Type) == in.Type {
			d.Verification = o.Verification
		}
	}
	if status, err := url.Parse(receipt.StatusURL); err == nil && in.AgentEmail != "" {
		d.PermissionAction = links.Permission(receipt.ID, status.Query().Get("token"), l)
	}
	p := page{L: l, Title: l.T("done.title"), Done: d}
	if d.Verification {
		p.CodeAction = links.CodeAction(receipt.ID)
	}
	render(w, http.StatusAccepted, "done", p)
}

type statusView struct {
	ID, Type, Law, Status, Received, Due, Completed string
	Extended                                        bool
}

func (a *api) renderStatus(w http.ResponseWriter, r *http.Request, s portal.Status) {
	l := a.pageLanguage(r)
	v := &statusView{ID: s.ID, Type: l.T("type." + s.Type), Law: l.T("jurisdiction." + s.Jurisdiction),
		Status: l.T("status.value." + s.Status), Received: l.Date(s.ReceivedAt.UTC()), Due: s.Due, Extended: s.Extended}
	if due, err := time.Parse(time.DateOnly, s.Due); err == nil {
		v.Due = l.Date(due)
	}
	if s.CompletedAt != nil {
		v.Completed = l.Date(s.CompletedAt.UTC())
	}
	render(w, http.StatusOK, "status", page{L: l, Title: l.T("status.title"), Languages: a.languageMenu(l, *r.URL), Status: v})
}

// wantsHTML reports whether the client ranks text/html above JSON in its
// Accept header: browsers do, API clients (no Accept, */*, or
// application/json) get JSON.
func wantsHTML(r *http.Request) bool {
	var html, json, any float64 = -1, -1, -1
	for part := range strings.SplitSeq(r.Header.Get("Accept"), ",") {
		media, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(k, "q") {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					q = f
				} else {
					q = 0
				}
			}
		}
		switch strings.ToLower(strings.TrimSpace(media)) {
		case "text/html":
			html = max(html, q)
		case "application/json":
			json = max(json, q)
		case "*/*", "application/*":
			any = max(any, q)
		}
	}
	if json < 0 {
		json = any
	}
	return html > 0 && html > json || html > 0 && json < 0
}
