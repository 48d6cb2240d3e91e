package registry

import (
	"fmt"
	"regexp"
	"slices"
)

// Correctable returns the attributes a correction request may change: those
// the account source, the subject's profile, lists as correctable.
func (r *Registry) Correctable() []string {
	if a := r.Account(); a != nil {
		return a.Correctable
	}
	return nil
}

var attributePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]{0,63}$`)

// checkCorrectable: only the account source lists correctable attributes,
// each once, and none by which a subject is found or identities chain (a
// correction must not move a record to another person).
func (v *validator) checkCorrectable(r *Registry) {
	for i, s := range r.Sources {
		if s == nil || len(s.Correctable) == 0 {
			continue
		}
		at := fmt.Sprintf("$.sources[%d].correctable", i)
		if !s.Account || s.DynamoDB == nil {
			v.fail(at, "only the account source (account: true, dynamodb) lists correctable attributes")
			continue
		}
		for j, attr := range s.Correctable {
			switch {
			case !attributePattern.MatchString(attr):
				v.fail(fmt.Sprintf("%s[%d]", at, j), "attribute %q must be letters, digits, _ . or -, starting with a letter or _", attr)
			case slices.Index(s.Correctable, attr) != j:
				v.fail(fmt.Sprintf("%s[%d]", at, j), "attribute %q is listed twice", attr)
			case attr == s.DynamoDB.PartitionKey:
				v.fail(fmt.Sprintf("%s[%d]", at, j), "attribute %q finds the subject and cannot be corrected by request", attr)
			case slices.Contains(valuesOf(s.Provides), attr):
				v.fail(fmt.Sprintf("%s[%d]", at, j), "attribute %q chains identities and cannot be corrected by request", attr)
			}
		}
	}
}

func valuesOf(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
