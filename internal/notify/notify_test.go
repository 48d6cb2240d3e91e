package notify

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/i18n"
)

var (
	link     = "https://privacy.example.com/v1/requests/dsr-1/verify?token=a&b=<c>"
	expires  = time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	received = time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC)
	due      = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
)

// builders makes every message to a subject in language l.
func builders(l i18n.Lang) map[string]func() (Message, error) {
	return map[string]func() (Message, error){
		"verification": func() (Message, error) {
			return Verification(l, "a@b.co", "dsr-1", "access", link, "BCDF-2345", "https://privacy.example.com/v1/requests/dsr-1/code", expires, nil)
		},
		"verification of a correction": func() (Message, error) {
			return Verification(l, "a@b.co", "dsr-1", "correct", link, "BCDF-2345", "https://privacy.example.com/v1/requests/dsr-1/code", expires, []string{"phone", "loyalty_tier"})
		},
		"verification for an agent's request": func() (Message, error) {
			return VerificationForAgent(l, "a@b.co", "dsr-1", "delete", "agent<x>@example.net", link, "BCDF-2345", "https://privacy.example.com/v1/requests/dsr-1/code", expires, []string{"name"})
		},
		"verification locked": func() (Message, error) { return VerificationLocked(l, "a@b.co", "dsr-1") },
		"download":            func() (Message, error) { return DownloadReady(l, "a@b.co", "dsr-1", link, expires) },
		"erased":              func() (Message, error) { return Erased(l, "a@b.co", "dsr-1", ErasureSummary{}, Remedy{}) },
		"erased, some kept": func() (Message, error) {
			return Erased(l, "a@b.co", "dsr-1", ErasureSummary{
				Retained: []Retained{{What: "Invoices <PDF>", Records: 2, Reason: "Tax audits.", Citation: "AO § 147(3)",
					Until: time.Date(2036, 3, 1, 0, 0, 0, 0, time.UTC)}},
				Anonymized: []Anonymized{{What: "Product reviews", Records: 1, Fields: []string{"email", "author_name"}}},
			}, Remedy{Elements: []string{"retained_use_limited"}})
		},
		"dry run": func() (Message, error) {
			return DryRun(l, "a@b.co", "dsr-1", ErasureSummary{
				Deleted:    []Deleted{{What: "Customer accounts", Records: 1}},
				Anonymized: []Anonymized{{What: "Product reviews", Records: 2, Fields: []string{"email"}}},
				Retained: []Retained{{What: "Invoices", Records: 1, Reason: "Tax audits.", Citation: "AO § 147(3)",
					Until: time.Date(2036, 3, 1, 0, 0, 0, 0, time.UTC)}},
			})
		},
		"dry run, nothing": func() (Message, error) { return DryRun(l, "a@b.co", "dsr-1", ErasureSummary{}) },
		"expired": func() (Message, error) {
			return NeverVerified(l, "a@b.co", "dsr-1", Remedy{Elements: []string{"supervisory_authority", "judicial_remedy"}, Members: "https://edpb.europa.eu/about-edpb/about-edpb/members_en"})
		},
		"acknowledgement": func() (Message, error) {
			return Acknowledgement(l, "a@b.co", "dsr-1", "access", received, due, Remedy{})
		},
		"acknowledgement under the CCPA": func() (Message, error) {
			return Acknowledgement(l, "a@b.co", "dsr-1", "delete", received, due, Remedy{Elements: []string{"verification_process", "how_handled"}})
		},
		"extension": func() (Message, error) {
			return Extension(l, "a@b.co", "dsr-1", []string{"Archives <offsite>.", "A supplier holds part."}, time.Date(2026, 4, 30, 0, 0, 0, 0, time.UTC), Remedy{})
		},
		"extension for facts": func() (Message, error) {
			return ExtensionForFacts(l, "a@b.co", "dsr-1", []string{"legal_hold", "findings_open", "permission_awaited"}, due, Remedy{})
		},
		"denial": func() (Message, error) {
			return Denial(l, "a@b.co", "dsr-1", []string{"Manifestly unfounded."}, Remedy{Elements: []string{"supervisory_authority", "judicial_remedy"},
				Authority: Authority{Name: "Information Commissioner's Office", URL: "https://ico.org.uk"}})
		},
		"denial naming the DPO": func() (Message, error) {
			return Denial(l, "a@b.co", "dsr-1", []string{"Manifestly unfounded."}, Remedy{DPO: Authority{Name: "Privacy Office", URL: "dpo@example.com"}})
		},
		"denial with nothing to carry": func() (Message, error) {
			return Denial(l, "a@b.co", "dsr-1", []string{"Manifestly unfounded."}, Remedy{})
		},
		"appeal denied": func() (Message, error) {
			return AppealDecided(l, "a@b.co", "dsr-1", false, []string{"The data is exempt."}, Remedy{Elements: []string{"ag_complaint"},
				Authority: Authority{Name: "Office of the Attorney General of Virginia", URL: "https://ag.example/complaint?a=1&b=<2>"}})
		},
		"appeal granted": func() (Message, error) {
			return AppealDecided(l, "a@b.co", "dsr-1", true, []string{"We found the data."}, Remedy{Elements: []string{"ag_complaint"}})
		},
		"not the controller": func() (Message, error) {
			return NotController(l, "a@b.co", "dsr-1", Authority{Name: "Loja Exemplo Ltda.", URL: "privacidade@loja.example"})
		},
		"cancelled": func() (Message, error) { return Cancelled(l, "a@b.co", "dsr-1") },
		"opt-out":   func() (Message, error) { return Recorded(l, "a@b.co", "dsr-1", "opt_out", false) },
		"opt-out by GPC": func() (Message, error) {
			return Recorded(l, "a@b.co", "dsr-1", "opt_out", true)
		},
		"limit":       func() (Message, error) { return Recorded(l, "a@b.co", "dsr-1", "limit", false) },
		"restriction": func() (Message, error) { return Recorded(l, "a@b.co", "dsr-1", "restrict", false) },
		"objection":   func() (Message, error) { return Recorded(l, "a@b.co", "dsr-1", "object", false) },
		"joined":      func() (Message, error) { return Joined(l, "a@b.co", "dsr-1", "dsr-0") },
		"corrected": func() (Message, error) {
			return Corrected(l, "a@b.co", "dsr-1", []string{"name", "phone"}, true)
		},
		"nothing to correct": func() (Message, error) { return Corrected(l, "a@b.co", "dsr-1", []string{"name"}, false) },
	}
}

