package devstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

type MyError struct{ Code string }

func (e *MyError) Error() string { return "my error " + e.Code }

type ValueError struct{}

func (ValueError) Error() string { return "value error" }

type greeting struct {
	Name string `json:"name"`
}

var testHandlers = map[string]any{
	"dsr-x": func(_ context.Context, in greeting) (map[string]string, error) {
		return map[string]string{"hello": in.Name}, nil
	},
	"dsr-fail": func(_ context.Context, in greeting) (map[string]string, error) {
		return nil, &MyError{Code: in.Name}
	},
	"dsr-value-error": func(context.Context) error { return ValueError{} },
	"dsr-plain-error": func(context.Context) error { return errors.New("plain") },
	"dsr-panic": func(context.Context) error {
		panic("boom")
	},
}

// upstream plays moto: it answers every request with what it received.
func upstream(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Upstream", "moto")
		w.Header().Set("X-Amzn-RequestId", "from-moto")
		w.WriteHeader(http.StatusTeapot)
		fmt.Fprintf(w, "%s %s %s", r.Method, r.URL.RequestURI(), b)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func newTestHost(t *testing.T) *lambdaHost {
	h, err := newLambdaHost(upstream(t).URL, testHandlers, map[string]Invoker{"dsr-remote": remoteFn{}})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestLambdaHost(t *testing.T) {
	const arn = "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Adsr-x"
	tests := []struct {
		name       string
		method     string
		target     string
		body       string
		wantStatus int
		wantFnErr  string            // X-Amz-Function-Error
		wantJSON   map[string]string // the answer body
		wantBody   string            // the answer body, when not JSON
		proxied    bool
	}{
		{
			name: "output", method: "POST", target: "/2015-03-31/functions/dsr-x/invocations", body: `{"name":"ada"}`,
			wantStatus: 200, wantJSON: map[string]string{"hello": "ada"},
		},
		{
			name: "function named by an encoded ARN", method: "POST", target: "/2015-03-31/functions/" + arn + "/invocations", body: `{"name":"bob"}`,
			wantStatus: 200, wantJSON: map[string]string{"hello": "bob"},
		},
		{
			name: "function named by a plain ARN", method: "POST", target: "/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:dsr-x/invocations", body: `{"name":"cy"}`,
			wantStatus: 200, wantJSON: map[string]string{"hello": "cy"},
		},
		{
			name: "named error", method: "POST", target: "/2015-03-31/functions/dsr-fail/invocations", body: `{"name":"E42"}`,
			wantStatus: 200, wantFnErr: "Unhandled", wantJSON: map[string]string{"errorType": "MyError", "errorMessage": "my error E42"},
		},
		{
			name: "error of a value type", method: "POST", target: "/2015-03-31/functions/dsr-value-error/invocations", body: `{}`,
			wantStatus: 200, wantFnErr: "Unhandled", wantJSON: map[string]string{"errorType": "ValueError", "errorMessage": "value error"},
		},
		{
			name: "errors.New", method: "POST", target: "/2015-03-31/functions/dsr-plain-error/invocations", body: `{}`,
			wantStatus: 200, wantFnErr: "Unhandled", wantJSON: map[string]string{"errorType": "errorString", "errorMessage": "plain"},
		},
		{
			name: "panic", method: "POST", target: "/2015-03-31/functions/dsr-panic/invocations", body: `{}`,
			wantStatus: 200, wantFnErr: "Unhandled", wantJSON: map[string]string{"errorType": "Runtime.Panic", "errorMessage": "boom"},
		},
		{
			name: "payload the handler cannot decode", method: "POST", target: "/2015-03-31/functions/dsr-x/invocations", body: `{"name":`,
			wantStatus: 200, wantFnErr: "Unhandled",
		},
		{
			name: "unknown function", method: "POST", target: "/2015-03-31/functions/dsr-nope/invocations", body: `{}`,
			wantStatus: 404, wantJSON: map[string]string{"Type": "User", "message": "Function not found: dsr-nope"},
		},
		{
			name: "other path", method: "GET", target: "/moto-api/data.json?x=1",
			wantStatus: http.StatusTeapot, wantBody: "GET /moto-api/data.json?x=1 ", proxied: true,
		},
		{
			name: "GET on an invoke path", method: "GET", target: "/2015-03-31/functions/dsr-x/invocations",
			wantStatus: http.StatusTeapot, wantBody: "GET /2015-03-31/functions/dsr-x/invocations ", proxied: true,
		},
		{
			name: "other Lambda API", method: "POST", target: "/2015-03-31/functions/dsr-x/configuration", body: `{"a":1}`,
			wantStatus: http.StatusTeapot, wantBody: `POST /2015-03-31/functions/dsr-x/configuration {"a":1}`, proxied: true,
		},
		{
			name: "AWS API call", method: "POST", target: "/", body: `Action=ListStateMachines`,
			wantStatus: http.StatusTeapot, wantBody: `POST / Action=ListStateMachines`, proxied: true,
		},
	}
	h := newTestHost(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body)))
			res := rec.Result()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != tc.wantStatus {
				t.Fatalf("status = %d, want %d: %s", res.StatusCode, tc.wantStatus, body)
			}
			if got := res.Header.Get("X-Amz-Function-Error"); got != tc.wantFnErr {
				t.Errorf("X-Amz-Function-Error = %q, want %q", got, tc.wantFnErr)
			}
			if proxied := res.Header.Get("X-Upstream") == "moto"; proxied != tc.proxied {
				t.Errorf("proxied = %v, want %v", proxied, tc.proxied)
			}
			if id := res.Header.Get("X-Amzn-RequestId"); id == "" {
				t.Error("no X-Amzn-RequestId")
			} else if !tc.proxied && (id == "from-moto" || len(id) != 32) {
				t.Errorf("X-Amzn-RequestId = %q", id)
			}
			if tc.wantBody != "" && string(body) != tc.wantBody {
				t.Errorf("body = %q, want %q", body, tc.wantBody)
			}
			if tc.wantJSON != nil {
				var got map[string]string
				if err := json.Unmarshal(body, &got); err != nil {
					t.Fatalf("body %q: %v", body, err)
				}
				if fmt.Sprint(got) != fmt.Sprint(tc.wantJSON) {
					t.Errorf("body = %v, want %v", got, tc.wantJSON)
				}
			}
			if tc.wantFnErr != "" {
				var e struct{ ErrorType, ErrorMessage string }
				if err := json.Unmarshal(body, &e); err != nil || e.ErrorType == "" || e.ErrorMessage == "" {
					t.Errorf("error body %q (%v)", body, err)
				}
			}
		})
	}
}

