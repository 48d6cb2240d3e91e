package httpapi

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"

	"github.com/privacy-pipeline/dsr/internal/apperr"
)

// problem is an RFC 9457 problem details body.
type problem struct {
	Type   string              `json:"type"`
	Title  string              `json:"title"`
	Status int                 `json:"status"`
	Detail string              `json:"detail,omitempty"`
	Errors []apperr.FieldError `json:"errors,omitempty"`
}

// httpStatus is the one mapping of error kinds to HTTP status codes.
func httpStatus(k apperr.Kind) int {
	switch k {
	case apperr.Invalid:
		return http.StatusBadRequest
	case apperr.NotFound:
		return http.StatusNotFound
	case apperr.Conflict:
		return http.StatusConflict
	case apperr.Forbidden:
		return http.StatusForbidden
	case apperr.TooLarge:
		return http.StatusRequestEntityTooLarge
	case apperr.Unsupported:
		return http.StatusUnsupportedMediaType
	case apperr.RateLimited:
		return http.StatusTooManyRequests
	case apperr.Unavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// publicError returns what a client may see of err: its status and a safe
// message. Internal errors say only "Internal error."; the cause is logged
// by kind, never shown.
func (a *api) publicError(r *http.Request, err error) (int, *apperr.Error) {
	kind := apperr.KindOf(err)
	status := httpStatus(kind)
	if status >= 500 {
		a.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "route", r.Pattern, "error_kind", kind.String())
		if kind == apperr.Unavailable {
			return status, apperr.Keyed(kind, "error.unavailable")
		}
		return status, apperr.Keyed(kind, "error.internal")
	}
	e, _ := err.(*apperr.Error)
	if e == nil {
		e = apperr.E(kind, "The request could not be handled.")
	}
	return status, e
}

// setRetryAfter tells the client how long to wait, in whole seconds.
func setRetryAfter(w http.ResponseWriter, e *apperr.Error) {
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(e.RetryAfter.Seconds()))))
	}
}

// writeError answers with problem+json.
func (a *api) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, e := a.publicError(r, err)
	setRetryAfter(w, e)
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: e.Msg, Errors: e.Fields})
}

// writePageError answers a browser page (a link from an email) with HTML in
// the reader's language.
func (a *api) writePageError(w http.ResponseWriter, r *http.Request, err error) {
	status, e := a.publicError(r, err)
	setRetryAfter(w, e)
	l := a.pageLanguage(r)
	p := &messagePage{frame: frame{L: l, Title: l.T("error.title.other")}, Message: e.In(l)}
	if status == http.StatusNotFound {
		// A link used up or expired ends no path: the form is a way on.
		p.Title, p.Link, p.LinkText = l.T("error.title.link"), "/?lang="+string(l), l.T("error.link.form")
		p.Message += " " + l.T("error.link.help")
	}
	a.render(w, r, status, "error", p)
}
