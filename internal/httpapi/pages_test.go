package httpapi

import (
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/i18n"
	"github.com/privacy-pipeline/dsr/internal/manualtask"
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
			if len(links) != len(i18n.Supported)-1 || !strings.Contains(page, `<span lang="de" aria-current="true">`) {
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

// TestEveryTemplateFitsItsView: each page template runs with the view its
// handler gives it, in its fullest form, without an error (render logs one
// and the page would be cut short).
func TestEveryTemplateFitsItsView(t *testing.T) {
	l := i18n.English
	f := frame{L: l, Title: "t", Step: "s", Errors: []summaryError{{Target: "email", Text: "x"}}}
	details := &detailsView{Need: 1, Legend: "d", Kinds: []detailKind{{ID: "name", Label: "Name", Autocomplete: "name"}}, Declaration: true, DetailsError: "e", SignatureError: "e"}
	code := codeForm{CodeAction: "/c", CodeError: "e", Code: "ABCD", Details: details}
	form := &formView{L: l, Jurisdiction: "US-VA", LawName: "Virginia", Choices: []choice{{ID: "type", Value: "access", Label: "A"}},
		Corrections: []correctionInput{{ID: "correct-name", Name: "corrections.name", Label: "Name"}}, Appeal: true, AppealOf: testID,
		Groups: []lawGroup{{Label: "g", Laws: []law{{Code: "EU", Name: "EU"}}}}, fieldErrors: map[string]string{"email": "x"}}
	views := map[string]view{
		"law":        &formPage{frame: f, Form: form},
		"form":       &formPage{frame: f, Form: form},
		"done":       &donePage{frame: f, Done: &doneView{ID: testID, StatusLink: "/s", ResultKey: "done.next.access", Verification: true}, codeForm: code},
		"done agent": &donePage{frame: f, Done: &doneView{ID: testID, StatusLink: "/s", ResultKey: "done.next.access"}, Upload: &uploadForm{Action: "/u", Problem: "p"}},
		"upload":     &uploadPage{frame: f, Upload: &uploadForm{Action: "/u", Problem: "p"}},
		"verify":     &confirmPage{frame: f, ID: testID, Action: "/v", Token: "t", Corrects: "name", codeForm: codeForm{Details: details}},
		"code":       &confirmPage{frame: f, ID: testID, codeForm: code},
		"confirmed":  &confirmedPage{frame: f, ID: testID},
		"status":     &statusPage{frame: f, Status: &statusView{ID: testID, Completed: "today", Extended: true}},
		"error":      &messagePage{frame: f, Message: "m", Link: "/", LinkText: "form"},
		"permission": &messagePage{frame: f, Message: "m", Link: "/s", LinkText: "status"},
		"task": &taskPage{frame: f, Task: &taskView{Intro: "i", Due: "d", Action: "/t", Export: true,
			Identities: []manualtask.Identity{{Kind: "crm_id", Values: []string{"c-1", "c-2"}}}}, Problem: "p"},
		"task erasure": &taskPage{frame: f, Task: &taskView{Intro: "i", Due: "d", Action: "/t"}},
		"taskdone":     &messagePage{frame: f, Message: "m"},
	}
	for name, v := range views {
		tmpl, _, _ := strings.Cut(name, " ")
		var b strings.Builder
		if err := pages.ExecuteTemplate(&b, tmpl, v); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if !strings.HasSuffix(strings.TrimSpace(b.String()), "</html>") {
			t.Errorf("%s: the page is cut short", name)
		}
	}
	for _, tmpl := range pages.Templates() {
		switch tmpl.Name() {
		case "", "head", "foot", "fielderror", "permissionform", "codeform", "details",
			"code.html", "confirmed.html", "done.html", "error.html", "form.html", "law.html", "layout.html", "permission.html", "task.html", "status.html", "upload.html", "verify.html":
			continue
		}
		if _, ok := views[tmpl.Name()]; !ok {
			t.Errorf("template %q has no view in this test", tmpl.Name())
		}
	}
}
