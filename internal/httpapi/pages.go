package httpapi

import (
	"html/template"
	"net/http"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/request"
)

var pages = template.Must(template.New("").Parse(`
{{define "head"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.5}
label{display:block;margin-top:1rem;font-weight:600}input,select,button{font-size:1rem;padding:.4rem;margin-top:.25rem}
.error{color:#b00020}.summary{border:2px solid #b00020;padding:.5rem 1rem}</style></head><body><main>
<h1>{{.Title}}</h1>{{end}}
{{define "page"}}{{template "head" .}}
{{range .Lines}}<p>{{.}}</p>{{end}}
{{if .Link}}<p><a href="{{.Link}}">{{.LinkText}}</a></p>{{end}}
{{if .Action}}<form method="post" action="{{.Action}}"><input type="hidden" name="token" value="{{.Token}}">
<button type="submit">{{.Button}}</button></form>{{end}}
{{if .CodeAction}}<form method="post" action="{{.CodeAction}}" novalidate>
{{if .CodeError}}<div class="summary" role="alert"><p><a href="#code">{{.CodeError}}</a></p></div>{{end}}
<label for="code">Code from the email</label>
<input id="code" name="code" autocomplete="one-time-code" autocapitalize="characters" spellcheck="false" maxlength="20" size="12"{{if .CodeError}} aria-invalid="true"{{end}}>
<p><button type="submit">Confirm with the code</button></p></form>{{end}}
</main></body></html>{{end}}
{{define "form"}}{{template "head" .}}
{{if .Errors}}<div class="summary" role="alert"><h2>There is a problem</h2><ul>
{{range .Errors}}<li><a href="#{{.Field}}">{{.Detail}}</a></li>{{end}}</ul></div>{{end}}
<form method="post" action="/v1/requests" novalidate>
<label for="type">What do you ask for?</label>
<select id="type" name="type">
<option value="access"{{if eq .Input.Type "access"}} selected{{end}}>A copy of my data</option>
<option value="portability"{{if eq .Input.Type "portability"}} selected{{end}}>My data in a portable format, to take elsewhere</option>
<option value="delete"{{if eq .Input.Type "delete"}} selected{{end}}>Delete my data</option>
</select>
<label for="email">Your email address</label>
<input id="email" name="email" type="email" autocomplete="email" value="{{.Input.Email}}" required>
<label for="jurisdiction">Where do you live?</label>
<select id="jurisdiction" name="jurisdiction">
{{range .Jurisdictions}}<option value="{{.}}"{{if eq $.Input.Jurisdiction .}} selected{{end}}>{{.}}</option>{{end}}
</select>
<p><button type="submit">Send request</button></p>
</form></main></body></html>{{end}}`))

type pageData struct {
	Title    string
	Lines    []string
	Link     string
	LinkText string
	Action   string
	Token    string
	Button   string
	// CodeAction, when set, shows the form for the mailed code.
	CodeAction string
	CodeError  string
}

func renderPage(w http.ResponseWriter, status int, d pageData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = pages.ExecuteTemplate(w, "page", d)
}

type formData struct {
	Title         string
	Input         request.Intake
	Errors        []apperr.FieldError
	Jurisdictions []string
}

func (a *api) form(w http.ResponseWriter, r *http.Request) {
	a.renderForm(w, http.StatusOK, request.Intake{Type: "access", Jurisdiction: "EU"}, nil)
}

func (a *api) renderForm(w http.ResponseWriter, status int, in request.Intake, err error) {
	d := formData{Title: "Make a privacy request", Input: in, Jurisdictions: request.Jurisdictions}
	if e, ok := err.(*apperr.Error); ok {
		d.Errors = e.Fields
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = pages.ExecuteTemplate(w, "form", d)
}
