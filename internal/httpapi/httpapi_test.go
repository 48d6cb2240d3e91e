package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/portal"
	"github.com/privacy-pipeline/dsr/internal/request"
)

const testID = "dsr-20250102-0123456789abcdef"

type call struct{ id, token string }

// fakePortal answers with canned values (or err) and records every call.
type fakePortal struct {
	receipt     portal.Receipt
	status      portal.Status
	downloadURL string
	err         error

	submitted []request.Intake
	statuses  []call
	checked   []call
	confirmed []call
	codes     []call
	downloads []call
}

func (p *fakePortal) Submit(_ context.Context, in request.Intake) (portal.Receipt, error) {
	p.submitted = append(p.submitted, in)
	if p.err != nil {
		return portal.Receipt{}, p.err
	}
	return p.receipt, nil
}

func (p *fakePortal) Status(_ context.Context, id, token string) (portal.Status, error) {
	p.statuses = append(p.statuses, call{id, token})
	if p.err != nil {
		return portal.Status{}, p.err
	}
	return p.status, nil
}

func (p *fakePortal) CheckVerification(_ context.Context, id, token string) error {
	p.checked = append(p.checked, call{id, token})
	return p.err
}

func (p *fakePortal) ConfirmVerification(_ context.Context, id, token string) error {
	p.confirmed = append(p.confirmed, call{id, token})
	return p.err
}

func (p *fakePortal) ConfirmCode(_ context.Context, id, code string) error {
	p.codes = append(p.codes, call{id, code})
	return p.err
}

func (p *fakePortal) DownloadURL(_ context.Context, id, token string) (string, error) {
	p.downloads = append(p.downloads, call{id, token})
	if p.err != nil {
		return "", p.err
	}
	return p.downloadURL, nil
}

type problemBody struct {
	Type   string              `json:"type"`
	Title  string              `json:"title"`
	Status int                 `json:"status"`
	Detail string              `json:"detail"`
	Errors []apperr.FieldError `json:"errors"`
}

func decodeProblem(t *testing.T, body string) problemBody {
	t.Helper()
	var p problemBody
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("body is not a problem JSON: %v\n%s", err, body)
	}
	return p
}

func fieldNames(p problemBody) []string {
	var names []string
	for _, f := range p.Errors {
		names = append(names, f.Field)
	}
	return names
}

