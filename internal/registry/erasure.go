package registry

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// checkErasure validates a source's erasure mode and what the mode needs:
// the fields to anonymize, or the legal reason and period to retain.
func (v *validator) checkErasure(at string, s *Source) {
	if !slices.Contains(ErasureModes, s.Erasure) {
		v.fail(at+".erasure", "erasure %q is not supported; use one of %s", s.Erasure, strings.Join(ErasureModes, ", "))
		return
	}
	if s.Erasure != EraseAnonymize && s.Anonymize != nil {
		v.fail(at+".anonymize", "anonymize is only read with erasure: %s", EraseAnonymize)
	}
	if s.Erasure != EraseRetain && s.Retain != nil {
		v.fail(at+".retain", "retain is only read with erasure: %s", EraseRetain)
	}
	switch s.Erasure {
	case EraseAnonymize:
		v.checkAnonymize(at, s)
	case EraseRetain:
		v.checkRetain(at+".retain", s.Retain)
	}
}

// checkAnonymize makes sure anonymizing leaves nothing that identifies the
// subject: every field the source finds the subject by, and every identity it
// provides, must be among the anonymized fields. A table's own partition key
// cannot be removed from an item, so such a source must query an index.
func (v *validator) checkAnonymize(at string, s *Source) {
	if len(s.Anonymize) == 0 {
		v.fail(at+".anonymize", "list the fields to anonymize")
		return
	}
	for i, f := range s.Anonymize {
		switch {
		case strings.TrimSpace(f) == "":
			v.fail(fmt.Sprintf("%s.anonymize[%d]", at, i), "name the field")
		case slices.Contains(s.Anonymize[:i], f):
			v.fail(fmt.Sprintf("%s.anonymize[%d]", at, i), "field %q is listed twice", f)
		}
	}
	need := func(field, what string) {
		if field != "" && !slices.Contains(s.Anonymize, field) {
			v.fail(at+".anonymize", "also anonymize %q, %s: otherwise the record still identifies the subject", field, what)
		}
	}
	switch {
	case s.DynamoDB != nil && s.DynamoDB.Index == "":
		v.fail(at+".anonymize", "the table's partition key %q cannot be removed from an item: query through an index on an attribute to anonymize, or use erasure: delete", s.DynamoDB.PartitionKey)
	case s.DynamoDB != nil:
		need(s.DynamoDB.PartitionKey, "the attribute the source is queried by")
	case s.S3 != nil:
		for _, m := range s.S3.Match {
			need(m.Field, "a field the source matches on")
		}
	}
	for _, kind := range sortedKeys(s.Provides) {
		need(s.Provides[kind], "which provides the identity "+strconv.Quote(kind))
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (v *validator) checkRetain(at string, r *RetainRule) {
	if r == nil {
		v.fail(at, "give the legal reason to retain (reason, citation) and how long (period or until)")
		return
	}
	if strings.TrimSpace(r.Reason) == "" {
		v.fail(at+".reason", "say why the records must be kept; the subject is told")
	}
	if strings.TrimSpace(r.Citation) == "" {
		v.fail(at+".citation", "cite the law that requires keeping them")
	}
	switch {
	case r.Period == "" && r.Until == "":
		v.fail(at, "give a period (e.g. P10Y) or a fixed until date")
	case r.Period != "" && r.Until != "":
		v.fail(at, "give a period or an until date, not both")
	case r.Period != "":
		if _, err := ParsePeriod(r.Period); err != nil {
			v.fail(at+".period", "%v", err)
		}
		if r.From != "" && r.From != FromEndOfYear {
			v.fail(at+".from", "from %q is not supported; use %s, or leave it out to count from the date itself", r.From, FromEndOfYear)
		}
	default:
		if _, err := time.Parse(time.DateOnly, r.Until); err != nil {
			v.fail(at+".until", "until %q is not a date like 2031-12-31", r.Until)
		}
		if r.After != "" {
			v.fail(at+".after", "after is only read with a period")
		}
		if r.From != "" {
			v.fail(at+".from", "from is only read with a period")
		}
	}
}

// FromEndOfYear counts a retention period from the end of the calendar year
// of the date it runs from.
const FromEndOfYear = "end_of_year"

// Period is a calendar period in whole years, months and days.
type Period struct{ Years, Months, Days int }

var isoPeriodPattern = regexp.MustCompile(`^P(?:(\d{1,3})Y)?(?:(\d{1,4})M)?(?:(\d{1,5})D)?$`)

// ParsePeriod reads an ISO 8601 duration of years, months and days (P10Y,
// P6M, P1Y6M, P30D). Times of day are not periods a law keeps records for.
func ParsePeriod(s string) (Period, error) {
	m := isoPeriodPattern.FindStringSubmatch(s)
	if m == nil || s == "P" {
		return Period{}, fmt.Errorf("period %q is not an ISO 8601 period like P10Y, P6M or P30D", s)
	}
	n := func(x string) int { i, _ := strconv.Atoi(x); return i }
	p := Period{Years: n(m[1]), Months: n(m[2]), Days: n(m[3])}
	if p == (Period{}) {
		return Period{}, fmt.Errorf("period %q is empty", s)
	}
	return p, nil
}

// AddTo returns the day t moved on by the period. Years and months are
// calendar months: from a day the target month lacks (31 August + 6 months)
// it ends on that month's last day, as EU Regulation 1182/71 counts.
func (p Period) AddTo(t time.Time) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(p.Months), 1, 0, 0, 0, 0, time.UTC).AddDate(p.Years, 0, 0)
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(d, last)-1+p.Days)
}

// ErrNoDate means a retained record has no readable date in the field its
// retention period runs from.
var ErrNoDate = errors.New("a retained record has no readable date in the field its period runs from")

// KeptUntil is the last day a retained record is kept: the fixed date, or
// the period after the record's date field, or after erasedAt (in either
// case from the end of that date's year, if the rule says so).
func (r *RetainRule) KeptUntil(record map[string]any, erasedAt time.Time) (time.Time, error) {
	if r.Until != "" {
		return time.Parse(time.DateOnly, r.Until)
	}
	p, err := ParsePeriod(r.Period)
	if err != nil {
		return time.Time{}, err
	}
	from := erasedAt.UTC()
	if r.After != "" {
		s, _ := record[r.After].(string)
		if from, err = parseDate(s); err != nil {
			return time.Time{}, ErrNoDate
		}
	}
	if r.From == FromEndOfYear {
		from = time.Date(from.Year(), time.December, 31, 0, 0, 0, 0, time.UTC)
	}
	return p.AddTo(from), nil
}

// parseDate reads a record's date. A time keeps its own offset: the
// record's date is the day it was written where it was written (an invoice
// of 31 December, 23:30 at UTC-2, is of 31 December, and of that year).
func parseDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Parse(time.DateOnly, s)
}
