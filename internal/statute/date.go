package statute

import (
	"fmt"
	"time"
)

// Date is a civil date: a day on a calendar, without a time or a zone.
// Statutory periods are counted in dates in the jurisdiction's time zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the date of instant t in loc.
func DateOf(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return Date{y, m, d}
}

// ParseDate reads YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	return DateOf(t, time.UTC), nil
}

func (d Date) midnight() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

func (d Date) String() string { return d.midnight().Format(time.DateOnly) }

// MarshalText writes YYYY-MM-DD.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads YYYY-MM-DD.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// AddDays returns the date n days later (earlier for negative n).
func (d Date) AddDays(n int) Date { return DateOf(d.midnight().AddDate(0, 0, n), time.UTC) }

// Weekday is the day of the week of d.
func (d Date) Weekday() time.Weekday { return d.midnight().Weekday() }

// Before reports whether d is earlier than e.
func (d Date) Before(e Date) bool { return d.midnight().Before(e.midnight()) }

// DaysUntil counts the days from d to e (negative when e is earlier).
func (d Date) DaysUntil(e Date) int { return int(e.midnight().Sub(d.midnight()).Hours() / 24) }

// AddMonths counts n calendar months as EU Regulation 1182/71 Art 3(2)(c)
// and the ICO do: the period ends on the day of the last month with the same
// number as d; where that month has no such day, on its last day.
func (d Date) AddMonths(n int) Date {
	first := time.Date(d.Year, d.Month+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return Date{first.Year(), first.Month(), min(d.Day, last)}
}

// AddMonthsBeginningWith is the last day of n calendar months beginning
// with d, d being the first day, as English law counts a period "beginning
// with" a day: the day before the day with the same number as d, n months on
// (3 September: 2 October); where that month has no such day, its last day
// (31 January: 28 February).
func (d Date) AddMonthsBeginningWith(n int) Date {
	first := time.Date(d.Year, d.Month+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	if d.Day > last {
		return Date{first.Year(), first.Month(), last}
	}
	return Date{first.Year(), first.Month(), d.Day}.AddDays(-1)
}

// EndOfDay is the last instant of d in loc: a date that is "on time" lasts
// until then.
func (d Date) EndOfDay(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 23, 59, 59, 0, loc)
}

// StartOfDay is the first instant of d in loc.
func (d Date) StartOfDay(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}
