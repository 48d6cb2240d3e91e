package inbound

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/privacy-pipeline/dsr/internal/request"
)

// Corrections are read only where a letter says plainly which detail is to
// become what: "my correct postcode is SW1A 2AA", "New phone number: ...",
// "please update my zip code to 94110", "Riktig postnummer er 0150". A
// value that does not have the detail's shape, or a detail given two
// different new values, is left to an operator, who applies what the letter
// asks once the subject has confirmed.

// fieldLabels name the profile details a letter may correct (the
// catalogue's datapoint.* fields), folded, in the languages letters come in.
var fieldLabels = map[string][]string{
	"name": {"name", "full name", "my name", "vollstandiger name", "vor und nachname", "nimi", "nimeni", "koko nimi",
		"navn", "navnet mitt", "fullt navn", "namn", "namnet", "mitt namn", "nom", "nom complet", "nombre", "nombre completo",
		"nome", "nome completo", "naam", "volledige naam", "imie i nazwisko"},
	"phone": {"phone", "phone number", "telephone", "telephone number", "mobile", "mobile number", "telefon", "telefonnummer",
		"handynummer", "mobilnummer", "rufnummer", "puhelin", "puhelinnumero", "puhelinnumeroni", "matkapuhelinnumero",
		"telefonnummeret", "mobilnummeret", "telefonnumret", "mobilnumret", "telephone", "numero de telephone", "portable",
		"telefono", "numero de telefono", "movil", "numero di telefono", "cellulare", "telefoon", "telefoonnummer",
		"mobiel nummer", "numer telefonu", "telefone", "celular"},
	"postal_code": {"postcode", "post code", "postal code", "zip", "zip code", "zipcode", "postleitzahl", "plz", "postinumero",
		"postinumeroni", "postnummer", "postnummeret", "postnumret", "code postal", "codigo postal", "cap", "codice postale",
		"kod pocztowy", "cep"},
}

// newWords say that what follows is the new value ("new", "correct"),
// standing just before a detail's label.
var newWords = set("new", "correct", "right", "actual", "updated", "neue", "neuer", "neues", "richtige", "richtiger",
	"richtiges", "korrekte", "korrekter", "aktuelle", "aktueller", "uusi", "oikea", "ny", "nytt", "nye", "riktig", "riktige",
	"riktigt", "korrekt", "korrekta", "nya", "ratt", "ratta", "nouveau", "nouvelle", "bon", "bonne", "nuevo", "nueva", "correcto",
	"correcta", "nuovo", "nuova", "corretto", "corretta", "esatto", "nieuwe", "nieuw", "juiste", "correcte", "nowy", "nowa",
	"prawidlowy", "novo", "nova", "correto", "correta")

// isWords stand between a label and its value: "is", "lautet", ":".
var isWords = set("is", "are", "reads", "lautet", "ist", "on", "er", "ar", "est", "es", "e", "jest", "be", "should", "read",
	"now", "sollte", "lauten", "ware", "wird", "pitaisi", "olla", "skal", "vaere", "ska", "vara", "doit", "etre", "debe",
	"ser", "deve", "essere", "moet", "zijn", "powinien", "byc", "deveria", "sera", "sein", "nyt", "na")

// changeWords ask for a change; the value follows one of toWords:
// "update my zip code to 94110".
var changeWords = set("change", "update", "correct", "amend", "set", "andern", "korrigieren", "berichtigen", "aktualisieren",
	"muuttakaa", "korjatkaa", "paivittakaa", "endre", "oppdater", "oppdatere", "korriger", "andra", "uppdatera", "korrigera",
	"ratta", "modifier", "corriger", "remplacer", "cambiar", "corregir", "actualizar", "cambien", "modificare", "correggere",
	"aggiornare", "wijzigen", "wijzig", "aanpassen", "corrigeren", "zmienic", "poprawic", "alterar", "corrigir", "atualizar")

var toWords = set("to", "auf", "in", "zu", "til", "till", "en", "par", "por", "a", "con", "naar", "na", "para", "muotoon", "into")

// oldWords mark the value that is wrong: it is never taken.
var oldWords = set("old", "previous", "former", "wrong", "incorrect", "alte", "alter", "bisherige", "falsche",
	"vanha", "vanhan", "vaara", "gamle", "gamla", "feil", "fel", "ancien", "ancienne", "antiguo", "antigua", "vecchio",
	"vecchia", "oude", "stary", "antigo", "antiga", "from", "von", "de", "da", "van", "fra", "fran")

// span is a folded word and where it stands in the line it came from.
type span struct {
	w          string
	start, end int
}

func spans(line string) []span {
	var out []span
	start := -1
	for i, r := range line {
		in := unicode.IsLetter(r) || unicode.IsDigit(r)
		switch {
		case in && start < 0:
			start = i
		case !in && start >= 0:
			out = append(out, span{w: fold(line[start:i]), start: start, end: i})
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, span{w: fold(line[start:]), start: start, end: len(line)})
	}
	return out
}

