// Package i18n is the one message catalogue of everything a data subject
// reads: the web pages and the mails. Each language has a file in messages/
// (English, German, Finnish, Norwegian Bokmål, Swedish) that maps a key to
// its text; a text names its variable parts as {placeholders}. Tests check that every language has every
// key with the same placeholders, so a page or mail cannot fall back to
// another language by accident.
//
// To add a text: add the key to every file in messages/, then use it with
// Lang.T. German is written in the formal register ("Sie"); Norwegian and
// Swedish address the reader as "du", as their authorities do.
//
// Counts take a key per plural form, .one and .other: all five languages
// have just these two forms for whole numbers (CLDR), so no plural rules
// are needed until a language with more (Polish, Russian) is added.
package i18n

import (
	"embed"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/goccy/go-yaml"
	"golang.org/x/text/language"
)

// Lang is a language the catalogue speaks, as its BCP 47 base code.
type Lang string

// The supported languages; English is the default and the language of
// anything that does not say otherwise.
const (
	English Lang = "en"
	German  Lang = "de"
	Finnish Lang = "fi"
	// Norwegian is Bokmål ("nb"); "no" and Nynorsk ("nn") are read as it.
	Norwegian Lang = "nb"
	Swedish   Lang = "sv"
	Default        = English
)

// Supported lists the languages in the order a language menu shows them.
var Supported = []Lang{English, German, Finnish, Norwegian, Swedish}

//go:embed messages/*.yaml
var files embed.FS

// catalogue holds each language's texts by key, read from its file on
// first use, not when the package initialises: reading the five files
// takes tens of milliseconds, which every function would pay at each cold
// start, and most speak only English (their errors' texts) or nothing.
var catalogue = func() map[Lang]func() map[string]string {
	c := map[Lang]func() map[string]string{}
	for _, l := range Supported {
		c[l] = sync.OnceValue(func() map[string]string { return mustLoad(l) })
	}
	return c
}()

func mustLoad(l Lang) map[string]string {
	texts, err := loadLang(l)
	if err != nil {
		// The files are embedded at build time and checked by the tests: a
		// failure here is a build defect, not a runtime condition.
		panic(err)
	}
	return texts
}

func load() (map[Lang]map[string]string, error) {
	c := map[Lang]map[string]string{}
	for _, l := range Supported {
		texts, err := loadLang(l)
		if err != nil {
			return nil, err
		}
		c[l] = texts
	}
	return c, nil
}

func loadLang(l Lang) (map[string]string, error) {
	b, err := files.ReadFile("messages/" + string(l) + ".yaml")
	if err != nil {
		return nil, err
	}
	var texts map[string]string
	if err := unmarshalStrict(b, &texts); err != nil {
		return nil, fmt.Errorf("messages/%s.yaml: %s", l, yaml.FormatError(err, false, true))
	}
	return texts, nil
}

// unmarshalStrict reads a language file: one flat map of strings, each key
// once.
func unmarshalStrict(b []byte, texts *map[string]string) error {
	return yaml.UnmarshalWithOptions(b, texts, yaml.Strict())
}

// Parse returns the supported language a code names ("de", "DE", "de-AT"),
// and false for anything else.
func Parse(code string) (Lang, bool) {
	if code == "" || len(code) > 35 {
		return "", false
	}
	tag, err := language.Parse(code)
	if err != nil {
		return "", false
	}
	base, _ := tag.Base()
	l := Lang(base.String())
	if l == "no" || l == "nn" {
		// Norwegian without a written standard, or Nynorsk: a reader of
		// either reads Bokmål.
		l = Norwegian
	}
	return l, slices.Contains(Supported, l)
}

// matcher's tags are in the order of Supported.
var matcher = language.NewMatcher([]language.Tag{language.English, language.German, language.Finnish,
	language.Norwegian, language.Swedish})

// FromAcceptLanguage picks the language for an Accept-Language header: the
// supported language the browser ranks highest by its q-values, English when
// it names none (or the header is missing or malformed).
func FromAcceptLanguage(header string) Lang {
	if len(header) > 1024 {
		return Default
	}
	tags, _, err := language.ParseAcceptLanguage(header)
	if err != nil || len(tags) == 0 {
		return Default
	}
	_, i, confidence := matcher.Match(tags...)
	if confidence == language.No {
		return Default
	}
	return Supported[i]
}

// Has reports whether key is in the catalogue.
func Has(key string) bool {
	_, ok := catalogue[Default]()[key]
	return ok
}

// T returns the text of key in l with its placeholders filled from args,
// given as name, value pairs: T("mail.ack.subject", "id", id). A key missing
// from the catalogue comes back as the key itself, and a placeholder without
// a value stays as {name}, so a mistake shows on the page instead of
// vanishing; the tests of every page and mail look for both.
func (l Lang) T(key string, args ...string) string {
	texts, ok := catalogue[l]
	if !ok {
		texts = catalogue[Default]
	}
	s, ok := texts()[key]
	if !ok {
		return key
	}
	if len(args) == 0 || !strings.Contains(s, "{") {
		return s
	}
	return placeholder.ReplaceAllStringFunc(s, func(p string) string {
		name := p[1 : len(p)-1]
		for i := 0; i+1 < len(args); i += 2 {
			if args[i] == name {
				return args[i+1]
			}
		}
		return p
	})
}

var placeholder = regexp.MustCompile(`\{[a-z_]+\}`)

// placeholders returns the sorted, distinct placeholder names of s.
func placeholders(s string) []string {
	var names []string
	for _, p := range placeholder.FindAllString(s, -1) {
		names = append(names, p[1:len(p)-1])
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// Name is the language's name in itself, for a language menu.
func (l Lang) Name() string { return l.T("lang.name") }

// Detail names a field of a subject's profile in l: as the catalogue names
// the details a subject may be asked for (datapoint.<field>), or else by the
// field's own name.
func (l Lang) Detail(field string) string {
	if label := l.T("datapoint." + field); label != "datapoint."+field {
		return label
	}
	return strings.ReplaceAll(field, "_", " ")
}

// Details names fields in l (see Detail), as a list.
func (l Lang) Details(fields []string) string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = l.Detail(f)
	}
	return strings.Join(names, ", ")
}

// Date writes a calendar date as people of the language read it:
// 2 March 2026, 2. März 2026, 2. maaliskuuta 2026.
func (l Lang) Date(t time.Time) string {
	return l.T("date.long", "day", fmt.Sprint(t.Day()), "month", l.T(fmt.Sprintf("date.month.%d", t.Month())), "year", fmt.Sprint(t.Year()))
}

// DateTime writes an instant with its zone, in the zone t carries.
func (l Lang) DateTime(t time.Time) string {
	return l.T("date.time", "date", l.Date(t), "hour", t.Format("15"), "minute", t.Format("04"), "zone", t.Format("MST"))
}

// Count writes n with the text of key's plural form in l: key+".one" for
// one, key+".other" (with {count}) for any other number. The five
// languages have just these two forms for whole numbers.
func (l Lang) Count(key string, n int) string {
	if n == 1 {
		return l.T(key + ".one")
	}
	return l.T(key+".other", "count", fmt.Sprint(n))
}
