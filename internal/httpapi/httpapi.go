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

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/portal"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// Portal is what the HTTP API offers data subjects.
type Portal interface {
	Submit(ctx context.Context, in request.Intake) (portal.Receipt, error)
	Status(ctx context.Context, id, token string) (portal.Status, error)
	CheckVerification(ctx context.Context, id, token string) error
	ConfirmVerification(ctx context.Context, id, token string) error
	ConfirmCode(ctx context.Context, id, code string) error
	DownloadURL(ctx context.Context, id, token string) (string, error)
}

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 16 << 10

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
	return secureHeaders(mux)
}

type api struct {
	portal      Portal
	log         *slog.Logger
	idempotency Idempotency
	clientLimit Limiter
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
	in, isForm, err := readIntake(w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	receipt, err := a.portal.Submit(r.Context(), in)
	if err != nil {
		if isForm && apperr.Is(err, apperr.Invalid) {
			a.renderForm(w, http.StatusBadRequest, in, err)
			return
		}
		a.writeError(w, r, err)
		return
	}
	if isForm {
		renderPage(w, http.StatusAccepted, pageData{Title: "Request received",
			Lines: []string{"Your request " + receipt.ID + " was received.", "We sent you an email: follow its link to confirm the request, or enter the code it gives here."},
			Link:  receipt.StatusURL, LinkText: "Follow the status of your request", CodeAction: codeAction(receipt.ID)})
		return
	}
	w.Header().Set("Location", receipt.StatusURL)
	writeJSON(w, http.StatusAccepted, receipt)
}

// readIntake decodes a JSON or form-encoded body within the size limit.
func readIntake(w http.ResponseWriter, r *http.Request) (request.Intake, bool, error) {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		mediaType = ""
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	switch mediaType {
	case "application/json":
		in, err := decodeSubmission(r.Body)
		return in, false, err
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return request.Intake{}, true, bodyError(err)
		}
		return request.Intake{Type: r.PostForm.Get("type"), Email: r.PostForm.Get("email"), Jurisdiction: r.PostForm.Get("jurisdiction")}, true, nil
	default:
		return request.Intake{}, false, apperr.E(apperr.Unsupported, "Send application/json or application/x-www-form-urlencoded.")
	}
}

// submitMembers are the members of a JSON submission and where each goes.
var submitMembers = map[string]func(*request.Intake) *string{
	"type":         func(in *request.Intake) *string { return &in.Type },
	"email":        func(in *request.Intake) *string { return &in.Email },
	"jurisdiction": func(in *request.Intake) *string { return &in.Jurisdiction },
}

var errNotObject = apperr.E(apperr.Invalid, "The body must be one JSON object.")

// decodeSubmission reads a body that holds one JSON object whose members are
// strings named in submitMembers. Names match exactly (Go's struct decoding
// would also take "TYPE"), and every unknown or mistyped member is named in
// the error, as the client sent it.
func decodeSubmission(body io.Reader) (request.Intake, error) {
	dec := json.NewDecoder(body)
	var members map[string]json.RawMessage
	if err := dec.Decode(&members); err != nil {
		var wrongType *json.UnmarshalTypeError
		if errors.As(err, &wrongType) {
			return request.Intake{}, errNotObject
		}
		return request.Intake{}, bodyError(err)
	}
	if members == nil { // null
		return request.Intake{}, errNotObject
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return request.Intake{}, bodyError(err)
		}
		return request.Intake{}, errNotObject
	}
	var in request.Intake
	var fields []apperr.FieldError
	for _, name := range slices.Sorted(maps.Keys(members)) {
		field, known := submitMembers[name]
		switch {
		case name == "":
			return request.Intake{}, apperr.E(apperr.Invalid, "Every member of the body needs a name.")
		case !known:
			fields = append(fields, apperr.FieldError{Field: name, Detail: "Unknown field."})
		case json.Unmarshal(members[name], field(&in)) != nil:
			fields = append(fields, apperr.FieldError{Field: name, Detail: "Must be a string."})
		}
	}
	if len(fields) > 0 {
		return request.Intake{}, apperr.InvalidFields(fields...)
	}
	return in, nil
}

// bodyError says why a body could not be read.
func bodyError(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return apperr.E(apperr.TooLarge, "The body is larger than the limit.")
	}
	return apperr.E(apperr.Invalid, "The body could not be read.")
}

func (a *api) status(w http.ResponseWriter, r *http.Request) {
	s, err := a.portal.Status(r.Context(), r.PathValue("id"), r.URL.Query().Get("token"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s)
}

func (a *api) verifyPage(w http.ResponseWriter, r *http.Request) {
	id, token := r.PathValue("id"), r.URL.Query().Get("token")
	if err := a.portal.CheckVerification(r.Context(), id, token); err != nil {
		a.writePageError(w, r, err)
		return
	}
	renderPage(w, http.StatusOK, pageData{Title: "Confirm your request",
		Lines:  []string{"Confirm that you made privacy request " + id + "."},
		Action: "/v1/requests/" + url.PathEscape(id) + "/verify", Token: token, Button: "Confirm my request"})
}

func (a *api) verifyConfirm(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		a.writePageError(w, r, bodyError(err))
		return
	}
	id := r.PathValue("id")
	if err := a.portal.ConfirmVerification(r.Context(), id, r.PostForm.Get("token")); err != nil {
		a.writePageError(w, r, err)
		return
	}
	renderPage(w, http.StatusOK, pageData{Title: "Request confirmed",
		Lines: []string{"Thank you. Request " + id + " is confirmed and we are working on it.", "We will email you when it is done."}})
}

func codeAction(id string) string { return "/v1/requests/" + url.PathEscape(id) + "/code" }

// codePage shows the form for the code mailed with the link. It reads
// nothing: the page is the same for every well-formed id.
func (a *api) codePage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !request.ValidID(id) {
		a.writePageError(w, r, apperr.E(apperr.NotFound, "This page does not exist."))
		return
	}
	renderPage(w, http.StatusOK, pageData{Title: "Confirm your request",
		Lines: []string{"Enter the code from the email we sent about request " + id + "."}, CodeAction: codeAction(id)})
}

func (a *api) codeConfirm(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		a.writePageError(w, r, bodyError(err))
		return
	}
	id := r.PathValue("id")
	if !request.ValidID(id) {
		a.writePageError(w, r, apperr.E(apperr.NotFound, "This page does not exist."))
		return
	}
	if err := a.portal.ConfirmCode(r.Context(), id, r.PostForm.Get("code")); err != nil {
		if e, ok := err.(*apperr.Error); ok && e.Kind == apperr.Invalid && len(e.Fields) > 0 {
			// The form again, with what is wrong, so the person can retype.
			renderPage(w, http.StatusBadRequest, pageData{Title: "Confirm your request",
				Lines: []string{"Enter the code from the email we sent about request " + id + "."}, CodeAction: codeAction(id), CodeError: e.Fields[0].Detail})
			return
		}
		a.writePageError(w, r, err)
		return
	}
	renderPage(w, http.StatusOK, pageData{Title: "Request confirmed",
		Lines: []string{"Thank you. Request " + id + " is confirmed and we are working on it.", "We will email you when it is done."}})
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
