package request

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/privacy-pipeline/dsr/internal/apperr"
)

// Corrections are the fields a correction request changes and their new
// values. The values are personal data: they are stored with the request,
// in the encrypted table, and never travel in workflow payloads.
type Corrections map[string]string

// Limits of a correction request.
const (
	MaxCorrectionFields = 20
	// MaxCorrectionValue is the longest new value, in characters.
	MaxCorrectionValue = 500
	maxFieldName       = 64
)

// Fields returns the corrected field names, sorted.
func (c Corrections) Fields() []string { return slices.Sorted(maps.Keys(c)) }

// checkCorrections checks the shape of the corrections of a submission of type
// typ and returns them normalized (values trimmed): only a correction request
// has them, and it has at least one, unless it came as a letter (byMail)
// whose new values an operator gives once the subject has confirmed; names
// are short, values are text of bounded length without control characters.
// Which fields may be corrected is the registry's to say (see the portal).
func checkCorrections(typ string, c *Corrections, byMail bool) (*Corrections, []apperr.FieldError) {
	if typ != string(Correct) {
		if c != nil && len(*c) > 0 {
			return nil, []apperr.FieldError{apperr.Field("corrections", "error.corrections.unexpected")}
		}
		return nil, nil
	}
	if c == nil || len(*c) == 0 {
		if byMail {
			return nil, nil
		}
		return nil, []apperr.FieldError{apperr.Field("corrections", "error.corrections.required")}
	}
	if len(*c) > MaxCorrectionFields {
		return nil, []apperr.FieldError{apperr.Field("corrections", "error.corrections.too_many", "max", strconv.Itoa(MaxCorrectionFields))}
	}
	var fields []apperr.FieldError
	out := Corrections{}
	for _, name := range c.Fields() {
		value := strings.TrimSpace((*c)[name])
		switch {
		case name == "" || len(name) > maxFieldName || !utf8.ValidString(name):
			fields = append(fields, apperr.Field("corrections", "error.corrections.name"))
		case value == "" || !utf8.ValidString(value) || utf8.RuneCountInString(value) > MaxCorrectionValue ||
			strings.ContainsFunc(value, unicode.IsControl):
			fields = append(fields, apperr.Field("corrections."+name, "error.corrections.value", "max", strconv.Itoa(MaxCorrectionValue)))
		default:
			out[name] = value
		}
	}
	return &out, fields
}

// CheckCorrections checks corrections an operator gives for a correction
// letter as a subject's are checked, and returns them normalized.
func CheckCorrections(c Corrections) (Corrections, []apperr.FieldError) {
	out, bad := checkCorrections(string(Correct), &c, false)
	if len(bad) > 0 {
		return nil, bad
	}
	return *out, nil
}

// CheckCorrectable returns an error for every corrected field that is not
// among those the registry lets a subject correct.
func CheckCorrectable(c Corrections, correctable []string) []apperr.FieldError {
	var fields []apperr.FieldError
	for _, name := range c.Fields() {
		if !slices.Contains(correctable, name) {
			fields = append(fields, apperr.Field("corrections."+name, "error.corrections.field"))
		}
	}
	return fields
}
