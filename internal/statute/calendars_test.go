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

		// Brazil: national holidays only (Lei 662/1949, 6.802/1980, 14.759/2023).
		{"BR", "2026-02-16", true, "Carnival Monday: an optional day, not a holiday"},
		{"BR", "2026-02-17", true, "Carnival Tuesday (Easter 5 April - 47): an optional day, not a holiday"},
		{"BR", "2026-04-03", true, "Good Friday: a municipal religious holiday (Lei 9.093/1995 art 2)"},
		{"BR", "2026-06-04", true, "Corpus Christi (Easter + 60): municipal"},
		{"BR", "2026-04-21", false, "Tiradentes"},
		{"BR", "2026-10-12", false, "Nossa Senhora Aparecida (Lei 6.802/1980)"},
		{"BR", "2026-11-02", false, "Finados"},
		{"BR", "2026-11-20", false, "Dia Nacional de Zumbi e da Consciência Negra (Lei 14.759/2023)"},
		{"BR", "2023-11-20", true, "20 November before Lei 14.759/2023 took effect"},

		// Canada (federal): Interpretation Act s.35; Saturdays are not holidays.
		{"CA", "2026-04-03", false, "Good Friday"},
		{"CA", "2026-04-06", false, "Easter Monday"},
		{"CA", "2026-05-18", false, "Victoria Day, the Monday before 25 May"},
		{"CA", "2026-06-24", true, "24 June is Quebec's, not a federal holiday"},
		{"CA", "2026-06-27", true, "a Saturday is not a holiday under the Interpretation Act"},
		{"CA", "2026-06-28", false, "a Sunday"},
		{"CA", "2026-07-01", false, "Canada Day, a Wednesday"},
		{"CA", "2029-07-02", false, "1 Jul 2029 is a Sunday: the Monday is a holiday too (s.35(2))"},
		{"CA", "2028-07-01", false, "Canada Day on a Saturday is still the holiday"},
		{"CA", "2028-07-03", true, "Canada Day on a Saturday does not move to the Monday"},
		{"CA", "2026-08-03", true, "Civic Holiday: provincial, not federal"},
		{"CA", "2026-09-30", false, "National Day for Truth and Reconciliation"},
		{"CA", "2020-09-30", true, "30 September before the day was made a holiday (2021)"},
		{"CA", "2026-10-12", false, "Thanksgiving"},
		{"CA", "2026-11-11", false, "Remembrance Day"},
		{"CA", "2026-12-26", true, "Boxing Day on a Saturday: neither a federal holiday nor a Sunday"},
		{"CA", "2028-12-26", true, "Boxing Day: not in s.35 as we know it"},
		{"CA-QC", "2026-06-24", false, "Fête nationale du Québec"},
		{"CA-QC", "2026-07-01", false, "Canada Day, as federally"},
		{"CA-QC", "2026-08-03", true, "Civic Holiday is not Quebec's"},
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
