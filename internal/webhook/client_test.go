package webhook

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/clock"
)

type fixedSecrets map[string][]byte

func (f fixedSecrets) Secret(_ context.Context, ref string) ([]byte, error) {
	if v, ok := f[ref]; ok {
		return v, nil
	}
	return nil, errors.New("no such secret")
}

var testSecret = []byte(strings.Repeat("s", MinSecretBytes))

// endpoint answers each attempt with the next of answers (the last repeats).
func endpoint(t *testing.T, answers ...func(w http.ResponseWriter, body []byte)) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := Verify(testSecret, r.Header.Get(SignatureHeader), body, time.Now()); err != nil {
			t.Errorf("the call's signature: %v", err)
		}
		i := int(n.Add(1)) - 1
		answers[min(i, len(answers)-1)](w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func signed(status int, body string) func(http.ResponseWriter, []byte) {
	return func(w http.ResponseWriter, _ []byte) {
		w.Header().Set(SignatureHeader, Sign(testSecret, time.Now(), []byte(body)))
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func TestCall(t *testing.T) {
	ok := signed(200, `{"status":"done"}`)
	cases := []struct {
		name     string
		answers  []func(http.ResponseWriter, []byte)
		check    func(Reply) error
		timeout  time.Duration
		calls    int32
		reason   string // "" when the call succeeds
		waits    []time.Duration
		attempts int
	}{
		{name: "answers at once", answers: []func(http.ResponseWriter, []byte){ok}, calls: 1},
		{name: "fails, then answers", answers: []func(http.ResponseWriter, []byte){signed(503, ""), ok}, calls: 2, waits: []time.Duration{time.Second}},
		{name: "fails every time", answers: []func(http.ResponseWriter, []byte){signed(500, "")}, calls: 3, reason: "status 500", waits: []time.Duration{time.Second, 2 * time.Second}, attempts: 3},
		{name: "unsigned answer", answers: []func(http.ResponseWriter, []byte){func(w http.ResponseWriter, _ []byte) { io.WriteString(w, `{}`) }}, calls: 3, reason: ErrNoSignature.Error(), attempts: 3},
		{name: "signed by another secret", answers: []func(http.ResponseWriter, []byte){func(w http.ResponseWriter, _ []byte) {
			w.Header().Set(SignatureHeader, Sign([]byte(strings.Repeat("x", 32)), time.Now(), []byte(`{}`)))
			io.WriteString(w, `{}`)
		}}, calls: 3, reason: ErrBadSignature.Error(), attempts: 3},
		{name: "an old answer replayed", answers: []func(http.ResponseWriter, []byte){func(w http.ResponseWriter, _ []byte) {
			w.Header().Set(SignatureHeader, Sign(testSecret, time.Now().Add(-time.Hour), []byte(`{}`)))
			io.WriteString(w, `{}`)
		}}, calls: 3, reason: ErrStale.Error(), attempts: 3},
		{name: "malformed, then good", answers: []func(http.ResponseWriter, []byte){signed(200, `nonsense`), ok}, calls: 2,
			check: func(r Reply) error {
				if !strings.HasPrefix(string(r.Body), "{") {
					return &Malformed{Reason: "not a JSON object"}
				}
				return nil
			}},
		{name: "malformed every time", answers: []func(http.ResponseWriter, []byte){signed(200, `nonsense`)}, calls: 3, reason: "malformed answer: not JSON", attempts: 3,
			check: func(Reply) error { return &Malformed{Reason: "not JSON"} }},
		{name: "too slow", answers: []func(http.ResponseWriter, []byte){func(w http.ResponseWriter, _ []byte) { time.Sleep(300 * time.Millisecond) }}, timeout: 50 * time.Millisecond,
			calls: 3, reason: "no answer within the timeout", attempts: 3},
		{name: "a redirect is not followed", answers: []func(http.ResponseWriter, []byte){func(w http.ResponseWriter, _ []byte) {
			w.Header().Set("Location", "https://elsewhere.example/")
			w.WriteHeader(307)
		}}, calls: 3, reason: "status 307", attempts: 3},
		{name: "too large", answers: []func(http.ResponseWriter, []byte){signed(200, strings.Repeat("a", MaxReply+1))}, calls: 3, reason: errTooLarge.Error(), attempts: 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv, calls := endpoint(t, c.answers...)
			var waits []time.Duration
			cl := NewClient(fixedSecrets{"ssm:/hook": testSecret}, clock.System{})
			cl.Sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
			r, err := cl.Call(context.Background(), Endpoint{URL: srv.URL, Secret: "ssm:/hook", Timeout: c.timeout}, []byte(`{"request_id":"r1"}`), c.check)
			if got := calls.Load(); got != c.calls {
				t.Errorf("%d calls, want %d", got, c.calls)
			}
			if c.reason == "" {
				if err != nil || string(r.Body) != `{"status":"done"}` {
					t.Fatalf("Call = %q, %v; want the answer", r.Body, err)
				}
			} else {
				var f *Failure
				if !errors.As(err, &f) || f.Reason != c.reason || f.Attempts != c.attempts {
					t.Fatalf("Call error = %v, want a failure after %d attempts: %s", err, c.attempts, c.reason)
				}
			}
			if c.waits != nil && !slices.Equal(waits, c.waits) {
				t.Errorf("waits %v, want %v", waits, c.waits)
			}
		})
	}
}

func TestCallWithoutSecretCallsNobody(t *testing.T) {
	srv, calls := endpoint(t, signed(200, `{}`))
	cl := NewClient(fixedSecrets{}, clock.System{})
	if _, err := cl.Call(context.Background(), Endpoint{URL: srv.URL, Secret: "ssm:/missing"}, []byte(`{}`), nil); err == nil {
		t.Fatal("a call whose secret cannot be read went ahead")
	}
	if calls.Load() != 0 {
		t.Error("the endpoint was called without a signature")
	}
}
