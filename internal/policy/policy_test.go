package policy

import (
	"github.com/privacy-pipeline/dsr/internal/i18n"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/statute"
)

var known = Known{Languages: []string{"en", "de", "fi", "nb", "sv"}, RequestTypes: []string{"access", "delete", "opt_out"}}

// The examples the README shows are valid policies.
func TestExamples(t *testing.T) {
	files, err := filepath.Glob("examples/*.yaml")
	if err != nil || len(files) < 2 {
		t.Fatalf("examples %v, %v", files, err)
	}
	for _, f := range files {
		p, err := LoadFile(f, known)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if p.Extensions == "" || p.Undecided == "" {
			t.Errorf("%s: defaults not set: %+v", f, p)
		}
	}
	p, _ := LoadFile("examples/norway.yaml", known)
	if p.ResponseDays != 30 || p.LeadAuthority.Name != "Datatilsynet" || len(p.Languages) != 2 || p.Languages[0] != "nb" || p.ExtendsWithFacts() || p.ExtensionsForbidden() {
		t.Errorf("norway %+v", p)
	}
	p, _ = LoadFile("examples/california.yaml", known)
	if !p.ExtendsWithFacts() || p.Verification.DataPoints != 3 {
		t.Errorf("california %+v", p)
	}
}

func TestDefaults(t *testing.T) {
	p, err := Parse([]byte("{}\n"), known)
	if err != nil {
		t.Fatal(err)
	}
	if p.Extensions != ExtensionsAllowed || p.Undecided != UndecidedEscalate || p.ResponseDays != 0 {
		t.Fatalf("defaults %+v", p)
	}
	var none *Policy
	if none.ExtensionsForbidden() || none.ExtendsWithFacts() {
		t.Fatal("no policy is the law alone")
	}
	if none.DecisionLead() != 3*24*time.Hour || p.DecisionLead() != 3*24*time.Hour {
		t.Fatalf("operators asked %s / %s before the notice, want 3 days", none.DecisionLead(), p.DecisionLead())
	}
	asked, err := Parse([]byte("ask_extension_days_before: 10\n"), known)
	if err != nil || asked.DecisionLead() != 10*24*time.Hour {
		t.Fatalf("ask 10 days before: %v %v", asked, err)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key", "respond_days: 30\n", "respond_days"},
		{"a promise longer than any law", "response_days: 120\n", "line 1: $.response_days: 120 days is no promise"},
		{"a negative promise", "extensions: allowed\nresponse_days: -1\n", "line 2: $.response_days"},
		{"extensions", "extensions: sometimes\n", `line 1: $.extensions: "sometimes" is not a choice`},
		{"undecided", "undecided_extension: extend\n", `line 1: $.undecided_extension: "extend" is not a choice`},
		{"never, yet extend undecided", "extensions: never\nundecided_extension: extend_with_facts\n", "line 2: $.undecided_extension: the policy never extends"},
		{"privacy notice over http", "privacy_notice_url: http://example.com/privacy\n", `line 1: $.privacy_notice_url: "http://example.com/privacy" is not an https address`},
		{"asked too early", "ask_extension_days_before: 31\n", "line 1: $.ask_extension_days_before: 31 days: give 1 to 30"},
		{"asked, yet never extends", "extensions: never\nask_extension_days_before: 5\n", "line 2: $.ask_extension_days_before: the policy never extends"},
		{"authority without an address", "lead_authority:\n  name: Datatilsynet\n", "$.lead_authority.url: give the authority's web address"},
		{"authority over http", "lead_authority:\n  name: X\n  url: http://example.org\n", `line 3: $.lead_authority.url: "http://example.org" is not an https address`},
		{"dpo without a way to reach", "dpo:\n  name: Office\n", "line 2: $.dpo: give a url or an email"},
		{"dpo email", "dpo:\n  name: Office\n  email: not an address\n", `line 3: $.dpo.email`},
		{"unknown language", "languages: [en, fr]\n", `line 1: $.languages[1]: language "fr" has no catalogue`},
		{"language twice", "languages: [en, de, en]\n", `$.languages[2]: language "en" is listed twice`},
		{"verification asking nothing", "verification:\n  types: [delete]\n", "line 2: $.verification: asks nothing beyond the law"},
		{"verification of an unknown type", "verification:\n  data_points: 2\n  types: [erase]\n", `line 3: $.verification.types[0]: request type "erase"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), known)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func date(y int, m time.Month, d int) statute.Date {
	return statute.DateOf(time.Date(y, m, d, 12, 0, 0, 0, time.UTC), time.UTC)
}

// TestDeadlines: a promise shorter than the law's period moves the due date
// (and the last day for an extension notice) earlier, never later; a policy
// without extensions takes the extension away. Hand-derived:
//   - EU access received Fri 14 Mar 2025 (Brussels): the law's month ends
//     Mon 14 Apr 2025; 30 days from the day after receipt end Sun 13 Apr.
//   - US-CA access received 14 Mar 2025: 45 days end Mon 28 Apr; a promise
//     of 60 days (13 May) is later, so the law's date stands.
func TestDeadlines(t *testing.T) {
	notice := date(2025, 4, 14)
	extended := date(2025, 6, 16)
	eu := statute.Deadlines{Jurisdiction: "EU", Received: time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC), TimeZone: "Europe/Brussels",
		Due: date(2025, 4, 14), ExtensionAllowed: true, ExtensionNoticeBy: &notice, ExtendedDue: &extended}
	ca := statute.Deadlines{Jurisdiction: "US-CA", Received: time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC), TimeZone: "America/Los_Angeles",
		Due: date(2025, 4, 28)}
	tests := []struct {
		name       string
		p          *Policy
		in         statute.Deadlines
		due        statute.Date
		noticeBy   string
		extensible bool
	}{
		{"no policy", nil, eu, date(2025, 4, 14), "2025-04-14", true},
		{"a 30-day promise", &Policy{ResponseDays: 30}, eu, date(2025, 4, 13), "2025-04-13", true},
		{"a promise later than the law", &Policy{ResponseDays: 60}, ca, date(2025, 4, 28), "", false},
		{"no extensions", &Policy{Extensions: ExtensionsNever}, eu, date(2025, 4, 14), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.p.Deadlines(tt.in)
			by := ""
			if got.ExtensionNoticeBy != nil {
				by = got.ExtensionNoticeBy.String()
			}
			if got.Due != tt.due || by != tt.noticeBy || got.ExtensionAllowed != tt.extensible || (tt.extensible != (got.ExtendedDue != nil)) {
				t.Fatalf("due %s, notice by %q, extension %v %v", got.Due, by, got.ExtensionAllowed, got.ExtendedDue)
			}
			if tt.p != nil && tt.p.ResponseDays == 30 && !slices.ContainsFunc(got.Citations, func(c string) bool { return strings.Contains(c, "company policy") }) {
				t.Fatalf("citations %v", got.Citations)
			}
		})
	}
	if tt := tests[1]; tt.in.Due != date(2025, 4, 14) {
		t.Fatal("Deadlines changed its input")
	}
}

// TestLevel: stricter verification raises the law's level for the types
// named, and never asks where the law forbids asking.
func TestLevel(t *testing.T) {
	p := &Policy{Verification: &Verification{DataPoints: 3, Types: []string{"delete"}}}
	law := statute.Level{DataPoints: 2, Cite: "CCPA Regs §7062(d)"}
	if got := p.Level(law, "delete"); got.DataPoints != 3 || !strings.Contains(got.Cite, "company policy") {
		t.Fatalf("delete: %+v", got)
	}
	if got := p.Level(law, "access"); got != law {
		t.Fatalf("access: %+v", got)
	}
	forbidden := statute.Level{None: true, Cite: "CCPA Regs §7026(d)"}
	if got := (&Policy{Verification: &Verification{DataPoints: 2}}).Level(forbidden, "opt_out"); got != forbidden {
		t.Fatalf("opt_out: %+v", got)
	}
	if got := (*Policy)(nil).Level(law, "delete"); got != law {
		t.Fatalf("no policy: %+v", got)
	}
}

func TestLanguage(t *testing.T) {
	offered := &Policy{Languages: []string{"de", "en"}}
	tests := []struct {
		name string
		p    *Policy
		in   i18n.Lang
		want i18n.Lang
	}{
		{"no policy: the subject's own", nil, i18n.Finnish, i18n.Finnish},
		{"no list: the subject's own", &Policy{}, i18n.Finnish, i18n.Finnish},
		{"offered: the subject's own", offered, i18n.English, i18n.English},
		{"not offered: the first offered", offered, i18n.Finnish, i18n.German},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Language(tt.in); got != tt.want {
				t.Errorf("Language(%s) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}
