package registry

import (
	"fmt"
	"slices"
)

// DataPointKinds are the details a requester may be asked for to verify a
// request, matched against the account source (CCPA Regs §7062: "data
// points"). The registry says which attribute of the account holds each.
var DataPointKinds = []Category{
	{"name", "Full name"},
	{"phone", "Phone number"},
	{"postal_code", "Postal code"},
	{"birth_date", "Date of birth (YYYY-MM-DD)"},
	{"street_address", "Street address"},
}

func dataPointIDs() []string {
	ids := make([]string, len(DataPointKinds))
	for i, c := range DataPointKinds {
		ids[i] = c.ID
	}
	return ids
}

// sensitiveCategories are the categories that make data sensitive for
// verification (CCPA §1798.140(ae)).
var sensitiveCategories = []string{"sensitive", "biometric"}

// Account returns the account source, or nil when the registry marks none.
func (r *Registry) Account() *Source {
	for _, s := range r.Sources {
		if s.Account {
			return s
		}
	}
	return nil
}

// HoldsSensitive reports whether any source holds sensitive personal
// information, which raises some verification levels.
func (r *Registry) HoldsSensitive() bool {
	for _, s := range r.Sources {
		for _, c := range s.Categories {
			if slices.Contains(sensitiveCategories, c) {
				return true
			}
		}
	}
	return false
}

// AccountKinds returns the data point kinds the account source offers, in
// the order of DataPointKinds; none without an account source.
func (r *Registry) AccountKinds() []Category {
	a := r.Account()
	if a == nil {
		return nil
	}
	var out []Category
	for _, k := range DataPointKinds {
		if _, ok := a.DataPoints[k.ID]; ok {
			out = append(out, k)
		}
	}
	return out
}

// checkAccount: at most one account source; it is a DynamoDB source found
// by email (one query per verification) and names its data points.
func (v *validator) checkAccount(r *Registry) {
	accounts := 0
	for i, s := range r.Sources {
		if s == nil {
			continue
		}
		at := fmt.Sprintf("$.sources[%d]", i)
		if !s.Account {
			if len(s.DataPoints) > 0 {
				v.fail(at+".data_points", "only the account source (account: true) has data points")
			}
			continue
		}
		if accounts++; accounts == 2 {
			v.fail(at+".account", "only one source can be the account source")
		}
		if s.DynamoDB == nil || s.DynamoDB.Identity != StartIdentity {
			v.fail(at+".account", "the account source must be a dynamodb source found by %q", StartIdentity)
		}
		if len(s.DataPoints) == 0 {
			v.fail(at+".data_points", "name the attributes that hold the data points (%v)", dataPointIDs())
		}
		for kind, attr := range s.DataPoints {
			if !slices.Contains(dataPointIDs(), kind) {
				v.fail(at+".data_points."+kind, "unknown data point %q; use one of %v", kind, dataPointIDs())
			}
			if attr == "" {
				v.fail(at+".data_points."+kind, "name the attribute that holds %q", kind)
			}
		}
	}
}