func TestMessages(t *testing.T) {
	tests := []struct {
		lang     i18n.Lang
		name     string
		subject  string
		text     []string
		htmlLink string
	}{
		{i18n.English, "verification", "Confirm your privacy request dsr-1", []string{"reference dsr-1", "confirm it here:\n" + link,
			"enter this code at https://privacy.example.com/v1/requests/dsr-1/code:\nBCDF-2345", "work once, until 1 December 2026, 09:30 UTC."}, "token=a&amp;b=%3cc%3e"},
		{i18n.English, "verification for an agent's request", "Confirm your privacy request dsr-1", []string{"on your behalf by agent<x>@example.net", "never to the agent", "confirm it here:\n" + link}, "agent&lt;x&gt;@example.net"},
		{i18n.English, "verification locked", "Confirmation stopped for privacy request dsr-1", []string{"Too many wrong", "quote the reference dsr-1", "nothing was released"}, ""},
		{i18n.German, "verification locked", "Bestätigung der Datenschutzanfrage dsr-1 gesperrt", []string{"zu viele falsche", "Referenznummer dsr-1", "keine Daten herausgegeben"}, ""},
		{i18n.English, "download", "Your data is ready: request dsr-1", []string{"works until 1 December 2026, 09:30 UTC", link}, "token=a&amp;b=%3cc%3e"},
		{i18n.English, "erased", "Your data has been deleted: request dsr-1", []string{"erased your personal data from the systems listed in our privacy notice.\n"}, ""},
		{i18n.English, "erased, some kept", "Your data has been deleted: request dsr-1", []string{"privacy notice, except as follows.",
			"- Product reviews (1 record): we removed email, author_name; the rest no longer refers to you.",
			"- Invoices <PDF> (2 records): Tax audits. (AO § 147(3)). We keep them until 1 March 2036 at the latest"}, "Invoices &lt;PDF&gt;"},
		{i18n.German, "erased, some kept", "Ihre Daten wurden gelöscht: Anfrage dsr-1", []string{"mit folgenden Ausnahmen.",
			"- Product reviews (1 Datensatz): Wir haben email, author_name entfernt",
			"- Invoices <PDF> (2 Datensätze): Tax audits. (AO § 147(3)). Wir bewahren sie höchstens bis zum 1. März 2036 auf"}, ""},
		{i18n.Finnish, "erased, some kept", "Tietosi on poistettu: pyyntö dsr-1", []string{"seuraavin poikkeuksin.",
			"- Product reviews (1 tietue): poistimme kentät email, author_name", "(2 tietuetta)", "enintään 1. maaliskuuta 2036 asti"}, ""},
		{i18n.English, "dry run", "Dry run of your deletion request dsr-1: nothing was deleted", []string{"was a dry run: nothing was deleted or changed.",
			"- Customer accounts (1 record): would be deleted.", "- Product reviews (2 records): email would be removed",
			"- Invoices (1 record): would be kept because the law requires it: Tax audits. (AO § 147(3)), until 1 March 2036 at the latest."}, ""},
		{i18n.English, "dry run, nothing", "Dry run of your deletion request dsr-1: nothing was deleted", []string{"We found no data about you to delete."}, ""},
		{i18n.German, "dry run", "Probelauf Ihrer Löschanfrage dsr-1: nichts wurde gelöscht", []string{"- Customer accounts (1 Datensatz): würde gelöscht.", "höchstens bis zum 1. März 2036"}, ""},
		{i18n.Finnish, "dry run", "Poistopyyntösi dsr-1 koeajo: mitään ei poistettu", []string{"- Customer accounts (1 tietue): poistettaisiin.", "enintään 1. maaliskuuta 2036 asti"}, ""},
		{i18n.English, "expired", "Privacy request dsr-1 closed", []string{"not confirmed in time",
			"What you can do:\n- You can lodge a complaint with a supervisory authority, in particular in the EU member state where you live",
			"lists them all: https://edpb.europa.eu/about-edpb/about-edpb/members_en\n- You can also seek a judicial remedy before the courts.\n\nYou are welcome to make a new request"}, ""},
		{i18n.English, "acknowledgement under the CCPA", "We received your privacy request dsr-1", []string{"answer by 2 March 2026",
			"How we check that the request is yours:", "How we handle your request:"}, ""},
		{i18n.English, "denial naming the DPO", "Your privacy request dsr-1 was refused", []string{"reply to this email.\n\nOur data protection officer: Privacy Office, dpo@example.com."}, ""},
		{i18n.German, "denial naming the DPO", "Ihre Datenschutzanfrage dsr-1 wurde abgelehnt", []string{"Kontakt zu unserem Datenschutzbeauftragten: Privacy Office, dpo@example.com."}, ""},
		{i18n.English, "denial with nothing to carry", "Your privacy request dsr-1 was refused", []string{"- Manifestly unfounded.\n\nIf you have questions about this decision, reply to this email."}, ""},
		{i18n.English, "appeal denied", "Our decision on your appeal dsr-1", []string{"uphold our decision", "- The data is exempt.",
			"submit a complaint to the Attorney General: Office of the Attorney General of Virginia, https://ag.example/complaint?a=1&b=<2>"}, "b=&lt;2&gt;"},
		{i18n.English, "appeal granted", "Our decision on your appeal dsr-1", []string{"reverse our decision", "- We found the data."}, ""},
		{i18n.English, "not the controller", "Your privacy request dsr-1: we are not the controller of this data", []string{"The controller is:\nLoja Exemplo Ltda. (privacidade@loja.example)", "make your request to them directly"}, ""},
		{i18n.English, "erased, some kept", "Your data has been deleted: request dsr-1", []string{"until 1 March 2036 at the latest and erase them then.\n\nWe deleted the rest of your personal information."}, ""},
		{i18n.English, "acknowledgement", "We received your privacy request dsr-1", []string{"request dsr-1 on 31 January 2026", "Type of request: Access to your data", "answer by 2 March 2026"}, ""},
		{i18n.English, "extension", "We need more time: request dsr-1", []string{"- Archives <offsite>.", "- A supplier holds part.", "answer by 30 April 2026"}, "Archives &lt;offsite&gt;."},
		{i18n.English, "extension for facts", "We need more time: request dsr-1", []string{"- A legal hold requires us", "- Some of the places", "- We are still waiting for the signed permission"}, ""},
		{i18n.English, "denial", "Your privacy request dsr-1 was refused", []string{"- Manifestly unfounded.", "What you can do:\n- You can lodge a complaint with the supervisory authority: Information Commissioner's Office (https://ico.org.uk).\n- You can also seek a judicial remedy"}, ""},
		{i18n.English, "cancelled", "Privacy request dsr-1 cancelled", []string{"cancelled, as you asked"}, ""},
		{i18n.English, "opt-out", "Your privacy choice is recorded: request dsr-1", []string{"will not sell or share", "checks this choice"}, ""},
		{i18n.English, "opt-out by GPC", "Your privacy choice is recorded: request dsr-1", []string{"Global Privacy Control signal", "will not sell or share"}, ""},
		{i18n.English, "limit", "Your privacy choice is recorded: request dsr-1", []string{"sensitive personal information only"}, ""},
		{i18n.English, "restriction", "Your privacy choice is recorded: request dsr-1", []string{"restricted the processing"}, ""},
		{i18n.English, "objection", "Your privacy choice is recorded: request dsr-1", []string{"recorded your objection"}, ""},
		{i18n.German, "opt-out by GPC", "Ihre Datenschutz-Entscheidung ist vermerkt: Anfrage dsr-1", []string{"Global-Privacy-Control-Signal", "nicht und geben sie nicht weiter"}, ""},
		{i18n.English, "corrected", "Your data has been corrected: request dsr-1", []string{"correction request dsr-1 is complete", "as you asked: name, phone."}, ""},
		{i18n.English, "nothing to correct", "Your data has been corrected: request dsr-1", []string{"nothing to correct"}, ""},
		{i18n.German, "corrected", "Ihre Daten wurden berichtigt: Anfrage dsr-1", []string{"berichtigt: name, phone."}, ""},
		{i18n.English, "joined", "Your privacy request dsr-1 was added to an open request", []string{"privacy request dsr-1 for this email address while your request dsr-0", "we will answer dsr-0"}, ""},
		{i18n.German, "joined", "Ihre Datenschutzanfrage dsr-1 wurde einer offenen Anfrage hinzugefügt", []string{"Anfrage dsr-0 noch offen"}, ""},
		{i18n.Finnish, "objection", "Tietosuojavalintasi on kirjattu: pyyntö dsr-1", []string{"kirjanneet vastustuksesi"}, ""},
		{i18n.German, "verification", "Bestätigen Sie Ihre Datenschutzanfrage dsr-1", []string{"Referenznummer dsr-1", "bestätigen Sie sie hier:\n" + link,
			"Code unter https://privacy.example.com/v1/requests/dsr-1/code ein:\nBCDF-2345", "bis 1. Dezember 2026, 09:30 Uhr UTC gültig"}, "token=a&amp;b=%3cc%3e"},
		{i18n.German, "download", "Ihre Daten stehen bereit: Anfrage dsr-1", []string{"bis 1. Dezember 2026, 09:30 Uhr UTC gültig", link}, ""},
		{i18n.German, "acknowledgement", "Wir haben Ihre Datenschutzanfrage dsr-1 erhalten", []string{"am 31. Januar 2026 erhalten", "Art der Anfrage: Auskunft über Ihre Daten", "bis zum 2. März 2026"}, ""},
		{i18n.German, "extension for facts", "Wir benötigen mehr Zeit: Anfrage dsr-1", []string{"- Eine gesetzliche Aufbewahrungspflicht", "bis zum 2. März 2026"}, ""},
		{i18n.German, "denial", "Ihre Datenschutzanfrage dsr-1 wurde abgelehnt", []string{"Gründe:\n- Manifestly unfounded.", "Was Sie tun können:\n- Sie können sich bei der Aufsichtsbehörde beschweren: Information Commissioner's Office (https://ico.org.uk)."}, ""},
		{i18n.Finnish, "verification", "Vahvista tietosuojapyyntösi dsr-1", []string{"tunnus dsr-1", "vahvista se tästä:\n" + link, "BCDF-2345", "1. joulukuuta 2026 klo 09.30 UTC asti"}, ""},
		{i18n.Finnish, "download", "Tietosi ovat valmiina: pyyntö dsr-1", []string{"1. joulukuuta 2026 klo 09.30 UTC asti"}, ""},
		{i18n.Finnish, "acknowledgement", "Olemme vastaanottaneet tietosuojapyyntösi dsr-1", []string{"31. tammikuuta 2026", "Pyynnön tyyppi: Pääsy tietoihisi", "viimeistään 2. maaliskuuta 2026"}, ""},
		{i18n.Finnish, "cancelled", "Tietosuojapyyntö dsr-1 peruttu", []string{"on peruttu toiveesi mukaisesti"}, ""},
		{i18n.Norwegian, "verification", "Bekreft personvernforespørselen din dsr-1", []string{"referanse dsr-1", "bekrefter du den her:\n" + link, "BCDF-2345", "fram til 1. desember 2026 kl. 09.30 UTC"}, ""},
		{i18n.Norwegian, "acknowledgement", "Vi har mottatt personvernforespørselen din dsr-1", []string{"den 31. januar 2026", "Type forespørsel: Innsyn i opplysningene dine", "senest 2. mars 2026"}, ""},
		{i18n.Norwegian, "erased, some kept", "Opplysningene dine er slettet: forespørsel dsr-1", []string{"med følgende unntak."}, ""},
		{i18n.Swedish, "verification", "Bekräfta din begäran dsr-1 om dina personuppgifter", []string{"referens dsr-1", "bekräftar du den här:\n" + link, "BCDF-2345", "fram till 1 december 2026 kl. 09.30 UTC"}, ""},
		{i18n.Swedish, "acknowledgement", "Vi har tagit emot din begäran dsr-1 om dina personuppgifter", []string{"den 31 januari 2026", "Typ av begäran: Tillgång till dina uppgifter (registerutdrag)", "senast den 2 mars 2026"}, ""},
		{i18n.Swedish, "dry run", "Provkörning av din begäran dsr-1 om radering: ingenting raderades", []string{"- Customer accounts (1 post): skulle ha raderats."}, ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.lang)+" "+tt.name, func(t *testing.T) {
			m, err := builders(tt.lang)[tt.name]()
			if err != nil {
				t.Fatal(err)
			}
			if m.To != "a@b.co" || m.Subject != tt.subject || m.Language != tt.lang {
				t.Fatalf("to %q subject %q language %q", m.To, m.Subject, m.Language)
			}
			for _, want := range tt.text {
				if !strings.Contains(m.Text, want) {
					t.Errorf("text lacks %q:\n%s", want, m.Text)
				}
			}
			if tt.htmlLink != "" && !strings.Contains(m.HTML, tt.htmlLink) {
				t.Errorf("html does not escape the input:\n%s", m.HTML)
			}
		})
	}
}

