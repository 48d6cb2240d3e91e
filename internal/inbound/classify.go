// Package inbound turns mail sent to the privacy inbox into requests: it
// reads what a mail asks for and in which language, weighs SES's verdicts on
// the sender, and leaves everything it cannot decide to an operator.
package inbound

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/privacy-pipeline/dsr/internal/i18n"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// The languages a mail is read in: the catalogue's. Anything else is read
// as English, and an operator sees what the rules could not tell.
const (
	English = i18n.English
	German  = i18n.German
	Finnish = i18n.Finnish
)

// Classification is what the rules read from a mail.
type Classification struct {
	// Type is the request asked for; empty when no type is clearly asked
	// for (no rule matched, or two types matched as strongly).
	Type request.Type
	// Guess is the strongest type when the mail was ambiguous, for the
	// operator's eyes.
	Guess request.Type
	// Language is the language the mail is written in, which every mail
	// about the request is then written in.
	Language i18n.Lang
	// Jurisdiction is the law the mail names; empty when it names none.
	Jurisdiction string
}

// minScore is the least evidence that makes a type: one strong phrase in
// the body, or a hint in the subject. A mail that asks for two types this
// clearly is left to an operator.
const minScore = 3

// subjectWeight counts a phrase in the subject line more: people name what
// they want there.
const subjectWeight = 2

// Classify reads the request type, language and jurisdiction from a mail's
// subject and text with keyword rules in English, German and Finnish.
// Quoted replies and signatures are left out: they hold someone else's words.
func Classify(subject, text string) Classification {
	subj, body := tokens(subject), tokens(ownWords(text))
	scores := map[request.Type]int{}
	langs := map[i18n.Lang]int{}
	for _, r := range typeRules {
		n := subjectWeight*r.phrase.count(subj) + r.phrase.count(body)
		if n > 0 {
			scores[r.typ] += n * r.weight
			if r.lang != "" {
				langs[r.lang] += n
			}
		}
	}
	for lang, words := range stopWords {
		for _, t := range append(subj, body...) {
			if words[t] {
				langs[lang]++
			}
		}
	}
	c := Classification{Language: English, Jurisdiction: jurisdiction(append(subj, body...))}
	for _, lang := range []i18n.Lang{German, Finnish} { // English wins ties
		if langs[lang] > langs[c.Language] {
			c.Language = lang
		}
	}
	var best, second int
	for _, t := range request.AllTypes {
		switch s := scores[t]; {
		case s > best:
			best, second, c.Guess = s, best, t
		case s > second:
			second = s
		}
	}
	if best >= minScore && second < minScore {
		c.Type = c.Guess
	}
	return c
}

