package statute

import (
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // jurisdiction time zones must resolve on any host, Lambda included

	"github.com/goccy/go-yaml"
)

//go:embed rules.yaml
var rulesYAML []byte

// Units of a period.
const (
	CalendarDays = "calendar_days"
	BusinessDays = "business_days"
	Months       = "months"
)

// Clock starts.
const (
	FromReceipt      = "receipt"
	FromVerification = "verification"
	// FromLatest starts the clock at the latest of receipt, the arrival of
	// identity information asked for, and payment of a fee (UK GDPR Art 12A).
	FromLatest = "latest_of_receipt_identity_fee"
)

// Period is a length of time the law sets, with its source.
type Period struct {
	Amount int    `yaml:"amount"`
	Unit   string `yaml:"unit"`
	Cite   string `yaml:"cite"`
	// Status says how well the number is verified: V against the statute,
	// S from a secondary source, M unverified (see Note for the choice made).
	Status string `yaml:"status"`
	Note   string `yaml:"note"`
}

// Extension is how far and on what terms a response may be extended.
type Extension struct {
	Period `yaml:",inline"`
	// MustInclude lists what the extension notice must contain, in the
	// law's words.
	MustInclude []string `yaml:"must_include"`
	// Carries lists the elements the notice must carry beyond the new date
	// and the reasons (see Elements).
	Carries []string `yaml:"carries"`
}

// Ack is when receipt must be confirmed, and what the confirmation carries
// beyond the due date (see Elements).
type Ack struct {
	Period  `yaml:",inline"`
	Carries []string `yaml:"carries"`
}

// Rule is what the law says for one kind of request.
type Rule struct {
	// NotProvided marks a request type this law does not give (Utah: no appeal).
	NotProvided bool `yaml:"not_provided"`
	// Verification is false where the law forbids requiring it (opt-out).
	Verification *bool  `yaml:"verification"`
	ClockStart   string `yaml:"clock_start"`
	// Ack is when receipt must be confirmed, where the law says so.
	Ack       *Ack       `yaml:"ack"`
	Response  *Period    `yaml:"response"`
	Extension *Extension `yaml:"extension"`
	// Pausable: the clock stops while the controller waits for information
	// it reasonably requires (UK GDPR Art 12A).
	Pausable bool `yaml:"pausable"`
	// StartDayCounts: the period begins with the day the clock starts, which
	// is its first day (UK: "beginning with"); otherwise that day is not
	// counted.
	StartDayCounts bool `yaml:"start_day_counts"`
	// Denial lists what a refusal must tell the subject.
	Denial *Notice `yaml:"denial"`
	// Unverified is what the notice closing a request whose subject could
	// not be verified must tell; without it, what a denial tells.
	Unverified *Notice `yaml:"unverified"`
	// Partial is what the notice of a deletion carried out in part (data
	// kept under an exception) must tell; without it, what a denial tells.
	Partial *Notice `yaml:"partial"`
}

// Notice is what a notice must contain, and where the law says so.
type Notice struct {
	// MustInclude is what the law says the notice contains, in its words.
	MustInclude []string `yaml:"must_include"`
	// Carries lists the elements the notice must carry beyond its facts
	// (reasons, dates), each by its key (see Elements): the workflow passes
	// them on and notify renders each. Nothing is matched by its text.
	Carries []string `yaml:"carries"`
	Cite    string   `yaml:"cite"`
	Status  string   `yaml:"status"`
	Note    string   `yaml:"note"`
}

// Jurisdiction holds the rules of one law.
type Jurisdiction struct {
	Code     string `yaml:"code"`
	Law      string `yaml:"law"`
	TimeZone string `yaml:"time_zone"`
	Calendar string `yaml:"calendar"`
	// ShiftToWorkday: a period ending on a weekend or public holiday ends
	// on the next working day.
	ShiftToWorkday bool   `yaml:"shift_to_workday"`
	ShiftCite      string `yaml:"shift_cite"`
	Default        Rule   `yaml:"default"`
	// Types override the default rule, field by field, for request types.
	Types map[string]Rule `yaml:"types"`
	Note  string          `yaml:"note"`
	// Authority is the body the law's notices name for a complaint or a
	// review: a supervisory authority, a commissioner, an Attorney General.
	Authority *Authority `yaml:"authority"`

	loc *time.Location
	cal Calendar
	// calCite and calStatus say where the calendar's holidays come from.
	calCite, calStatus string
}

// Rules are the statutory rules of every supported jurisdiction.
type Rules struct {
	Jurisdictions []*Jurisdiction `yaml:"jurisdictions"`
}

// RequestTypes the rules may name.
var RequestTypes = []string{"access", "portability", "delete", "correct", "restrict", "object", "opt_out", "limit", "appeal"}

var validStatus = []string{"V", "S", "M"}

// Load parses the project's rules file.
func Load() (*Rules, error) { return Parse(rulesYAML) }

