package httpapi

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/clock"
	"github.com/privacy-pipeline/dsr/internal/idempotency"
	"github.com/privacy-pipeline/dsr/internal/memstore"
	"github.com/privacy-pipeline/dsr/internal/portal"
	"github.com/privacy-pipeline/dsr/internal/ratelimit"
)

const idemKey = "7d0c1b7e-8f1e-4d6a-9b1f-3b1c2d3e4f50"

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

type sent struct {
	status int
	header http.Header
	body   string
}

func post(h http.Handler, body, key, remote string) sent {
	req := httptest.NewRequest("POST", "/v1/requests", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	if remote != "" {
		req.RemoteAddr = remote
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return sent{rec.Code, rec.Header(), rec.Body.String()}
}

func TestIdempotencyKey(t *testing.T) {
	const body = `{"type":"access","email":"ada@example.com","jurisdiction":"EU"}`
	receipt := portal.Receipt{ID: testID, Status: "received", StatusURL: "https://api.example/v1/requests/" + testID + "?token=st-123"}
	newAPI := func(p *fakePortal) (http.Handler, *memstore.Idempotency) {
		store := memstore.NewIdempotency()
		k := &idempotency.Keeper{Store: store, Clock: clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))}
		return New(p, discardLog(), WithIdempotency(k)), store
	}

	t.Run("the same key and body get the same answer from one submission", func(t *testing.T) {
		p := &fakePortal{receipt: receipt}
		h, _ := newAPI(p)
		first := post(h, body, idemKey, "")
		second := post(h, body, idemKey, "")
		if first.status != 202 || second.status != 202 || first.body != second.body {
			t.Fatalf("answers differ:\n%d %s\n%d %s", first.status, first.body, second.status, second.body)
		}
		if second.header.Get("Location") != receipt.StatusURL || second.header.Get("Content-Type") != "application/json" {
			t.Errorf("replayed headers %v", second.header)
		}
		if second.header.Get(ReplayedHeader) != "true" || first.header.Get(ReplayedHeader) != "" {
			t.Errorf("replay marks: first %q, second %q", first.header.Get(ReplayedHeader), second.header.Get(ReplayedHeader))
		}
		if second.header.Get("Cache-Control") != "no-store" {
			t.Error("a replay lacks the security headers")
		}
		if len(p.submitted) != 1 {
			t.Fatalf("Submit called %d times, want 1", len(p.submitted))
		}
	})
	t.Run("a different body with the key is a conflict", func(t *testing.T) {
		p := &fakePortal{receipt: receipt}
		h, _ := newAPI(p)
		post(h, body, idemKey, "")
		other := post(h, strings.Replace(body, "access", "delete", 1), idemKey, "")
		if other.status != 409 || other.header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("HTTP %d %s", other.status, other.body)
		}
		if !strings.Contains(decodeProblem(t, other.body).Detail, "different request") {
			t.Errorf("detail: %s", other.body)
		}
		if len(p.submitted) != 1 {
			t.Fatalf("Submit called %d times, want 1", len(p.submitted))
		}
	})
	t.Run("invalid answers are kept too", func(t *testing.T) {
		p := &fakePortal{err: apperr.InvalidFields(apperr.FieldError{Field: "email", Detail: "Enter your email address."})}
		h, _ := newAPI(p)
		first := post(h, body, idemKey, "")
		p.err = nil
		second := post(h, body, idemKey, "")
		if first.status != 400 || second.status != 400 || first.body != second.body || len(p.submitted) != 1 {
			t.Fatalf("first %d, second %d, %d submissions", first.status, second.status, len(p.submitted))
		}
	})
	t.Run("a passing failure is not kept", func(t *testing.T) {
		p := &fakePortal{err: apperr.Wrap(apperr.Unavailable, "down", errors.New("sdk"))}
		h, store := newAPI(p)
		if got := post(h, body, idemKey, ""); got.status != 503 {
			t.Fatalf("HTTP %d", got.status)
		}
		if store.Keys() != 0 {
			t.Fatal("the key of a failed request is still held")
		}
		p.err = nil
		p.receipt = receipt
		if got := post(h, body, idemKey, ""); got.status != 202 || got.header.Get(ReplayedHeader) != "" {
			t.Fatalf("retry: HTTP %d, replayed %q", got.status, got.header.Get(ReplayedHeader))
		}
	})
	t.Run("a malformed key is refused before anything is done", func(t *testing.T) {
		p := &fakePortal{receipt: receipt}
		h, _ := newAPI(p)
		got := post(h, body, "short", "")
		if got.status != 400 || len(p.submitted) != 0 {
			t.Fatalf("HTTP %d, %d submissions", got.status, len(p.submitted))
		}
		if f := fieldNames(decodeProblem(t, got.body)); len(f) != 1 || f[0] != "Idempotency-Key" {
			t.Errorf("fields %v", f)
		}
	})
	t.Run("without a key every submission is carried out", func(t *testing.T) {
		p := &fakePortal{receipt: receipt}
		h, store := newAPI(p)
		post(h, body, "", "")
		post(h, body, "", "")
		if len(p.submitted) != 2 || store.Keys() != 0 {
			t.Fatalf("%d submissions, %d keys", len(p.submitted), store.Keys())
		}
	})
	t.Run("the key is stored hashed", func(t *testing.T) {
		store := &keyRecorder{Idempotency: memstore.NewIdempotency()}
		k := &idempotency.Keeper{Store: store, Clock: clock.System{}}
		post(New(&fakePortal{receipt: receipt}, discardLog(), WithIdempotency(k)), body, idemKey, "")
		if len(store.keys) == 0 || strings.Contains(strings.Join(store.keys, ","), idemKey) {
			t.Fatalf("stored keys %v", store.keys)
		}
	})
	t.Run("a body over the limit is refused", func(t *testing.T) {
		h, _ := newAPI(&fakePortal{receipt: receipt})
		if got := post(h, `{"type":"`+strings.Repeat("a", MaxSubmissionBytes)+`"}`, idemKey, ""); got.status != 413 {
			t.Fatalf("HTTP %d", got.status)
		}
	})
}

