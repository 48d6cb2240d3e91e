// Package letters is a corpus of request letters as people send them to a
// privacy inbox, written for the tests: formal and informal, from widely
// used public templates and without one, quoted replies, signatures,
// HTML-only mail, in every language the catalogue speaks and in others.
// Each letter is a raw message in corpus/, whose X-Expect-* headers say
// what an operator reads in it:
//
//	X-Expect-Types: access delete    the requests, in the order to carry them out
//	X-Expect-Operator: ambiguous     or, instead, why an operator must read it (inbound.Reason*)
//	X-Expect-Guess: delete           the type an operator is shown as likeliest (optional)
//	X-Expect-Language: fr            the language it is written in
//	X-Expect-Law: EU                 the jurisdiction it names, or "none"
//	X-Expect-Corrections: postal_code=10115; phone=+49 30 1234567
//
// To add a letter, write one more file; `go test ./internal/inbound/letters`
// reads it and `make bench` counts it.
package letters

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"maps"
	"net/mail"
	"slices"
	"strings"

	"github.com/privacy-pipeline/dsr/internal/inbound"
	"github.com/privacy-pipeline/dsr/internal/mailparse"
	"github.com/privacy-pipeline/dsr/internal/request"
)

//go:embed corpus/*.eml
var files embed.FS

// Letter is one letter of the corpus and what it asks for.
type Letter struct {
	// Name is the file's name: the only thing about a letter a test or a
	// report prints.
	Name string
	Raw  []byte
	Want Outcome
}

// Outcome is what a letter comes to: requests, or an operator's inbox.
type Outcome struct {
	Types []request.Type
	// Operator is why the letter waits for an operator ("" when it makes
	// requests); Guess the type shown to them, where one is expected.
	Operator string
	Guess    request.Type
	// Language is the language it is written in; Law the jurisdiction it
	// names ("" for none).
	Language    string
	Law         string
	Corrections request.Corrections
}

// Load reads every letter of the corpus.
func Load() ([]Letter, error) {
	names, err := fs.Glob(files, "corpus/*.eml")
	if err != nil {
		return nil, err
	}
	var out []Letter
	for _, path := range names {
		raw, err := files.ReadFile(path)
		if err != nil {
			return nil, err
		}
		name := strings.TrimPrefix(path, "corpus/")
		want, err := expected(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, Letter{Name: name, Raw: raw, Want: want})
	}
	return out, nil
}

func expected(raw []byte) (Outcome, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Outcome{}, err
	}
	h := msg.Header
	var o Outcome
	for _, t := range strings.FieldsFunc(h.Get("X-Expect-Types"), func(r rune) bool { return r == ' ' || r == ',' }) {
		if !slices.Contains(request.AllTypes, request.Type(t)) {
			return Outcome{}, fmt.Errorf("X-Expect-Types: unknown type %q", t)
		}
		o.Types = append(o.Types, request.Type(t))
	}
	o.Operator = strings.TrimSpace(h.Get("X-Expect-Operator"))
	o.Guess = request.Type(strings.TrimSpace(h.Get("X-Expect-Guess")))
	o.Language = strings.TrimSpace(h.Get("X-Expect-Language"))
	o.Law = strings.TrimSpace(h.Get("X-Expect-Law"))
	if o.Law == "none" {
		o.Law = ""
	}
	switch {
	case len(o.Types) == 0 && o.Operator == "":
		return Outcome{}, fmt.Errorf("neither X-Expect-Types nor X-Expect-Operator")
	case len(o.Types) > 0 && o.Operator != "":
		return Outcome{}, fmt.Errorf("both X-Expect-Types and X-Expect-Operator")
	case o.Language == "":
		return Outcome{}, fmt.Errorf("no X-Expect-Language")
	case h.Get("X-Expect-Law") == "":
		return Outcome{}, fmt.Errorf("no X-Expect-Law (\"none\" when it names no law)")
	}
	if c := strings.TrimSpace(h.Get("X-Expect-Corrections")); c != "" {
		o.Corrections = request.Corrections{}
		for _, kv := range strings.Split(c, ";") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return Outcome{}, fmt.Errorf("X-Expect-Corrections: %q is not field=value", strings.TrimSpace(k))
			}
			o.Corrections[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return o, nil
}

