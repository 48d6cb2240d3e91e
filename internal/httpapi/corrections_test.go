package httpapi

import (
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/apperr"
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

// TestFormOffersCorrections: where a correction is offered, the form has an
// input for each field it may change, named as the catalogue names it; empty
// inputs change nothing (another request type gets no corrections); an
// invalid value is said beside its input, which keeps what was typed.
func TestFormOffersCorrections(t *testing.T) {
	offers := []portal.Offer{{Type: request.Access, Verification: true},
		{Type: request.Correct, Verification: true, Fields: []string{"phone", "loyalty_tier"}}}
	p := &fakePortal{offers: offers, receipt: portal.Receipt{ID: testID, Status: "received", StatusURL: "https://x/s"}}
	h := New(p, discardLog())

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/?jurisdiction=EU&lang=de", nil))
	page := rec.Body.String()
	for _, want := range []string{`<legend>Für eine Berichtigung: die neuen Angaben</legend>`,
		`<label for="correct-phone">Telefonnummer</label>`, `name="corrections.phone"`,
		`<label for="correct-loyalty_tier">loyalty tier</label>`, `name="corrections.loyalty_tier"`} {
		if !strings.Contains(page, want) {
			t.Errorf("form lacks %s", want)
		}
	}

	post := func(form url.Values) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/v1/requests", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	access := url.Values{"type": {"access"}, "email": {"ada@example.com"}, "jurisdiction": {"EU"}, "corrections.phone": {""}, "corrections.loyalty_tier": {" "}}
	if rec := post(access); rec.Code != 202 || len(p.submitted) != 1 || p.submitted[0].Corrections != nil {
		t.Fatalf("access with empty correction inputs: HTTP %d, submitted %+v", rec.Code, p.submitted)
	}

	p.err = apperr.InvalidFields(apperr.Field("corrections.phone", "error.corrections.value", "max", "256"))
	bad := url.Values{"type": {"correct"}, "email": {"ada@example.com"}, "jurisdiction": {"EU"}, "language": {"en"}, "corrections.phone": {"12\x7f"}}
	rec = post(bad)
	page = rec.Body.String()
	if rec.Code != 400 || !strings.Contains(page, `href="#correct-phone"`) || !strings.Contains(page, `id="corrections.phone-error"`) ||
		!strings.Contains(page, `aria-invalid="true"`) || !strings.Contains(page, `value="12`) {
		t.Fatalf("invalid correction: HTTP %d\n%s", rec.Code, page)
	}
}