func TestLambdaHostRequestIDsDiffer(t *testing.T) {
	h := newTestHost(t)
	seen := map[string]bool{}
	for range 5 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/2015-03-31/functions/dsr-x/invocations", strings.NewReader(`{}`)))
		id := rec.Header().Get("X-Amzn-RequestId")
		if seen[id] {
			t.Fatalf("request id %q given twice", id)
		}
		seen[id] = true
	}
}

// Concurrent calls of one function each get their own output.
func TestLambdaHostConcurrentInvocations(t *testing.T) {
	h, err := newLambdaHost(upstream(t).URL, map[string]any{
		"dsr-echo": func(_ context.Context, in greeting) (string, error) { return strings.Repeat(in.Name, 200_000), nil },
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 8*50)
	for g := range 8 {
		name := string(rune('a' + g))
		want := `"` + strings.Repeat(name, 200_000) + `"`
		wg.Go(func() {
			for range 50 {
				res, err := http.Post(srv.URL+"/2015-03-31/functions/dsr-echo/invocations", "application/json", strings.NewReader(`{"name":"`+name+`"}`))
				if err != nil {
					errs <- err
					return
				}
				b, err := io.ReadAll(res.Body)
				res.Body.Close()
				if err != nil {
					errs <- err
					return
				}
				if string(b) != want {
					errs <- fmt.Errorf("the call for %q got another call's output", name)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// remoteFn stands for a function run outside the process: it echoes,
// fails with a named error for "fail", and cannot be run for "down".
type remoteFn struct{}

type remoteError struct{ typ string }

func (e *remoteError) Error() string     { return "remote " + e.typ }
func (e *remoteError) ErrorType() string { return e.typ }

func (remoteFn) Invoke(_ context.Context, payload []byte) ([]byte, error) {
	switch string(payload) {
	case `"fail"`:
		return nil, &remoteError{"RequestNotFound"}
	case `"down"`:
		return nil, errors.New("connection refused")
	}
	return payload, nil
}

// A remote function answers through the host as a local one does: its
// output, or its error's type for Retry and Catch; an emulator that fails
// is a service error.
func TestLambdaHostRemote(t *testing.T) {
	srv := httptest.NewServer(newTestHost(t))
	defer srv.Close()
	post := func(body string) (*http.Response, string) {
		resp, err := http.Post(srv.URL+"/2015-03-31/functions/dsr-remote/invocations", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	if resp, body := post(`{"a":1}`); resp.StatusCode != 200 || body != `{"a":1}` || resp.Header.Get("X-Amz-Function-Error") != "" {
		t.Fatalf("output: %d %q", resp.StatusCode, body)
	}
	if resp, body := post(`"fail"`); resp.StatusCode != 200 || resp.Header.Get("X-Amz-Function-Error") != "Unhandled" || !strings.Contains(body, `"errorType":"RequestNotFound"`) {
		t.Fatalf("function error: %d %q", resp.StatusCode, body)
	}
	if resp, _ := post(`"down"`); resp.StatusCode != http.StatusInternalServerError || resp.Header.Get("X-Amzn-ErrorType") != "ServiceException" {
		t.Fatalf("emulator down: %d", resp.StatusCode)
	}
}
