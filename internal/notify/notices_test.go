package notify

import (
	"errors"
	"html"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/i18n"
	"github.com/privacy-pipeline/dsr/internal/statute"
)

// remedyFor is what the workflow gives notify for a notice's content: the
// rule's elements and what they name.
func remedyFor(c statute.NoticeContent, lead Authority) Remedy {
	r := Remedy{Elements: c.Carries, Law: c.Law, Lead: lead, OptOutLink: "https://privacy.example.com/?jurisdiction=X"}
	if a := c.Authority; a != nil {
		r.Authority, r.Members = Authority{Name: a.Name, URL: a.URL}, a.Members
	}
	return r
}

// renderNotice renders the notice of kind for a request of type typ.
func renderNotice(l i18n.Lang, typ string, kind statute.NoticeKind, r Remedy) (Message, error) {
	reasons := []string{"Manifestly excessive."}
	switch kind {
	case statute.AckNotice:
		return Acknowledgement(l, "a@b.co", "dsr-1", typ, received, due, r)
	case statute.ExtensionNotice:
		return Extension(l, "a@b.co", "dsr-1", []string{"A supplier holds part of your data."}, due, r)
	case statute.UnverifiedNotice:
		return NeverVerified(l, "a@b.co", "dsr-1", r)
	case statute.PartialNotice:
		return Erased(l, "a@b.co", "dsr-1", ErasureSummary{Retained: []Retained{{What: "Invoices", Records: 1, Reason: "Tax audits.",
			Citation: "AO § 147(3)", Until: time.Date(2036, 3, 1, 0, 0, 0, 0, time.UTC)}}}, r)
	}
	if typ == "appeal" {
		return AppealDecided(l, "a@b.co", "dsr-1", false, reasons, r)
	}
	return Denial(l, "a@b.co", "dsr-1", reasons, r)
}

var placeholderSplit = regexp.MustCompile(`\{[a-z_]+\}`)

// markers are, for each way an element can be said in l (the catalogue's
// text of remedy.<element> and of its variants), the longest stretch of that
// text without a placeholder: a notice says the element if one is in it.
func markers(l i18n.Lang, element string) []string {
	var ms []string
	for _, variant := range []string{"", ".lead", ".member_state", ".section", ".reply", ".link"} {
		key := "remedy." + element + variant
		if !i18n.Has(key) {
			continue
		}
		longest := ""
		for _, part := range placeholderSplit.Split(l.T(key), -1) {
			if part = strings.TrimSpace(part); len(part) > len(longest) {
				longest = part
			}
		}
		ms = append(ms, longest)
	}
	return ms
}

// saysElement reports whether body says the element in l.
func saysElement(l i18n.Lang, element, body string) bool {
	return slices.ContainsFunc(markers(l, element), func(m string) bool { return strings.Contains(body, m) })
}

// appealWords are what an offer of an appeal says in each language, in any
// wording: none may appear where the law gives no appeal. (Finnish "hakea
// muutosta" also means going to court, so only the noun is looked for;
// Norwegian "klage" is also the complaint to an authority, "klage til", so
// only "klage på", a complaint about our decision, is.)
var appealWords = map[i18n.Lang]string{i18n.English: "appeal", i18n.German: "einspruch", i18n.Finnish: "muutoksenhaku",
	i18n.Norwegian: "klage på", i18n.Swedish: "överklag"}

