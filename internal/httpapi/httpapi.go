// Package httpapi is the pipeline's HTTP surface. The same http.Handler
// serves API Gateway HTTP API events in Lambda (through an adapter) and plain
// HTTP on a developer's machine. Errors are mapped to HTTP in one place,
// writeError, as RFC 9457 problem details; internals never reach a client.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/i18n"
	"github.com/privacy-pipeline/dsr/internal/links"
	"github.com/privacy-pipeline/dsr/internal/portal"
	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// Portal is what the HTTP API offers data subjects.
type Portal interface {
	Submit(ctx context.Context, in request.Submission) (portal.Receipt, error)
	Status(ctx context.Context, id, token string) (portal.Status, error)
	CheckVerification(ctx context.Context, id, token string) (portal.Requirement, error)
	ConfirmVerification(ctx context.Context, id, token string, d portal.Details) error
	ConfirmCode(ctx context.Context, id, code string, d portal.Details) error
	DownloadURL(ctx context.Context, id, token string) (string, error)
	UploadPermission(ctx context.Context, id, token, contentType string, body []byte, powerOfAttorney bool) error
	Offered(jurisdiction string) []portal.Offer
}

// MaxBodyBytes bounds the bodies of confirmations.
const MaxBodyBytes = 16 << 10

// MaxSubmissionBytes bounds a submission: enough for a correction of the
// most fields with the longest values (20 x 500 characters) however they
// are encoded (a form's %XX triples each byte of UTF-8).
const MaxSubmissionBytes = 128 << 10

// New returns the API handler.
func New(p Portal, log *slog.Logger, opts ...Option) http.Handler {
	a := &api{portal: p, log: log}
	for _, o := range opts {
		o(a)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", a.health)
	mux.HandleFunc("GET /openapi.json", a.openAPI)
	mux.HandleFunc("GET /.well-known/gpc.json", a.gpcSupport)
	mux.HandleFunc("GET /{$}", a.form)
	mux.Handle("POST /v1/requests", a.limited(a.idempotent(http.HandlerFunc(a.submit)), a.writeError))
	mux.HandleFunc("GET /v1/requests/{id}", a.status)
	mux.HandleFunc("GET /v1/requests/{id}/verify", a.verifyPage)
	mux.Handle("POST /v1/requests/{id}/verify", a.limited(http.HandlerFunc(a.verifyConfirm), a.writePageError))
	mux.HandleFunc("GET /v1/requests/{id}/code", a.codePage)
	mux.Handle("POST /v1/requests/{id}/code", a.limited(http.HandlerFunc(a.codeConfirm), a.writePageError))
	mux.HandleFunc("GET /v1/requests/{id}/download", a.download)
	mux.Handle("PUT /v1/requests/{id}/permission", a.limited(http.HandlerFunc(a.permission), a.writeError))
	mux.HandleFunc("GET /v1/requests/{id}/permission", a.permissionPage)
	mux.Handle("POST /v1/requests/{id}/permission", a.limited(http.HandlerFunc(a.permissionForm), a.writePageError))
	mux.HandleFunc("GET /v1/requests/{id}/tasks/{source}", a.taskForm)
	mux.Handle("POST /v1/requests/{id}/tasks/{source}", a.limited(http.HandlerFunc(a.taskAnswer), a.writePageError))
	// Webhook sources answer later here. Each call is authorized by the
	// task's callback token and signed, so the per-client limit, meant
	// for strangers, does not slow a busy service down.
	mux.HandleFunc("POST /v1/requests/{id}/tasks/{source}/callback", a.taskCallback)
	return secureHeaders(mux)
}

type api struct {
	portal      Portal
	log         *slog.Logger
	idempotency Idempotency
	clientLimit Limiter
	// languages are those the company offers, the first the fallback;
	// empty: every language of the catalogue.
	languages []i18n.Lang
	// tasks serves the links of manual sources' tasks (nil: none).
	tasks Tasks
}

// secureHeaders sets headers every answer needs: links carry tokens, so no
// referrer and no caching; pages may not be framed or sniffed.
func secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
		next.ServeHTTP(w, r)
	})
}

