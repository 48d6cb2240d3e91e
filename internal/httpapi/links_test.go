package httpapi

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/links"
)

// TestLinksReachRoutes: every address the pipeline gives out, used as it is
// used (a link opened, a form posted, an upload put), reaches a route this
// API serves.
func TestLinksReachRoutes(t *testing.T) {
	mux := http.NewServeMux()
	for _, route := range servedRoutes(t) {
		mux.HandleFunc(route, func(http.ResponseWriter, *http.Request) {})
	}
	const base links.Base = "https://privacy.example.com"
	const token = "st-123"
	tests := []struct{ name, method, link string }{
		{"submit", "POST", base.Submit()},
		{"status", "GET", base.Status(testID, token)},
		{"verification link", "GET", base.Verify(testID, token, "de")},
		{"verification form", "POST", links.VerifyAction(testID)},
		{"code page", "GET", base.Code(testID, "de")},
		{"code form", "POST", links.CodeAction(testID)},
		{"download link", "GET", base.Download(testID, token, "de")},
		{"opt-out form", "GET", base.Form("US-CA", "de")},
		{"appeal form", "GET", base.Appeal("US-VA", testID, "de")},
		{"status page", "GET", links.StatusPage(testID, token, "de")},
		{"permission page", "GET", links.Permission(testID, token, "de")},
		{"permission form", "POST", links.Permission(testID, token, "de")},
		{"permission upload", "PUT", links.Permission(testID, token, "de")},
		{"form page", "GET", links.FormPage("de")},
		{"task link", "GET", base.Task(testID, "crm", token)},
		{"task form", "POST", links.TaskAction(testID, "crm")},
	}
	for _, tt := range tests {
		_, pattern := mux.Handler(httptest.NewRequest(tt.method, tt.link, nil))
		if pattern == "" {
			t.Errorf("%s: %s %s reaches no route", tt.name, tt.method, tt.link)
		}
	}
}
