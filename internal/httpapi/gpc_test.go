package httpapi

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/portal"
)

// TestSubmitPassesGPC: `Sec-GPC: 1`, and only that value, reaches the portal
// with the submission, from JSON and from the form.
func TestSubmitPassesGPC(t *testing.T) {
	form := url.Values{"type": {"access"}, "email": {"ada@example.com"}, "jurisdiction": {"US-CA"}}.Encode()
	json := `{"type":"access","email":"ada@example.com","jurisdiction":"US-CA"}`
	tests := []struct {
		name, ctype, body, gpc string
		want                   bool
	}{
		{"JSON with GPC", "application/json", json, "1", true},
		{"form with GPC", "application/x-www-form-urlencoded", form, "1", true},
		{"JSON without GPC", "application/json", json, "", false},
		{"GPC 0", "application/json", json, "0", false},
		{"GPC not 1", "application/json", json, "yes", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &fakePortal{receipt: portal.Receipt{ID: testID, Status: "received", StatusURL: "https://x/s"}}
			req := httptest.NewRequest("POST", "/v1/requests", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", tt.ctype)
			if tt.gpc != "" {
				req.Header.Set("Sec-GPC", tt.gpc)
			}
			New(p, discardLog()).ServeHTTP(httptest.NewRecorder(), req)
			if len(p.submitted) != 1 || p.submitted[0].GPC != tt.want {
				t.Fatalf("submitted %+v, want GPC %v", p.submitted, tt.want)
			}
		})
	}
}