func TestHandler(t *testing.T) {
	receipt := portal.Receipt{ID: testID, Status: "received", StatusURL: "https://api.example/v1/requests/" + testID + "?token=st-123"}
	received := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	status := portal.Status{ID: testID, Type: "access", Status: "verified", Jurisdiction: "EU", ReceivedAt: received, UpdatedAt: received}
	bigJSON := `{"type":"access","email":"` + strings.Repeat("a", MaxBodyBytes) + `@example.com","jurisdiction":"EU"}`

	tests := []struct {
		name       string
		method     string
		target     string
		ctype      string
		body       string
		portal     fakePortal
		wantStatus int
		wantType   string // media type of the answer
		wantBody   []string
		notBody    []string
		check      func(t *testing.T, p *fakePortal, res *http.Response, body string)
	}{
		{
			name: "submit JSON", method: "POST", target: "/v1/requests", ctype: "application/json",
			body:   `{"type":"access","email":"ada@example.com","jurisdiction":"EU"}`,
			portal: fakePortal{receipt: receipt}, wantStatus: 202, wantType: "application/json",
			check: func(t *testing.T, p *fakePortal, res *http.Response, body string) {
				want := request.Intake{Type: "access", Email: "ada@example.com", Jurisdiction: "EU"}
				if len(p.submitted) != 1 || p.submitted[0] != want {
					t.Errorf("Submit got %+v, want [%+v]", p.submitted, want)
				}
				if got := res.Header.Get("Location"); got != receipt.StatusURL {
					t.Errorf("Location = %q, want %q", got, receipt.StatusURL)
				}
				var got portal.Receipt
				if err := json.Unmarshal([]byte(body), &got); err != nil || got != receipt {
					t.Errorf("receipt = %+v (%v), want %+v", got, err, receipt)
				}
			},
		},
		{
			name: "submit JSON with charset", method: "POST", target: "/v1/requests", ctype: "application/json; charset=utf-8",
			body:   `{"type":"delete","email":"ada@example.com","jurisdiction":"UK"}`,
			portal: fakePortal{receipt: receipt}, wantStatus: 202, wantType: "application/json",
		},
		{
			name: "submit form", method: "POST", target: "/v1/requests", ctype: "application/x-www-form-urlencoded",
			body:   url.Values{"type": {"delete"}, "email": {"ada@example.com"}, "jurisdiction": {"US-CA"}}.Encode(),
			portal: fakePortal{receipt: receipt}, wantStatus: 202, wantType: "text/html",
			wantBody: []string{"Request received", testID, `href="https://api.example/v1/requests/` + testID + `?token=st-123"`,
				`<form method="post" action="/v1/requests/` + testID + `/code" novalidate>`, `<input id="code" name="code"`},
			check: func(t *testing.T, p *fakePortal, res *http.Response, body string) {
				want := request.Intake{Type: "delete", Email: "ada@example.com", Jurisdiction: "US-CA"}
				if len(p.submitted) != 1 || p.submitted[0] != want {
					t.Errorf("Submit got %+v, want [%+v]", p.submitted, want)
				}
			},
		},
		{
			name: "submit JSON invalid", method: "POST", target: "/v1/requests", ctype: "application/json",
			body: `{"type":"","email":"nope","jurisdiction":"EU"}`,
			portal: fakePortal{err: apperr.InvalidFields(
				apperr.FieldError{Field: "type", Detail: "Choose a request type."},
				apperr.FieldError{Field: "email", Detail: "Enter an email address like name@example.com."})},
			wantStatus: 400, wantType: "application/problem+json",
			check: func(t *testing.T, p *fakePortal, res *http.Response, body string) {
				pb := decodeProblem(t, body)
				if got := strings.Join(fieldNames(pb), ","); got != "type,email" {
					t.Errorf("error fields = %q, want type,email", got)
				}
				if pb.Status != 400 || pb.Title != "Bad Request" {
					t.Errorf("problem = %+v", pb)
				}
			},
		},
		{
			name: "submit form invalid keeps typed email", method: "POST", target: "/v1/requests", ctype: "application/x-www-form-urlencoded",
			body:       url.Values{"type": {"delete"}, "email": {`x"><script>alert(1)</script>`}, "jurisdiction": {"UK"}}.Encode(),
			portal:     fakePortal{err: apperr.InvalidFields(apperr.FieldError{Field: "email", Detail: "Enter an email address like name@example.com."})},
			wantStatus: 400, wantType: "text/html",
			wantBody: []string{
				`value="x&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"`,
				`<a href="#email">Enter an email address like name@example.com.</a>`,
				`<option value="delete" selected>`,
				`<option value="UK" selected>`,
			},
			notBody: []string{"<script>"},
		},
		{
			name: "unknown JSON field", method: "POST", target: "/v1/requests", ctype: "application/json",
			body: `{"type":"access","colour":"red"}`, wantStatus: 400, wantType: "application/problem+json",
			check: func(t *testing.T, p *fakePortal, res *http.Response, body string) {
				if got := strings.Join(fieldNames(decodeProblem(t, body)), ","); got != "colour" {
					t.Errorf("error fields = %q, want colour", got)
				}
				if len(p.submitted) != 0 {
					t.Errorf("Submit was called with %+v", p.submitted)
				}
			},
		},
		{
			name: "JSON field of the wrong type", method: "POST", target: "/v1/requests", ctype: "application/json",
			body: `{"type":1}`, wantStatus: 400, wantType: "application/problem+json",
			check: func(t *testing.T, p *fakePortal, res *http.Response, body string) {
				if got := strings.Join(fieldNames(decodeProblem(t, body)), ","); got != "type" {
					t.Errorf("error fields = %q, want type", got)
				}
			},
		},
		{
			name: "JSON member names are exact", method: "POST", target: "/v1/requests", ctype: "application/json",
			body: `{"TYPE":"access","Email":"ada@example.com","jurisdiction":"EU","a\"b":1}`, wantStatus: 400, wantType: "application/problem+json",
			check: func(t *testing.T, p *fakePortal, res *http.Response, body string) {
				if got := strings.Join(fieldNames(decodeProblem(t, body)), ","); got != `Email,TYPE,a"b` {
					t.Errorf("error fields = %q, want Email,TYPE,a\"b", got)
				}
				if len(p.submitted) != 0 {
					t.Errorf("Submit was called with %+v", p.submitted)
				}
			},
		},
		{
			name: "JSON array body", method: "POST", target: "/v1/requests", ctype: "application/json",
			body: `[{"type":"access"}]`, wantStatus: 400, wantType: "application/problem+json",
			wantBody: []string{"The body must be one JSON object."}, notBody: []string{`"errors"`},
		},
		{
			name: "JSON member without a name", method: "POST", target: "/v1/requests", ctype: "application/json",
			body: `{"":"x"}`, wantStatus: 400, wantType: "application/problem+json",
			wantBody: []string{"needs a name"}, notBody: []string{`"field":""`},
		},
		{
			name: "JSON object and a brace", method: "POST", target: "/v1/requests", ctype: "application/json",
			body: `{"type":"access"}}`, wantStatus: 400, wantType: "application/problem+json",
			check: func(t *testing.T, p *fakePortal, res *http.Response, body string) {
				if len(p.submitted) != 0 {
					t.Errorf("Submit was called with %+v", p.submitted)
				}
			},
		},
		{
			name: "two JSON objects", method: "POST", target: "/v1/requests", ctype: "application/json",
			body: `{"type":"access"} {"type":"delete"}`, wantStatus: 400, wantType: "application/problem+json",
			check: func(t *testing.T, p *fakePortal, res *http.Response, body string) {
				if len(p.submitted) != 0 {
					t.Errorf("Submit was called with %+v", p.submitted)
				}
			},
		},
		{
			name: "body too large", method: "POST", target: "/v1/requests", ctype: "application/json",
			body: bigJSON, wantStatus: 413, wantType: "application/problem+json",
			check: func(t *testing.T, p *fakePortal, res *http.Response, body string) {
				if pb := decodeProblem(t, body); pb.Status != 413 {
					t.Errorf("problem status = %d", pb.Status)
				}
				if len(p.submitted) != 0 {
					t.Errorf("Submit was called")
				}
			},
		},
		{
			name: "form body too large", method: "POST", target: "/v1/requests", ctype: "application/x-www-form-urlencoded",
			body: "email=" + strings.Repeat("a", MaxBodyBytes), wantStatus: 413, wantType: "application/problem+json",
		},
		{
			name: "text/plain", method: "POST", target: "/v1/requests", ctype: "text/plain",
			body: "type=access", wantStatus: 415, wantType: "application/problem+json",
		},
		{
			name: "no content type", method: "POST", target: "/v1/requests",
			body: `{"type":"access"}`, wantStatus: 415, wantType: "application/problem+json",
		},
		{
			name: "internal error hides its cause", method: "POST", target: "/v1/requests", ctype: "application/json",
			body:       `{"type":"access","email":"ada@example.com","jurisdiction":"EU"}`,
			portal:     fakePortal{err: errors.New("secret-sdk-detail")},
			wantStatus: 500, wantType: "application/problem+json",
			wantBody: []string{"Internal error."}, notBody: []string{"secret-sdk-detail"},
		},
		{
			name: "wrapped internal error hides message and cause", method: "GET", target: "/v1/requests/" + testID + "?token=t",
			portal:     fakePortal{err: apperr.Wrap(apperr.Internal, "secret-sdk-detail in message", errors.New("secret-sdk-detail"))},
			wantStatus: 500, wantType: "application/problem+json",
			wantBody: []string{"Internal error."}, notBody: []string{"secret-sdk-detail"},
		},
		{
			name: "unavailable", method: "POST", target: "/v1/requests", ctype: "application/json",
			body:       `{"type":"access","email":"ada@example.com","jurisdiction":"EU"}`,
			portal:     fakePortal{err: apperr.Wrap(apperr.Unavailable, "DynamoDB throttled", errors.New("secret-sdk-detail"))},
			wantStatus: 503, wantType: "application/problem+json",
			wantBody: []string{"temporarily unavailable"}, notBody: []string{"secret-sdk-detail", "DynamoDB"},
		},
		{
			name: "status", method: "GET", target: "/v1/requests/" + testID + "?token=st-123",
			portal: fakePortal{status: status}, wantStatus: 200, wantType: "application/json",
			check: func(t *testing.T, p *fakePortal, res *http.Response, body string) {
				if len(p.statuses) != 1 || p.statuses[0] != (call{testID, "st-123"}) {
					t.Errorf("Status calls = %+v", p.statuses)
				}
				var got portal.Status
				if err := json.Unmarshal([]byte(body), &got); err != nil {
					t.Fatal(err)
				}
				if got.ID != testID || got.Status != "verified" || !got.ReceivedAt.Equal(received) || got.CompletedAt != nil {
					t.Errorf("status = %+v", got)
				}
			},
		},
		{
			name: "status not found", method: "GET", target: "/v1/requests/" + testID + "?token=wrong",
			portal:     fakePortal{err: apperr.E(apperr.NotFound, "This link is not valid.")},
			wantStatus: 404, wantType: "application/problem+json",
			check: func(t *testing.T, p *fakePortal, res *http.Response, body string) {
				if pb := decodeProblem(t, body); pb.Status != 404 || pb.Detail != "This link is not valid." {
					t.Errorf("problem = %+v", pb)
				}
			},
		},
		{
			name: "verify page", method: "GET", target: "/v1/requests/" + testID + "/verify?token=vt-456",
			wantStatus: 200, wantType: "text/html",
			wantBody: []string{
				`<form method="post" action="/v1/requests/` + testID + `/verify">`,
				`<input type="hidden" name="token" value="vt-456">`,
			},
			check: func(t *testing.T, p *fakePortal, res *http.Response, body string) {
				if len(p.checked) != 1 || p.checked[0] != (call{testID, "vt-456"}) {
					t.Errorf("CheckVerification calls = %+v", p.checked)
				}
				if len(p.confirmed) != 0 {
					t.Errorf("GET confirmed the request: %+v", p.confirmed)
				}
			},
		},
		{
			name: "verify page escapes the token", method: "GET", target: "/v1/requests/" + testID + "/verify?token=" + url.QueryEscape(`a"><b>`),
			wantStatus: 200, wantType: "text/html",
			wantBody: []string{`value="a&#34;&gt;&lt;b&gt;"`}, notBody: []string{"<b>"},
		},
		{
			name: "verify page with a used link", method: "GET", target: "/v1/requests/" + testID + "/verify?token=old",
			portal:     fakePortal{err: apperr.E(apperr.NotFound, "This link is not valid.")},
			wantStatus: 404, wantType: "text/html",
			wantBody: []string{"This link is not valid."}, notBody: []string{"<form"},
			check: func(t *testing.T, p *fakePortal, res *http.Response, body string) {
				if len(p.confirmed) != 0 {
					t.Errorf("GET confirmed the request: %+v", p.confirmed)
				}
			},
		},
		{
			name: "verify confirm", method: "POST", target: "/v1/requests/" + testID + "/verify?token=from-query", ctype: "application/x-www-form-urlencoded",
			body: "token=vt-456", wantStatus: 200, wantType: "text/html",
			wantBody: []string{"Request confirmed"},
			check: func(t *testing.T, p *fakePortal, res *http.Response, body string) {
				if len(p.confirmed) != 1 || p.confirmed[0] != (call{testID, "vt-456"}) {
					t.Errorf("ConfirmVerification calls = %+v, want the posted token", p.confirmed)
				}
			},
		},
		{
			name: "verify confirm conflict", method: "POST", target: "/v1/requests/" + testID + "/verify", ctype: "application/x-www-form-urlencoded",
			body: "token=vt-456", portal: fakePortal{err: apperr.E(apperr.NotFound, "This link is not valid.")},
			wantStatus: 404, wantType: "text/html", wantBody: []string{"This link is not valid."}, notBody: []string{"Request confirmed"},
		},
		{
			name: "code page", method: "GET", target: "/v1/requests/" + testID + "/code",
			wantStatus: 200, wantType: "text/html",
			wantBody: []string{`<form method="post" action="/v1/requests/` + testID + `/code" novalidate>`, `<label for="code">`, `<input id="code" name="code"`},
			notBody:  []string{"aria-invalid", `role="alert"`},
			check: func(t *testing.T, p *fakePortal, res *http.Response, body string) {
				if len(p.codes)+len(p.checked)+len(p.statuses) != 0 {
					t.Error("the code page asked the portal")
				}
			},
		},
		{
			name: "code page of a malformed id", method: "GET", target: "/v1/requests/dsr-nope/code",
			wantStatus: 404, wantType: "text/html", notBody: []string{"<form"},
		},
		{
			name: "code confirm", method: "POST", target: "/v1/requests/" + testID + "/code", ctype: "application/x-www-form-urlencoded",
			body: "code=bcdf-2345", wantStatus: 200, wantType: "text/html", wantBody: []string{"Request confirmed"},
			check: func(t *testing.T, p *fakePortal, res *http.Response, body string) {
				if len(p.codes) != 1 || p.codes[0] != (call{testID, "bcdf-2345"}) {
					t.Errorf("ConfirmCode calls = %+v, want the posted code", p.codes)
				}
			},
		},
		{
			name: "code confirm wrong code shows the form again", method: "POST", target: "/v1/requests/" + testID + "/code", ctype: "application/x-www-form-urlencoded",
			body:       "code=ZZZZ-ZZZZ",
			portal:     fakePortal{err: apperr.InvalidFields(apperr.FieldError{Field: "code", Detail: "This code is not valid, has expired or was already used."})},
			wantStatus: 400, wantType: "text/html",
			wantBody: []string{`<a href="#code">This code is not valid, has expired or was already used.</a>`, `aria-invalid="true"`, `action="/v1/requests/` + testID + `/code"`},
			notBody:  []string{"Request confirmed", "ZZZZ"},
		},
		{
			name: "code confirm unavailable", method: "POST", target: "/v1/requests/" + testID + "/code", ctype: "application/x-www-form-urlencoded",
			body: "code=BCDF2345", portal: fakePortal{err: apperr.Wrap(apperr.Unavailable, "DynamoDB throttled", errors.New("secret-sdk-detail"))},
			wantStatus: 503, wantType: "text/html", notBody: []string{"secret-sdk-detail", "<form"},
		},
		{
			name: "code confirm of a malformed id", method: "POST", target: "/v1/requests/dsr-nope/code", ctype: "application/x-www-form-urlencoded",
			body: "code=BCDF2345", wantStatus: 404, wantType: "text/html",
			check: func(t *testing.T, p *fakePortal, res *http.Response, body string) {
				if len(p.codes) != 0 {
					t.Errorf("ConfirmCode called with %+v", p.codes)
				}
			},
		},
		{
			name: "download", method: "GET", target: "/v1/requests/" + testID + "/download?token=dl-789",
			portal:     fakePortal{downloadURL: "https://exports.s3.example/pkg.zip?X-Amz-Signature=abc&X-Amz-Expires=300"},
			wantStatus: 302,
			check: func(t *testing.T, p *fakePortal, res *http.Response, body string) {
				if got := res.Header.Get("Location"); got != "https://exports.s3.example/pkg.zip?X-Amz-Signature=abc&X-Amz-Expires=300" {
					t.Errorf("Location = %q", got)
				}
				if len(p.downloads) != 1 || p.downloads[0] != (call{testID, "dl-789"}) {
					t.Errorf("DownloadURL calls = %+v", p.downloads)
				}
			},
		},
		{
			name: "download expired", method: "GET", target: "/v1/requests/" + testID + "/download?token=dl-789",
			portal:     fakePortal{err: apperr.E(apperr.NotFound, "This link is not valid.")},
			wantStatus: 404, wantType: "text/html", wantBody: []string{"This link is not valid."},
			check: func(t *testing.T, p *fakePortal, res *http.Response, body string) {
				if res.Header.Get("Location") != "" {
					t.Errorf("redirected to %q", res.Header.Get("Location"))
				}
			},
		},
		{
			name: "form", method: "GET", target: "/", wantStatus: 200, wantType: "text/html",
			wantBody: []string{`<form method="post" action="/v1/requests"`, `<option value="access" selected>`, `<option value="EU" selected>`},
			check: func(t *testing.T, p *fakePortal, res *http.Response, body string) {
				labels := regexp.MustCompile(`<label for="([a-z]+)">`).FindAllStringSubmatch(body, -1)
				if len(labels) != 3 {
					t.Fatalf("want 3 labels, got %d", len(labels))
				}
				for _, l := range labels {
					ctl := regexp.MustCompile(`<(input|select) id="` + l[1] + `" name="` + l[1] + `"`)
					if !ctl.MatchString(body) {
						t.Errorf("label for %q names no control", l[1])
					}
				}
			},
		},
		{name: "health", method: "GET", target: "/healthz", wantStatus: 200, wantType: "application/json", wantBody: []string{`"ok"`}},
		{name: "unknown path", method: "GET", target: "/nope", wantStatus: 404},
		{name: "wrong method", method: "DELETE", target: "/v1/requests/" + testID, wantStatus: 405},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.portal
			var logs bytes.Buffer
			h := New(&p, slog.New(slog.NewTextHandler(&logs, nil)))
			req := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			res := rec.Result()
			b, _ := io.ReadAll(res.Body)
			body := string(b)

			if res.StatusCode != tc.wantStatus {
				t.Fatalf("status = %d, want %d\n%s", res.StatusCode, tc.wantStatus, body)
			}
			if tc.wantType != "" {
				mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
				if mt != tc.wantType {
					t.Errorf("Content-Type = %q, want %s", res.Header.Get("Content-Type"), tc.wantType)
				}
			}
			for k, v := range map[string]string{
				"Cache-Control":          "no-store",
				"Referrer-Policy":        "no-referrer",
				"X-Content-Type-Options": "nosniff",
				"X-Frame-Options":        "DENY",
			} {
				if got := res.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			for _, s := range tc.wantBody {
				if !strings.Contains(body, s) {
					t.Errorf("body lacks %q\n%s", s, body)
				}
			}
			for _, s := range tc.notBody {
				if strings.Contains(body, s) {
					t.Errorf("body contains %q\n%s", s, body)
				}
			}
			if strings.Contains(logs.String(), "secret-sdk-detail") {
				t.Errorf("log holds the error cause: %s", logs.String())
			}
			if tc.check != nil {
				tc.check(t, &p, res, body)
			}
		})
	}
}
