package statute

import "testing"

// TestCalendars says, day by day, whether a calendar counts a day as a
// working day, with the reason beside each; the days were worked out by hand
// from the statutes named in calendars.go.
func TestCalendars(t *testing.T) {
	tests := []struct {
		calendar string
		day      string
		workday  bool
		why      string
	}{
		// California: only holidays both §6700(a) and the state offices keep;
		// §6701 moves a Sunday to Monday, and only 11 November from a
		// Saturday to Friday.
		{"US-CA", "2026-01-01", false, "New Year's Day, a Thursday"},
		{"US-CA", "2023-01-02", false, "1 Jan 2023 is a Sunday: the Monday after (§6701)"},
		{"US-CA", "2026-01-19", false, "Martin Luther King Jr. Day"},
		{"US-CA", "2026-02-12", true, "Lincoln Day: in §6700, but state offices open"},
		{"US-CA", "2026-02-16", false, "Presidents' Day, third Monday of February"},
		{"US-CA", "2026-03-31", false, "Cesar Chavez Day, a Tuesday"},
		{"US-CA", "2029-03-30", true, "31 Mar 2029 is a Saturday: no move to Friday"},
		{"US-CA", "2030-04-01", false, "31 Mar 2030 is a Sunday: the Monday after (§6701)"},
		{"US-CA", "2026-05-25", false, "Memorial Day"},
		{"US-CA", "2026-06-19", true, "Juneteenth: in §6700, but state offices open"},
		{"US-CA", "2026-07-03", true, "4 Jul 2026 is a Saturday: no move to Friday"},
		{"US-CA", "2027-07-05", false, "4 Jul 2027 is a Sunday: the Monday after (§6701)"},
		{"US-CA", "2026-09-07", false, "Labor Day"},
		{"US-CA", "2026-09-09", true, "Admission Day: in §6700, but state offices open"},
		{"US-CA", "2026-09-25", true, "Native American Day (fourth Friday of September): state offices open"},
		{"US-CA", "2026-10-12", true, "Columbus Day: in §6700(a), but state offices open"},
		{"US-CA", "2026-11-11", false, "Veterans Day, a Wednesday"},
		{"US-CA", "2028-11-10", false, "11 Nov 2028 is a Saturday: the Friday before, the one Saturday move in §6701"},
		{"US-CA", "2029-11-12", false, "11 Nov 2029 is a Sunday: the Monday after (§6701)"},
		{"US-CA", "2026-11-26", false, "Thanksgiving"},
		{"US-CA", "2026-11-27", true, "the day after Thanksgiving: state offices close, §6700 does not list it"},
		{"US-CA", "2026-12-25", false, "Christmas Day, a Friday"},
		{"US-CA", "2027-12-24", true, "25 Dec 2027 is a Saturday: no move to Friday"},
		{"US-CA", "2027-12-31", true, "1 Jan 2028 is a Saturday: no move to Friday"},
		{"US-CA", "2028-02-11", true, "12 Feb 2028 is a Saturday, and Lincoln Day is disputed anyway"},
		{"US-CA", "2033-12-26", false, "25 Dec 2033 is a Sunday: the Monday after (§6701)"},
		{"US-CA", "2026-07-04", false, "a Saturday"},
	}
	for _, tt := range tests {
		c, err := newCalendar(tt.calendar)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.IsWorkday(date(tt.day).midnight()); got != tt.workday {
			t.Errorf("%s %s (%s): working day %v, want %v", tt.calendar, tt.day, tt.why, got, tt.workday)
		}
	}
}