// TestEveryNoticeCarriesWhatTheLawRequires renders, for every jurisdiction
// in the rules, every request type it gives and every language, the
// acknowledgement, the extension notice, the denial (for an appeal: the
// decision denying it), the notice closing an unverified request and the
// notice of a deletion in part, and checks in the text and the HTML that
// each element the rule lists is said, with the authority's name and
// address where it names one; that no notice offers an appeal where the
// rule has none; and that a denied appeal offers no further appeal.
func TestEveryNoticeCarriesWhatTheLawRequires(t *testing.T) {
	rules, err := statute.Load()
	if err != nil {
		t.Fatal(err)
	}
	lead := Authority{Name: "Lead Authority <test>", URL: "https://lead.example/complaints"}
	checked := map[string]bool{}
	for _, code := range rules.Codes() {
		appealGiven, _ := rules.Grants(code, "appeal")
		for _, typ := range statute.RequestTypes {
			for _, kind := range statute.NoticeKinds {
				c, err := rules.Notice(code, typ, kind)
				if errors.Is(err, statute.ErrNotProvided) {
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				if kind == statute.PartialNotice && typ != "delete" {
					continue // only a deletion is carried out in part
				}
				for _, l := range i18n.Supported {
					for _, withLead := range []bool{false, true} {
						r := remedyFor(c, Authority{})
						if withLead {
							r = remedyFor(c, lead)
						}
						m, err := renderNotice(l, typ, kind, r)
						if err != nil {
							t.Fatalf("%s %s %s %s: %v", code, typ, kind, l, err)
						}
						at := strings.Join([]string{code, typ, string(kind), string(l)}, " ")
						for part, body := range map[string]string{"text": m.Text, "html": html.UnescapeString(m.HTML)} {
							for _, e := range c.Carries {
								checked[e] = true
								if !saysElement(l, e, body) {
									t.Errorf("%s %s: does not say %s:\n%s", at, part, e, body)
								}
							}
							if a := c.Authority; a != nil {
								for _, want := range []string{a.Name, a.URL, a.Members} {
									if !strings.Contains(body, want) {
										t.Errorf("%s %s: does not name %q:\n%s", at, part, want, body)
									}
								}
								if a.Name == "" && withLead && (!strings.Contains(body, lead.Name) || !strings.Contains(body, lead.URL)) {
									t.Errorf("%s %s: does not name the company's lead authority:\n%s", at, part, body)
								}
								if a.Name != "" && strings.Contains(body, lead.URL) {
									t.Errorf("%s %s: names the company's lead where the law names its own:\n%s", at, part, body)
								}
							}
							if slices.Contains(c.Carries, statute.ProvisionReliedOn) && !strings.Contains(body, c.Law) {
								t.Errorf("%s %s: does not name the law relied on:\n%s", at, part, body)
							}
							if slices.Contains(c.Carries, statute.OptOutOffer) && !strings.Contains(body, r.OptOutLink) {
								t.Errorf("%s %s: the opt-out offer has no link:\n%s", at, part, body)
							}
							if !slices.Contains(c.Carries, statute.Appeal) && saysElement(l, statute.Appeal, body) {
								t.Errorf("%s %s: offers an appeal the rule does not list:\n%s", at, part, body)
							}
							// Where the law gives no appeal, no wording may offer one.
							if !appealGiven && strings.Contains(strings.ToLower(body), appealWords[l]) {
								t.Errorf("%s %s: speaks of an appeal the law does not give:\n%s", at, part, body)
							}
						}
					}
				}
			}
		}
	}
	// Every element the rules can name was rendered somewhere, so none is
	// left to a law not yet in the rules file untested.
	for _, e := range statute.Elements {
		if !checked[e] {
			t.Errorf("no rule carries %s: its texts are untested", e)
		}
	}
}

// TestEveryElementInEveryLanguage: each element has its text, and the same
// variants, in every language.
func TestEveryElementInEveryLanguage(t *testing.T) {
	for _, e := range statute.Elements {
		if !i18n.Has("remedy." + e) {
			t.Errorf("remedy.%s is not in the catalogue", e)
		}
		for _, l := range i18n.Supported {
			if ms := markers(l, e); len(ms) == 0 || slices.Contains(ms, "") {
				t.Errorf("%s %s: no text to recognise it by: %q", l, e, ms)
			}
		}
	}
}

// TestDeniedAppealOffersNoAppeal: whatever the remedy, a decision denying an
// appeal is not itself offered for appeal, and a granted one carries no
// remedy at all.
func TestDeniedAppealOffersNoAppeal(t *testing.T) {
	for _, l := range i18n.Supported {
		r := Remedy{Elements: []string{"ag_complaint"}, Authority: Authority{Name: "AG", URL: "https://ag.example"}}
		denied, err := AppealDecided(l, "a@b.co", "dsr-1", false, []string{"Exempt."}, r)
		if err != nil {
			t.Fatal(err)
		}
		if saysElement(l, statute.Appeal, denied.Text) || !saysElement(l, statute.AGComplaint, denied.Text) {
			t.Errorf("%s: denied appeal:\n%s", l, denied.Text)
		}
		granted, _ := AppealDecided(l, "a@b.co", "dsr-1", true, []string{"Found."}, r)
		if strings.Contains(granted.Text, "https://ag.example") {
			t.Errorf("%s: a granted appeal names the Attorney General:\n%s", l, granted.Text)
		}
	}
}

// TestNotControllerSaysWho: the LGPD lets us answer that we are not the
// controller only together with who is.
func TestNotControllerSaysWho(t *testing.T) {
	if _, err := NotController(i18n.English, "a@b.co", "dsr-1", Authority{}); err == nil {
		t.Fatal("a notice without the controller was written")
	}
	for _, l := range i18n.Supported {
		m, err := NotController(l, "a@b.co", "dsr-1", Authority{Name: "Loja Exemplo Ltda.", URL: "privacidade@loja.example"})
		if err != nil || !strings.Contains(m.Text, "Loja Exemplo Ltda. (privacidade@loja.example)") {
			t.Errorf("%s: %v\n%s", l, err, m.Text)
		}
	}
}
