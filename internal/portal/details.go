package portal

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"strconv"
	"strings"
	"unicode"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/statute"
)

// Where the law asks for more certainty than control of an email address
// (CCPA Regs §7062), the requester gives details ("data points") beside the
// link or code, and, for specific pieces of information, signs a declaration
// under penalty of perjury. The details are matched against the account
// source of the data-source registry; the answer says only whether enough
// matched, never which.

// Levels gives the verification level of a request type in a jurisdiction.
type Levels interface {
	For(jurisdiction, typ string, sensitive bool) statute.Level
}

// Accounts reads the account source: the record of the customer whose
// email address a request gives.
type Accounts interface {
	// Kinds are the data points the account source holds.
	Kinds() []registry.Category
	// DataPoints returns the account's value of each kind; an empty map
	// when the address has no account.
	DataPoints(ctx context.Context, email string) (map[string]string, error)
}

// Details are what a requester gives besides the link or code.
type Details struct {
	// DataPoints are values by kind (registry.DataPointKinds).
	DataPoints map[string]string
	// Signature is the name typed under the declaration.
	Signature string
}

// Requirement is what a request's confirmation asks for besides the link or
// code; the zero value asks for nothing more.
type Requirement struct {
	DataPoints  int
	Kinds       []registry.Category
	Declaration bool
	// Corrects are the fields a correction asks to change, which the
	// subject sees before confirming (never their new values).
	Corrects []string
}

// DetailsError asks again for the details, saying what is wrong. Only the
// holder of a right link or code gets it.
type DetailsError struct {
	Err         *apperr.Error
	Requirement Requirement
}

func (e *DetailsError) Error() string { return e.Err.Error() }
func (e *DetailsError) Unwrap() error { return e.Err }

// maxDetailLength bounds each value read and compared.
const maxDetailLength = 200

func (p *Portal) requirement(r *request.Request) Requirement {
	corrects := r.Correction.Values.Fields()
	if r.Verification.Level.DataPoints == 0 && !r.Verification.Level.Declaration {
		return Requirement{Corrects: corrects}
	}
	var kinds []registry.Category
	if p.Accounts != nil {
		kinds = p.Accounts.Kinds()
	}
	return Requirement{DataPoints: r.Verification.Level.DataPoints, Kinds: kinds, Declaration: r.Verification.Level.Declaration, Corrects: corrects}
}

// ErrOperatorCheck: the level asks for more details than the account
// source holds, so no one can pass it online.
var ErrOperatorCheck = apperr.Keyed(apperr.Conflict, "operator_check.body")

// detailsOutcome is what checking details found.
type detailsOutcome int

const (
	detailsOK       detailsOutcome = iota
	detailsMissing                 // not enough given: ask again, count nothing
	detailsWrong                   // given but not matching: a failed attempt
	detailsOperator                // cannot be checked online
)

// checkDetails checks the details of a confirmation against the account of
// the request's email address. The work is the same whether or not there
// is an account and whichever details match.
func (p *Portal) checkDetails(ctx context.Context, r *request.Request, d Details) (detailsOutcome, *DetailsError, error) {
	req := p.requirement(r)
	if req.DataPoints == 0 && !req.Declaration {
		return detailsOK, nil, nil
	}
	if len(req.Kinds) < req.DataPoints {
		return detailsOperator, nil, nil
	}
	var fields []apperr.FieldError
	given := 0
	for _, k := range req.Kinds {
		if normalizeDataPoint(k.ID, d.DataPoints[k.ID]) != "" {
			given++
		}
	}
	if given < req.DataPoints {
		fields = append(fields, apperr.Field("details", "details.missing", "count", strconv.Itoa(req.DataPoints)))
	}
	if req.Declaration && strings.TrimSpace(d.Signature) == "" {
		fields = append(fields, apperr.Field("signature", "details.signature"))
	}
	if len(fields) > 0 {
		return detailsMissing, &DetailsError{Err: apperr.InvalidFields(fields...), Requirement: req}, nil
	}
	held := map[string]string{}
	if req.DataPoints > 0 {
		var err error
		if held, err = p.Accounts.DataPoints(ctx, r.Email); err != nil {
			return 0, nil, err
		}
	}
	if matchCount(req.Kinds, d.DataPoints, held) < req.DataPoints {
		return detailsWrong, &DetailsError{Err: apperr.InvalidFields(apperr.Field("details", "details.wrong")), Requirement: req}, nil
	}
	return detailsOK, nil, nil
}

// matchCount counts the kinds whose given value matches the held one. Every
// kind costs the same: both sides are hashed and compared in constant time,
// present or not, so neither the time nor the answer says which matched.
func matchCount(kinds []registry.Category, given, held map[string]string) int {
	n := 0
	for _, k := range kinds {
		g, h := normalizeDataPoint(k.ID, given[k.ID]), normalizeDataPoint(k.ID, held[k.ID])
		gs := sha256.Sum256([]byte(k.ID + "\x00" + g))
		hs := sha256.Sum256([]byte(k.ID + "\x00" + h))
		same := subtle.ConstantTimeCompare(gs[:], hs[:])
		present := subtle.ConstantTimeEq(int32(min(len(g), 1)&min(len(h), 1)), 1)
		n += same & present
	}
	return n
}

// normalizeDataPoint puts a value in the form in which it is compared, so
// that "+1 (415) 555-0101" matches "415 555 0101" and "sw1a 1aa" matches
// "SW1A 1AA".
func normalizeDataPoint(kind, v string) string {
	if len(v) > maxDetailLength {
		v = v[:maxDetailLength]
	}
	switch kind {
	case "phone":
		digits := strings.Map(func(c rune) rune {
			if c >= '0' && c <= '9' {
				return c
			}
			return -1
		}, v)
		// The national number: the last ten digits, so a country code
		// given on one side only does not matter.
		if len(digits) > 10 {
			digits = digits[len(digits)-10:]
		}
		return digits
	case "postal_code":
		return strings.Map(func(c rune) rune {
			if unicode.IsSpace(c) || c == '-' {
				return -1
			}
			return unicode.ToUpper(c)
		}, v)
	default:
		return strings.ToLower(strings.Join(strings.Fields(v), " "))
	}
}
