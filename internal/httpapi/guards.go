package httpapi

import (
	"bytes"
	"context"
	"github.com/privacy-pipeline/dsr/internal/i18n"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/idempotency"
)

// Option configures the API.
type Option func(*api)

// Idempotency keeps the answers to requests sent with an Idempotency-Key.
type Idempotency interface {
	Begin(ctx context.Context, key, fingerprint string) (*idempotency.Answer, error)
	Finish(ctx context.Context, key, fingerprint string, a idempotency.Answer) error
	Abandon(ctx context.Context, key string) error
}

// Limiter counts requests per subject and refuses those over its limit.
type Limiter interface {
	Allow(ctx context.Context, subject string) error
}

// WithIdempotency makes POST /v1/requests honour the Idempotency-Key header.
func WithIdempotency(k Idempotency) Option { return func(a *api) { a.idempotency = k } }

// WithClientLimit limits the POST requests of each client address.
func WithClientLimit(l Limiter) Option { return func(a *api) { a.clientLimit = l } }

// WithLanguages offers only the given languages in the pages, the first
// for a reader who asks another.
func WithLanguages(langs []i18n.Lang) Option { return func(a *api) { a.languages = langs } }

// errorWriter answers with an error: problem+json for the API, a page for
// links opened from mail.
type errorWriter func(http.ResponseWriter, *http.Request, error)

// limited refuses requests over the client's limit before anything else is
// read.
func (a *api) limited(next http.Handler, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.clientLimit != nil {
			if err := a.clientLimit.Allow(r.Context(), clientAddress(r)); err != nil {
				fail(w, r, err)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// clientAddress is the address that client limits count by: the source IP
// (API Gateway's sourceIp in Lambda, the peer address locally). IPv6 clients
// are counted by their /64, which one host can hold whole.
func clientAddress(r *http.Request) string {
	host := r.RemoteAddr
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return "unknown"
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// ReplayedHeader marks an answer given again for a repeated Idempotency-Key.
const ReplayedHeader = "Idempotent-Replayed"

// idempotent carries out a request sent with an Idempotency-Key once: the
// same key with the same request gets the kept answer again; with another
// request, a 409. Answers to passing failures (5xx, 429) are not kept, so a
// retry is carried out afresh.
func (a *api) idempotent(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		if a.idempotency == nil || len(r.Header.Values("Idempotency-Key")) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxSubmissionBytes)
		body, err := io.ReadAll(r.Body)
		if err != nil {
			a.writeError(w, r, bodyError(err))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		fp := idempotency.Fingerprint([]byte(r.Method), []byte(r.URL.Path), []byte(mediaType), []byte(r.Header.Get("Sec-GPC")), body)
		kept, err := a.idempotency.Begin(r.Context(), key, fp)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		if kept != nil {
			w.Header().Set(ReplayedHeader, "true")
			writeAnswer(w, *kept)
			return
		}
		rec := &recorder{header: http.Header{}, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		ans := idempotency.Answer{Status: rec.status, ContentType: rec.header.Get("Content-Type"), Location: rec.header.Get("Location"), Body: rec.body.Bytes()}
		// The answer goes out whether or not it could be kept: the request
		// was carried out. A key left pending frees itself after its lease.
		if ans.Status >= 500 || ans.Status == http.StatusTooManyRequests {
			if err := a.idempotency.Abandon(r.Context(), key); err != nil {
				a.log.WarnContext(r.Context(), "idempotency key not released", "error_kind", apperr.KindOf(err).String())
			}
		} else if err := a.idempotency.Finish(r.Context(), key, fp, ans); err != nil {
			a.log.WarnContext(r.Context(), "idempotent answer not kept", "error_kind", apperr.KindOf(err).String())
		}
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
		_, _ = w.Write(ans.Body)
	})
}

func writeAnswer(w http.ResponseWriter, ans idempotency.Answer) {
	if ans.ContentType != "" {
		w.Header().Set("Content-Type", ans.ContentType)
	}
	if ans.Location != "" {
		w.Header().Set("Location", ans.Location)
	}
	w.WriteHeader(ans.Status)
	_, _ = w.Write(ans.Body)
}

// recorder keeps an answer so it can be stored before it is sent.
type recorder struct {
	header      http.Header
	status      int
	wroteHeader bool
	body        bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if !r.wroteHeader {
		r.status, r.wroteHeader = status, true
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}