type keyRecorder struct {
	*memstore.Idempotency
	keys []string
}

func (k *keyRecorder) Complete(ctx context.Context, key string, rec idempotency.Record) error {
	k.keys = append(k.keys, key)
	return k.Idempotency.Complete(ctx, key, rec)
}

func TestClientLimit(t *testing.T) {
	const body = `{"type":"access","email":"ada@example.com","jurisdiction":"EU"}`
	clk := clock.NewFake(time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC))
	p := &fakePortal{receipt: portal.Receipt{ID: testID, Status: "received", StatusURL: "https://x/s"}}
	limit := &ratelimit.Limiter{Name: "client", Rule: ratelimit.Rule{Limit: 2, Window: time.Hour}, Counter: memstore.NewCounters(), Clock: clk}
	h := New(p, discardLog(), WithClientLimit(limit))

	for i := range 2 {
		if got := post(h, body, "", "203.0.113.7:4100"); got.status != 202 {
			t.Fatalf("request %d: HTTP %d", i+1, got.status)
		}
	}
	got := post(h, body, "", "203.0.113.7:4200") // another port, the same client
	if got.status != 429 || got.header.Get("Retry-After") != "3600" || got.header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("HTTP %d, Retry-After %q: %s", got.status, got.header.Get("Retry-After"), got.body)
	}
	if len(p.submitted) != 2 {
		t.Fatalf("%d submissions reached the portal, want 2", len(p.submitted))
	}
	if got := post(h, body, "", "198.51.100.2:4100"); got.status != 202 {
		t.Fatalf("another client: HTTP %d", got.status)
	}

	// The confirmation page is limited too, and answers with a page.
	req := httptest.NewRequest("POST", "/v1/requests/"+testID+"/verify", strings.NewReader("token=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = "203.0.113.7:5000"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 429 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("verify: HTTP %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	// Reads are not counted.
	for range 3 {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/v1/requests/"+testID+"?token=t", nil)
		req.RemoteAddr = "203.0.113.7:5000"
		h.ServeHTTP(rec, req)
		if rec.Code == 429 {
			t.Fatal("a status read was limited")
		}
	}
}

func TestClientAddress(t *testing.T) {
	tests := []struct{ remote, want string }{
		{"203.0.113.7:4100", "203.0.113.7"},
		{"203.0.113.7", "203.0.113.7"}, // API Gateway's sourceIp has no port
		{"[2001:db8:1:2:3:4:5:6]:443", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"},
		{"[::ffff:203.0.113.7]:80", "203.0.113.7"},
		{"", "unknown"},
		{"not an address", "unknown"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.remote
		if got := clientAddress(r); got != tt.want {
			t.Errorf("clientAddress(%q) = %q, want %q", tt.remote, got, tt.want)
		}
	}
}
