package statute

import (
	"strings"
	"testing"
)

func TestVerificationLevels(t *testing.T) {
	rules, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	v, err := LoadVerification(rules)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		jurisdiction, typ string
		sensitive         bool
		want              Level
		cite              string
	}{
		{"EU", "access", false, Level{}, "GDPR Art 12(6)"},
		{"EU", "delete", true, Level{}, "GDPR Art 12(6)"},
		{"UK", "opt_out", false, Level{None: true}, "§7026(d)"},
		{"US-CA", "opt_out", false, Level{None: true}, "§7026(d)"},
		{"US-CA", "limit", false, Level{None: true}, "§7027(e)"},
		{"US-CA", "access", false, Level{DataPoints: 3, Declaration: true}, "§7062(c)"},
		{"US-CA", "portability", true, Level{DataPoints: 3, Declaration: true}, "§7062(c)"},
		{"US-CA", "delete", false, Level{DataPoints: 2}, "§7062(d)"},
		{"US-CA", "delete", true, Level{DataPoints: 3}, "§7062(d)"},
		{"US-CA", "correct", false, Level{DataPoints: 2}, "§7062(d)"},
		{"US-CA", "appeal", false, Level{}, "GDPR Art 12(6)"},
		{"US-VA", "access", false, Level{}, "GDPR Art 12(6)"},
	}
	for _, tt := range tests {
		got := v.For(tt.jurisdiction, tt.typ, tt.sensitive)
		if !strings.Contains(got.Cite, tt.cite) {
			t.Errorf("%s %s: cite %q lacks %q", tt.jurisdiction, tt.typ, got.Cite, tt.cite)
		}
		got.Cite = ""
		if got != tt.want {
			t.Errorf("%s %s sensitive=%v: %+v, want %+v", tt.jurisdiction, tt.typ, tt.sensitive, got, tt.want)
		}
	}
}

func TestParseVerificationRefuses(t *testing.T) {
	rules, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	const def = "default: {cite: x, status: V}\nrules:\n"
	tests := []struct{ name, yaml, want string }{
		{"unknown jurisdiction", def + "  - {jurisdiction: XX, types: [access], data_points: 2, cite: c, status: V}", "unknown jurisdiction"},
		{"unknown type", def + "  - {jurisdiction: EU, types: [sell], data_points: 2, cite: c, status: V}", `unknown request type "sell"`},
		{"no type", def + "  - {jurisdiction: EU, types: [], data_points: 2, cite: c, status: V}", "names no request type"},
		{"no cite", def + "  - {jurisdiction: EU, types: [access], data_points: 2, status: V}", "needs a cite"},
		{"bad status", def + "  - {jurisdiction: EU, types: [access], data_points: 2, cite: c, status: X}", "needs a cite"},
		{"nothing asked", def + "  - {jurisdiction: EU, types: [access], cite: c, status: V}", "data_points must be 1 or more"},
		{"none and more", def + "  - {jurisdiction: EU, types: [opt_out], none: true, declaration: true, cite: c, status: V}", "none asks for nothing else"},
		{"sensitive below", def + "  - {jurisdiction: EU, types: [delete], data_points: 3, sensitive_data_points: 2, cite: c, status: V}", "below data_points"},
		{"twice", def + "  - {jurisdiction: EU, types: [access], data_points: 2, cite: c, status: V}\n  - {jurisdiction: EU, types: [access], data_points: 3, cite: c, status: V}", "a second rule"},
		{"unknown key", def + "  - {jurisdiction: EU, types: [access], data_points: 2, cite: c, status: V, points: 4}", "unknown field"},
		{"no default", "rules: []", "default: needs a cite"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseVerification([]byte(tt.yaml), rules)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one saying %q", err, tt.want)
			}
		})
	}
}
