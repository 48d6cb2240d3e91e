package recipient

import (
	"slices"
	"testing"
)

// Every type a recipient may be told of asks something of it; others ask
// nothing.
func TestAction(t *testing.T) {
	tests := []struct {
		typ  string
		want string
		ok   bool
	}{
		{"delete", "erase", true},
		{"correct", "correct", true},
		{"restrict", "restrict", true},
		{"opt_out", "stop_selling_sharing", true},
		{"limit", "limit_use", true},
		{"access", "", false},
		{"object", "", false},
	}
	for _, tt := range tests {
		got, ok := Action(tt.typ)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Action(%q) = %q, %v; want %q, %v", tt.typ, got, ok, tt.want, tt.ok)
		}
	}
}

func TestCitation(t *testing.T) {
	tests := []struct {
		jurisdiction, typ, want string
	}{
		{"EU", "delete", "GDPR Art 19"},
		{"EEA-NO", "restrict", "GDPR Art 19"},
		{"UK", "correct", "UK GDPR Art 19"},
		{"EU", "opt_out", ""}, // no such right under the GDPR
		{"US-CA", "delete", "Cal. Code Regs. tit. 11 §7022(b)"},
		{"US-CA", "opt_out", "Cal. Code Regs. tit. 11 §7026(f)"},
		{"US-CA", "restrict", ""},
		{"US-VA", "delete", ""},
	}
	for _, tt := range tests {
		if got := Citation(tt.jurisdiction, tt.typ); got != tt.want {
			t.Errorf("Citation(%q, %q) = %q, want %q", tt.jurisdiction, tt.typ, got, tt.want)
		}
	}
}

func TestFinal(t *testing.T) {
	var final []Status
	for _, s := range []Status{Told, Retrying, Unreached} {
		if (Delivery{Status: s}).Final() {
			final = append(final, s)
		}
	}
	if !slices.Equal(final, []Status{Told, Unreached}) {
		t.Fatalf("final statuses %v, want told and unreached", final)
	}
}
