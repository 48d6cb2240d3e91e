package statute

import (
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
)

//go:embed verification.yaml
var verificationYAML []byte

// Level is how sure we must be that a request comes from its subject.
type Level struct {
	// None: no verification at all (opt-out, limit).
	None bool `json:"none,omitempty"`
	// DataPoints is how many details must match the account source, besides
	// control of the email address.
	DataPoints int `json:"data_points,omitempty"`
	// Declaration asks for a signed declaration under penalty of perjury.
	Declaration bool   `json:"declaration,omitempty"`
	Cite        string `json:"cite"`
}

// VerificationRule sets the level of some request types in a jurisdiction.
type VerificationRule struct {
	Jurisdiction        string   `yaml:"jurisdiction"`
	Types               []string `yaml:"types"`
	None                bool     `yaml:"none"`
	DataPoints          int      `yaml:"data_points"`
	SensitiveDataPoints int      `yaml:"sensitive_data_points"`
	Declaration         bool     `yaml:"declaration"`
	Cite                string   `yaml:"cite"`
	Status              string   `yaml:"status"`
}

// VerificationRules are the levels of every jurisdiction and request type.
type VerificationRules struct {
	Default struct {
		Cite   string `yaml:"cite"`
		Status string `yaml:"status"`
	} `yaml:"default"`
	Rules []VerificationRule `yaml:"rules"`
}

// AnyJurisdiction names every jurisdiction in a rule.
const AnyJurisdiction = "*"

// LoadVerification parses the project's verification levels, checking the
// jurisdictions against the deadline rules.
func LoadVerification(deadlines *Rules) (*VerificationRules, error) {
	return ParseVerification(verificationYAML, deadlines)
}

// ParseVerification reads and checks a verification levels file: every rule
// names known jurisdictions and types, cites its source and asks for
// something coherent.
func ParseVerification(b []byte, deadlines *Rules) (*VerificationRules, error) {
	var v VerificationRules
	if err := yaml.UnmarshalWithOptions(b, &v, yaml.Strict(), yaml.DisallowUnknownField()); err != nil {
		return nil, errors.New(yaml.FormatError(err, false, true))
	}
	var problems []string
	if v.Default.Cite == "" || !slices.Contains(validStatus, v.Default.Status) {
		problems = append(problems, "default: needs a cite and a status (V, S or M)")
	}
	seen := map[string]bool{}
	for i, r := range v.Rules {
		where := fmt.Sprintf("rule %d (%s)", i+1, r.Jurisdiction)
		if r.Jurisdiction != AnyJurisdiction && deadlines.Jurisdiction(r.Jurisdiction) == nil {
			problems = append(problems, where+": unknown jurisdiction")
		}
		if len(r.Types) == 0 {
			problems = append(problems, where+": names no request type")
		}
		for _, t := range r.Types {
			if !slices.Contains(RequestTypes, t) {
				problems = append(problems, fmt.Sprintf("%s: unknown request type %q", where, t))
			}
			if key := r.Jurisdiction + " " + t; seen[key] {
				problems = append(problems, fmt.Sprintf("%s: a second rule for %q", where, t))
			} else {
				seen[key] = true
			}
		}
		if r.Cite == "" || !slices.Contains(validStatus, r.Status) {
			problems = append(problems, where+": needs a cite and a status (V, S or M)")
		}
		switch {
		case r.None && (r.DataPoints != 0 || r.SensitiveDataPoints != 0 || r.Declaration):
			problems = append(problems, where+": none asks for nothing else")
		case !r.None && r.DataPoints < 1:
			problems = append(problems, where+": data_points must be 1 or more (or none: true)")
		case r.SensitiveDataPoints != 0 && r.SensitiveDataPoints < r.DataPoints:
			problems = append(problems, where+": sensitive_data_points is below data_points")
		}
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "\n"))
	}
	return &v, nil
}

// For returns the level of a request type in a jurisdiction; sensitive says
// whether the data held includes sensitive personal information.
func (v *VerificationRules) For(jurisdiction, typ string, sensitive bool) Level {
	var match *VerificationRule
	for i := range v.Rules {
		r := &v.Rules[i]
		if !slices.Contains(r.Types, typ) {
			continue
		}
		if r.Jurisdiction == jurisdiction {
			match = r
			break
		}
		if r.Jurisdiction == AnyJurisdiction && match == nil {
			match = r
		}
	}
	if match == nil {
		return Level{Cite: v.Default.Cite}
	}
	l := Level{None: match.None, DataPoints: match.DataPoints, Declaration: match.Declaration, Cite: match.Cite}
	if sensitive && match.SensitiveDataPoints > 0 {
		l.DataPoints = match.SensitiveDataPoints
	}
	return l
}