// An extension is lawful only with its real reasons: none means no notice.
func TestExtensionWithoutReasonsIsRefused(t *testing.T) {
	if _, err := Extension(i18n.English, "a@b.co", "dsr-1", nil, time.Now(), Remedy{}); err == nil {
		t.Fatal("an extension notice without reasons was rendered")
	}
	if _, err := ExtensionForFacts(i18n.English, "a@b.co", "dsr-1", nil, time.Now(), Remedy{}); err == nil {
		t.Fatal("an extension notice without facts was rendered")
	}
}

// leftovers finds what a missing key or value leaves behind: a {placeholder}
// or a catalogue key.
var leftovers = regexp.MustCompile(`\{[a-z_]+\}|\b(mail|remedy|type|date)\.[a-z_.0-9]+`)

// TestEveryMessageInEveryLanguage: every subject message renders in every
// language with its id, no unfilled placeholder, no raw catalogue key and
// no unescaped input in HTML.
func TestEveryMessageInEveryLanguage(t *testing.T) {
	for _, l := range i18n.Supported {
		for name, build := range builders(l) {
			m, err := build()
			if err != nil {
				t.Fatalf("%s %s: %v", l, name, err)
			}
			for part, s := range map[string]string{"subject": m.Subject, "text": m.Text, "html": m.HTML} {
				if !strings.Contains(s, "dsr-1") {
					t.Errorf("%s %s: %s lacks the request id", l, name, part)
				}
				if bad := leftovers.FindString(s); bad != "" {
					t.Errorf("%s %s: %s has %q:\n%s", l, name, part, bad, s)
				}
			}
			if strings.Contains(m.HTML, "<c>") || strings.Contains(m.HTML, "<offsite>") || strings.Contains(m.HTML, "<PDF>") || strings.Contains(m.HTML, "<2>") {
				t.Errorf("%s %s: html contains unescaped input", l, name)
			}
		}
	}
}

