package httpapi

import (
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/portal"
	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/request"
)

var menuLink = regexp.MustCompile(`<a href="([^"]+)" lang="(\w+)" hreflang`)

// TestEveryPageHasTheLanguageMenu: every page a person can reach offers the
// other languages, each link to a page that shows the same thing (the page
// asked for, or for an answer to a form, the page that shows it again).
func TestEveryPageHasTheLanguageMenu(t *testing.T) {
	received := time.Date(2025, 1, 2, 9, 0, 0, 0, time.UTC)
	receipt := portal.Receipt{ID: testID, Status: "received", StatusURL: "https://api.example/v1/requests/" + testID + "?token=st-123"}
	form := url.Values{"type": {"access"}, "email": {"ada@example.com"}, "jurisdiction": {"EU"}, "language": {"de"}}
	tests := []struct {
		name, method, target, body string
		portalErr                  error
		wantPath                   string // the menu's links lead here
	}{
		{"law step", "GET", "/?lang=de", "", nil, "/"},
		{"request step", "GET", "/?jurisdiction=EU&lang=de", "", nil, "/"},
		{"submitted", "POST", "/v1/requests", form.Encode(), nil, "/v1/requests/" + testID},
		{"form with errors", "POST", "/v1/requests", url.Values{"type": {"access"}, "email": {"x"}, "jurisdiction": {"EU"}, "language": {"de"}}.Encode(), apperr.InvalidFields(apperr.Field("email", "error.email.invalid")), "/"},
		{"verify", "GET", "/v1/requests/" + testID + "/verify?token=t&lang=de", "", nil, "/v1/requests/" + testID + "/verify"},
		{"confirmed", "POST", "/v1/requests/" + testID + "/verify", url.Values{"token": {"t"}, "lang": {"de"}}.Encode(), nil, "/"},
		{"code", "GET", "/v1/requests/" + testID + "/code?lang=de", "", nil, "/v1/requests/" + testID + "/code"},
		{"status", "GET", "/v1/requests/" + testID + "?token=t&lang=de", "", nil, "/v1/requests/" + testID},
		{"used link", "GET", "/v1/requests/" + testID + "/verify?token=t&lang=de", "", apperr.Keyed(apperr.NotFound, "error.link"), "/v1/requests/" + testID + "/verify"},
		{"upload", "GET", "/v1/requests/" + testID + "/permission?token=t&lang=de", "", nil, "/v1/requests/" + testID + "/permission"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &fakePortal{receipt: receipt, offers: []portal.Offer{{Type: request.Access, Verification: true}}, err: tt.portalErr,
				status: portal.Status{ID: testID, Type: "access", Status: "verified", Jurisdiction: "EU", ReceivedAt: received, UpdatedAt: received, Due: "2025-02-03"}}
			req := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
			req.Header.Set("Accept", "text/html")
			if tt.method == "POST" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			rec := httptest.NewRecorder()
			New(p, discardLog()).ServeHTTP(rec, req)
			page := rec.Body.String()
			if got := rec.Header().Get("Content-Language"); got != "de" {
				t.Fatalf("HTTP %d, Content-Language %q", rec.Code, got)
			}
			links := menuLink.FindAllStringSubmatch(page, -1)
			if len(links) != 2 || !strings.Contains(page, `<span lang="de" aria-current="true">`) {
				t.Fatalf("HTTP %d: the menu offers %d other languages:\n%s", rec.Code, len(links), page)
			}
			for _, l := range links {
				u, err := url.Parse(strings.ReplaceAll(l[1], "&amp;", "&"))
				if err != nil || u.Path != tt.wantPath || u.Query().Get("lang") != l[2] {
					t.Errorf("menu link %s, want %s?lang=%s", l[1], tt.wantPath, l[2])
				}
			}
		})
	}
}

// TestUsedLinkHasAWayOn: the page for a link that no longer works says
// where the working one is and links the form.
func TestUsedLinkHasAWayOn(t *testing.T) {
	p := &fakePortal{err: apperr.Keyed(apperr.NotFound, "error.link")}
	rec := httptest.NewRecorder()
	New(p, discardLog()).ServeHTTP(rec, httptest.NewRequest("GET", "/v1/requests/"+testID+"/verify?token=t&lang=en", nil))
	page := rec.Body.String()
	if rec.Code != 404 || !strings.Contains(page, "the most recent mail about your request") || !strings.Contains(page, `<a href="/?lang=en">Make a new request</a>`) {
		t.Fatalf("HTTP %d:\n%s", rec.Code, page)
	}
}

// TestDetailsCanBeFilledByTheBrowser: the details a person gives about
// themselves carry their autocomplete token (WCAG 1.3.5).
func TestDetailsCanBeFilledByTheBrowser(t *testing.T) {
	p := &fakePortal{requirement: portal.Requirement{DataPoints: 2, Kinds: []registry.Category{{ID: "name"}, {ID: "phone"}, {ID: "postal_code"}}}}
	rec := httptest.NewRecorder()
	New(p, discardLog()).ServeHTTP(rec, httptest.NewRequest("GET", "/v1/requests/"+testID+"/verify?token=t&lang=en", nil))
	page := rec.Body.String()
	for _, want := range []string{`id="name" name="name" maxlength="200" autocomplete="name"`, `autocomplete="tel"`, `autocomplete="postal-code"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}
