// Package policy loads the company's own policy, which it deploys beside its
// data-source registry: the promises it makes on top of the law (a shorter
// deadline, no extensions), what happens when nobody decides on an
// extension, its lead supervisory authority and its data protection
// officer, the languages it answers in, and verification stricter than the
// law asks. The law stays the floor: a policy may promise more, never less,
// and what the law forbids (verifying a CCPA opt-out) it cannot ask for.
// Every mistake is reported at load time with its line.
package policy

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Policy is a validated company policy. The zero Policy is the law alone.
type Policy struct {
	// ResponseDays, when set, is the company's promise: every request is
	// answered within that many calendar days of receipt, or by the law's
	// date if that is earlier.
	ResponseDays int `yaml:"response_days"`
	// Extensions says whether the company ever extends a request as the
	// law allows: ExtensionsAllowed (the default; an operator decides for
	// each request, with reasons) or ExtensionsNever.
	Extensions string `yaml:"extensions"`
	// Undecided is what happens when no operator decided on an extension by
	// the time its notice is due: UndecidedEscalate (the default: no
	// extension, an operator is alerted) or UndecidedExtendWithFacts
	// (extend, giving as reasons only what the request's own state shows:
	// a legal hold, a source still being read, places left for an operator,
	// an agent's permission awaited; with none of these, escalate).
	Undecided string `yaml:"undecided_extension"`
	// AskDays is how many days before an extension notice would go out
	// the operators are asked whether to extend (DefaultAskDays when 0).
	AskDays int `yaml:"ask_extension_days_before"`
	// LeadAuthority is the supervisory authority notices name where the law
	// has no single one (the GDPR: the authority of the company's main
	// establishment, Art 56).
	LeadAuthority *Contact `yaml:"lead_authority"`
	// DPO is the data protection officer, named in every decision a
	// subject is sent.
	DPO *Contact `yaml:"dpo"`
	// PrivacyNoticeURL is the company's privacy notice, which notices refer
	// to where the law says so (CCPA Regs §7024: the categories collected).
	PrivacyNoticeURL string `yaml:"privacy_notice_url"`
	// Languages are the languages the company answers in, the first the
	// default; empty offers every language of the catalogue.
	Languages []string `yaml:"languages"`
	// Verification asks more than the law does (never less).
	Verification *Verification `yaml:"verification"`
}

// Contact is a named office and how to reach it.
type Contact struct {
	Name  string `yaml:"name"`
	URL   string `yaml:"url"`
	Email string `yaml:"email"`
}

// Verification is verification the company asks beyond the law.
type Verification struct {
	// DataPoints asks this many details matching the account source, for
	// the request types listed (all that are verified, if none is), where
	// the law asks fewer.
	DataPoints int      `yaml:"data_points"`
	Types      []string `yaml:"types"`
	// Declaration asks a signed declaration under penalty of perjury too.
	Declaration bool `yaml:"declaration"`
}

// Extension choices.
const (
	ExtensionsAllowed = "allowed"
	ExtensionsNever   = "never"

	UndecidedEscalate        = "escalate"
	UndecidedExtendWithFacts = "extend_with_facts"
)

// DefaultAskDays gives the operators three days to decide on an extension
// before its notice is due.
const DefaultAskDays = 3

// MaxAskDays bounds the question: asked earlier, nobody knows yet.
const MaxAskDays = 30

// DecisionLead is how long before an extension notice would go out the
// operators are asked whether to extend.
func (p *Policy) DecisionLead() time.Duration {
	days := DefaultAskDays
	if p != nil && p.AskDays > 0 {
		days = p.AskDays
	}
	return time.Duration(days) * 24 * time.Hour
}

// MaxResponseDays bounds a promise: longer than any law's period is no
// promise.
const MaxResponseDays = 90

// Languages the catalogue has; Parse is told them (i18n knows them).
type Known struct {
	Languages    []string
	RequestTypes []string
}

// ExtensionsForbidden reports whether the company never extends.
func (p *Policy) ExtensionsForbidden() bool { return p != nil && p.Extensions == ExtensionsNever }

// ExtendsWithFacts reports whether an undecided extension is made with the
// reasons the request's state shows.
func (p *Policy) ExtendsWithFacts() bool { return p != nil && p.Undecided == UndecidedExtendWithFacts }

