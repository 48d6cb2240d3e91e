// Package inbound turns mail sent to the privacy inbox into requests: it
// reads what a mail asks for and in which language, weighs SES's verdicts on
// the sender, and leaves everything it cannot decide to an operator.
package inbound

import (
	"slices"
	"strings"

	"github.com/privacy-pipeline/dsr/internal/i18n"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// The languages the catalogue speaks. A mail in any other is answered in
// English.
const (
	English   = i18n.English
	German    = i18n.German
	Finnish   = i18n.Finnish
	Norwegian = i18n.Norwegian
	Swedish   = i18n.Swedish
)

// Why a mail's request could not be told: fixed words for the operator,
// never the mail's own.
const (
	// WhyNothing: no right is named at all.
	WhyNothing = "no_right_named"
	// WhyMentioned: rights are named, but as context, a condition or a
	// fallback; nothing is asked for in so many words.
	WhyMentioned = "rights_only_mentioned"
	// WhyEitherOr: the mail asks for one right or another.
	WhyEitherOr = "either_or"
	// WhyAutomatedDecision: the mail asks not to be subject to an automated
	// decision (GDPR Art 22), which no request type carries out.
	WhyAutomatedDecision = "automated_decision"
)

// Classification is what the rules read from a mail.
type Classification struct {
	// Types are the requests the mail makes, in the order to carry them
	// out; none when an operator must read it (Why says why).
	Types []request.Type
	// Guess is the likeliest type when no type could be told, for the
	// operator's eyes.
	Guess request.Type
	// Why says, when Types is empty, what an operator has to decide.
	Why string
	// Language is the language every mail about the request is written in:
	// the mail's own where the catalogue speaks it, else English.
	Language i18n.Lang
	// Written is the language the mail is written in, as a BCP 47 base
	// code ("fr"), whether or not the catalogue speaks it.
	Written string
	// Jurisdiction is the law the mail names; empty when it names none.
	Jurisdiction string
	// Corrections are the new values a correction asks for, where the mail
	// gives them clearly enough to be read without a person.
	Corrections request.Corrections
}

// Type is the first request the mail makes, or "".
func (c Classification) Type() request.Type {
	if len(c.Types) == 0 {
		return ""
	}
	return c.Types[0]
}

// OperatorReason is why the mail waits for an operator (ReasonAmbiguous,
// ReasonNotSupported, ReasonUnclassified), or "" when it makes requests.
func (c Classification) OperatorReason() string {
	switch {
	case len(c.Types) > 0:
		return ""
	case c.Why == WhyEitherOr:
		return ReasonAmbiguous
	case c.Why == WhyAutomatedDecision:
		return ReasonNotSupported
	}
	return ReasonUnclassified
}

// Weights of what names a right. A citation ("Art. 17 DSGVO") weighs most,
// then a right named where the mail asks for something, then the subject
// line; a right merely mentioned counts for the operator's guess only.
const (
	weightCited     = 5
	weightAsked     = 4
	weightSubject   = 3
	weightCitedOnly = 3
	weightMentioned = 1
)

// evidence is one place in a mail that names a right.
type evidence struct {
	typ    request.Type
	weight int
	asked  bool // asked for, not only mentioned
	cited  bool
	at     int // order in the mail: unit, then word
}

// Classify reads the request types, language and jurisdiction from a
// mail's subject and text, as an operator reads a letter: the sentence that
// asks and the article it cites weigh most; rights named as context, in
// a condition or as a fallback ask for nothing; two requests asked for one
// after the other become both. Quoted replies and signatures are left out:
// they hold someone else's words.
func Classify(subject, text string) Classification {
	own := ownWords(text)
	c := Classification{Written: language(subject, own)}
	c.Language = English
	if l, ok := i18n.Parse(c.Written); ok {
		c.Language = l
	}
	subj, reply := strings.TrimSpace(subject), false
	for {
		rest, ok := cutReplyPrefix(subj)
		if !ok {
			break
		}
		subj, reply = rest, true
	}
	us := units(own)
	if s := tokens(subj); len(s) > 0 {
		// A reply's subject is ours ("Re: Your data has been deleted"),
		// so it tells nothing about what the sender asks.
		us = append([]unit{{words: s, subject: !reply}}, us...)
	}
	var all []string
	for _, u := range us {
		all = append(all, u.words...)
	}
	code, family := lawIn(all)
	if code == "" && citesCCPA(all) {
		code, family = "US-CA", familyCCPA
	}
	if code == "EU" && c.Written == langNB {
		// A Norwegian letter citing the GDPR is one under the EEA's GDPR,
		// which Norway's Personal Data Act makes law there.
		code = "EEA-NO"
	}
	c.Jurisdiction = code
	if family == "" {
		family = familyGDPR
	}
	ev, eitherOr := read(us, family, c.Written)
	decide(&c, ev, eitherOr)
	if slices.Contains(c.Types, request.Correct) {
		c.Corrections = corrections(own, c.Written)
	}
	return c
}

// cutReplyPrefix removes one "Re:", "AW:", "Fwd:" and the like.
func cutReplyPrefix(s string) (string, bool) {
	i := strings.IndexByte(s, ':')
	if i < 1 || i > 5 {
		return s, false
	}
	switch strings.ToLower(strings.TrimSpace(s[:i])) {
	case "re", "aw", "sv", "vs", "fw", "fwd", "wg", "tr", "rv", "rif", "r", "odp", "vb", "antw", "ref", "res", "enc":
		return strings.TrimSpace(s[i+1:]), true
	}
	return s, false
}

// A rule is a phrase that names something, found in a unit.
type rule struct {
	typ request.Type
	p   phrase
	act bool // asks by itself
}

var (
	mentionRules  = compileMentions()
	markerRules   = compile(markerTable)
	fallbackRules = compile(append(slices.Clone(fallbackTable), negationTable...))
	contextRules  = compileContext()
)

func compileMentions() []rule {
	var out []rule
	for _, t := range request.AllTypes {
		for _, s := range mentionTable[t] {
			act := strings.HasPrefix(s, "!")
			out = append(out, rule{typ: t, p: parsePhrase(strings.TrimPrefix(s, "!")), act: act})
		}
	}
	for _, s := range unsupportedTable {
		out = append(out, rule{typ: automatedDecision, p: parsePhrase(s)})
	}
	return out
}

func compile(table []string) []phrase {
	out := make([]phrase, len(table))
	for i, s := range table {
		out[i] = parsePhrase(s)
	}
	return out
}

type contextRule struct {
	p    phrase
	near bool // reaches a few words only
}

func compileContext() []contextRule {
	out := make([]contextRule, len(contextTable))
	for i, s := range contextTable {
		out[i] = contextRule{p: parsePhrase(strings.TrimPrefix(s, "?")), near: strings.HasPrefix(s, "?")}
	}
	return out
}

// nearWords is how far a "?" context reaches.
const nearWords = 5

// read finds, unit by unit, every place that names a right and whether it
// is asked for. eitherOr lists pairs of types asked for as alternatives.
func read(us []unit, family, written string) (ev []evidence, eitherOr [][2]request.Type) {
	leadIn := false // the unit before a list asks for something: its items do too
	for k, u := range us {
		w := u.words
		markers := positions(markerRules, w)
		fallbackAt := len(w)
		for _, p := range fallbackRules {
			if at := p.find(w); len(at) > 0 && at[0] < fallbackAt {
				fallbackAt = at[0]
			}
		}
		contextAt := contextSpans(w, markers)
		type found struct {
			typ   request.Type
			at    int
			cited bool
		}
		var fs []found
		asking := u.subject || len(markers) > 0 || (u.item && leadIn)
		for _, r := range mentionRules {
			for _, at := range r.p.find(w) {
				fs = append(fs, found{typ: r.typ, at: at})
				if r.act && at < fallbackAt && !contextAt(at) {
					asking = true
				}
			}
		}
		for _, ci := range citations(w, family) {
			fs = append(fs, found{typ: ci.typ, at: ci.pos, cited: true})
		}
		var asked []found
		for _, f := range fs {
			if f.at >= fallbackAt {
				continue // a condition or a fallback: "if you cannot erase, restrict"
			}
			e := evidence{typ: f.typ, weight: weightMentioned, cited: f.cited, at: k*10000 + f.at}
			switch {
			case contextAt(f.at):
			case u.subject:
				e.weight, e.asked = weightSubject, true
			case asking && f.cited:
				e.weight, e.asked = weightCited, true
			case asking:
				e.weight, e.asked = weightAsked, true
			case f.cited:
				e.weight, e.asked = weightCitedOnly, true
			}
			ev = append(ev, e)
			if e.asked {
				asked = append(asked, f)
			}
		}
		// "delete or correct": rights asked for as alternatives, on
		// either side of an "or".
		ors := orWords[written]
		if ors == nil {
			ors = orWords[langEN]
		}
		for o, x := range w {
			if !ors[x] {
				continue
			}
			var before, after *found
			for i := range asked {
				f := &asked[i]
				if f.at < o && (before == nil || f.at > before.at) {
					before = f
				}
				if f.at > o && (after == nil || f.at < after.at) {
					after = f
				}
			}
			if before != nil && after != nil && family2(before.typ) != family2(after.typ) {
				eitherOr = append(eitherOr, [2]request.Type{before.typ, after.typ})
			}
		}
		if !u.item {
			leadIn = asking && !u.subject
		}
	}
	return ev, eitherOr
}

// family2 puts together types one request answers both of: a copy of the
// data, whether as access or as portability.
func family2(t request.Type) request.Type {
	if t == request.Portability {
		return request.Access
	}
	return t
}

func positions(ps []phrase, w []string) []int {
	var at []int
	for _, p := range ps {
		at = append(at, p.find(w)...)
	}
	slices.Sort(at)
	return at
}

// contextSpans returns whether a word is in a context span: after a
// context phrase, to the end of the sentence or the next marker that asks
// anew, or a few words for a near one.
func contextSpans(w []string, markers []int) func(int) bool {
	type span struct{ from, to int }
	var spans []span
	for _, r := range contextRules {
		for _, at := range r.p.find(w) {
			end := len(w)
			if r.near {
				end = min(len(w), at+len(r.p)+nearWords)
			} else {
				for _, m := range markers {
					if m > at {
						end = m
						break
					}
				}
			}
			spans = append(spans, span{at, end})
		}
	}
	return func(i int) bool {
		for _, s := range spans {
			if i >= s.from && i < s.to {
				return true
			}
		}
		return false
	}
}

// decide turns the evidence into requests, or into a guess and a reason
// for an operator.
func decide(c *Classification, ev []evidence, eitherOr [][2]request.Type) {
	score := map[request.Type]int{}
	first := map[request.Type]int{}
	cited := map[request.Type]bool{}
	asked := map[request.Type]bool{}
	for _, e := range ev {
		score[e.typ] += e.weight
		if e.asked {
			if _, ok := first[e.typ]; !ok || e.at < first[e.typ] {
				first[e.typ] = e.at
			}
			asked[e.typ] = true
			cited[e.typ] = cited[e.typ] || e.cited
		}
	}
	guess := func() request.Type {
		var best request.Type
		for _, t := range append(slices.Clone(request.AllTypes), automatedDecision) {
			if score[t] > score[best] {
				best = t
			}
		}
		return best
	}
	if asked[request.Appeal] {
		// An appeal names the request it appeals: that is no request.
		c.Types = []request.Type{request.Appeal}
		return
	}
	if asked[automatedDecision] {
		delete(score, automatedDecision)
		c.Guess, c.Why = guess(), WhyAutomatedDecision
		if c.Guess == "" {
			c.Guess = request.Object
		}
		return
	}
	if asked[request.Access] && asked[request.Portability] {
		// One package answers both: the copy is asked for as what the
		// letter cites, or as what it names more.
		if !cited[request.Access] && (cited[request.Portability] || score[request.Portability] > score[request.Access]) {
			delete(asked, request.Access)
		} else {
			delete(asked, request.Portability)
		}
	}
	if asked[request.Delete] && asked[request.Restrict] {
		// Restriction keeps data that erasure removes: beside an erasure it
		// is what to do meanwhile, not a request of its own.
		delete(asked, request.Restrict)
	}
	for _, p := range eitherOr {
		if asked[p[0]] && asked[p[1]] {
			c.Guess, c.Why = guess(), WhyEitherOr
			return
		}
	}
	for _, t := range request.AllTypes {
		if asked[t] {
			c.Types = append(c.Types, t)
		}
	}
	if len(c.Types) == 0 {
		if c.Guess = guess(); c.Guess == "" {
			c.Why = WhyNothing
		} else {
			c.Why = WhyMentioned
		}
		return
	}
	// In the order the mail asks, but erasure last: a copy made after it
	// would be empty, and it settles what a correction or objection would.
	slices.SortStableFunc(c.Types, func(a, b request.Type) int {
		if (a == request.Delete) != (b == request.Delete) {
			if a == request.Delete {
				return 1
			}
			return -1
		}
		return first[a] - first[b]
	})
}

// language tells which language a mail is written in by its frequent
// words; English when it cannot tell.
func language(subject, text string) string {
	counts := map[string]int{}
	for _, w := range rawWords(subject + "\n" + text) {
		for l, words := range stopWords {
			if words[w] {
				counts[l]++
			}
		}
		for l, words := range tellTale {
			if words[w] {
				counts[l] += 2
			}
		}
	}
	best := langEN
	for _, l := range []string{langDE, langFI, langNB, langSV, langFR, langES, langIT, langNL, langPL, langPT, langDA} {
		if counts[l] > counts[best] {
			best = l
		}
	}
	return best
}
