package httpapi

import (
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/portal"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// TestSubmitReadsCorrections: the new values of a correction reach the
// portal from JSON ("corrections" object) and from a form
// ("corrections.<field>" fields); a mistyped object is named.
func TestSubmitReadsCorrections(t *testing.T) {
	form := url.Values{"type": {"correct"}, "email": {"ada@example.com"}, "jurisdiction": {"EU"},
		"corrections.name": {"Ada King"}, "corrections.phone": {"+44 20 7946 0000"}}.Encode()
	tests := []struct {
		name, ctype, body string
		want              *request.Corrections
		wantStatus        int
	}{
		{"JSON", "application/json", `{"type":"correct","email":"ada@example.com","jurisdiction":"EU","corrections":{"name":"Ada King","phone":"+44 20 7946 0000"}}`,
			&request.Corrections{"name": "Ada King", "phone": "+44 20 7946 0000"}, 202},
		{"form", "application/x-www-form-urlencoded", form, &request.Corrections{"name": "Ada King", "phone": "+44 20 7946 0000"}, 202},
		{"JSON without corrections", "application/json", `{"type":"access","email":"ada@example.com","jurisdiction":"EU"}`, nil, 202},
		{"JSON with a list", "application/json", `{"type":"correct","email":"ada@example.com","jurisdiction":"EU","corrections":["Ada King"]}`, nil, 400},
		{"JSON with null", "application/json", `{"type":"correct","email":"ada@example.com","jurisdiction":"EU","corrections":null}`, nil, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &fakePortal{receipt: portal.Receipt{ID: testID, Status: "received", StatusURL: "https://x/s"}}
			req := httptest.NewRequest("POST", "/v1/requests", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", tt.ctype)
			rec := httptest.NewRecorder()
			New(p, discardLog()).ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("HTTP %d, want %d: %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if tt.wantStatus != 202 {
				if !strings.Contains(rec.Body.String(), `"corrections"`) || len(p.submitted) != 0 {
					t.Fatalf("answer %s, %d submissions", rec.Body, len(p.submitted))
				}
				return
			}
			if len(p.submitted) != 1 || !reflect.DeepEqual(p.submitted[0].Corrections, tt.want) {
				t.Fatalf("submitted %+v, want corrections %v", p.submitted, tt.want)
			}
		})
	}
}