func (a *api) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (a *api) submit(w http.ResponseWriter, r *http.Request) {
	in, isForm, err := readSubmission(w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if in.Language == "" {
		in.Language = string(i18n.FromAcceptLanguage(r.Header.Get("Accept-Language")))
	}
	// Global Privacy Control: the portal records an opt-out for a valid
	// address even when the rest of the submission is invalid.
	in.GPC = r.Header.Get("Sec-GPC") == "1"
	receipt, err := a.portal.Submit(r.Context(), in)
	if err != nil {
		if isForm && apperr.Is(err, apperr.Invalid) {
			a.renderFormError(w, r, in, err)
			return
		}
		a.writeError(w, r, err)
		return
	}
	if isForm {
		a.renderDone(w, r, in, receipt)
		return
	}
	w.Header().Set("Location", receipt.StatusURL)
	writeJSON(w, http.StatusAccepted, receipt)
}

// readSubmission decodes a JSON or form-encoded body within the size limit.
func readSubmission(w http.ResponseWriter, r *http.Request) (request.Submission, bool, error) {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		mediaType = ""
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxSubmissionBytes)
	switch mediaType {
	case "application/json":
		in, err := decodeSubmission(r.Body)
		return in, false, err
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return request.Submission{}, true, bodyError(err)
		}
		return request.Submission{Type: r.PostForm.Get("type"), Email: r.PostForm.Get("email"), Jurisdiction: r.PostForm.Get("jurisdiction"),
			Language: r.PostForm.Get("language"), AgentEmail: r.PostForm.Get("agent_email"), AppealOf: r.PostForm.Get("appeal_of"),
			Corrections: formCorrections(r.PostForm)}, true, nil
	default:
		return request.Submission{}, false, apperr.E(apperr.Unsupported, "Send application/json or application/x-www-form-urlencoded.")
	}
}

// correctionsMember is the object member of a JSON submission: the fields
// to correct and their new values.
const correctionsMember = "corrections"

// formCorrections reads the fields to correct from a form, one field per
// "corrections.<name>" input; the form shows an input for every field that
// may be corrected, and those left empty are not to be changed.
func formCorrections(form url.Values) *request.Corrections {
	c := request.Corrections{}
	for key, values := range form {
		if name, ok := strings.CutPrefix(key, correctionsMember+"."); ok && len(values) > 0 && strings.TrimSpace(values[0]) != "" {
			c[name] = values[0]
		}
	}
	if len(c) == 0 {
		return nil
	}
	return &c
}

// submitMembers are the string members of a submission and where each goes.
var submitMembers = map[string]func(*request.Submission) *string{
	"type":         func(in *request.Submission) *string { return &in.Type },
	"email":        func(in *request.Submission) *string { return &in.Email },
	"jurisdiction": func(in *request.Submission) *string { return &in.Jurisdiction },
	"language":     func(in *request.Submission) *string { return &in.Language },
	"agent_email":  func(in *request.Submission) *string { return &in.AgentEmail },
	"appeal_of":    func(in *request.Submission) *string { return &in.AppealOf },
}

// boolMembers are the boolean members of a JSON submission; the web form
// offers none of them.
var boolMembers = map[string]func(*request.Submission) *bool{
	"dry_run": func(in *request.Submission) *bool { return &in.DryRun },
}

var errNotObject = apperr.E(apperr.Invalid, "The body must be one JSON object.")

