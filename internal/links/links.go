// Package links builds every public address of the HTTP API the pipeline
// gives out: in mail (the verification link and code page, the download
// link, the form opened at an opt-out or an appeal), in answers (the status
// URL) and in its own pages (where forms post, the agent's upload page).
// The routes that serve them are in internal/httpapi; a test there checks
// that each address built here reaches one.
package links

import (
	"net/url"

	"github.com/privacy-pipeline/dsr/internal/i18n"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// Requests is where submissions are posted, and under which each request
// has its own addresses.
const Requests = "/v1/requests"

// Base is the public root of the HTTP API ("https://privacy.example.com").
// Links in mail and answers are made from it; the API's own pages use
// paths, from the empty Base.
type Base string

// request is the address of request id, under which its pages are.
func (b Base) request(id string) string { return string(b) + Requests + "/" + url.PathEscape(id) }

// Submit is where a subject posts a request.
func (b Base) Submit() string { return string(b) + Requests }

// Status is the status URL of a request, authorized by its status token.
func (b Base) Status(id, token string) string { return b.request(id) + "?token=" + token }

// Verify is the verification link: its page confirms the request once, by
// a POST (mail scanners prefetch links).
func (b Base) Verify(id, token string, lang i18n.Lang) string {
	return b.request(id) + "/verify?token=" + token + langParam("&", lang)
}

// Code is the page where the subject types the code mailed with the link.
func (b Base) Code(id string, lang i18n.Lang) string {
	return b.request(id) + "/code" + langParam("?", lang)
}

// Download is the download link of an access package, authorized by its
// download token.
func (b Base) Download(id, token string, lang i18n.Lang) string {
	return b.request(id) + "/download?token=" + token + langParam("&", lang)
}

// Task is the link that lets the owner of a manual source answer a
// request's task there (see manualtask), authorized by the task's token.
func (b Base) Task(requestID, sourceID, token string) string {
	return b.request(requestID) + "/tasks/" + url.PathEscape(sourceID) + "?token=" + token
}

// Callback is where a webhook source answers a request's task later, with
// a signed call, authorized by the task's callback token.
func (b Base) Callback(requestID, sourceID, token string) string {
	return b.request(requestID) + "/tasks/" + url.PathEscape(sourceID) + "/callback?token=" + token
}

// TaskAction is where the page of a task posts its answer.
func TaskAction(requestID, sourceID string) string {
	return Base("").request(requestID) + "/tasks/" + url.PathEscape(sourceID)
}

// Form is the web form opened at a law: where a notice points for an
// opt-out.
func (b Base) Form(jurisdiction string, lang i18n.Lang) string {
	return string(b) + "/?jurisdiction=" + url.QueryEscape(jurisdiction) + langParam("&", lang)
}

// Appeal is the web form opened at the appeal of a decided request.
func (b Base) Appeal(jurisdiction, appealOf string, lang i18n.Lang) string {
	return string(b) + "/?" + url.Values{"jurisdiction": {jurisdiction}, "type": {string(request.Appeal)}, "appeal_of": {appealOf}}.Encode() + langParam("&", lang)
}

// langParam keeps the subject's language on the page a link opens; none
// when it is not known.
func langParam(sep string, lang i18n.Lang) string {
	if lang == "" {
		return ""
	}
	return sep + "lang=" + url.QueryEscape(string(lang))
}

// The API's own pages link to each other by path.

// VerifyAction is where the verification page's form posts.
func VerifyAction(id string) string { return Base("").request(id) + "/verify" }

// CodeAction is where the code page's form posts.
func CodeAction(id string) string { return Base("").request(id) + "/code" }

// StatusPage is the status page of a request in a language.
func StatusPage(id, token string, lang i18n.Lang) string {
	return Base("").request(id) + "?" + url.Values{"token": {token}, "lang": {string(lang)}}.Encode()
}

// Permission is an agent's page for uploading the subject's signed
// permission, and where its form posts: authorized by the status token.
func Permission(id, token string, lang i18n.Lang) string {
	return Base("").request(id) + "/permission?" + url.Values{"token": {token}, "lang": {string(lang)}}.Encode()
}

// FormPage is the web form in a language, at no law yet.
func FormPage(lang i18n.Lang) string { return "/?" + url.Values{"lang": {string(lang)}}.Encode() }

// WithLang is a link of ours with the language set.
func WithLang(link string, lang i18n.Lang) string {
	u, err := url.Parse(link)
	if err != nil {
		return link
	}
	q := u.Query()
	q.Set("lang", string(lang))
	u.RawQuery = q.Encode()
	return u.String()
}