// LoadFile reads and validates a policy file.
func LoadFile(path string, known Known) (*Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	p, err := Parse(b, known)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// Parse decodes and validates a policy. Unknown keys and bad values are
// errors that name the line.
func Parse(b []byte, known Known) (*Policy, error) {
	var p Policy
	if err := yaml.UnmarshalWithOptions(b, &p, yaml.Strict(), yaml.DisallowUnknownField()); err != nil {
		return nil, errors.New(yaml.FormatError(err, false, true))
	}
	file, err := parser.ParseBytes(b, 0)
	if err != nil {
		return nil, err
	}
	v := validator{file: file}
	v.check(&p, known)
	if len(v.problems) > 0 {
		return nil, errors.New(strings.Join(v.problems, "\n"))
	}
	if p.Extensions == "" {
		p.Extensions = ExtensionsAllowed
	}
	if p.Undecided == "" {
		p.Undecided = UndecidedEscalate
	}
	return &p, nil
}

type validator struct {
	file     *ast.File
	problems []string
}

func (v *validator) fail(path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	for p := path; p != "$"; {
		if yp, err := yaml.PathString(p); err == nil {
			if n, err := yp.FilterFile(v.file); err == nil && n != nil {
				v.problems = append(v.problems, fmt.Sprintf("line %d: %s: %s", n.GetToken().Position.Line, path, msg))
				return
			}
		}
		i := strings.LastIndexAny(p, ".[")
		if i <= 0 {
			break
		}
		p = p[:i]
	}
	v.problems = append(v.problems, fmt.Sprintf("%s: %s", path, msg))
}

func (v *validator) check(p *Policy, known Known) {
	if p.ResponseDays < 0 || p.ResponseDays > MaxResponseDays {
		v.fail("$.response_days", "%d days is no promise: give 1 to %d, or leave it out to keep the law's dates", p.ResponseDays, MaxResponseDays)
	}
	switch p.Extensions {
	case "", ExtensionsAllowed, ExtensionsNever:
	default:
		v.fail("$.extensions", "%q is not a choice: %s or %s", p.Extensions, ExtensionsAllowed, ExtensionsNever)
	}
	switch p.Undecided {
	case "", UndecidedEscalate, UndecidedExtendWithFacts:
	default:
		v.fail("$.undecided_extension", "%q is not a choice: %s or %s", p.Undecided, UndecidedEscalate, UndecidedExtendWithFacts)
	}
	if p.Extensions == ExtensionsNever && p.Undecided == UndecidedExtendWithFacts {
		v.fail("$.undecided_extension", "the policy never extends, so nothing is extended undecided either")
	}
	if p.AskDays < 0 || p.AskDays > MaxAskDays {
		v.fail("$.ask_extension_days_before", "%d days: give 1 to %d, or leave it out for %d", p.AskDays, MaxAskDays, DefaultAskDays)
	}
	if p.Extensions == ExtensionsNever && p.AskDays != 0 {
		v.fail("$.ask_extension_days_before", "the policy never extends, so nobody is asked")
	}
	v.contact("$.lead_authority", p.LeadAuthority, true)
	v.contact("$.dpo", p.DPO, false)
	if p.PrivacyNoticeURL != "" && !httpsURL(p.PrivacyNoticeURL) {
		v.fail("$.privacy_notice_url", "%q is not an https address", p.PrivacyNoticeURL)
	}
	for i, l := range p.Languages {
		if !slices.Contains(known.Languages, l) {
			v.fail(fmt.Sprintf("$.languages[%d]", i), "language %q has no catalogue; use one of %s", l, strings.Join(known.Languages, ", "))
		}
		if slices.Index(p.Languages, l) != i {
			v.fail(fmt.Sprintf("$.languages[%d]", i), "language %q is listed twice", l)
		}
	}
	if vr := p.Verification; vr != nil {
		if vr.DataPoints < 0 || vr.DataPoints > 5 {
			v.fail("$.verification.data_points", "%d data points: give 0 to 5", vr.DataPoints)
		}
		if vr.DataPoints == 0 && !vr.Declaration {
			v.fail("$.verification", "asks nothing beyond the law: give data_points or declaration, or leave it out")
		}
		for i, t := range vr.Types {
			if !slices.Contains(known.RequestTypes, t) {
				v.fail(fmt.Sprintf("$.verification.types[%d]", i), "request type %q is not known; use one of %s", t, strings.Join(known.RequestTypes, ", "))
			}
		}
	}
}

// contact checks a named office: a name, and a way to reach it (an https
// address, an email address); an authority needs an address people can
// open.
func (v *validator) contact(path string, c *Contact, needURL bool) {
	if c == nil {
		return
	}
	if strings.TrimSpace(c.Name) == "" {
		v.fail(path+".name", "give the name")
	}
	if c.URL != "" && !httpsURL(c.URL) {
		v.fail(path+".url", "%q is not an https address", c.URL)
	}
	if c.Email != "" {
		if a, err := mail.ParseAddress(c.Email); err != nil || a.Address != c.Email {
			v.fail(path+".email", "%q is not an email address", c.Email)
		}
	}
	switch {
	case needURL && c.URL == "":
		v.fail(path+".url", "give the authority's web address, where a complaint can be made")
	case c.URL == "" && c.Email == "":
		v.fail(path, "give a url or an email")
	}
}

func httpsURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Host != ""
}

// Reach is how to reach a contact: its web address, else its email.
func (c *Contact) Reach() string {
	if c.URL != "" {
		return c.URL
	}
	return c.Email
}