// Read is what the rules make of a letter, as the inbound function reads it.
func Read(l Letter) (Outcome, error) {
	msg, err := mailparse.Parse(bytes.NewReader(l.Raw), mailparse.DefaultLimits)
	if err != nil {
		return Outcome{}, err
	}
	c := inbound.Classify(msg.Subject, msg.Text)
	return Outcome{Types: c.Types, Operator: c.OperatorReason(), Guess: c.Guess, Language: c.Written,
		Law: c.Jurisdiction, Corrections: c.Corrections}, nil
}

// Differences names what of got differs from want: field names only, never
// a letter's words or values.
func Differences(got, want Outcome) []string {
	var d []string
	if !slices.Equal(got.Types, want.Types) {
		d = append(d, fmt.Sprintf("types %q, want %q", got.Types, want.Types))
	}
	if got.Operator != want.Operator {
		d = append(d, fmt.Sprintf("operator %q (guess %q), want %q", got.Operator, got.Guess, want.Operator))
	}
	if want.Guess != "" && got.Guess != want.Guess {
		d = append(d, fmt.Sprintf("guess %q, want %q", got.Guess, want.Guess))
	}
	if got.Language != want.Language {
		d = append(d, fmt.Sprintf("language %q, want %q", got.Language, want.Language))
	}
	if got.Law != want.Law {
		d = append(d, fmt.Sprintf("law %q, want %q", got.Law, want.Law))
	}
	if !maps.Equal(got.Corrections, want.Corrections) {
		d = append(d, fmt.Sprintf("corrections of %q, want %q", slices.Sorted(maps.Keys(got.Corrections)), slices.Sorted(maps.Keys(want.Corrections))))
		for _, k := range slices.Sorted(maps.Keys(want.Corrections)) {
			if g, ok := got.Corrections[k]; ok && g != want.Corrections[k] {
				d = append(d, fmt.Sprintf("corrections.%s has another value", k))
			}
		}
	}
	return d
}

// Score counts how the rules read the corpus.
type Score struct {
	Letters int
	// Right: every expectation met. TypesRight: the requests (or the
	// operator's reason) right, whatever the language and law.
	Right, TypesRight, LanguageRight, LawRight int
	// ToOperator are the letters the rules leave to an operator;
	// ExpectedToOperator those the corpus says an operator must read.
	ToOperator, ExpectedToOperator int
	// Wrong names the letters not read right.
	Wrong []string
}

// Evaluate reads every letter and scores the result.
func Evaluate(ls []Letter) (Score, error) {
	var s Score
	for _, l := range ls {
		got, err := Read(l)
		if err != nil {
			return s, fmt.Errorf("%s: %w", l.Name, err)
		}
		s.Letters++
		if got.Operator != "" {
			s.ToOperator++
		}
		if l.Want.Operator != "" {
			s.ExpectedToOperator++
		}
		if slices.Equal(got.Types, l.Want.Types) && got.Operator == l.Want.Operator {
			s.TypesRight++
		}
		if got.Language == l.Want.Language {
			s.LanguageRight++
		}
		if got.Law == l.Want.Law {
			s.LawRight++
		}
		if len(Differences(got, l.Want)) == 0 {
			s.Right++
		} else {
			s.Wrong = append(s.Wrong, l.Name)
		}
	}
	return s, nil
}

// Percent is part of whole in per cent, to one decimal.
func Percent(part, whole int) float64 {
	if whole == 0 {
		return 0
	}
	return float64(part*1000/whole) / 10
}
