package httpapi

import (
	"html"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/portal"
)

// TestAgentByWebForm: an authorized agent uses the web form: the request
// names the subject and the agent; the page after it asks for the signed
// permission (not the mailed code, which goes to the subject) and posts it
// with the status token; the upload reaches the portal as the API's does.
func TestAgentByWebForm(t *testing.T) {
	p := &fakePortal{receipt: portal.Receipt{ID: testID, Status: "received", StatusURL: "https://dsr.example/v1/requests/" + testID + "?token=st-123"}}
	h := New(p, discardLog())

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/?jurisdiction=US-CA", nil))
	if page := rec.Body.String(); !strings.Contains(page, `name="agent_email"`) || !strings.Contains(page, "Only if you act for someone else") {
		t.Fatalf("the form has no agent field:\n%s", page)
	}

	form := url.Values{"type": {"access"}, "email": {"li.wei@example.net"}, "agent_email": {"agent@firm.example"}, "jurisdiction": {"US-CA"}, "language": {"en"}}
	req := httptest.NewRequest("POST", "/v1/requests", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	page := rec.Body.String()
	if rec.Code != 202 || len(p.submitted) != 1 || p.submitted[0].AgentEmail != "agent@firm.example" || p.submitted[0].Email != "li.wei@example.net" {
		t.Fatalf("HTTP %d, submitted %+v", rec.Code, p.submitted)
	}
	action := regexp.MustCompile(`<form method="post" action="([^"]+)" enctype="multipart/form-data"`).FindStringSubmatch(page)
	if action == nil || strings.Contains(page, `name="code"`) {
		t.Fatalf("the page after an agent's submission has no upload form, or asks for the code:\n%s", page)
	}
	for _, want := range []string{"You send the signed permission (below).", "The answer goes to the person, never to you.", "send the permission later"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page after an agent's submission lacks %q", want)
		}
	}
	if strings.Contains(page, "enter the code") {
		t.Error("the agent is told to enter the code, which goes to the subject")
	}
	target := html.UnescapeString(action[1])
	if want := "/v1/requests/" + testID + "/permission?lang=en&token=st-123"; target != want {
		t.Fatalf("upload form posts to %s, want %s", target, want)
	}

	req = httptest.NewRequest("POST", target, strings.NewReader(multipartBody("application/pdf", "%PDF-1.7 signed", true)))
	req.Header.Set("Content-Type", multipartType)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 || len(p.uploads) != 1 {
		t.Fatalf("upload: HTTP %d, uploads %+v\n%s", rec.Code, p.uploads, rec.Body)
	}
	if u := p.uploads[0]; u.id != testID || u.token != "st-123" || u.contentType != "application/pdf" || u.size != len("%PDF-1.7 signed") || !u.poa {
		t.Fatalf("upload %+v", u)
	}
	if !strings.Contains(rec.Body.String(), "we have the power of attorney") {
		t.Fatalf("answer page:\n%s", rec.Body)
	}

	// A file the browser labels as something we do not take is sniffed.
	req = httptest.NewRequest("POST", target, strings.NewReader(multipartBody("application/octet-stream", "%PDF-1.7", false)))
	req.Header.Set("Content-Type", multipartType)
	h.ServeHTTP(httptest.NewRecorder(), req)
	if len(p.uploads) != 2 || p.uploads[1].contentType != "" || p.uploads[1].poa {
		t.Fatalf("second upload %+v, want no declared type and no power of attorney", p.uploads[1])
	}
}

// TestAgentUploadAgain: an upload the pipeline cannot take gets the form
// again with why, beside the file input; the agent can also open the form
// later with the link the page gives.
func TestAgentUploadAgain(t *testing.T) {
	p := &fakePortal{status: portal.Status{ID: testID, Type: "access", Status: "pending_verification"}}
	h := New(p, discardLog())
	target := "/v1/requests/" + testID + "/permission?token=st-123&lang=de"
	post := func(body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", target, strings.NewReader(body))
		req.Header.Set("Content-Type", multipartType)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	tests := []struct {
		name   string
		body   string
		status int
		want   string
	}{
		{"no file", multipartBody("", "", false), 400, "Wählen Sie die Datei mit der unterschriebenen Vollmacht."},
		{"a box that is not ticked", strings.Replace(multipartBody("application/pdf", "%PDF-1.7", true), "\r\ntrue\r\n", "\r\nyes\r\n", 1), 400, "Senden Sie die Vollmacht mit dem Formular auf dieser Seite."},
		{"too large", multipartBody("application/pdf", "%PDF-"+strings.Repeat("a", portal.MaxPermissionBytes+multipartOverhead), false), 413, "größer als 4 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := post(tt.body)
			page := rec.Body.String()
			if rec.Code != tt.status || !strings.Contains(page, tt.want) || !strings.Contains(page, `id="permission-error"`) ||
				!strings.Contains(page, `href="#permission"`) || !strings.Contains(page, `enctype="multipart/form-data"`) {
				t.Fatalf("HTTP %d, want %d and the form again with %q:\n%s", rec.Code, tt.status, tt.want, page)
			}
			if len(p.uploads) != 0 {
				t.Fatalf("uploads %+v", p.uploads)
			}
		})
	}

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `action="/v1/requests/`+testID+`/permission?lang=de&amp;token=st-123"`) {
		t.Fatalf("the upload page: HTTP %d\n%s", rec.Code, rec.Body)
	}
}
