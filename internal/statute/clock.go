// Package statute is the statutory clock: for a jurisdiction, a request type
// and the instants that start or stop the clock, it says when receipt must be
// acknowledged, when the answer is due, by when an extension must be
// announced, and how far it may reach. It is pure: no I/O, no current time.
// The law lives in rules.yaml, each number with its citation.
package statute

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Input is what the clock needs to know about a request.
type Input struct {
	Jurisdiction string
	Type         string
	Received     time.Time
	// Verified is when the subject's identity was confirmed; zero if not yet.
	Verified time.Time
	// IdentityReceived is when the information the controller asked for to
	// confirm the subject's identity arrived, and FeePaid when a fee it
	// charged was paid; zero if none was asked for. Where the clock starts
	// at the latest of receipt and these (UK GDPR Art 12A), they move it.
	IdentityReceived time.Time
	FeePaid          time.Time
	// Pauses are spans during which the clock stood still, where the law
	// allows (UK GDPR Art 12A: waiting for clarification).
	Pauses []Pause
}

// Pause is a span during which the clock stood still.
type Pause struct {
	From, To time.Time
}

// Deadlines are the dates a request must meet. Each date is the last day
// that is on time, in the jurisdiction's time zone.
type Deadlines struct {
	Jurisdiction string    `json:"jurisdiction"`
	Type         string    `json:"type"`
	Received     time.Time `json:"received"`
	// ClockStart is the day the period runs from (receipt or verification).
	ClockStart        Date     `json:"clock_start"`
	AckDue            *Date    `json:"ack_due"`
	Due               Date     `json:"due"`
	ExtensionAllowed  bool     `json:"extension_allowed"`
	ExtensionNoticeBy *Date    `json:"extension_notice_by"`
	ExtendedDue       *Date    `json:"extended_due"`
	NoticeMustInclude []string `json:"notice_must_include,omitempty"`
	// VerificationRequired is false where the law forbids requiring it.
	VerificationRequired bool     `json:"verification_required"`
	DenialMustInclude    []string `json:"denial_must_include,omitempty"`
	TimeZone             string   `json:"time_zone"`
	Citations            []string `json:"citations"`
	// Unverified lists the citations of numbers not verified against the
	// statute (status S or M), so a reader knows which to check.
	Unverified []string `json:"unverified,omitempty"`
}