func TestRecordedNeedsAChoice(t *testing.T) {
	if _, err := Recorded(i18n.English, "a@b.co", "dsr-1", "access", false); err == nil {
		t.Fatal("an access request got a choice confirmation")
	}
	if m, _ := Recorded(i18n.English, "a@b.co", "dsr-1", "object", false); strings.Contains(m.Text, "Global Privacy Control") {
		t.Fatal("a request without the signal mentions it")
	}
}

func TestUnknownLanguageIsEnglish(t *testing.T) {
	m, err := Erased("", "a@b.co", "dsr-1", ErasureSummary{}, Remedy{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Language != i18n.English || m.Subject != "Your data has been deleted: request dsr-1" {
		t.Fatalf("language %q subject %q", m.Language, m.Subject)
	}
}

func TestOverdueIsForOperators(t *testing.T) {
	m, err := Overdue("ops@b.co", "dsr-1", due, "")
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "OVERDUE: privacy request dsr-1" || !strings.Contains(m.Text, "due date, 2 March 2026, has passed") || !strings.Contains(m.Text, "privacyctl show dsr-1") || strings.Contains(m.Text, "console") {
		t.Fatalf("overdue: %q\n%s", m.Subject, m.Text)
	}
	// In the cloud it links the request's deadline watch in the console.
	const link = "https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/arn:aws:states:eu-west-1:111111111111:execution:w:dsr-1"
	m, err = Overdue("ops@b.co", "dsr-1", due, link)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Text, "console: "+link) || !strings.Contains(m.HTML, `<a href="`+link+`">`) {
		t.Fatalf("overdue with a console link:\n%s\n%s", m.Text, m.HTML)
	}
}

// TestVerificationNamesTheType: the subject sees which request was
// understood (a mailed letter may have been read otherwise) and is told not
// to confirm one they did not ask for.
func TestVerificationNamesTheType(t *testing.T) {
	for l, want := range map[i18n.Lang]string{
		i18n.English:   "It asks for: Deletion of your data. If that is not what you asked for, do not confirm it",
		i18n.German:    "Sie betrifft: Löschung Ihrer Daten.",
		i18n.Finnish:   "Pyyntö koskee: ",
		i18n.Norwegian: "Den gjelder: Sletting av opplysningene dine. Hvis det ikke er det du ba om, skal du ikke bekrefte den",
		i18n.Swedish:   "Den gäller: Radering av dina uppgifter. Om det inte är det du har begärt ska du inte bekräfta den",
	} {
		m, err := Verification(l, "a@b.co", "dsr-1", "delete", link, "BCDF-2345", "https://x/code", expires, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, body := range []string{m.Text, m.HTML} {
			if !strings.Contains(body, want) || !strings.Contains(body, l.T("type.delete")) {
				t.Errorf("%s: the mail does not name the type:\n%s", l, body)
			}
		}
	}
}

// TestVerificationNamesTheCorrections: the subject sees which fields a
// correction asks to change before confirming (an agent may have asked), by
// their names in the mail's language; the new values stay out of the mail.
func TestVerificationNamesTheCorrections(t *testing.T) {
	m, err := Verification(i18n.German, "a@b.co", "dsr-1", "correct", link, "BCDF-2345", "https://x/code", expires, []string{"phone", "loyalty_tier"})
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{m.Text, m.HTML} {
		if !strings.Contains(body, "Berichtigung von: Telefonnummer, loyalty tier.") {
			t.Errorf("the mail does not name the fields:\n%s", body)
		}
	}
	m, _ = Verification(i18n.English, "a@b.co", "dsr-1", "access", link, "BCDF-2345", "https://x/code", expires, nil)
	if strings.Contains(m.Text, "correct:") || strings.Contains(m.Text, "letter") {
		t.Errorf("a request that corrects nothing names corrections:\n%s", m.Text)
	}
	// A correction letter whose values a person reads says so.
	m, _ = Verification(i18n.English, "a@b.co", "dsr-1", "correct", link, "BCDF-2345", "https://x/code", expires, nil)
	if !strings.Contains(m.Text, "as your letter says; our privacy team reads the new values from it") {
		t.Errorf("a correction letter's verification:\n%s", m.Text)
	}
}
