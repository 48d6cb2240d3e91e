package httpapi

import (
	"cmp"
	"embed"
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
	"github.com/privacy-pipeline/dsr/internal/portal"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// The pages are server-rendered HTML that works without JavaScript and with
// a keyboard alone: every input has a label, choices are grouped in a
// fieldset with a legend, hints and errors are tied to their input with
// aria-describedby, and a form with errors starts with a summary whose
// links lead to the fields. Every text comes from the message catalogue in
// the reader's language (see pageLanguage).
//
// Each page is a template file in pages/, the parts they share in
// pages/layout.html; each reads a view of its own, all built on frame.
//
//go:embed pages/*.html
var pageFiles embed.FS

var pages = template.Must(template.ParseFS(pageFiles, "pages/*.html"))

// frame is what every page has: its language, title (and the form's step),
// the language menu and the error summary. Here is an address that shows
// the page again, for the menu of a page answering a POST; empty: the
// address asked for (a GET), else the form.
type frame struct {
	L         i18n.Lang
	Title     string
	Step      string
	Languages []langLink
	Errors    []summaryError
	Here      string
}

func (f *frame) base() *frame { return f }

// view is a page's data: a frame and what the page shows.
type view interface{ base() *frame }

// formPage is the request form, both steps: the law ("law"), then the
// request ("form").
type formPage struct {
	frame
	Form *formView
}

// codeForm is the form for the mailed code, and the details a
// confirmation asks besides, where the request's level needs them.
type codeForm struct {
	CodeAction, CodeError string
	// Code keeps a right code in its field while details are asked for.
	Code    string
	Details *detailsView
}

// uploadForm is where an agent sends the subject's signed permission, and
// what was wrong with the last try.
type uploadForm struct{ Action, Problem string }

// donePage follows a submission: what happens next, the status link, and
// the code form, or for an agent the upload.
type donePage struct {
	frame
	Done *doneView
	codeForm
	Upload *uploadForm
}

// uploadPage is an agent's upload form on its own.
type uploadPage struct {
	frame
	Upload *uploadForm
}

// confirmPage confirms a request, by the mailed link ("verify", with its
// token) or by the mailed code ("code").
type confirmPage struct {
	frame
	ID, Action, Token string
	// Corrects names the fields a correction being confirmed changes.
	Corrects string
	codeForm
}

// confirmedPage says a request is confirmed.
type confirmedPage struct {
	frame
	ID string
}

// statusPage shows a request's status.
type statusPage struct {
	frame
	Status *statusView
}

// messagePage says one thing, with a link on: an error ("error"), an
// upload received ("permission").
type messagePage struct {
	frame
	Message, Link, LinkText string
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

type detailKind struct{ ID, Label, Autocomplete string }

// autocomplete is the HTML autocomplete token of a detail a person gives
// about themselves, so browsers can fill it (WCAG 1.3.5); "" for none.
func autocomplete(kind string) string {
	switch kind {
	case "name":
		return "name"
	case "phone":
		return "tel"
	case "postal_code":
		return "postal-code"
	case "birth_date":
		return "bday"
	case "street_address":
		return "street-address"
	}
	return ""
}

func detailsViewFor(l i18n.Lang, req portal.Requirement, errs []apperr.FieldError) *detailsView {
	if req.DataPoints == 0 && !req.Declaration {
		return nil
	}
	v := &detailsView{Need: req.DataPoints, Legend: l.T("details.legend", "count", strconv.Itoa(req.DataPoints)), Declaration: req.Declaration}
	for _, k := range req.Kinds {
		v.Kinds = append(v.Kinds, detailKind{ID: k.ID, Label: l.T("datapoint." + k.ID), Autocomplete: autocomplete(k.ID)})
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

// render writes a page. Every page has the language menu: it links the
// page's own address (Here, or the address asked for when that is a page),
// else the form.
func (a *api) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	p := v.base()
	if p.Languages == nil {
		here := url.URL{Path: "/"}
		switch {
		case p.Here != "":
			if u, err := url.Parse(p.Here); err == nil {
				here = *u
			}
		case r.Method == http.MethodGet:
			here = *r.URL
		}
		p.Languages = a.languageMenu(p.L, here)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", string(p.L))
	h.Add("Vary", "Accept-Language")
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, name, v); err != nil {
		// A template that does not fit its view: a fault of ours, whose
		// message names fields, never their values.
		a.log.ErrorContext(r.Context(), "page could not be written", "page", name, "error", err.Error())
	}
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
	// Autocomplete lets a browser offer the person's own value; the new
	// value is theirs to type, so "off" where no token fits.
	Autocomplete string
	MaxLength    int
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
	in := request.Intake{Jurisdiction: code}
	if q.Get("type") == string(request.Appeal) {
		in.Type, in.AppealOf = string(request.Appeal), strings.TrimSpace(q.Get("appeal_of"))
		if len(in.AppealOf) > maxReferenceLength {
			in.AppealOf = ""
		}
	}
	a.renderRequestStep(w, r, http.StatusOK, l, menu, in, nil)
}

func (a *api) renderLawStep(w http.ResponseWriter, r *http.Request, status int, l i18n.Lang, selected string, errs []apperr.FieldError) {
	f := &formView{L: l, Groups: lawGroups(l, selected)}
	p := &formPage{frame: frame{L: l, Title: l.T("form.title"), Step: l.T("form.step.law"), Languages: a.languageMenu(l, url.URL{Path: "/"})}, Form: f}
	p.Errors, f.fieldErrors = describeErrors(l, errs, func(field string) string {
		if field == "jurisdiction" {
			return "jurisdiction"
		}
		return ""
	})
	a.render(w, r, status, "law", p)
}

// renderRequestStep shows the request form for the law of in.Jurisdiction,
// with in's values and the errors of errs.
func (a *api) renderRequestStep(w http.ResponseWriter, r *http.Request, status int, l i18n.Lang, menu []langLink, in request.Intake, errs []apperr.FieldError) {
	f := &formView{L: l, Jurisdiction: in.Jurisdiction, LawName: l.T("jurisdiction." + in.Jurisdiction), Email: in.Email, AgentEmail: in.AgentEmail,
		ChangeLaw: (&url.URL{Path: "/", RawQuery: url.Values{"lang": {string(l)}}.Encode()}).String()}
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
			ci := correctionInput{ID: "correct-" + field, Name: "corrections." + field, Label: l.Detail(field), MaxLength: request.MaxCorrectionValue,
				Autocomplete: cmp.Or(autocomplete(field), "off")}
			if in.Corrections != nil {
				ci.Value = (*in.Corrections)[field]
			}
			f.Corrections = append(f.Corrections, ci)
		}
	}
	p := &formPage{frame: frame{L: l, Title: l.T("form.title"), Step: l.T("form.step.request"), Languages: menu}, Form: f}
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
	a.render(w, r, status, "form", p)
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
func (a *api) renderFormError(w http.ResponseWriter, r *http.Request, in request.Intake, err error) {
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
	a.renderRequestStep(w, r, http.StatusBadRequest, l, menu, in, fields)
}

// submissionLanguage is the language of the pages after a form submission:
// the one the form was shown in.
func submissionLanguage(r *http.Request, in request.Intake) i18n.Lang {
	if l, ok := i18n.Parse(in.Language); ok {
		return l
	}
	return i18n.FromAcceptLanguage(r.Header.Get("Accept-Language"))
}

type doneView struct {
	ID, StatusLink, ResultKey string
	Verification              bool
}

// renderDone is the page after a successful submission: what happens next,
// and the status link.
func (a *api) renderDone(w http.ResponseWriter, r *http.Request, in request.Intake, receipt portal.Receipt) {
	l := submissionLanguage(r, in)
	d := &doneView{ID: receipt.ID, StatusLink: withLang(receipt.StatusURL, l), ResultKey: "done.next.other", Verification: true}
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
	p := &donePage{frame: frame{L: l, Title: l.T("done.title"), Here: d.StatusLink}, Done: d}
	if status, err := url.Parse(receipt.StatusURL); err == nil && in.AgentEmail != "" {
		// An agent sends the subject's signed permission here (the status
		// token authorizes it).
		p.Upload = &uploadForm{Action: permissionPath(receipt.ID, status.Query().Get("token"), l)}
	}
	if d.Verification {
		p.CodeAction = codeAction(receipt.ID)
	}
	a.render(w, r, http.StatusAccepted, "done", p)
}

// permissionPath is the agent's upload page and where its form posts: the
// request's permission, with the status token and the page language.
func permissionPath(id, token string, l i18n.Lang) string {
	q := url.Values{"token": {token}, "lang": {string(l)}}
	return "/v1/requests/" + url.PathEscape(id) + "/permission?" + q.Encode()
}

// withLang adds the language to a link of ours.
func withLang(link string, l i18n.Lang) string {
	u, err := url.Parse(link)
	if err != nil {
		return link
	}
	q := u.Query()
	q.Set("lang", string(l))
	u.RawQuery = q.Encode()
	return u.String()
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
	a.render(w, r, http.StatusOK, "status", &statusPage{frame: frame{L: l, Title: l.T("status.title")}, Status: v})
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
