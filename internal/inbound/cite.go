package inbound

import (
	"strconv"
	"strings"

	"github.com/privacy-pipeline/dsr/internal/request"
)

// Law families number the same rights the same way: the GDPR's articles
// hold under the EU's, the UK's and the EEA's GDPR alike.
const (
	familyGDPR = "gdpr"
	familyCCPA = "ccpa"
	familyLGPD = "lgpd"
	familyDSG  = "dsg"
)

// automatedDecision stands for a request under GDPR Art 22, which the
// pipeline has no type for.
const automatedDecision request.Type = "automated_decision"

// gdprArticles are the rights of Articles 15 to 22 of the GDPR (and the UK
// GDPR). Article 19 (telling recipients) goes with another right.
var gdprArticles = map[int]request.Type{15: request.Access, 16: request.Correct, 17: request.Delete, 18: request.Restrict,
	20: request.Portability, 21: request.Object, 22: automatedDecision}

// ccpaSections are the consumer's rights of Cal. Civ. Code §1798.100 ff.
var ccpaSections = map[int]request.Type{100: request.Access, 105: request.Delete, 106: request.Correct, 110: request.Access,
	115: request.Access, 120: request.OptOut, 121: request.Limit}

// lgpdItems are the items of LGPD Art 18 (I to IX) that name a right.
var lgpdItems = map[string]request.Type{"i": request.Access, "ii": request.Access, "iii": request.Correct, "iv": request.Delete,
	"v": request.Portability, "vi": request.Delete, "vii": request.Access, "viii": request.Access, "ix": request.Object}

// dsgArticles are the rights of the Swiss revDSG that differ in number.
var dsgArticles = map[int]request.Type{25: request.Access, 28: request.Portability}

// articleWords name an article, in the languages letters come in (folded).
var articleWords = set("art", "arts", "article", "articles", "artikel", "artikels", "artikeln", "articulo", "articulos",
	"articolo", "articoli", "artigo", "artigos", "artikla", "artiklan", "artiklat", "artiklojen", "artikkel", "artikkelen",
	"artykul", "artykulu", "artykuly", "artiklen", "artiklarna")

// subWords introduce a paragraph or point of an article: the numbers after
// them are not articles.
var subWords = set("abs", "absatz", "para", "paragraph", "paragraphe", "lit", "litera", "buchstabe", "ust", "pkt", "kohta",
	"kohdan", "kohdassa", "momentti", "ledd", "stycket", "punkt", "stk", "lid", "comma", "apartado", "alinea", "paragrafo",
	"inciso", "item", "sub", "point", "letter", "letra", "lettera", "satz", "s", "no", "nr")

// andWords join further articles to one: "Art. 15 und 17", "articles 15 and 20".
var andWords = set("and", "und", "et", "y", "e", "en", "och", "og", "ja", "i", "oraz", "sowie", "as", "well", "also", "ou", "or", "oder")

// citation is a right named by its article or section.
type citation struct {
	typ request.Type
	pos int
}

// citations finds the articles and sections words cite, read under the law
// family named in the same words or else family.
func citations(words []string, family string) []citation {
	if f := familyIn(words); f != "" {
		family = f
	}
	var out []citation
	add := func(t request.Type, pos int) {
		if t != "" {
			out = append(out, citation{typ: t, pos: pos})
		}
	}
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "1798" && i+1 < len(words):
			// Cal. Civ. Code §1798.105: whatever law the letter names.
			if n, err := strconv.Atoi(words[i+1]); err == nil && len(words[i+1]) == 3 {
				add(ccpaSections[n], i)
			}
		case articleWords[w] || (strings.HasPrefix(w, "art") && number(w[3:]) > 0):
			n := number(strings.TrimPrefix(w, "art"))
			j := i + 1
			if n == 0 && j < len(words) {
				n, j = number(words[j]), j+1
			}
			if n == 0 {
				continue
			}
			add(articleType(family, n, words[j:]), i)
			// Further articles joined to it, before any paragraph word.
			for j < len(words) && !subWords[words[j]] {
				switch {
				case andWords[words[j]] && j+1 < len(words) && number(words[j+1]) >= 15 && number(words[j+1]) <= 22 && n >= 15 && n <= 22:
					add(articleType(family, number(words[j+1]), nil), j+1)
					j += 2
				case len(words[j]) <= 2 && !andWords[words[j]]:
					j++ // "(1)", "(b)"
				default:
					j = len(words)
				}
			}
		case number(w) > 0 && i+1 < len(words) && strings.HasPrefix(words[i+1], "artikl"):
			// Finnish puts the number first: "15 artiklan".
			add(articleType(family, number(w), nil), i)
		}
	}
	return out
}

