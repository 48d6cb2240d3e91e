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
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/manualtask"
	"github.com/privacy-pipeline/dsr/internal/portal"
	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/request"
)

const testID = "dsr-20250102-0123456789abcdef"

type call struct{ id, token string }

// fakePortal answers with canned values (or err) and records every call.
type fakePortal struct {
	receipt     portal.Receipt
	status      portal.Status
	downloadURL string
	offers      []portal.Offer
	requirement portal.Requirement
	err         error
	// taskErr is what answering a task fails with (Page fails with err).
	taskErr error

	submitted []request.Submission
	statuses  []call
	checked   []call
	confirmed []call
	codes     []call
	details   []portal.Details
	uploads   []upload
	downloads []call
}

func (p *fakePortal) Submit(_ context.Context, in request.Submission) (portal.Receipt, error) {
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

func (p *fakePortal) CheckVerification(_ context.Context, id, token string) (portal.Requirement, error) {
	p.checked = append(p.checked, call{id, token})
	return p.requirement, p.err
}

func (p *fakePortal) ConfirmVerification(_ context.Context, id, token string, d portal.Details) error {
	p.confirmed = append(p.confirmed, call{id, token})
	p.details = append(p.details, d)
	return p.err
}

func (p *fakePortal) UploadPermission(_ context.Context, id, token, contentType string, body []byte, poa bool) error {
	p.uploads = append(p.uploads, upload{id, token, contentType, len(body), poa})
	return p.err
}

type upload struct {
	id, token, contentType string
	size                   int
	poa                    bool
}

func (p *fakePortal) ConfirmCode(_ context.Context, id, code string, d portal.Details) error {
	p.codes = append(p.codes, call{id, code})
	p.details = append(p.details, d)
	return p.err
}

// Offered offers access and delete, as every law does, unless offers says
// otherwise.
func (p *fakePortal) Offered(jurisdiction string) []portal.Offer {
	if p.offers != nil {
		return p.offers
	}
	return []portal.Offer{{Type: request.Access, Verification: true}, {Type: request.Delete, Verification: true}}
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
	status := portal.Status{ID: testID, Type: "access", Status: "verified", Jurisdiction: "EU", ReceivedAt: received, UpdatedAt: received, Due: "2025-02-03", Extended: true}
	bigJSON := `{"type":"access","email":"` + strings.Repeat("a", MaxSubmissionBytes) + `@example.com","jurisdiction":"EU"}`

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
		header     map[string]string // request headers besides Content-Type
		check      func(t *testing.T, p *fakePortal, res *http.Response, body string)
	}{
		{
			name: "submit JSON", method: "POST", target: "/v1/requests", ctype: "application/json",
			body:   `{"type":"access","email":"ada@example.com","jurisdiction":"EU"}`,
			portal: fakePortal{receipt: receipt}, wantStatus: 202, wantType: "application/json",
			check: func(t *testing.T, p *fakePortal, res *http.Response, body string) {
				want := request.Submission{Type: "access", Email: "ada@example.com", Jurisdiction: "EU", Language: "en"}
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
			name: "submit JSON in a language", method: "POST", target: "/v1/requests", ctype: "application/json",
			body:   `{"type":"access","email":"ada@example.com","jurisdiction":"EU","language":"fi"}`,
			header: map[string]string{"Accept-Language": "de"},
			portal: fakePortal{receipt: receipt}, wantStatus: 202, wantType: "application/json",
			check: func(t *testing.T, p *fakePortal, res *http.Response, body string) {
				if len(p.submitted) != 1 || p.submitted[0].Language != "fi" {
					t.Errorf("Submit got %+v, want the language member", p.submitted)
				}
			},
		},
		{
			name: "submit JSON language from Accept-Language", method: "POST", target: "/v1/requests", ctype: "application/json",
			body:   `{"type":"access","email":"ada@example.com","jurisdiction":"EU"}`,
			header: map[string]string{"Accept-Language": "en;q=0.5, de-CH"},
			portal: fakePortal{receipt: receipt}, wantStatus: 202, wantType: "application/json",
			check: func(t *testing.T, p *fakePortal, res *http.Response, body string) {
				if len(p.submitted) != 1 || p.submitted[0].Language != "de" {
					t.Errorf("Submit got %+v, want German", p.submitted)
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
			wantBody: []string{"Request received", testID, `href="https://api.example/v1/requests/` + testID + `?lang=en&amp;token=st-123"`,
				"We erase your data", "open the link or enter the code",
				`<form method="post" action="/v1/requests/` + testID + `/code" novalidate>`, `<input id="code" name="code"`},
			check: func(t *testing.T, p *fakePortal, res *http.Response, body string) {
				want := request.Submission{Type: "delete", Email: "ada@example.com", Jurisdiction: "US-CA", Language: "en"}
				if len(p.submitted) != 1 || p.submitted[0] != want {
					t.Errorf("Submit got %+v, want [%+v]", p.submitted, want)
				}
			},
		},
		{
			name: "submit form in German", method: "POST", target: "/v1/requests", ctype: "application/x-www-form-urlencoded",
			body:   url.Values{"type": {"access"}, "email": {"ada@example.com"}, "jurisdiction": {"EU"}, "language": {"de"}}.Encode(),
			portal: fakePortal{receipt: receipt, offers: []portal.Offer{{Type: request.Access, Verification: false}}}, wantStatus: 202, wantType: "text/html",
			wantBody: []string{`<html lang="de">`, "Anfrage eingegangen", "Wir stellen Ihre Daten zusammen", `?lang=de&amp;token=st-123"`},
			notBody:  []string{"Außerdem senden wir Ihnen einen Link"}, // this law's request needs no confirmation
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
				`value="x&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" aria-describedby="email-hint email-error" aria-invalid="true">`,
				`<a href="#email">Enter an email address like name@example.com.</a>`,
				`<p id="email-error" class="error"><span class="visually-hidden">Error:</span> Enter an email address like name@example.com.</p>`,
				`value="delete" aria-describedby="type-delete-hint" checked>`,
				`<input type="hidden" name="jurisdiction" value="UK">`,
				`<title>Error: Step 2 of 2: your request – Make a privacy request</title>`,
			},
			notBody: []string{"<script>", `value="access" aria-describedby="type-hint" checked`},
		},
		{
			name: "submit form invalid in Finnish", method: "POST", target: "/v1/requests", ctype: "application/x-www-form-urlencoded",
			body:       url.Values{"type": {""}, "email": {"ada@"}, "jurisdiction": {"EU"}, "language": {"fi"}}.Encode(),
			portal:     fakePortal{err: apperr.InvalidFields(apperr.Field("type", "error.type.required"), apperr.Field("email", "error.email.invalid"))},
			wantStatus: 400, wantType: "text/html",
			wantBody: []string{`<html lang="fi">`, "Tarkista tiedot", `<a href="#type">Valitse pyynnön tyyppi.</a>`,
				`<a href="#email">Anna sähköpostiosoite muodossa nimi@example.com.</a>`, `<fieldset aria-describedby="type-error">`, `value="ada@"`,
				`<a href="/?jurisdiction=EU&amp;lang=de" lang="de" hreflang="de">Deutsch</a>`},
		},
		{
			name: "submit form for an unknown law", method: "POST", target: "/v1/requests", ctype: "application/x-www-form-urlencoded",
			body:       url.Values{"type": {"access"}, "email": {"ada@example.com"}, "jurisdiction": {"XX"}}.Encode(),
			portal:     fakePortal{err: apperr.InvalidFields(apperr.Field("jurisdiction", "error.jurisdiction.unknown"))},
			wantStatus: 400, wantType: "text/html",
			wantBody: []string{`<form method="get" action="/">`, `<a href="#jurisdiction">Unknown jurisdiction code.</a>`, `aria-describedby="jurisdiction-hint jurisdiction-error" aria-invalid="true"`},
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
			name: "submit a dry-run delete", method: "POST", target: "/v1/requests", ctype: "application/json",
			body:   `{"type":"delete","email":"ada@example.com","jurisdiction":"UK","dry_run":true}`,
			portal: fakePortal{receipt: receipt}, wantStatus: 202, wantType: "application/json",
			check: func(t *testing.T, p *fakePortal, res *http.Response, body string) {
				if len(p.submitted) != 1 || !p.submitted[0].DryRun || p.submitted[0].Type != "delete" {
					t.Errorf("portal got %+v, want a dry-run delete", p.submitted)
				}
			},
		},
		{
			name: "dry_run must be a boolean", method: "POST", target: "/v1/requests", ctype: "application/json",
			body: `{"type":"delete","email":"ada@example.com","jurisdiction":"UK","dry_run":"yes"}`, wantStatus: 400, wantType: "application/problem+json",
			check: func(t *testing.T, p *fakePortal, res *http.Response, body string) {
				if got := strings.Join(fieldNames(decodeProblem(t, body)), ","); got != "dry_run" {
					t.Errorf("error fields = %q, want dry_run", got)
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
			body: "email=" + strings.Repeat("a", MaxSubmissionBytes), wantStatus: 413, wantType: "application/problem+json",
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
			header: map[string]string{"Accept": "*/*"},
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
			name: "status page for a browser", method: "GET", target: "/v1/requests/" + testID + "?token=st-123",
			header: map[string]string{"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "Accept-Language": "de-DE,de;q=0.9,en;q=0.5"},
			portal: fakePortal{status: status}, wantStatus: 200, wantType: "text/html",
			wantBody: []string{`<html lang="de">`, "Stand Ihrer Anfrage", testID, "Auskunft über Ihre Daten", "Europäische Union (DSGVO)",
				`<dd id="status">Bestätigt</dd>`, "2. Januar 2025", "3. Februar 2025 (Verlängert, wie es das Gesetz erlaubt.)",
				`<a href="/v1/requests/` + testID + `?lang=fi&amp;token=st-123" lang="fi" hreflang="fi">Suomi</a>`},
		},
		{
			name: "status page not found in Finnish", method: "GET", target: "/v1/requests/" + testID + "?token=wrong&lang=fi",
			header: map[string]string{"Accept": "text/html", "Accept-Language": "de"},
			portal: fakePortal{err: apperr.Keyed(apperr.NotFound, "error.link")}, wantStatus: 404, wantType: "text/html",
			wantBody: []string{`<html lang="fi">`, "Tämä linkki ei toimi", "Tämä linkki on virheellinen, vanhentunut tai jo käytetty."},
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
				`<form method="post" action="/v1/requests/` + testID + `/verify" novalidate>`,
				`<input type="hidden" name="token" value="vt-456">`,
				`<input type="hidden" name="lang" value="en">`,
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
			name: "verify page in German", method: "GET", target: "/v1/requests/" + testID + "/verify?token=vt-456&lang=de",
			header:     map[string]string{"Accept-Language": "fi"},
			wantStatus: 200, wantType: "text/html",
			wantBody: []string{`<html lang="de">`, "Bestätigen Sie Ihre Anfrage", "Meine Anfrage bestätigen", `<input type="hidden" name="lang" value="de">`,
				`<span lang="de" aria-current="true">Deutsch</span>`, `href="/v1/requests/` + testID + `/verify?lang=en&amp;token=vt-456"`},
		},
		{
			name: "verify page of a correction names the fields", method: "GET", target: "/v1/requests/" + testID + "/verify?token=vt-456&lang=de",
			portal:     fakePortal{requirement: portal.Requirement{Corrects: []string{"name", "phone"}}},
			wantStatus: 200, wantType: "text/html",
			wantBody: []string{"Sie bittet um die Berichtigung von: Vollständiger Name, Telefonnummer."},
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
			name: "verify confirm in Finnish", method: "POST", target: "/v1/requests/" + testID + "/verify", ctype: "application/x-www-form-urlencoded",
			body: "token=vt-456&lang=fi", wantStatus: 200, wantType: "text/html",
			wantBody: []string{`<html lang="fi">`, "Pyyntö vahvistettu", "Pyyntö " + testID + " on vahvistettu"},
		},
		{
			name: "verify confirm conflict", method: "POST", target: "/v1/requests/" + testID + "/verify", ctype: "application/x-www-form-urlencoded",
			body: "token=vt-456", portal: fakePortal{err: apperr.E(apperr.NotFound, "This link is not valid.")},
			wantStatus: 404, wantType: "text/html", wantBody: []string{"This link is not valid."}, notBody: []string{"Request confirmed"},
		},
		{
			name: "verify page asks for details", method: "GET", target: "/v1/requests/" + testID + "/verify?token=vt-456",
			portal:     fakePortal{requirement: portal.Requirement{DataPoints: 3, Kinds: registry.DataPointKinds[:3], Declaration: true}},
			wantStatus: 200, wantType: "text/html",
			wantBody: []string{"give at least 3 of these details", `<label for="name">Full name</label>`, `<input id="name" name="name"`, `<input id="phone" name="phone"`,
				`<input id="postal_code" name="postal_code"`, "penalty of perjury", `<input id="signature" name="signature"`, `name="token" value="vt-456"`},
			notBody: []string{"birth_date", `role="alert"`},
		},
		{
			name: "verify page asks for details in German", method: "GET", target: "/v1/requests/" + testID + "/verify?token=vt-456&lang=de",
			portal:     fakePortal{requirement: portal.Requirement{DataPoints: 2, Kinds: registry.DataPointKinds[:3]}},
			wantStatus: 200, wantType: "text/html",
			wantBody: []string{"mindestens 2 dieser Angaben", `<label for="phone">Telefonnummer</label>`}, notBody: []string{"signature"},
		},
		{
			name: "verify confirm with details", method: "POST", target: "/v1/requests/" + testID + "/verify", ctype: "application/x-www-form-urlencoded",
			body:       url.Values{"token": {"vt-456"}, "name": {"Ana Lima"}, "phone": {"213 555 0199"}, "postal_code": {"90012"}, "shoe_size": {"42"}, "signature": {"Ana Lima"}}.Encode(),
			wantStatus: 200, wantType: "text/html", wantBody: []string{"Request confirmed"},
			check: func(t *testing.T, p *fakePortal, res *http.Response, body string) {
				want := portal.Details{DataPoints: map[string]string{"name": "Ana Lima", "phone": "213 555 0199", "postal_code": "90012"}, Signature: "Ana Lima"}
				if len(p.details) != 1 || !reflect.DeepEqual(p.details[0], want) {
					t.Errorf("details %+v, want %+v", p.details, want)
				}
			},
		},
		{
			name: "verify confirm asks for details again", method: "POST", target: "/v1/requests/" + testID + "/verify", ctype: "application/x-www-form-urlencoded",
			body: "token=vt-456&name=Ana",
			portal: fakePortal{err: &portal.DetailsError{Err: apperr.InvalidFields(apperr.Field("details", "details.wrong")),
				Requirement: portal.Requirement{DataPoints: 2, Kinds: registry.DataPointKinds[:3]}}},
			wantStatus: 400, wantType: "text/html",
			wantBody: []string{`<a href="#details">These details do not match what we hold.`, `name="token" value="vt-456"`, "give at least 2 of these details", `<input id="postal_code"`, `aria-invalid="true"`},
			notBody:  []string{"Ana", "signature", "Request confirmed"},
		},
		{
			name: "code confirm asks for details, keeping the code", method: "POST", target: "/v1/requests/" + testID + "/code", ctype: "application/x-www-form-urlencoded",
			body: "code=bcdf-2345",
			portal: fakePortal{err: &portal.DetailsError{Err: apperr.InvalidFields(apperr.Field("signature", "details.signature")),
				Requirement: portal.Requirement{DataPoints: 3, Kinds: registry.DataPointKinds[:3], Declaration: true}}},
			wantStatus: 400, wantType: "text/html",
			wantBody: []string{`value="bcdf-2345"`, `<a href="#signature">Type your full name`, `<input id="signature" name="signature" autocomplete="name" maxlength="200" aria-invalid="true"`},
		},
		{
			name: "confirmation handed to an operator", method: "POST", target: "/v1/requests/" + testID + "/code", ctype: "application/x-www-form-urlencoded",
			body: "code=BCDF-2345", portal: fakePortal{err: portal.ErrOperatorCheck},
			wantStatus: 202, wantType: "text/html", wantBody: []string{"Email address confirmed", "our privacy team will contact you"}, notBody: []string{"<form"},
		},
		{
			name: "code page", method: "GET", target: "/v1/requests/" + testID + "/code",
			wantStatus: 200, wantType: "text/html",
			wantBody: []string{`<form method="post" action="/v1/requests/` + testID + `/code" novalidate>`, `<label for="code">`, `<input id="code" name="code"`},
			notBody:  []string{`aria-invalid="true"`, `role="alert"`},
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
			name: "form: the law first", method: "GET", target: "/", wantStatus: 200, wantType: "text/html",
			wantBody: []string{`<form method="get" action="/">`, `<option value="EU" selected>European Union (GDPR)</option>`,
				`<optgroup label="United States">`, `<option value="US-CA">California</option>`, `<input type="hidden" name="lang" value="en">`},
			notBody: []string{`name="email"`},
			check:   checkAccessible,
		},
		{
			name: "form: the request under a law", method: "GET", target: "/?jurisdiction=us-ca", wantStatus: 200, wantType: "text/html",
			wantBody: []string{`<form method="post" action="/v1/requests" novalidate>`, `<input type="hidden" name="jurisdiction" value="US-CA">`,
				"Law: California", `<legend>What do you ask for?</legend>`, `id="type" name="type" value="access"`, `id="type-delete" name="type" value="delete"`},
			check: checkAccessible,
		},
		{
			name: "form offers what the law gives", method: "GET", target: "/?jurisdiction=EU",
			portal:     fakePortal{offers: []portal.Offer{{Type: request.Delete, Verification: true}}},
			wantStatus: 200, wantType: "text/html",
			wantBody: []string{`id="type" name="type" value="delete" aria-describedby="type-hint" checked>`}, notBody: []string{`value="access"`},
		},
		{
			name: "form in German from Accept-Language", method: "GET", target: "/?jurisdiction=EU",
			header:     map[string]string{"Accept-Language": "fr;q=0.9, de;q=0.8, en;q=0.1"},
			wantStatus: 200, wantType: "text/html",
			wantBody: []string{`<html lang="de">`, "Datenschutzanfrage stellen", "Eine Kopie meiner Daten", "Ihre E-Mail-Adresse", `<input type="hidden" name="language" value="de">`},
			check: func(t *testing.T, p *fakePortal, res *http.Response, body string) {
				if res.Header.Get("Content-Language") != "de" || !strings.Contains(res.Header.Get("Vary"), "Accept-Language") {
					t.Errorf("Content-Language %q, Vary %q", res.Header.Get("Content-Language"), res.Header.Get("Vary"))
				}
			},
		},
		{
			name: "form language chosen on the page", method: "GET", target: "/?lang=fi", header: map[string]string{"Accept-Language": "de"},
			wantStatus: 200, wantType: "text/html",
			wantBody: []string{`<html lang="fi">`, "Mikä tietosuojalaki koskee sinua?", `<a href="/?lang=de" lang="de" hreflang="de">Deutsch</a>`},
		},
		{
			name: "form for an unknown law", method: "GET", target: "/?jurisdiction=XX", wantStatus: 400, wantType: "text/html",
			wantBody: []string{`<a href="#jurisdiction">Choose the law that applies to you.</a>`, `<form method="get" action="/">`},
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
			for k, v := range tc.header {
				req.Header.Set(k, v)
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

// checkAccessible checks a form page's accessibility wiring: every label
// names a control by id, every id that aria-describedby names exists, every
// control is labelled, and radio choices sit in a fieldset with a legend.
func checkAccessible(t *testing.T, _ *fakePortal, _ *http.Response, body string) {
	t.Helper()
	ids := map[string]bool{}
	for _, m := range regexp.MustCompile(` id="([^"]+)"`).FindAllStringSubmatch(body, -1) {
		if ids[m[1]] {
			t.Errorf("id %q twice", m[1])
		}
		ids[m[1]] = true
	}
	labelled := map[string]bool{}
	for _, m := range regexp.MustCompile(`<label for="([^"]+)">`).FindAllStringSubmatch(body, -1) {
		if !regexp.MustCompile(`<(input|select)[^>]* id="` + regexp.QuoteMeta(m[1]) + `"`).MatchString(body) {
			t.Errorf("label for %q names no control", m[1])
		}
		labelled[m[1]] = true
	}
	for _, m := range regexp.MustCompile(`<(?:input|select) ([^>]*)>`).FindAllStringSubmatch(body, -1) {
		if strings.Contains(m[1], `type="hidden"`) {
			continue
		}
		id := regexp.MustCompile(`id="([^"]+)"`).FindStringSubmatch(m[1])
		if id == nil || !labelled[id[1]] {
			t.Errorf("control without a label: <%s>", m[1])
		}
	}
	for _, m := range regexp.MustCompile(`aria-describedby="([^"]+)"`).FindAllStringSubmatch(body, -1) {
		for _, id := range strings.Fields(m[1]) {
			if !ids[id] {
				t.Errorf("aria-describedby names %q, which is not on the page", id)
			}
		}
	}
	if strings.Contains(body, `type="radio"`) && !regexp.MustCompile(`(?s)<fieldset[^>]*>\s*<legend>[^<]+</legend>.*type="radio".*</fieldset>`).MatchString(body) {
		t.Error("radio choices are not in a fieldset with a legend")
	}
	if len(labelled) == 0 {
		t.Error("no labels at all")
	}
}

func (p *fakePortal) Page(_ context.Context, requestID, sourceID, _ string) (manualtask.Page, error) {
	if p.err != nil {
		return manualtask.Page{}, p.err
	}
	t := manualtask.Task{RequestID: requestID, SourceID: sourceID, Type: "access", Status: manualtask.Open, Due: time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC)}
	return manualtask.Page{Task: t, Description: "Sales CRM", Identities: []manualtask.Identity{{Kind: "crm_id", Values: []string{"crm-1"}}}}, nil
}

func (p *fakePortal) Callback(_ context.Context, _, _, _, _ string, _ []byte) error {
	return p.taskErr
}

func (p *fakePortal) AnswerWithToken(_ context.Context, requestID, sourceID, _ string, a manualtask.Answer) (manualtask.Task, error) {
	if p.taskErr != nil {
		return manualtask.Task{}, p.taskErr
	}
	return manualtask.Task{RequestID: requestID, SourceID: sourceID, Status: a.Status}, nil
}