// corrections reads the new values a correction letter gives, field by
// field; a field given two different values is left out.
func corrections(text, written string) request.Corrections {
	found := map[string]string{}
	conflicting := map[string]bool{}
	for _, s := range sentenceTexts(text) {
		for field, value := range readSentence(s.text) {
			if old, ok := found[field]; ok && old != value {
				conflicting[field] = true
			}
			found[field] = value
		}
	}
	out := request.Corrections{}
	for f, v := range found {
		if !conflicting[f] {
			out[f] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// readSentence finds "new label: value", "label should be value" and
// "change label to value" in one sentence.
func readSentence(s string) map[string]string {
	sp := spans(s)
	words := make([]string, len(sp))
	for i, x := range sp {
		words[i] = x.w
	}
	out := map[string]string{}
	for field, labels := range fieldLabels {
		for _, label := range labels {
			p := parsePhrase(label)
			for _, at := range p.find(words) {
				end, _ := p.matchAt(words, at)
				if v, ok := valueAfter(field, s, sp, words, at, end); ok {
					out[field] = v
				}
			}
		}
	}
	return out
}

// valueAfter reads the value of field after its label, words[at:end], when
// the words around say it is the new one.
func valueAfter(field, s string, sp []span, words []string, at, end int) (string, bool) {
	before := func(k int) string {
		if at-k < 0 {
			return ""
		}
		return words[at-k]
	}
	// "my" and the like may stand between: "my new postcode", "meine neue PLZ".
	isNew := newWords[before(1)] || newWords[before(2)] && !oldWords[before(1)]
	if oldWords[before(1)] || oldWords[before(2)] && !newWords[before(1)] {
		return "", false
	}
	rest := end
	switch {
	case isNew:
		// "New phone number: +353 ...", "My correct postcode is SW1A 2AA".
		for rest < len(words) && isWords[words[rest]] && rest < end+3 {
			rest++
		}
	case rest < len(words) && isWords[words[rest]]:
		// "my name should read Siobhán Kearney": a modal must follow.
		k := rest
		for k < len(words) && isWords[words[k]] && k < end+4 {
			k++
		}
		if !hasAny(words[rest:k], "should", "sollte", "ware", "pitaisi", "skal", "ska", "doit", "debe", "deve", "moet",
			"powinien", "deveria", "now", "nyt", "lauten") {
			return "", false
		}
		rest = k
	default:
		// "update my zip code to 94110": a change asked for before the
		// label, and "to" after it.
		asked := false
		for k := max(0, at-4); k < at; k++ {
			asked = asked || changeWords[words[k]]
		}
		if asked && rest < len(words) && oldWords[words[rest]] {
			// "from 94000 to 94110": the old value, then the new.
			for k := rest + 1; k < len(words) && k < rest+8; k++ {
				if toWords[words[k]] {
					rest = k
					break
				}
			}
		}
		if !asked || rest >= len(words) || !toWords[words[rest]] {
			return "", false
		}
		rest++
	}
	if rest >= len(sp) {
		return "", false
	}
	// From the end of the word before, so a leading "+" is kept.
	return shaped(field, strings.TrimLeft(s[sp[rest-1].end:], " \t:=–-"))
}

func hasAny(words []string, any ...string) bool {
	for _, w := range words {
		for _, a := range any {
			if w == a {
				return true
			}
		}
	}
	return false
}

var (
	phoneShape  = regexp.MustCompile(`^\+?\(?[0-9][0-9 ()./-]{4,24}[0-9]`)
	postalShape = regexp.MustCompile(`^([A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}|[0-9]{4} ?[A-Z]{2}|[0-9]{3} [0-9]{2}|[0-9]{5}-[0-9]{3}|` +
		`[0-9]{2}-[0-9]{3}|[0-9]{5}-[0-9]{4}|[0-9]{4,6}|[A-Z][0-9][A-Z] ?[0-9][A-Z][0-9])\b`)
)

// nameParticles may stand lower-case inside a name.
var nameParticles = set("van", "von", "de", "der", "den", "del", "della", "di", "da", "dos", "das", "du", "le", "la", "af", "av", "zu", "ter")

// shaped reads a value of field's shape from the start of s, or fails.
func shaped(field, s string) (string, bool) {
	s = strings.TrimLeft(s, " \t\"'“”„«»")
	switch field {
	case "phone":
		v := phoneShape.FindString(s)
		digits := strings.Count(v, "") - 1 - len(strings.Map(func(r rune) rune {
			if unicode.IsDigit(r) {
				return -1
			}
			return r
		}, v))
		if v == "" || digits < 6 || digits > 15 {
			return "", false
		}
		return strings.TrimSpace(v), true
	case "postal_code":
		v := postalShape.FindString(s)
		return v, v != ""
	case "name":
		var words []string
		for _, w := range strings.Fields(s) {
			if strings.HasSuffix(w, ":") {
				break // the next label: "Phone:"
			}
			trimmed := strings.TrimRight(w, ".,;:!?\"'”»)")
			r, _ := utf8.DecodeRuneInString(trimmed)
			if trimmed == "" || !(unicode.IsUpper(r) || nameParticles[trimmed]) || strings.IndexFunc(trimmed, func(r rune) bool {
				return !unicode.IsLetter(r) && r != '-' && r != '\''
			}) >= 0 {
				break
			}
			words = append(words, trimmed)
			if trimmed != w || len(words) == 5 {
				break // the value ends at a punctuation mark
			}
		}
		if len(words) < 2 || nameParticles[words[len(words)-1]] {
			return "", false
		}
		return strings.Join(words, " "), true
	}
	return "", false
}
