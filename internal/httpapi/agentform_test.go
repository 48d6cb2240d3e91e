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
