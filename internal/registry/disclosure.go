package registry

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/goccy/go-yaml"
)

// What a subject is told about each source, besides the records themselves:
// GDPR Art 15(1)(a)-(d) (purposes, categories, recipients, retention; Art
// 15(2) safeguards for transfers) and CCPA §1798.110(a) (categories of
// personal information, business purposes, categories of third parties).
// Every source must state them; the access package and its report show them.

// Category is a category of personal information.
type Category struct {
	ID    string
	Label string
}

// Categories are the categories a source may list: those of CCPA
// §1798.140(v)(1), which also cover what GDPR Art 15(1)(b) asks for.
var Categories = []Category{
	{"identifiers", "Identifiers (such as name, email address, account number)"},
	{"customer_records", "Customer records (such as postal address, telephone number, payment details)"},
	{"protected_characteristics", "Characteristics of protected classifications (such as age, gender)"},
	{"commercial", "Commercial information (such as purchases, subscriptions)"},
	{"biometric", "Biometric information"},
	{"internet_activity", "Internet or other electronic network activity (such as pages viewed, clicks)"},
	{"geolocation", "Geolocation data"},
	{"sensory", "Audio, electronic, visual or similar information"},
	{"professional", "Professional or employment-related information"},
	{"education", "Education information"},
	{"inferences", "Inferences drawn to create a profile"},
	{"sensitive", "Sensitive personal information (such as government identifiers, precise geolocation, health)"},
}

// CategoryLabel returns the readable name of a category id.
func CategoryLabel(id string) string {
	for _, c := range Categories {
		if c.ID == id {
			return c.Label
		}
	}
	return id
}

func categoryIDs() []string {
	ids := make([]string, len(Categories))
	for i, c := range Categories {
		ids[i] = c.ID
	}
	return ids
}

// Recipient is someone to whom a source's data is disclosed.
type Recipient struct {
	Name string `yaml:"name" json:"name"`
	// Role is one of RecipientRoles.
	Role string `yaml:"role" json:"role"`
	// Country is where the recipient receives the data, ISO 3166-1 alpha-2.
	Country string `yaml:"country" json:"country,omitempty"`
	// Safeguards for a transfer outside the EEA (GDPR Art 15(2), Art 46),
	// such as "Standard contractual clauses".
	Safeguards string `yaml:"safeguards" json:"safeguards,omitempty"`
}

// RecipientRoles are the kinds of recipient, with the words the laws use.
var RecipientRoles = []Category{
	{"processor", "Processor (acts on our instructions)"},
	{"service_provider", "Service provider"},
	{"contractor", "Contractor"},
	{"third_party", "Third party"},
	{"public_authority", "Public authority"},
}

// RoleLabel returns the readable name of a recipient role.
func RoleLabel(role string) string {
	for _, r := range RecipientRoles {
		if r.ID == role {
			return r.Label
		}
	}
	return role
}

// Retention says how long a source keeps data (GDPR Art 15(1)(d)): a period,
// the criteria that determine it, or both.
type Retention struct {
	// Period is "<n> days|weeks|months|years", e.g. "2 years".
	Period   string `yaml:"period" json:"period,omitempty"`
	Criteria string `yaml:"criteria" json:"criteria,omitempty"`
}

// String is the retention as a sentence fragment: "2 years: after the account is closed".
func (r Retention) String() string {
	switch {
	case r.Period != "" && r.Criteria != "":
		return r.Period + "; " + r.Criteria
	case r.Period != "":
		return r.Period
	}
	return r.Criteria
}

var (
	periodPattern  = regexp.MustCompile(`^([1-9][0-9]{0,3}) (day|week|month|year)s?$`)
	countryPattern = regexp.MustCompile(`^[A-Z]{2}$`)
)

// Limits on the free text, so a report stays readable.
const (
	maxDisclosureItems = 20
	maxDisclosureText  = 500
)

// checkDisclosure checks what a source tells the subject about itself.
func (v *validator) checkDisclosure(at string, s *Source) {
	if len(s.Categories) == 0 {
		v.fail(at+".categories", "list the categories of personal data the source holds (one or more of %s)", strings.Join(categoryIDs(), ", "))
	}
	for i, c := range s.Categories {
		p := fmt.Sprintf("%s.categories[%d]", at, i)
		switch {
		case !slices.Contains(categoryIDs(), c):
			v.fail(p, "category %q is not known; use one of %s", c, strings.Join(categoryIDs(), ", "))
		case slices.Index(s.Categories, c) != i:
			v.fail(p, "category %q is listed twice", c)
		}
	}
	if len(s.Purposes) == 0 {
		v.fail(at+".purposes", "list why the data is processed (one sentence per purpose)")
	}
	v.texts(at+".purposes", s.Purposes)
	if !v.present(at + ".recipients") {
		v.fail(at+".recipients", "list who receives the data, or write recipients: [] if no one outside the company does")
	}
	if len(s.Recipients) > maxDisclosureItems {
		v.fail(at+".recipients", "list at most %d recipients (name categories of recipients instead)", maxDisclosureItems)
	}
	roles := make([]string, len(RecipientRoles))
	for i, r := range RecipientRoles {
		roles[i] = r.ID
	}
	for i, r := range s.Recipients {
		p := fmt.Sprintf("%s.recipients[%d]", at, i)
		if msg := textProblem(r.Name); msg != "" {
			v.fail(p+".name", "name %s", msg)
		}
		if !slices.Contains(roles, r.Role) {
			v.fail(p+".role", "role %q is not known; use one of %s", r.Role, strings.Join(roles, ", "))
		}
		if r.Country != "" && !countryPattern.MatchString(r.Country) {
			v.fail(p+".country", "country %q must be an ISO 3166-1 alpha-2 code such as US or DE", r.Country)
		}
		if r.Safeguards != "" {
			if msg := textProblem(r.Safeguards); msg != "" {
				v.fail(p+".safeguards", "safeguards %s", msg)
			}
		}
	}
	switch r := s.Retention; {
	case r == nil || (r.Period == "" && r.Criteria == ""):
		v.fail(at+".retention", "say how long the data is kept: a period (\"2 years\"), the criteria, or both")
	default:
		if r.Period != "" && !periodPattern.MatchString(r.Period) {
			v.fail(at+".retention.period", "period %q must be a number and a unit, such as \"30 days\" or \"2 years\"", r.Period)
		}
		if r.Criteria != "" {
			if msg := textProblem(r.Criteria); msg != "" {
				v.fail(at+".retention.criteria", "criteria %s", msg)
			}
		}
	}
}

// texts checks a list of free-text items.
func (v *validator) texts(at string, items []string) {
	if len(items) > maxDisclosureItems {
		v.fail(at, "list at most %d items", maxDisclosureItems)
	}
	for i, t := range items {
		if msg := textProblem(t); msg != "" {
			v.fail(fmt.Sprintf("%s[%d]", at, i), "item %s", msg)
		}
	}
}

// textProblem says what is wrong with a piece of free text, or "".
func textProblem(s string) string {
	switch {
	case strings.TrimSpace(s) == "":
		return "is empty"
	case len(s) > maxDisclosureText:
		return "is longer than " + strconv.Itoa(maxDisclosureText) + " characters"
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "holds a control character (a line break?)"
	}
	return ""
}

// present reports whether the YAML path exists in the file, even if empty.
func (v *validator) present(path string) bool {
	yp, err := yaml.PathString(path)
	if err != nil {
		return false
	}
	n, err := yp.FilterFile(v.file)
	return err == nil && n != nil
}
