package i18n

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestCatalogueComplete: every language has exactly the keys of every other,
// no text is empty, and each key has the same placeholders in every language
// (a translation that drops {id} or invents {date} would render wrongly).
func TestCatalogueComplete(t *testing.T) {
	c, err := load()
	if err != nil {
		t.Fatal(err)
	}
	all := map[string]bool{}
	for _, l := range Supported {
		for k := range c[l] {
			all[k] = true
		}
	}
	if len(all) < 100 {
		t.Fatalf("only %d keys: the catalogue did not load", len(all))
	}
	for _, key := range slices.Sorted(maps.Keys(all)) {
		want := placeholders(c[English][key])
		for _, l := range Supported {
			text, ok := c[l][key]
			switch {
			case !ok:
				t.Errorf("%s: %q is missing", l, key)
			case strings.TrimSpace(text) == "":
				t.Errorf("%s: %q is empty", l, key)
			case !slices.Equal(placeholders(text), want):
				t.Errorf("%s: %q has placeholders %v, English has %v", l, key, placeholders(text), want)
			}
		}
	}
}

func TestLoadRejectsDuplicateKeys(t *testing.T) {
	var texts map[string]string
	if err := unmarshalStrict([]byte("a: \"x\"\na: \"y\"\n"), &texts); err == nil {
		t.Fatal("a repeated key was accepted")
	}
}

func TestFromAcceptLanguage(t *testing.T) {
	tests := []struct {
		header string
		want   Lang
	}{
		{"", English},
		{"de", German},
		{"de-AT,de;q=0.9", German},
		{"fi-FI", Finnish},
		{"fr-FR, fi;q=0.5, de;q=0.4", Finnish}, // French is not spoken: the next by q
		{"en;q=0.2, de;q=0.8", German},         // order in the header does not matter, q does
		{"de;q=0, fi;q=0.1", Finnish},          // q=0 means "not this one"
		{"sv-FI", Swedish},                     // Swedish in Finland is Swedish, not Finnish
		{"sv-SE,sv;q=0.9,en;q=0.5", Swedish},
		{"nb-NO", Norwegian},
		{"no", Norwegian},            // Norwegian with no written standard named
		{"nn-NO", Norwegian},         // a reader of Nynorsk reads Bokmål
		{"da-DK", Norwegian},         // Danish readers read Bokmål better than English (x/text's matcher)
		{"da-DK, en;q=0.8", English}, // but English, where they speak it
		{"*", English},
		{"en-GB,en;q=0.9", English},
		{"xx-invalid-;;q=abc", English},        // malformed: the default
		{strings.Repeat("de,", 1000), English}, // oversized: not parsed
	}
	for _, tt := range tests {
		if got := FromAcceptLanguage(tt.header); got != tt.want {
			t.Errorf("FromAcceptLanguage(%.40q) = %s, want %s", tt.header, got, tt.want)
		}
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		code string
		want Lang
		ok   bool
	}{
		{"de", German, true},
		{"DE", German, true},
		{"fi-FI", Finnish, true},
		{"nb", Norwegian, true},
		{"no", Norwegian, true},
		{"nn-NO", Norwegian, true},
		{"SV-se", Swedish, true},
		{"da", "", false},
		{"en", English, true},
		{"fr", "", false},
		{"", "", false},
		{"de;drop", "", false},
		{strings.Repeat("a", 40), "", false},
	}
	for _, tt := range tests {
		got, ok := Parse(tt.code)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("Parse(%q) = %s, %v; want %s, %v", tt.code, got, ok, tt.want, tt.ok)
		}
	}
}

func TestT(t *testing.T) {
	tests := []struct {
		name string
		l    Lang
		key  string
		args []string
		want string
	}{
		{"fills placeholders", German, "mail.verify.subject", []string{"id", "dsr-1"}, "Bestätigen Sie Ihre Datenschutzanfrage dsr-1"},
		{"unknown key shows itself", English, "no.such.key", nil, "no.such.key"},
		{"missing value stays visible", Finnish, "mail.ack.received", []string{"id", "dsr-1"}, "Vastaanotimme pyyntösi dsr-1 {date}."},
		{"values are not expanded again", English, "done.reference", []string{"id", "{id}"}, "Your request {id} was received."},
		{"unknown language speaks English", Lang("xx"), "form.submit", nil, "Send request"},
	}
	for _, tt := range tests {
		if got := tt.l.T(tt.key, tt.args...); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestDates(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 5, 0, 0, time.UTC)
	tests := []struct {
		l              Lang
		date, dateTime string
	}{
		{English, "2 March 2026", "2 March 2026, 09:05 UTC"},
		{German, "2. März 2026", "2. März 2026, 09:05 Uhr UTC"},
		{Finnish, "2. maaliskuuta 2026", "2. maaliskuuta 2026 klo 09.05 UTC"},
		{Norwegian, "2. mars 2026", "2. mars 2026 kl. 09.05 UTC"},
		{Swedish, "2 mars 2026", "2 mars 2026 kl. 09.05 UTC"},
	}
	for _, tt := range tests {
		if got := tt.l.Date(at); got != tt.date {
			t.Errorf("%s date: %q, want %q", tt.l, got, tt.date)
		}
		if got := tt.l.DateTime(at); got != tt.dateTime {
			t.Errorf("%s date-time: %q, want %q", tt.l, got, tt.dateTime)
		}
	}
}

func TestCount(t *testing.T) {
	tests := []struct {
		l    Lang
		n    int
		want string
	}{
		{English, 1, "1 record"},
		{English, 0, "0 records"},
		{German, 2, "2 Datensätze"},
		{Finnish, 3, "3 tietuetta"},
		{Norwegian, 1, "1 oppføring"},
		{Swedish, 500, "500 poster"},
	}
	for _, tt := range tests {
		if got := tt.l.Count("mail.records", tt.n); got != tt.want {
			t.Errorf("%s %d: %q, want %q", tt.l, tt.n, got, tt.want)
		}
	}
}