// articleType is the right an article number names under a law family;
// rest are the words after the number (LGPD's items).
func articleType(family string, n int, rest []string) request.Type {
	switch family {
	case familyLGPD:
		if n != 18 {
			return ""
		}
		for k, w := range rest[:min(len(rest), 3)] {
			if t, ok := lgpdItems[w]; ok && (k == 0 || rest[k-1] == "inciso" || rest[k-1] == "item") {
				return t
			}
		}
		return ""
	case familyDSG:
		return dsgArticles[n]
	case familyCCPA:
		return ""
	}
	return gdprArticles[n]
}

// number reads a whole number of one to three digits, or 0.
func number(s string) int {
	if len(s) == 0 || len(s) > 3 {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// laws name a law or a place that fixes the jurisdiction, most specific
// first: "UK GDPR" before "GDPR". A resident of a state names its law.
var laws = []struct {
	code, family string
	phrases      []phrase
}{
	{"UK", familyGDPR, phrases("uk gdpr", "united kingdom general data protection regulation", "data protection act 2018",
		"dpa 2018", "information commissioner*", "ico")},
	{"US-CA", familyCCPA, phrases("ccpa", "cpra", "california consumer privacy act", "california privacy rights act",
		"cal civ code", "california civil code", "california resident", "resident of california", "reside in california",
		"live in california", "californian")},
	{"US-VA", familyCCPA, phrases("vcdpa", "virginia consumer data protection act", "virginia resident", "resident of virginia")},
	{"US-CO", familyCCPA, phrases("colorado privacy act", "colorado resident", "resident of colorado")},
	{"US-CT", familyCCPA, phrases("ctdpa", "connecticut data privacy act", "connecticut resident", "resident of connecticut")},
	{"US-TX", familyCCPA, phrases("tdpsa", "texas data privacy and security act", "texas resident", "resident of texas")},
	{"US-OR", familyCCPA, phrases("oregon consumer privacy act", "oregon resident", "resident of oregon")},
	{"US-UT", familyCCPA, phrases("utah consumer privacy act", "utah resident", "resident of utah")},
	{"BR", familyLGPD, phrases("lgpd", "lei 13 709", "lei n 13 709", "lei geral de protecao de dados")},
	{"CA-QC", "", phrases("loi 25", "law 25", "quebec", "loi sur la protection des renseignements personnels dans le secteur prive")},
	{"CA-FED", "", phrases("pipeda")},
	{"CH", familyDSG, phrases("revdsg", "ndsg", "fadp", "revfadp", "nfadp", "nlpd", "revlpd", "schweiz*", "switzerland", "suisse")},
	{"EEA-NO", familyGDPR, phrases("personopplysningsloven*", "personvernforordningen*")},
	{"EU", familyGDPR, phrases("gdpr", "dsgvo", "rgpd", "avg", "rodo", "uavg", "bdsg", "lopdgdd", "dataskyddsforordningen*",
		"databeskyttelsesforordningen*", "tietosuoja asetu*", "tietosuojaasetu*", "2016 679", "general data protection regulation",
		"datenschutz grundverordnung", "reglement general sur la protection des donnees", "reglamento general de proteccion de datos",
		"regolamento generale sulla protezione dei dati", "algemene verordening gegevensbescherming",
		"regulamento geral sobre a protecao de dados", "ogolne rozporzadzenie o ochronie danych", "informatique et libertes")},
}

// swissDSG is the Swiss Data Protection Act by its short name, which
// Austria's act shares: it names Switzerland only where no GDPR is named.
var swissDSG = parsePhrase("dsg")

func phrases(ps ...string) []phrase {
	out := make([]phrase, len(ps))
	for i, p := range ps {
		out[i] = parsePhrase(p)
	}
	return out
}

// lawIn returns the jurisdiction and law family the words name, or "".
func lawIn(words []string) (code, family string) {
	for _, l := range laws {
		for _, p := range l.phrases {
			if p.count(words) > 0 {
				return l.code, l.family
			}
		}
	}
	if swissDSG.count(words) > 0 {
		return "CH", familyDSG
	}
	return "", ""
}

func familyIn(words []string) string {
	_, f := lawIn(words)
	return f
}

// sections of the CCPA name California even where no law is named.
func citesCCPA(words []string) bool {
	for i := 0; i+1 < len(words); i++ {
		if words[i] == "1798" && len(words[i+1]) == 3 {
			if _, ok := ccpaSections[number(words[i+1])]; ok {
				return true
			}
		}
	}
	return false
}
