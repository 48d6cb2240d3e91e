package statute_test

import (
	"slices"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/statute"
)

// TestRulesMatchRequestJurisdictions: every code a request may name has rules,
// every jurisdiction in the rules may be named, and each gives a deadline for
// the request types the workflow carries out.
func TestRulesMatchRequestJurisdictions(t *testing.T) {
	r, err := statute.Load()
	if err != nil {
		t.Fatalf("rules.yaml: %v", err)
	}
	for i, code := range request.Jurisdictions {
		if slices.Contains(request.Jurisdictions[:i], code) {
			t.Errorf("request.Jurisdictions names %s twice", code)
		}
		if r.Jurisdiction(code) == nil {
			t.Errorf("request.Jurisdictions names %s, which rules.yaml does not define", code)
		}
	}
	for _, code := range r.Codes() {
		if !slices.Contains(request.Jurisdictions, code) {
			t.Errorf("rules.yaml defines %s, which request.Jurisdictions does not list", code)
		}
	}
	for _, code := range r.Codes() {
		for _, typ := range []request.Type{request.Access, request.Delete} {
			in := statute.Input{Jurisdiction: code, Type: string(typ), Received: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
			if _, err := r.Compute(in); err != nil {
				t.Errorf("%s %s: %v", code, typ, err)
			}
		}
	}
}