// decodeSubmission reads a body that holds one JSON object whose members are
// strings named in submitMembers. Names match exactly (Go's struct decoding
// would also take "TYPE"), and every unknown or mistyped member is named in
// the error, as the client sent it.
func decodeSubmission(body io.Reader) (request.Submission, error) {
	dec := json.NewDecoder(body)
	var members map[string]json.RawMessage
	if err := dec.Decode(&members); err != nil {
		var wrongType *json.UnmarshalTypeError
		if errors.As(err, &wrongType) {
			return request.Submission{}, errNotObject
		}
		return request.Submission{}, bodyError(err)
	}
	if members == nil { // null
		return request.Submission{}, errNotObject
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return request.Submission{}, bodyError(err)
		}
		return request.Submission{}, errNotObject
	}
	var in request.Submission
	var fields []apperr.FieldError
	for _, name := range slices.Sorted(maps.Keys(members)) {
		field, known := submitMembers[name]
		switch {
		case name == "":
			return request.Submission{}, apperr.E(apperr.Invalid, "Every member of the body needs a name.")
		case boolMembers[name] != nil:
			if json.Unmarshal(members[name], boolMembers[name](&in)) != nil {
				fields = append(fields, apperr.FieldError{Field: name, Detail: "Must be true or false."})
			}
		case name == correctionsMember:
			var c request.Corrections
			if json.Unmarshal(members[name], &c) != nil || c == nil {
				fields = append(fields, apperr.FieldError{Field: name, Detail: "Must be an object whose members are strings."})
			}
			in.Corrections = &c
		case !known:
			fields = append(fields, apperr.FieldError{Field: name, Detail: "Unknown field."})
		case json.Unmarshal(members[name], field(&in)) != nil:
			fields = append(fields, apperr.FieldError{Field: name, Detail: "Must be a string."})
		}
	}
	if len(fields) > 0 {
		return request.Submission{}, apperr.InvalidFields(fields...)
	}
	return in, nil
}

// bodyError says why a body could not be read.
func bodyError(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return apperr.Keyed(apperr.TooLarge, "error.too_large")
	}
	return apperr.Keyed(apperr.Invalid, "error.unreadable")
}

func (a *api) status(w http.ResponseWriter, r *http.Request) {
	s, err := a.portal.Status(r.Context(), r.PathValue("id"), r.URL.Query().Get("token"))
	html := wantsHTML(r)
	w.Header().Add("Vary", "Accept")
	switch {
	case err != nil && html:
		a.writePageError(w, r, err)
	case err != nil:
		a.writeError(w, r, err)
	case html:
		a.renderStatus(w, r, s)
	default:
		writeJSON(w, http.StatusOK, s)
	}
}

func (a *api) verifyPage(w http.ResponseWriter, r *http.Request) {
	id, token := r.PathValue("id"), r.URL.Query().Get("token")
	req, err := a.portal.CheckVerification(r.Context(), id, token)
	if err != nil {
		a.writePageError(w, r, err)
		return
	}
	l := a.pageLanguage(r)
	a.render(w, r, http.StatusOK, "verify", &confirmPage{frame: frame{L: l, Title: l.T("verify.title")},
		ID: id, Action: links.VerifyAction(id), Token: token, codeForm: codeForm{Details: detailsViewFor(l, req, nil)}, Corrects: l.Details(req.Corrects)})
}

// readDetails reads the details a confirmation form may carry. Unknown
// kinds are ignored; the body limit bounds every value.
func readDetails(form url.Values) portal.Details {
	d := portal.Details{DataPoints: map[string]string{}, Signature: form.Get("signature")}
	for _, k := range registry.DataPointKinds {
		if v := form.Get(k.ID); v != "" {
			d.DataPoints[k.ID] = v
		}
	}
	return d
}

