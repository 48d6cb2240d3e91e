package inbound

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// ownWords drops what the sender did not write: quoted lines ("> ..."),
// everything after a signature separator ("-- ") and everything after the
// header of a quoted earlier message ("On ... wrote:", "-----Original
// Message-----", an Outlook "From: ... Sent: ..." block), which mail clients
// add without quote marks.
func ownWords(text string) string {
	lines := strings.Split(dropDisclaimers(text), "\n")
	var b strings.Builder
	for i, line := range lines {
		trimmed := strings.TrimSpace(line)
		if strings.TrimRight(line, " \r") == "--" || quoteHeader(trimmed, lines[i+1:]) {
			break
		}
		if strings.HasPrefix(trimmed, ">") {
			continue
		}
		b.WriteString(strings.TrimRight(line, "\r"))
		b.WriteByte('\n')
	}
	return b.String()
}

var (
	// attribution is the line a client writes above a quoted message, in
	// the languages letters come in.
	attribution = regexp.MustCompile(`(?i)^(on|am|le|el|il|op|den|på|pa|w dniu|em|in|dnia)\b.{0,200}\b(wrote|schrieb|a écrit|a ecrit|escribió|escribio|ha scritto|schreef|skrev|kirjoitti|napisał|napisal|escreveu)\s*:?\s*$`)
	// originalMessage is a separator line such as "-----Original Message-----".
	originalMessage = regexp.MustCompile(`^-{3,}\s*[\p{L} ']{3,40}\s*-{3,}$`)
	// forwardHeader is the first line of a header block a client writes
	// above a quoted or forwarded message; a second header line must follow.
	forwardHeader = regexp.MustCompile(`(?i)^(from|von|de|da|van|från|fran|fra|lähettäjä|lahettaja|od|feladó)\s*:\s*\S`)
	forwardNext   = regexp.MustCompile(`(?i)^(sent|date|gesendet|datum|envoyé|envoye|enviado|fecha|inviato|data|verzonden|skickat|sendt|lähetetty|lahetetty|wysłano|wyslano|to|an|à|a|para|aan|till|til|vastaanottaja|do|subject|betreff|objet|asunto|oggetto|onderwerp|ämne|emne|aihe|temat|assunto)\s*:`)
)

// quoteHeader tells whether line starts a quoted earlier message; next are
// the lines after it.
func quoteHeader(line string, next []string) bool {
	switch {
	case line == "":
		return false
	case attribution.MatchString(line), originalMessage.MatchString(line), strings.HasPrefix(line, "________________________________"):
		return true
	case forwardHeader.MatchString(line):
		for _, n := range next[:min(len(next), 3)] {
			if forwardNext.MatchString(strings.TrimSpace(n)) {
				return true
			}
		}
	}
	return false
}

// disclaimer finds the legal notice firms append to every mail ("If you
// are not the intended recipient, please delete this email"): nobody's
// request, though it reads like one.
var disclaimer = regexp.MustCompile(`intended recipient|(received|receive) (this|the) (e ?mail|email|message|communication) in error|` +
	`confidentiality notice|irrtumlich erhalten|nicht der (richtige|beabsichtigte) (adressat|empfanger)|` +
	`(recu|recevez) ce (message|courriel) par erreur|recibido este (mensaje|correo) por error|` +
	`ricevuto questo (messaggio|e ?mail) per errore|(bericht|e ?mail) (onterecht|ten onrechte|per abuis)|` +
	`erehdyksessa|ved en feil|av misstag`)

// dropDisclaimers leaves out every paragraph that is such a notice.
func dropDisclaimers(text string) string {
	paras := strings.Split(text, "\n\n")
	out := paras[:0]
	for _, p := range paras {
		if !disclaimer.MatchString(strings.Join(tokens(p), " ")) {
			out = append(out, p)
		}
	}
	return strings.Join(out, "\n\n")
}

// A unit is a sentence, or an item of a list, or the subject line: the
// span in which a request is made and what it asks for is said.
type unit struct {
	words   []string // folded words (see fold)
	subject bool     // the mail's subject line
	item    bool     // an item of a list
}

// listItem finds the marker of a list item: "-", "*", "•", "1.", "a)", "(b)", "i)".
var listItem = regexp.MustCompile(`^\s*([-*•–·]|\(?[0-9]{1,2}[.)]|\(?[a-zA-Z][.)]|\(?[ivxIVX]{1,4}\))\s+`)

// labelLine is a line that begins with a short label and a colon.
var labelLine = regexp.MustCompile(`^[\p{L}][\p{L} ]{0,29}:\s`)

// wrapWidth: a line at least this long that does not end a sentence was
// wrapped by the mail client, and goes on in the next line.
const wrapWidth = 50

// units splits text into sentences and list items, as folded words.
func units(text string) []unit {
	var out []unit
	for _, s := range sentenceTexts(text) {
		if w := tokens(s.text); len(w) > 0 {
			out = append(out, unit{words: w, item: s.item})
		}
	}
	return out
}

// sentenceText is a sentence or a list item as written.
type sentenceText struct {
	text string
	item bool
}

// sentenceTexts splits text into sentences and list items. Lines wrapped
// by a mail client are joined; a blank line, a list item or a line that
// ends a sentence (or is short, like a heading or a greeting) ends a unit.
func sentenceTexts(text string) []sentenceText {
	var out []sentenceText
	var para strings.Builder
	flush := func(item bool) {
		for _, s := range sentences(para.String()) {
			if strings.TrimSpace(s) != "" {
				out = append(out, sentenceText{text: s, item: item})
			}
		}
		para.Reset()
	}
	item := false
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			flush(item)
			item = false
			continue
		}
		if m := listItem.FindStringIndex(line); m != nil {
			flush(item)
			line, item = line[m[1]:], true
		} else if labelLine.MatchString(line) {
			// "Phone: ..." starts afresh, as a form's next field does.
			flush(item)
			item = false
		}
		para.WriteString(line)
		para.WriteByte(' ')
		if utf8.RuneCountInString(line) < wrapWidth || strings.ContainsRune(".!?:;", lastRune(line)) {
			flush(item)
			item = false
		}
	}
	flush(item)
	return out
}