// ownWords drops quoted lines ("> ...") and everything after a signature
// separator ("-- ").
func ownWords(text string) string {
	var b strings.Builder
	for _, line := range strings.Split(text, "\n") {
		if strings.TrimRight(line, " \r") == "--" {
			break
		}
		if strings.HasPrefix(strings.TrimLeft(line, " \t"), ">") {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// tokens splits text into lower-case words of letters and digits. "ß" is
// written "ss" and the German umlauts also match their two-letter spelling
// (the rules list both where it matters).
func tokens(s string) []string {
	s = strings.ToLower(strings.ReplaceAll(s, "ß", "ss"))
	return strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// phrase is a sequence of word patterns: a word, a prefix ending in "*", or
// "_" for any one word.
type phrase []string

func parsePhrase(s string) phrase { return phrase(strings.Fields(s)) }

// count returns how often the phrase occurs in words.
func (p phrase) count(words []string) int {
	n := 0
	for i := 0; i+len(p) <= len(words); i++ {
		if p.matchAt(words[i:]) {
			n++
		}
	}
	return n
}

func (p phrase) matchAt(words []string) bool {
	for j, pat := range p {
		w := words[j]
		switch {
		case pat == "_":
		case strings.HasSuffix(pat, "*"):
			if !strings.HasPrefix(w, pat[:len(pat)-1]) {
				return false
			}
		case w != pat:
			return false
		}
	}
	return true
}

type typeRule struct {
	typ    request.Type
	lang   i18n.Lang // "" for rules that say nothing about the language
	weight int
	phrase phrase
}

// Weights: 3 for phrases that name a request unmistakably, 2 for strong
// hints, 1 for words that also turn up in other requests.
var typeRules = func() []typeRule {
	var rules []typeRule
	add := func(typ request.Type, lang i18n.Lang, weight int, phrases ...string) {
		for _, p := range phrases {
			rules = append(rules, typeRule{typ: typ, lang: lang, weight: weight, phrase: parsePhrase(p)})
		}
	}

	add(request.Access, English, 3, "subject access", "right of access", "right to access", "access to my personal",
		"access to my data", "copy of my", "copy of all", "copy of any", "copy of the personal", "copy of the data", "right to know", "access request", "request access")
	add(request.Access, English, 2, "what personal data", "what data you", "which personal data", "data you hold about",
		"information you hold about", "data you have about", "data you store about", "know what data")
	add(request.Access, German, 3, "auskunft*", "selbstauskunft*", "datenauskunft*", "kopie meiner", "kopie der _ daten",
		"kopie aller")
	add(request.Access, German, 2, "welche daten", "welche personenbezogenen", "gespeicherten daten")
	add(request.Access, Finnish, 3, "tarkastusoikeu*", "tarkastuspyyn*", "tarkastaa _ tiedot*", "tietojeni tarkast*",
		"tietojen tarkast*", "pääsyoikeu*", "kopio*", "jäljenn*")
	add(request.Access, Finnish, 2, "mitä tietoja", "mitä henkilötietoja", "nähdä _ tiedot*", "nähdä tiedot*", "saada _ tiedot*")

	add(request.Delete, English, 3, "delete my", "delete all", "deletion of my", "erase my", "erasure", "right to be forgotten",
		"remove my data", "remove my personal", "remove all my", "right to delete", "deletion request", "delete me")
	add(request.Delete, English, 1, "delet*", "remov*")
	add(request.Delete, German, 3, "lösch*", "loesch*", "vergessenwerden*", "vergessen zu werden")
	add(request.Delete, German, 2, "entfernen sie", "entfernung meiner")
	add(request.Delete, Finnish, 3, "poist*", "unohdetuksi")

	add(request.Portability, English, 3, "portability", "portable format", "machine readable", "transfer my data")
	add(request.Portability, German, 3, "datenübertragbarkeit", "datenuebertragbarkeit", "übertragbarkeit")
	add(request.Portability, Finnish, 3, "siirrettävyy*", "siirto oikeu*")

	add(request.Correct, English, 3, "rectif*", "correct my", "correction of my", "is incorrect", "are incorrect", "is wrong")
	add(request.Correct, German, 3, "berichtig*", "korrigier*", "korrektur")
	add(request.Correct, Finnish, 3, "oikais*", "korja*")

	add(request.Restrict, English, 3, "restrict* processing", "restriction of processing", "restrict the processing")
	add(request.Restrict, German, 3, "einschränkung der verarbeitung", "einschraenkung der verarbeitung", "verarbeitung einschränk*")
	add(request.Restrict, Finnish, 3, "käsittelyn rajoit*", "rajoittaa _ käsittely*")

	add(request.Object, English, 3, "object to", "objection to", "right to object")
	add(request.Object, German, 3, "widerspruch*", "widerspreche*")
	add(request.Object, Finnish, 3, "vastustamisoikeu*", "vastustan", "vastustaa")

	add(request.OptOut, English, 3, "do not sell", "don t sell", "opt out of the sale", "opt out of sale", "do not share",
		"sale of my personal", "sharing of my personal", "stop selling")
	add(request.OptOut, German, 3, "verkauf meiner")
	add(request.OptOut, Finnish, 3, "myymästä", "myyntiä")

	add(request.Limit, English, 3, "limit the use of my sensitive", "limit use of my sensitive", "sensitive personal information")

	add(request.Appeal, English, 3, "i appeal", "appeal your decision", "appeal the decision", "appeal against")
	add(request.Appeal, German, 3, "einspruch*")
	add(request.Appeal, Finnish, 3, "muutoksenhak*", "valitan")

	// Articles of the GDPR name the right in any language: "Art. 15 DSGVO",
	// "Article 17", "15 artiklan mukainen".
	for article, typ := range map[int]request.Type{15: request.Access, 16: request.Correct, 17: request.Delete,
		18: request.Restrict, 20: request.Portability, 21: request.Object} {
		a := fmt.Sprint(article)
		add(typ, "", 3, "art "+a, "article "+a, "artikel "+a, "artikla "+a, a+" artikl*")
	}
	return rules
}()

// stopWords are frequent words that tell the languages apart.
var stopWords = map[i18n.Lang]map[string]bool{
	English: set("the", "and", "to", "of", "my", "i", "me", "you", "your", "please", "is", "have", "that", "this", "for",
		"with", "all", "would", "like", "hold", "about", "dear", "regards", "thank", "thanks", "sincerely", "kind"),
	German: set("der", "die", "das", "und", "ich", "mich", "mir", "meine", "meiner", "meinen", "sie", "ihre", "ihnen",
		"bitte", "nicht", "mit", "von", "zu", "über", "sehr", "geehrte", "damen", "herren", "grüsse", "freundlichen",
		"ist", "auf", "für", "gespeicherten", "vielen", "dank", "hallo"),
	Finnish: set("ja", "minun", "minua", "minulle", "minusta", "ei", "että", "te", "teidän", "kiitos", "tiedot",
		"tietoni", "tietojeni", "hyvä", "ystävällisin", "terveisin", "haluan", "pyydän", "kaikki", "olen", "tai",
		"mukaan", "hei", "moi", "kanssa", "teille", "henkilötietoni", "koskevat"),
}

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// jurisdictionRules name laws and places that fix the jurisdiction, most
// specific first ("UK GDPR" before "GDPR").
var jurisdictionRules = []struct {
	code    string
	phrases []phrase
}{
	{"UK", phrases("uk gdpr", "information commissioner", "ico", "data protection act 2018")},
	{"US-CA", phrases("ccpa", "cpra", "california")},
	{"US-VA", phrases("vcdpa", "virginia")},
	{"US-CO", phrases("colorado")},
	{"US-CT", phrases("ctdpa", "connecticut")},
	{"BR", phrases("lgpd")},
	{"CA-QC", phrases("law 25", "loi 25", "quebec", "québec")},
	{"CA-FED", phrases("pipeda")},
	{"CH", phrases("revdsg", "schweiz", "switzerland")},
	{"EU", phrases("gdpr", "dsgvo", "tietosuoja asetu*", "tietosuoja asetuksen")},
}

func phrases(ps ...string) []phrase {
	out := make([]phrase, len(ps))
	for i, p := range ps {
		out[i] = parsePhrase(p)
	}
	return out
}

func jurisdiction(words []string) string {
	for _, r := range jurisdictionRules {
		for _, p := range r.phrases {
			if p.count(words) > 0 {
				return r.code
			}
		}
	}
	return ""
}