// Parse reads and checks a rules file: every period has a unit, an amount,
// a citation and a status; zones and calendars exist.
func Parse(b []byte) (*Rules, error) {
	var r Rules
	if err := yaml.UnmarshalWithOptions(b, &r, yaml.Strict(), yaml.DisallowUnknownField()); err != nil {
		return nil, errors.New(yaml.FormatError(err, false, true))
	}
	var problems []string
	seen := map[string]bool{}
	for _, j := range r.Jurisdictions {
		if j.Code == "" || seen[j.Code] {
			problems = append(problems, fmt.Sprintf("jurisdiction %q: missing or repeated code", j.Code))
			continue
		}
		seen[j.Code] = true
		var err error
		if j.loc, err = time.LoadLocation(j.TimeZone); err != nil || j.TimeZone == "" {
			problems = append(problems, fmt.Sprintf("%s: time zone %q", j.Code, j.TimeZone))
		}
		if j.cal, err = newCalendar(j.Calendar); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", j.Code, err))
		}
		j.calCite, j.calStatus = calendars[j.Calendar].cite, calendars[j.Calendar].status
		problems = append(problems, j.Default.check(j.Code+" default", true)...)
		for typ := range j.Types {
			if !slices.Contains(RequestTypes, typ) {
				problems = append(problems, fmt.Sprintf("%s: unknown request type %q", j.Code, typ))
			}
			if r := j.rule(typ); !r.NotProvided {
				problems = append(problems, r.check(j.Code+" "+typ, true)...)
			}
		}
		problems = append(problems, j.checkNotices()...)
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "\n"))
	}
	return &r, nil
}

func (p *Period) check(at string) []string {
	if p == nil {
		return nil
	}
	var problems []string
	if p.Amount <= 0 || !slices.Contains([]string{CalendarDays, BusinessDays, Months}, p.Unit) {
		problems = append(problems, fmt.Sprintf("%s: period needs a positive amount and a unit (%s, %s, %s)", at, CalendarDays, BusinessDays, Months))
	}
	if p.Cite == "" || !slices.Contains(validStatus, p.Status) {
		problems = append(problems, fmt.Sprintf("%s: period needs a citation and a status V, S or M", at))
	}
	if p.Status == "M" && p.Note == "" {
		problems = append(problems, fmt.Sprintf("%s: an unverified (M) period needs a note saying what was chosen and why", at))
	}
	return problems
}

func (r Rule) check(at string, needResponse bool) []string {
	var problems []string
	if needResponse && r.Response == nil {
		problems = append(problems, at+": no response period")
	}
	if !slices.Contains([]string{FromReceipt, FromVerification, FromLatest}, r.ClockStart) {
		problems = append(problems, fmt.Sprintf("%s: clock_start must be %s, %s or %s", at, FromReceipt, FromVerification, FromLatest))
	}
	if r.Verification == nil {
		problems = append(problems, at+": say whether verification is required")
	}
	if r.Ack != nil {
		problems = append(problems, r.Ack.check(at+" ack")...)
	}
	problems = append(problems, r.Response.check(at+" response")...)
	if r.Extension != nil {
		problems = append(problems, r.Extension.Period.check(at+" extension")...)
		if len(r.Extension.MustInclude) == 0 {
			problems = append(problems, at+" extension: list what the notice must include")
		}
	}
	return problems
}

// Jurisdiction returns the rules of a code, or nil.
func (r *Rules) Jurisdiction(code string) *Jurisdiction {
	for _, j := range r.Jurisdictions {
		if j.Code == code {
			return j
		}
	}
	return nil
}

// Codes lists the jurisdictions in file order.
func (r *Rules) Codes() []string {
	codes := make([]string, len(r.Jurisdictions))
	for i, j := range r.Jurisdictions {
		codes[i] = j.Code
	}
	return codes
}

// Location is the time zone in which the jurisdiction counts days.
func (j *Jurisdiction) Location() *time.Location { return j.loc }

// rule is the rule for typ: the default, or the override for typ. An
// override states its periods in full (a period it leaves out does not
// apply) and inherits verification, clock start, pausing and denial.
func (j *Jurisdiction) rule(typ string) Rule {
	o, ok := j.Types[typ]
	if !ok {
		return j.Default
	}
	r := j.Default
	r.Ack, r.Response, r.Extension, r.NotProvided = o.Ack, o.Response, o.Extension, o.NotProvided
	if o.Verification != nil {
		r.Verification = o.Verification
	}
	if o.ClockStart != "" {
		r.ClockStart = o.ClockStart
	}
	if o.Pausable {
		r.Pausable = true
	}
	if o.StartDayCounts {
		r.StartDayCounts = true
	}
	if o.Denial != nil {
		r.Denial = o.Denial
	}
	if o.Unverified != nil {
		r.Unverified = o.Unverified
	}
	if o.Partial != nil {
		r.Partial = o.Partial
	}
	return r
}

// Grants reports whether the law of code gives requests of type typ, and
// whether it lets the controller require the subject to verify them. An
// unknown code or type is not granted.
func (r *Rules) Grants(code, typ string) (granted, verification bool) {
	j := r.Jurisdiction(code)
	if j == nil || !slices.Contains(RequestTypes, typ) {
		return false, false
	}
	rule := j.rule(typ)
	if rule.NotProvided {
		return false, false
	}
	return true, rule.Verification != nil && *rule.Verification
}