// answerConfirmation writes the page after a confirmation attempt: done,
// handed to an operator, or the form again (again, rendered with template
// name) saying what is wrong.
func (a *api) answerConfirmation(w http.ResponseWriter, r *http.Request, err error, name string, again *confirmPage) {
	l := again.L
	var de *portal.DetailsError
	var e *apperr.Error
	switch {
	case err == nil:
		a.render(w, r, http.StatusOK, "confirmed", &confirmedPage{frame: frame{L: l, Title: l.T("confirmed.title")}, ID: again.ID})
	case errors.Is(err, portal.ErrOperatorCheck):
		a.render(w, r, http.StatusAccepted, "error", &messagePage{frame: frame{L: l, Title: l.T("operator_check.title")}, Message: portal.ErrOperatorCheck.In(l)})
	case errors.As(err, &de):
		again.Details = detailsViewFor(l, de.Requirement, de.Err.Fields)
		for _, f := range de.Err.Fields {
			again.Errors = append(again.Errors, summaryError{Target: f.Field, Text: f.In(l)})
		}
		a.render(w, r, http.StatusBadRequest, name, again)
	case name == "code" && errors.As(err, &e) && e.Kind == apperr.Invalid && len(e.Fields) > 0:
		// A wrong code: the form again, so the person can retype.
		msg := e.Fields[0].In(l)
		again.CodeError, again.Errors = msg, []summaryError{{Target: "code", Text: msg}}
		a.render(w, r, http.StatusBadRequest, name, again)
	default:
		a.writePageError(w, r, err)
	}
}

func (a *api) verifyConfirm(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		a.writePageError(w, r, bodyError(err))
		return
	}
	id, token := r.PathValue("id"), r.PostForm.Get("token")
	err := a.portal.ConfirmVerification(r.Context(), id, token, readDetails(r.PostForm))
	l := a.pageLanguage(r)
	a.answerConfirmation(w, r, err, "verify", &confirmPage{frame: frame{L: l, Title: l.T("verify.title")}, ID: id, Action: links.VerifyAction(id), Token: token})
}

// codePage shows the form for the code mailed with the link. It reads
// nothing: the page is the same for every well-formed id.
func (a *api) codePage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !request.ValidID(id) {
		a.writePageError(w, r, errNoPage)
		return
	}
	l := a.pageLanguage(r)
	a.render(w, r, http.StatusOK, "code", &confirmPage{frame: frame{L: l, Title: l.T("verify.title")}, ID: id, codeForm: codeForm{CodeAction: links.CodeAction(id)}})
}

var errNoPage = apperr.Keyed(apperr.NotFound, "error.no_page")

func (a *api) codeConfirm(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		a.writePageError(w, r, bodyError(err))
		return
	}
	id := r.PathValue("id")
	if !request.ValidID(id) {
		a.writePageError(w, r, errNoPage)
		return
	}
	code := r.PostForm.Get("code")
	err := a.portal.ConfirmCode(r.Context(), id, code, readDetails(r.PostForm))
	l := a.pageLanguage(r)
	again := &confirmPage{frame: frame{L: l, Title: l.T("verify.title")}, ID: id, codeForm: codeForm{CodeAction: links.CodeAction(id)}}
	var de *portal.DetailsError
	if errors.As(err, &de) {
		// The code was right: keep it in the form while details are asked for.
		again.Code = code
	}
	a.answerConfirmation(w, r, err, "code", again)
}