// Location is the time zone in which the deadlines are counted; UTC when
// the zone is unknown (deadlines computed before a zone was recorded).
func (d Deadlines) Location() *time.Location {
	loc, err := time.LoadLocation(d.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Errors of Compute.
var (
	ErrUnknownJurisdiction = errors.New("unknown jurisdiction")
	ErrUnknownType         = errors.New("unknown request type")
	ErrNotProvided         = errors.New("this law gives no such right")
)

// Compute returns the deadlines of a request.
func (r *Rules) Compute(in Input) (Deadlines, error) {
	j := r.Jurisdiction(in.Jurisdiction)
	if j == nil {
		return Deadlines{}, fmt.Errorf("%w %q", ErrUnknownJurisdiction, in.Jurisdiction)
	}
	if !slices.Contains(RequestTypes, in.Type) {
		return Deadlines{}, fmt.Errorf("%w %q", ErrUnknownType, in.Type)
	}
	rule := j.rule(in.Type)
	if rule.NotProvided {
		return Deadlines{}, fmt.Errorf("%s %s: %w", j.Code, in.Type, ErrNotProvided)
	}
	received := DateOf(in.Received, j.loc)
	start := received
	switch rule.ClockStart {
	case FromVerification:
		if !in.Verified.IsZero() {
			start = DateOf(in.Verified, j.loc)
		}
	case FromLatest:
		for _, t := range []time.Time{in.IdentityReceived, in.FeePaid} {
			if !t.IsZero() && start.Before(DateOf(t, j.loc)) {
				start = DateOf(t, j.loc)
			}
		}
	}
	paused := 0
	if rule.Pausable {
		paused = pausedDays(start, in.Pauses, j.loc)
	}
	d := Deadlines{
		Jurisdiction:         j.Code,
		Type:                 in.Type,
		Received:             in.Received.UTC(),
		ClockStart:           start,
		VerificationRequired: rule.Verification != nil && *rule.Verification,
		TimeZone:             j.TimeZone,
	}
	cite := func(p *Period) {
		if !slices.Contains(d.Citations, p.Cite) {
			d.Citations = append(d.Citations, p.Cite)
		}
		if p.Status != "V" && !slices.Contains(d.Unverified, p.Cite) {
			d.Unverified = append(d.Unverified, p.Cite)
		}
	}
	if rule.Ack != nil {
		// Acknowledgement counts from receipt: nothing stops it.
		ack := j.end(received, rule.Ack.Period)
		d.AckDue = &ack
		cite(&rule.Ack.Period)
	}
	d.Due = j.shift(j.count(start, *rule.Response, rule.StartDayCounts).AddDays(paused))
	cite(rule.Response)
	if e := rule.Extension; e != nil {
		d.ExtensionAllowed = true
		notice := d.Due
		d.ExtensionNoticeBy = &notice
		ext := j.shift(j.extend(start, *rule.Response, e.Period, rule.StartDayCounts).AddDays(paused))
		d.ExtendedDue = &ext
		d.NoticeMustInclude = e.MustInclude
		cite(&e.Period)
	}
	if rule.Denial != nil {
		d.DenialMustInclude = rule.Denial.MustInclude
		if rule.Denial.Cite != "" && !slices.Contains(d.Citations, rule.Denial.Cite) {
			d.Citations = append(d.Citations, rule.Denial.Cite)
		}
	}
	if j.ShiftToWorkday && j.ShiftCite != "" {
		d.Citations = append(d.Citations, j.ShiftCite)
	}
	// The holidays count only where a period skips them or ends moved off
	// them: then the list is a source of the date like a period.
	if j.calCite != "" && (j.ShiftToWorkday || rule.countsBusinessDays()) {
		cite(&Period{Cite: j.calCite, Status: j.calStatus})
	}
	return d, nil
}

// countsBusinessDays reports whether a period of the rule skips holidays.
func (r Rule) countsBusinessDays() bool {
	if r.Ack != nil && r.Ack.Unit == BusinessDays {
		return true
	}
	if r.Response != nil && r.Response.Unit == BusinessDays {
		return true
	}
	return r.Extension != nil && r.Extension.Unit == BusinessDays
}

// pausedDays counts the days on which the clock stood still. Days before the
// clock start do not count, and a day covered by several pauses (a pause
// recorded twice, or overlapping spans) counts once.
func pausedDays(start Date, pauses []Pause, loc *time.Location) int {
	type span struct{ from, to Date }
	var spans []span
	for _, p := range pauses {
		from, to := DateOf(p.From, loc), DateOf(p.To, loc)
		if from.Before(start) {
			from = start
		}
		if from.Before(to) {
			spans = append(spans, span{from, to})
		}
	}
	slices.SortFunc(spans, func(a, b span) int { return a.from.midnight().Compare(b.from.midnight()) })
	n := 0
	var end Date // the last day already counted, exclusive
	for i, s := range spans {
		if i > 0 && s.from.Before(end) {
			s.from = end
		}
		if s.from.Before(s.to) {
			n += s.from.DaysUntil(s.to)
			end = s.to
		}
	}
	return n
}

// end is the last day of period p counted from day start (which is itself
// not counted), moved to a working day where the law says so.
func (j *Jurisdiction) end(start Date, p Period) Date {
	return j.shift(j.count(start, p, false))
}

// count is the last day of period p from day start. The start day is not
// counted ("within a month of receipt": Reg 1182/71 Art 3(1)) unless
// startCounts, where the law says the period begins with it (UK: "the period
// of one month beginning with the relevant time"), so the start is day one.
func (j *Jurisdiction) count(start Date, p Period, startCounts bool) Date {
	switch p.Unit {
	case Months:
		if startCounts {
			return start.AddMonthsBeginningWith(p.Amount)
		}
		return start.AddMonths(p.Amount)
	case BusinessDays:
		d, n := start, 0
		if startCounts && j.cal.IsWorkday(d.midnight()) {
			n = 1
		}
		for n < p.Amount {
			d = d.AddDays(1)
			if j.cal.IsWorkday(d.midnight()) {
				n++
			}
		}
		return d
	default:
		if startCounts {
			return start.AddDays(p.Amount - 1)
		}
		return start.AddDays(p.Amount)
	}
}

// extend is the last day of the response period plus the extension, both
// counted from the clock start: "two further months" is three months from
// receipt (ICO), 45 + 45 days is 90 days. The unshifted end of the first
// period is the base, so a weekend at its end does not push the second.
func (j *Jurisdiction) extend(start Date, response, ext Period, startCounts bool) Date {
	if response.Unit == ext.Unit && response.Unit == Months {
		if startCounts {
			return start.AddMonthsBeginningWith(response.Amount + ext.Amount)
		}
		return start.AddMonths(response.Amount + ext.Amount)
	}
	return j.count(j.count(start, response, startCounts), ext, false)
}

// shift moves a day that is not a working day to the next working day, where
// the jurisdiction's law says so.
func (j *Jurisdiction) shift(d Date) Date {
	if !j.ShiftToWorkday {
		return d
	}
	for !j.cal.IsWorkday(d.midnight()) {
		d = d.AddDays(1)
	}
	return d
}