func lastRune(s string) rune {
	r, _ := utf8.DecodeLastRuneInString(s)
	return r
}

// sentences splits a paragraph after ".", "!", "?" and ";" followed by a
// space, except after an abbreviation ("Art.", "Abs.", "e.g.") or a lone
// number ("1. Januar").
func sentences(p string) []string {
	var out []string
	start := 0
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c != '.' && c != '!' && c != '?' && c != ';' {
			continue
		}
		if i+1 < len(p) && p[i+1] != ' ' {
			continue
		}
		if c == '.' && abbreviation(p[start:i]) {
			continue
		}
		out = append(out, p[start:i+1])
		start = i + 1
	}
	return append(out, p[start:])
}

// abbreviations are words written with a full stop that does not end the
// sentence, folded (see fold), in the languages letters come in.
var abbreviations = set("art", "arts", "abs", "nr", "no", "nos", "z", "b", "e", "g", "i", "bzw", "ca", "etc", "lit", "para",
	"sec", "civ", "cal", "ust", "pkt", "dr", "mr", "mrs", "ms", "st", "jf", "jfr", "kap", "d", "h", "u", "a", "ggf",
	"inkl", "evt", "bl", "ex", "t", "dvs", "mm", "s", "vs", "cf", "vgl", "ziff", "lett", "n", "num", "par", "al", "p", "op",
	"v", "sr", "sra", "sig", "dott", "hr", "fr", "nro", "esim", "ks", "mom", "kohta", "stk", "ls", "pt", "inc", "ltd", "co",
	"ref", "tel", "mob", "c", "corp", "str", "ave", "rd", "apt", "fig", "seq")

func abbreviation(before string) bool {
	words := tokens(before)
	if len(words) == 0 {
		return true
	}
	last := words[len(words)-1]
	if abbreviations[last] {
		return true
	}
	// "1. Januar", "15. toukokuuta": an ordinal, not the end.
	return len(last) <= 2 && strings.IndexFunc(last, func(r rune) bool { return !unicode.IsDigit(r) }) < 0
}

// tokens splits text into folded words of letters and digits.
func tokens(s string) []string {
	return strings.FieldsFunc(fold(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// rawWords splits text into lower-case words, keeping diacritics: they tell
// languages apart ("för" is Swedish, "for" English).
func rawWords(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// fold writes text as the rules match it: lower case without diacritics
// ("Löschung" is "loschung", "accès" "acces"), "ß" as "ss", and the
// letters that are not a base letter with a mark written as their usual
// transliteration ("ø" "o", "æ" "ae", "ł" "l"). People type letters without
// their accents, and the rules need one spelling.
func fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFD.String(strings.ToLower(s)) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r == 'ß':
			b.WriteString("ss")
		case r == 'ø':
			b.WriteByte('o')
		case r == 'æ':
			b.WriteString("ae")
		case r == 'œ':
			b.WriteString("oe")
		case r == 'ł':
			b.WriteByte('l')
		case r == 'đ':
			b.WriteByte('d')
		case r == 'ı':
			b.WriteByte('i')
		case r == '’' || r == 'ʼ' || r == '`' || r == '´':
			b.WriteByte('\'')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// phrase is a sequence of word patterns, matched against folded words: a
// word, a prefix ending in "*", "_" for any one word, or "~N" for up to N
// words of any kind.
type phrase []string

func parsePhrase(s string) phrase {
	var p phrase
	for _, w := range strings.Fields(s) {
		if strings.HasPrefix(w, "~") || w == "_" {
			p = append(p, w)
			continue
		}
		star := strings.HasSuffix(w, "*")
		w = strings.Join(tokens(strings.TrimSuffix(w, "*")), " ")
		if star {
			w += "*"
		}
		p = append(p, strings.Fields(w)...)
	}
	return p
}

// count returns how often the phrase starts in words.
func (p phrase) count(words []string) int {
	n := 0
	for i := range words {
		if _, ok := p.matchAt(words, i); ok {
			n++
		}
	}
	return n
}

// find returns the positions in words where the phrase starts.
func (p phrase) find(words []string) []int {
	var at []int
	for i := range words {
		if _, ok := p.matchAt(words, i); ok {
			at = append(at, i)
		}
	}
	return at
}

// matchAt matches the phrase at words[i:] and returns where the match ends.
func (p phrase) matchAt(words []string, i int) (int, bool) {
	if len(p) == 0 {
		return i, false
	}
	return matchFrom(p, words, i)
}

func matchFrom(p phrase, words []string, i int) (int, bool) {
	if len(p) == 0 {
		return i, true
	}
	pat := p[0]
	if strings.HasPrefix(pat, "~") {
		n := 0
		for _, c := range pat[1:] {
			n = n*10 + int(c-'0')
		}
		for skip := 0; skip <= n && i+skip <= len(words); skip++ {
			if end, ok := matchFrom(p[1:], words, i+skip); ok {
				return end, true
			}
		}
		return i, false
	}
	if i >= len(words) {
		return i, false
	}
	w := words[i]
	switch {
	case pat == "_":
	case strings.HasSuffix(pat, "*"):
		if !strings.HasPrefix(w, pat[:len(pat)-1]) {
			return i, false
		}
	case w != pat:
		return i, false
	}
	return matchFrom(p[1:], words, i+1)
}

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}