// permission takes an authorized agent's upload of the subject's signed
// permission: the raw file as the body, with its media type, authorized by
// the status token. power_of_attorney=true declares a power of attorney.
func (a *api) permission(w http.ResponseWriter, r *http.Request) {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !portal.AcceptsPermissionType(mediaType) {
		a.writeError(w, r, portal.ErrPermissionType)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, portal.MaxPermissionBytes))
	if err != nil {
		a.writeError(w, r, bodyError(err))
		return
	}
	q := r.URL.Query()
	poa := q.Get("power_of_attorney")
	if poa != "" && poa != "true" && poa != "false" {
		a.writeError(w, r, apperr.InvalidFields(apperr.FieldError{Field: "power_of_attorney", Detail: "Give true or false."}))
		return
	}
	if err := a.portal.UploadPermission(r.Context(), r.PathValue("id"), q.Get("token"), mediaType, body, poa == "true"); err != nil {
		a.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// multipartOverhead bounds what a form upload carries besides the file:
// part headers, the boundary lines, the check box.
const multipartOverhead = 64 << 10

// permissionPage shows the upload form of an agent's request again (the
// link the page after the submission gives), for the holder of its status
// token.
func (a *api) permissionPage(w http.ResponseWriter, r *http.Request) {
	id, token := r.PathValue("id"), r.URL.Query().Get("token")
	if _, err := a.portal.Status(r.Context(), id, token); err != nil {
		a.writePageError(w, r, err)
		return
	}
	a.renderUpload(w, r, http.StatusOK, a.pageLanguage(r), id, token, "")
}

// renderUpload is the agent's upload page, with what went wrong if anything.
func (a *api) renderUpload(w http.ResponseWriter, r *http.Request, status int, l i18n.Lang, id, token, problem string) {
	action := links.Permission(id, token, l)
	p := &uploadPage{frame: frame{L: l, Title: l.T("done.agent.title"), Here: action}, Upload: &uploadForm{Action: action, Problem: problem}}
	if problem != "" {
		p.Errors = []summaryError{{Target: "permission", Text: problem}}
	}
	a.render(w, r, status, "upload", p)
}

// permissionForm takes the same upload from the web form's page after an
// agent's submission: a multipart form with the file ("permission") and
// the power-of-attorney check box, authorized by the status token in the
// form's address. It answers with a page; a file that cannot be taken gets
// the form again, with why.
func (a *api) permissionForm(w http.ResponseWriter, r *http.Request) {
	id, token, l := r.PathValue("id"), r.URL.Query().Get("token"), a.pageLanguage(r)
	again := func(err error) {
		status, e := a.publicError(r, err)
		switch status {
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
			a.renderUpload(w, r, status, l, id, token, e.In(l))
		default:
			a.writePageError(w, r, err)
		}
	}
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/form-data" {
		again(apperr.Keyed(apperr.Unsupported, "error.permission.form"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, portal.MaxPermissionBytes+multipartOverhead)
	mr, err := r.MultipartReader()
	if err != nil {
		again(apperr.Keyed(apperr.Invalid, "error.permission.form"))
		return
	}
	var file []byte
	var declared string
	poa := false
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			again(permissionBodyError(err))
			return
		}
		switch part.FormName() {
		case "permission":
			// The browser's label for the file counts only if it is one
			// we take; the file's first bytes decide in any case.
			if t, _, err := mime.ParseMediaType(part.Header.Get("Content-Type")); err == nil && portal.AcceptsPermissionType(t) {
				declared = t
			}
			file, err = io.ReadAll(io.LimitReader(part, portal.MaxPermissionBytes+1))
		case "power_of_attorney":
			var v []byte
			v, err = io.ReadAll(io.LimitReader(part, 16))
			if err == nil && string(v) != "true" {
				err = apperr.Keyed(apperr.Invalid, "error.permission.form") // not what the form's box sends
			}
			poa = true
		}
		if err != nil {
			again(permissionBodyError(err))
			return
		}
	}
	if len(file) == 0 {
		again(apperr.Keyed(apperr.Invalid, "error.permission.missing"))
		return
	}
	if err := a.portal.UploadPermission(r.Context(), id, token, declared, file, poa); err != nil {
		again(err)
		return
	}
	message := l.T("permission.received")
	if poa {
		message = l.T("permission.received.poa")
	}
	status := links.StatusPage(id, token, l)
	a.render(w, r, http.StatusOK, "permission", &messagePage{frame: frame{L: l, Title: l.T("permission.title"), Here: status},
		Message: message, Link: status, LinkText: l.T("done.status.link")})
}

// permissionBodyError is bodyError, with the upload's own limit named.
func permissionBodyError(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return apperr.Keyed(apperr.TooLarge, "error.permission.too_large")
	}
	var e *apperr.Error
	if errors.As(err, &e) {
		return err
	}
	return bodyError(err)
}

func (a *api) download(w http.ResponseWriter, r *http.Request) {
	u, err := a.portal.DownloadURL(r.Context(), r.PathValue("id"), r.URL.Query().Get("token"))
	if err != nil {
		a.writePageError(w, r, err)
		return
	}
	http.Redirect(w, r, u, http.StatusFound)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
