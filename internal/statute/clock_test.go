package statute

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func mustRules(t *testing.T) *Rules {
	t.Helper()
	r, err := Load()
	if err != nil {
		t.Fatalf("rules.yaml: %v", err)
	}
	return r
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func date(s string) *Date {
	if s == "" {
		return nil
	}
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return &d
}

func str(d *Date) string {
	if d == nil {
		return ""
	}
	return d.String()
}

// TestGolden holds worked examples: month ends, leap years, weekends,
// holidays, time zones, business days, verification starts and pauses.
func TestGolden(t *testing.T) {
	r := mustRules(t)
	tests := []struct {
		name         string
		in           Input
		ack          string
		due          string
		noticeBy     string
		extended     string
		verification bool
	}{
		{"EU: Jan 31 has no Feb 31, Feb 28 2026 is a Saturday", Input{Jurisdiction: "EU", Type: "access", Received: at("2026-01-31T10:00:00Z")},
			"", "2026-03-02", "2026-03-02", "2026-04-30", true},
		{"EU: leap year", Input{Jurisdiction: "EU", Type: "delete", Received: at("2028-01-31T10:00:00Z")},
			"", "2028-02-29", "2028-02-29", "2028-05-01", true}, // Apr 30 2028 is a Sunday
		{"EU: ends on Christmas Day", Input{Jurisdiction: "EU", Type: "access", Received: at("2026-11-25T09:00:00Z")},
			"", "2026-12-28", "2026-12-28", "2027-02-25", true},
		{"EU: receipt counted in Brussels time", Input{Jurisdiction: "EU", Type: "access", Received: at("2026-05-31T23:30:00Z")},
			"", "2026-07-01", "2026-07-01", "2026-09-01", true},
		// UK Art 12A: "one month beginning with the relevant time": the day
		// of receipt is day one, so the month ends the day before the
		// same-numbered day (the ICO's older example, 3 Sep -> 3 Oct, is a
		// day later), and the end is not moved off a weekend or holiday.
		// Sep 3 -> Fri Oct 2; three months beginning with Sep 3 -> Dec 2.
		{"UK: a month beginning with 3 September ends on 2 October", Input{Jurisdiction: "UK", Type: "access", Received: at("2026-09-03T12:00:00Z")},
			"", "2026-10-02", "2026-10-02", "2026-12-02", true},
		// Jul 31 -> Sun Aug 30, not moved (the ICO would give Tue Sep 1,
		// after the summer bank holiday); three months -> Oct 30.
		{"UK: ends on a Sunday, not moved", Input{Jurisdiction: "UK", Type: "access", Received: at("2026-07-31T12:00:00Z")},
			"", "2026-08-30", "2026-08-30", "2026-10-30", true},
		// Jan 31 2027: February has no 31st, so its last day, Sun Feb 28;
		// April has no 31st either: Apr 30.
		{"UK: no same-numbered day, the month's last", Input{Jurisdiction: "UK", Type: "delete", Received: at("2027-01-31T12:00:00Z")},
			"", "2027-02-28", "2027-02-28", "2027-04-30", true},
		// Mar 1 2027 -> Mar 31: a month beginning with the first is that
		// calendar month. Three months: May 31.
		{"UK: beginning with the first of a month", Input{Jurisdiction: "UK", Type: "access", Received: at("2027-03-01T12:00:00Z")},
			"", "2027-03-31", "2027-03-31", "2027-05-31", true},
		// Mar 2 -> Apr 1; the clock stood still Mar 5 to Mar 15 (10 days):
		// Sat Apr 11, not moved. Three months: Jun 1 + 10 = Jun 11.
		{"UK: clock stopped ten days for clarification", Input{Jurisdiction: "UK", Type: "access", Received: at("2026-03-02T12:00:00Z"),
			Pauses: []Pause{{From: at("2026-03-05T09:00:00Z"), To: at("2026-03-15T09:00:00Z")}}},
			"", "2026-04-11", "2026-04-11", "2026-06-11", true},
		// The identity information asked for arrives on Mar 10: the month
		// begins with Mar 10 and ends Apr 9; three months: Jun 9.
		{"UK: the clock starts when the identity information arrives", Input{Jurisdiction: "UK", Type: "access", Received: at("2026-03-02T12:00:00Z"),
			IdentityReceived: at("2026-03-10T12:00:00Z")},
			"", "2026-04-09", "2026-04-09", "2026-06-09", true},
		// The fee is paid after the identity information, on Mar 12: the
		// latest of the three starts the month, which ends Sat Apr 11.
		{"UK: or when the fee is paid, whichever is latest", Input{Jurisdiction: "UK", Type: "access", Received: at("2026-03-02T12:00:00Z"),
			IdentityReceived: at("2026-03-10T12:00:00Z"), FeePaid: at("2026-03-12T12:00:00Z")},
			"", "2026-04-11", "2026-04-11", "2026-06-11", true},
		// 23:30Z on Mar 11 is still Mar 11 in London (GMT until Mar 29),
		// and identity information dated before receipt moves nothing.
		{"UK: identity information before receipt starts nothing", Input{Jurisdiction: "UK", Type: "access", Received: at("2026-03-11T23:30:00Z"),
			IdentityReceived: at("2026-03-01T12:00:00Z")},
			"", "2026-04-10", "2026-04-10", "2026-06-10", true},
		// Verification is New Jersey's clock start, not the UK's: a
		// confirmed link is not identity information unless it was asked
		// for as such, which only the caller knows.
		{"UK: Verified alone does not move the clock", Input{Jurisdiction: "UK", Type: "access", Received: at("2026-03-02T12:00:00Z"),
			Verified: at("2026-03-10T12:00:00Z")},
			"", "2026-04-01", "2026-04-01", "2026-06-01", true},
		// Saturday Jan 31 in Los Angeles. Ack, 10 business days: Feb 2-6
		// (5), Feb 9-12 (9, Lincoln Day on Thursday 12 counts: only
		// §6700 lists it, state offices open), Feb 13 (10). Presidents' Day
		// (Feb 16) is not reached. 45 days: Mar 17; 45 more: May 1.
		{"US-CA: 45 days, ack counts Lincoln Day as a business day", Input{Jurisdiction: "US-CA", Type: "access", Received: at("2026-01-31T18:00:00Z")},
			"2026-02-13", "2026-03-17", "2026-03-17", "2026-05-01", true},
		{"US-CA: evening in Los Angeles is the next day in UTC", Input{Jurisdiction: "US-CA", Type: "delete", Received: at("2026-03-01T05:00:00Z")},
			"2026-03-13", "2026-04-14", "2026-04-14", "2026-05-29", true},
		// Friday Nov 20, 09:00 in Los Angeles. 15 business days: Nov 23-25
		// (3), Thanksgiving (26) skipped, the day after (27) counts: state
		// offices close, §6700 does not list it (4); Nov 30-Dec 4 (9), Dec
		// 7-11 (14), Dec 14 (15).
		{"US-CA: opt-out, 15 business days over Thanksgiving, no verification", Input{Jurisdiction: "US-CA", Type: "opt_out", Received: at("2026-11-20T17:00:00Z")},
			"", "2026-12-14", "", "", false},
		// Gov. Code §6701 moves no holiday but 11 November from a Saturday to
		// the Friday before. Each ack below is 10 business days from a
		// Friday receipt (17:00Z is 09:00 or 10:00 in Los Angeles), so its
		// tenth day is the Friday in question, and the due date is 45
		// calendar days from receipt.
		// Jul 4 2026 is a Saturday. From Fri Jun 19 (Juneteenth, a
		// business day, is the receipt day): Jun 22-26 (5), Jun 29-Jul 2
		// (9), Fri Jul 3 (10). Federal rules would close Jul 3.
		{"US-CA: Fri 3 Jul 2026 is a business day", Input{Jurisdiction: "US-CA", Type: "access", Received: at("2026-06-19T17:00:00Z")},
			"2026-07-03", "2026-08-03", "2026-08-03", "2026-09-17", true},
		// Dec 25 2027 is a Saturday. From Fri Dec 10: Dec 13-17 (5), Dec
		// 20-23 (9), Fri Dec 24 (10).
		{"US-CA: Fri 24 Dec 2027 is a business day", Input{Jurisdiction: "US-CA", Type: "delete", Received: at("2027-12-10T17:00:00Z")},
			"2027-12-24", "2028-01-24", "2028-01-24", "2028-03-09", true},
		// Jan 1 2028 is a Saturday. From Fri Dec 17: Dec 20-24 (5, the 24th
		// as above), Dec 27-30 (9), Fri Dec 31 (10).
		{"US-CA: Fri 31 Dec 2027 is a business day", Input{Jurisdiction: "US-CA", Type: "access", Received: at("2027-12-17T17:00:00Z")},
			"2027-12-31", "2028-01-31", "2028-01-31", "2028-03-16", true},
		// Feb 12 2028 (Lincoln Day) is a Saturday. From Fri Jan 28: Jan 31-
		// Feb 4 (5), Feb 7-10 (9), Fri Feb 11 (10).
		{"US-CA: Fri 11 Feb 2028 is a business day", Input{Jurisdiction: "US-CA", Type: "access", Received: at("2028-01-28T17:00:00Z")},
			"2028-02-11", "2028-03-13", "2028-03-13", "2028-04-27", true},
		// Mar 31 2029 (Cesar Chavez Day) is a Saturday. From Fri Mar 16:
		// Mar 19-23 (5), Mar 26-29 (9), Fri Mar 30 (10).
		{"US-CA: Fri 30 Mar 2029 is a business day", Input{Jurisdiction: "US-CA", Type: "correct", Received: at("2029-03-16T17:00:00Z")},
			"2029-03-30", "2029-04-30", "2029-04-30", "2029-06-14", true},
		// Nov 11 2028 is a Saturday: §6701 closes Friday Nov 10. From Fri
		// Oct 27: Oct 30-Nov 3 (5), Nov 6-9 (9), Nov 10 skipped, Mon Nov 13 (10).
		{"US-CA: Veterans Day on a Saturday closes the Friday before", Input{Jurisdiction: "US-CA", Type: "access", Received: at("2028-10-27T17:00:00Z")},
			"2028-11-13", "2028-12-11", "2028-12-11", "2029-01-25", true},
		// Jul 4 2027 is a Sunday: Monday Jul 5 is closed. From Fri Jun 25:
		// Jun 28-Jul 2 (5), Jul 5 skipped, Jul 6-9 (9), Mon Jul 12 (10).
		{"US-CA: Independence Day on a Sunday closes the Monday after", Input{Jurisdiction: "US-CA", Type: "access", Received: at("2027-06-25T17:00:00Z")},
			"2027-07-12", "2027-08-09", "2027-08-09", "2027-09-23", true},
		// Native American Day (fourth Friday of September, Sep 25 2026) is in
		// §6700 but state offices open: a business day. From Fri Sep 18:
		// Sep 21-25 (5), Sep 28-Oct 2 (10).
		{"US-CA: Native American Day is a business day", Input{Jurisdiction: "US-CA", Type: "access", Received: at("2026-09-18T17:00:00Z")},
			"2026-10-02", "2026-11-02", "2026-11-02", "2026-12-17", true},
		// Columbus Day (Oct 12 2026) is in §6700(a) but state offices open: a
		// business day. From Fri Oct 2: Oct 5-9 (5), Oct 12-16 (10).
		{"US-CA: Columbus Day is a business day", Input{Jurisdiction: "US-CA", Type: "access", Received: at("2026-10-02T17:00:00Z")},
			"2026-10-16", "2026-11-16", "2026-11-16", "2026-12-31", true},
		{"US-NJ: the clock starts at verification", Input{Jurisdiction: "US-NJ", Type: "access", Received: at("2026-02-01T15:00:00Z"), Verified: at("2026-02-10T15:00:00Z")},
			"", "2026-03-27", "2026-03-27", "2026-05-11", true},
		{"US-NJ: not yet verified counts from receipt", Input{Jurisdiction: "US-NJ", Type: "access", Received: at("2026-02-01T15:00:00Z")},
			"", "2026-03-18", "2026-03-18", "2026-05-02", true},
		{"US-VA: appeal, 60 days, no extension", Input{Jurisdiction: "US-VA", Type: "appeal", Received: at("2026-06-01T15:00:00Z")},
			"", "2026-07-31", "", "", true},

		// EEA: the GDPR's month, counted in the state's zone with its holidays.
		// Oslo is UTC+2 in April: 22:30Z on the 13th is the 14th. May 14 2026
		// is Ascension Day (Easter is April 5), so the month ends on Friday 15.
		{"EEA-NO: ends on Ascension Day, receipt in Oslo time", Input{Jurisdiction: "EEA-NO", Type: "access", Received: at("2026-04-13T22:30:00Z")},
			"", "2026-05-15", "2026-05-15", "2026-07-14", true},
		// May 1 2026 is a Friday and Labour Day; Saturday and Sunday follow.
		{"EEA-NO: ends on 1 May, moves over the weekend", Input{Jurisdiction: "EEA-NO", Type: "delete", Received: at("2026-04-01T10:00:00Z")},
			"", "2026-05-04", "2026-05-04", "2026-07-01", true},
		// Reykjavik is UTC all year: 23:30Z is still the 17th (in Oslo it
		// would be the 18th). June 17 is Iceland's National Day, not in the
		// weekends-only calendar: not moved, the earlier date.
		{"EEA-IS: UTC zone, National Day not known so not moved", Input{Jurisdiction: "EEA-IS", Type: "access", Received: at("2026-05-17T23:30:00Z")},
			"", "2026-06-17", "2026-06-17", "2026-08-17", true},
		// Jan 31 2027 + 1 month: no Feb 31, so Feb 28, a Sunday -> Monday
		// Mar 1. Three months: Apr 30, a Friday.
		{"EEA-LI: month end falls on a Sunday", Input{Jurisdiction: "EEA-LI", Type: "access", Received: at("2027-01-31T08:00:00Z")},
			"", "2027-03-01", "2027-03-01", "2027-04-30", true},
		// 22:30Z on July 1 is July 2 in Zurich. July 2 + 30 days = August 1,
		// a Saturday and the National Day: not moved in CH. Deferral: +30.
		{"CH: 30 days end on 1 August, not moved", Input{Jurisdiction: "CH", Type: "access", Received: at("2026-07-01T22:30:00Z")},
			"", "2026-08-01", "2026-08-01", "2026-08-31", true},
		{"CH: erasure, 30 days by analogy, no deferral", Input{Jurisdiction: "CH", Type: "delete", Received: at("2026-07-01T22:30:00Z")},
			"", "2026-08-01", "", "", true},
		// 05:00Z on June 2 is 23:00 on June 1 in Denver. 45 days: July 16;
		// 60 more: September 14.
		{"US-CO: appeal 45 days + 60, Denver evening", Input{Jurisdiction: "US-CO", Type: "appeal", Received: at("2026-06-02T05:00:00Z")},
			"", "2026-07-16", "2026-07-16", "2026-09-14", true},
		{"US-CO: opt-out, 15 calendar days, no verification, Saturday not moved", Input{Jurisdiction: "US-CO", Type: "opt_out", Received: at("2026-03-20T16:00:00Z")},
			"", "2026-04-04", "", "", false},
		{"US-CT: opt-out without verification, 45 + 45", Input{Jurisdiction: "US-CT", Type: "opt_out", Received: at("2026-02-10T15:00:00Z")},
			"", "2026-03-27", "2026-03-27", "2026-05-11", false},
		// 04:30Z on Dec 21 is 22:30 on Dec 20 in Chicago; 45 days cross the year.
		{"US-TX: across the new year, Chicago evening", Input{Jurisdiction: "US-TX", Type: "access", Received: at("2026-12-21T04:30:00Z")},
			"", "2027-02-03", "2027-02-03", "2027-03-20", true},
		{"US-OR: appeal 45 days + 60", Input{Jurisdiction: "US-OR", Type: "appeal", Received: at("2026-03-10T20:00:00Z")},
			"", "2026-04-24", "2026-04-24", "2026-06-23", true},
		{"US-OR: opt-out without verification", Input{Jurisdiction: "US-OR", Type: "opt_out", Received: at("2026-03-10T20:00:00Z")},
			"", "2026-04-24", "2026-04-24", "2026-06-08", false},
		{"US-MT: 45 + 45", Input{Jurisdiction: "US-MT", Type: "access", Received: at("2026-10-01T18:00:00Z")},
			"", "2026-11-15", "2026-11-15", "2026-12-30", true},
		// 90 days from Jan 1: 30 (Jan 31) + 28 (Feb 28) + 31 (Mar 31) + 1.
		{"US-IA: 90 days + 45", Input{Jurisdiction: "US-IA", Type: "access", Received: at("2026-01-01T18:00:00Z")},
			"", "2026-04-01", "2026-04-01", "2026-05-16", true},
		// 16 days to Jan 31, 29 in February 2028, 15 in March.
		{"US-DE: appeal 60 days across a leap February", Input{Jurisdiction: "US-DE", Type: "appeal", Received: at("2028-01-15T15:00:00Z")},
			"", "2028-03-15", "", "", true},
		{"US-NH: 45 + 45 across the new year", Input{Jurisdiction: "US-NH", Type: "access", Received: at("2026-11-30T15:00:00Z")},
			"", "2027-01-14", "2027-01-14", "2027-02-28", true},
		{"US-TN: 45 + 45", Input{Jurisdiction: "US-TN", Type: "delete", Received: at("2026-07-01T15:00:00Z")},
			"", "2026-08-15", "2026-08-15", "2026-09-29", true},
		{"US-MN: appeal 45 days + 60", Input{Jurisdiction: "US-MN", Type: "appeal", Received: at("2026-08-01T15:00:00Z")},
			"", "2026-09-15", "2026-09-15", "2026-11-14", true},
		{"US-MN: opt-out without verification", Input{Jurisdiction: "US-MN", Type: "opt_out", Received: at("2026-08-01T15:00:00Z")},
			"", "2026-09-15", "2026-09-15", "2026-10-30", false},
		{"US-MD: 45 + 45", Input{Jurisdiction: "US-MD", Type: "access", Received: at("2026-04-01T15:00:00Z")},
			"", "2026-05-16", "2026-05-16", "2026-06-30", true},
		// 04:30Z on March 2 is 23:30 on March 1 in Indianapolis (EST until March 8).
		{"US-IN: Indianapolis evening", Input{Jurisdiction: "US-IN", Type: "access", Received: at("2026-03-02T04:30:00Z")},
			"", "2026-04-15", "2026-04-15", "2026-05-30", true},
		// 1 day to Feb 28, 31 in March, 28 in April.
		{"US-KY: appeal 60 days from the end of February", Input{Jurisdiction: "US-KY", Type: "appeal", Received: at("2026-02-27T15:00:00Z")},
			"", "2026-04-28", "", "", true},
		{"US-NE: appeal 60 days end on a Sunday, not moved", Input{Jurisdiction: "US-NE", Type: "appeal", Received: at("2026-09-30T15:00:00Z")},
			"", "2026-11-29", "", "", true},
		{"US-RI: 45 days end on July 4, not moved", Input{Jurisdiction: "US-RI", Type: "access", Received: at("2026-05-20T15:00:00Z")},
			"", "2026-07-04", "2026-07-04", "2026-08-18", true},
		// 02:00Z on Feb 2 is 23:00 on Feb 1 in Sao Paulo. 15 calendar days:
		// Feb 16, Carnival Monday, not a holiday and not moved anyway.
		{"BR: access statement, 15 calendar days, Sao Paulo evening", Input{Jurisdiction: "BR", Type: "access", Received: at("2026-02-02T02:00:00Z")},
			"", "2026-02-16", "", "", true},
		{"BR: erasure, 15 days chosen for 'immediately'", Input{Jurisdiction: "BR", Type: "delete", Received: at("2026-12-20T12:00:00Z")},
			"", "2027-01-04", "", "", true},
		{"CA-FED: 30 + 30, Canada Day not moved", Input{Jurisdiction: "CA-FED", Type: "access", Received: at("2026-06-01T14:00:00Z")},
			"", "2026-07-01", "2026-07-01", "2026-07-31", true},
		{"CA-QC: 30 days, no extension, 24 June not moved", Input{Jurisdiction: "CA-QC", Type: "access", Received: at("2026-05-25T14:00:00Z")},
			"", "2026-06-24", "", "", true},
		// 15:30Z on Sep 22 is 00:30 on Sep 23 in Seoul. 10 days: Oct 3, a
		// Saturday and National Foundation Day: not moved.
		{"KR: erasure 10 days, Seoul is a day ahead", Input{Jurisdiction: "KR", Type: "delete", Received: at("2026-09-22T15:30:00Z")},
			"", "2026-10-03", "", "", true},
		{"KR: access 10 days", Input{Jurisdiction: "KR", Type: "access", Received: at("2026-09-22T15:30:00Z")},
			"", "2026-10-03", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := r.Compute(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := str(d.AckDue); got != tt.ack {
				t.Errorf("ack_due %q, want %q", got, tt.ack)
			}
			if got := d.Due.String(); got != tt.due {
				t.Errorf("due %s, want %s", got, tt.due)
			}
			if got := str(d.ExtensionNoticeBy); got != tt.noticeBy {
				t.Errorf("extension_notice_by %q, want %q", got, tt.noticeBy)
			}
			if got := str(d.ExtendedDue); got != tt.extended {
				t.Errorf("extended_due %q, want %q", got, tt.extended)
			}
			if d.ExtensionAllowed != (tt.extended != "") {
				t.Errorf("extension_allowed %v", d.ExtensionAllowed)
			}
			if d.VerificationRequired != tt.verification {
				t.Errorf("verification_required %v", d.VerificationRequired)
			}
			if len(d.Citations) == 0 {
				t.Error("no citations")
			}
		})
	}
}

func TestComputeErrors(t *testing.T) {
	r := mustRules(t)
	tests := []struct {
		in   Input
		want error
	}{
		{Input{Jurisdiction: "XX", Type: "access", Received: at("2026-01-01T00:00:00Z")}, ErrUnknownJurisdiction},
		{Input{Jurisdiction: "EU", Type: "sell", Received: at("2026-01-01T00:00:00Z")}, ErrUnknownType},
		{Input{Jurisdiction: "US-UT", Type: "appeal", Received: at("2026-01-01T00:00:00Z")}, ErrNotProvided},
		{Input{Jurisdiction: "US-IA", Type: "correct", Received: at("2026-01-01T00:00:00Z")}, ErrNotProvided},
		{Input{Jurisdiction: "BR", Type: "appeal", Received: at("2026-01-01T00:00:00Z")}, ErrNotProvided},
		{Input{Jurisdiction: "KR", Type: "appeal", Received: at("2026-01-01T00:00:00Z")}, ErrNotProvided},
	}
	for _, tt := range tests {
		if _, err := r.Compute(tt.in); !errors.Is(err, tt.want) {
			t.Errorf("Compute(%s %s) = %v, want %v", tt.in.Jurisdiction, tt.in.Type, err, tt.want)
		}
	}
}

func TestPausesOnlyWhereTheLawAllows(t *testing.T) {
	r := mustRules(t)
	pause := []Pause{{From: at("2026-03-05T09:00:00Z"), To: at("2026-03-15T09:00:00Z")}}
	with, _ := r.Compute(Input{Jurisdiction: "EU", Type: "access", Received: at("2026-03-02T12:00:00Z"), Pauses: pause})
	without, _ := r.Compute(Input{Jurisdiction: "EU", Type: "access", Received: at("2026-03-02T12:00:00Z")})
	if with.Due != without.Due {
		t.Fatalf("a pause moved a GDPR deadline: %s vs %s", with.Due, without.Due)
	}
}

// TestPausesCountOnce: a pause recorded twice, overlapping pauses and a pause
// begun before receipt must not stretch the deadline beyond the days the
// clock really stood still.
func TestPausesCountOnce(t *testing.T) {
	r := mustRules(t)
	received := at("2026-03-02T12:00:00Z")
	pause := Pause{From: at("2026-03-05T09:00:00Z"), To: at("2026-03-15T09:00:00Z")}
	tests := []struct {
		name     string
		pauses   []Pause
		due, ext string
	}{
		// A month beginning with Mar 2 ends Apr 1, three months Jun 1; the
		// pause adds its days and nothing is moved. Apr 1 + 10 = Apr 11.
		{"one pause", []Pause{pause}, "2026-04-11", "2026-06-11"},
		{"the same pause twice", []Pause{pause, pause}, "2026-04-11", "2026-06-11"},
		// Mar 5 to Mar 20 is 15 days: Apr 16; Jun 1 + 15 = Jun 16.
		{"overlapping pauses", []Pause{{From: at("2026-03-10T09:00:00Z"), To: at("2026-03-20T09:00:00Z")}, pause}, "2026-04-16", "2026-06-16"},
		// Only Mar 2 to Mar 5 counts: 3 days, Apr 4 and Jun 4.
		{"a pause begun before receipt", []Pause{{From: at("2026-02-20T09:00:00Z"), To: at("2026-03-05T09:00:00Z")}}, "2026-04-04", "2026-06-04"},
	}
	for _, tt := range tests {
		d, err := r.Compute(Input{Jurisdiction: "UK", Type: "access", Received: received, Pauses: tt.pauses})
		if err != nil {
			t.Fatal(err)
		}
		if d.Due.String() != tt.due || str(d.ExtendedDue) != tt.ext {
			t.Errorf("%s: due %s, extended %s; want %s, %s", tt.name, d.Due, str(d.ExtendedDue), tt.due, tt.ext)
		}
	}
}

func TestAddMonths(t *testing.T) {
	tests := []struct{ from, want string }{
		{"2026-01-31", "2026-02-28"},
		{"2028-01-31", "2028-02-29"},
		{"2026-03-31", "2026-04-30"},
		{"2026-12-15", "2027-01-15"},
		{"2026-08-31", "2026-09-30"},
	}
	for _, tt := range tests {
		if got := date(tt.from).AddMonths(1).String(); got != tt.want {
			t.Errorf("%s + 1 month = %s, want %s", tt.from, got, tt.want)
		}
	}
}

// TestAddMonthsBeginningWith: the last day of a period of months that
// begins with (includes) its first day.
func TestAddMonthsBeginningWith(t *testing.T) {
	tests := []struct {
		from   string
		months int
		want   string
	}{
		{"2026-09-03", 1, "2026-10-02"}, // the day before the same-numbered day
		{"2026-03-01", 1, "2026-03-31"}, // the calendar month
		{"2026-01-31", 1, "2026-02-28"}, // no Feb 31: February's last day
		{"2026-01-29", 1, "2026-02-28"}, // no Feb 29 in 2026
		{"2028-01-29", 1, "2028-02-28"}, // Feb 29 2028 exists: the day before
		{"2026-01-28", 1, "2026-02-27"},
		{"2026-12-15", 1, "2027-01-14"}, // across the year
		{"2026-11-30", 3, "2027-02-28"}, // no Feb 30
		{"2026-01-01", 3, "2026-03-31"},
	}
	for _, tt := range tests {
		if got := date(tt.from).AddMonthsBeginningWith(tt.months).String(); got != tt.want {
			t.Errorf("%d months beginning with %s end on %s, want %s", tt.months, tt.from, got, tt.want)
		}
	}
}

func TestParseRejectsBadRules(t *testing.T) {
	tests := []struct{ name, yaml string }{
		{"unknown field", "jurisdictions:\n  - code: X\n    colour: red\n"},
		{"no citation", "jurisdictions:\n  - code: X\n    time_zone: UTC\n    calendar: weekends\n    default: {verification: true, clock_start: receipt, response: {amount: 1, unit: months, status: V}}\n"},
		{"M without note", "jurisdictions:\n  - code: X\n    time_zone: UTC\n    calendar: weekends\n    default: {verification: true, clock_start: receipt, response: {amount: 1, unit: months, cite: a, status: M}}\n"},
		{"bad unit", "jurisdictions:\n  - code: X\n    time_zone: UTC\n    calendar: weekends\n    default: {verification: true, clock_start: receipt, response: {amount: 1, unit: weeks, cite: a, status: V}}\n"},
		{"bad zone", "jurisdictions:\n  - code: X\n    time_zone: Mars/Olympus\n    calendar: weekends\n    default: {verification: true, clock_start: receipt, response: {amount: 1, unit: months, cite: a, status: V}}\n"},
		{"bad calendar", "jurisdictions:\n  - code: X\n    time_zone: UTC\n    calendar: moon\n    default: {verification: true, clock_start: receipt, response: {amount: 1, unit: months, cite: a, status: V}}\n"},
		{"unknown type", "jurisdictions:\n  - code: X\n    time_zone: UTC\n    calendar: weekends\n    default: {verification: true, clock_start: receipt, response: {amount: 1, unit: months, cite: a, status: V}}\n    types: {sell: {response: {amount: 1, unit: months, cite: a, status: V}}}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Parse([]byte(tt.yaml)); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// TestEveryJurisdictionAndType computes every pair for every day of 2025-2030,
// checking the invariants that hold whatever the law.
func TestEveryJurisdictionAndType(t *testing.T) {
	r := mustRules(t)
	for _, j := range r.Jurisdictions {
		for _, typ := range RequestTypes {
			for day := at("2025-01-01T12:00:00Z"); day.Year() <= 2030; day = day.AddDate(0, 0, 1) {
				d, err := r.Compute(Input{Jurisdiction: j.Code, Type: typ, Received: day})
				if errors.Is(err, ErrNotProvided) {
					break
				}
				if err != nil {
					t.Fatalf("%s %s: %v", j.Code, typ, err)
				}
				if !d.ClockStart.Before(d.Due) {
					t.Fatalf("%s %s %s: due %s not after the start", j.Code, typ, day, d.Due)
				}
				if d.ExtendedDue != nil && !d.Due.Before(*d.ExtendedDue) {
					t.Fatalf("%s %s %s: extended %s not after due %s", j.Code, typ, day, d.ExtendedDue, d.Due)
				}
				if d.AckDue != nil && d.Due.Before(*d.AckDue) {
					t.Fatalf("%s %s %s: ack %s after due %s", j.Code, typ, day, d.AckDue, d.Due)
				}
				if j.ShiftToWorkday && !j.cal.IsWorkday(d.Due.midnight()) {
					t.Fatalf("%s %s %s: due %s is not a working day", j.Code, typ, day, d.Due)
				}
				if slices.Contains(d.Citations, "") {
					t.Fatalf("%s %s: empty citation", j.Code, typ)
				}
			}
		}
	}
}

// TestCalendarCited: a date counted with a calendar's holidays cites the
// calendar's source, and says so where the list is not verified; a date
// counted in calendar days and not moved does not.
func TestCalendarCited(t *testing.T) {
	r := mustRules(t)
	tests := []struct {
		code, typ  string
		cite       string
		cited      bool
		unverified bool
	}{
		{"US-CA", "opt_out", "Cal. Gov. Code §6700(a), §6701; the state offices' (CalHR) holidays", true, true},             // 15 business days
		{"US-CA", "access", "Cal. Gov. Code §6700(a), §6701; the state offices' (CalHR) holidays", true, true},              // the ack counts business days
		{"EEA-NO", "access", "Lov om helligdager og helligdagsfred § 2; lov om 1. og 17. mai som høgtidsdager", true, true}, // moved off holidays
		{"US-VA", "access", "5 U.S.C. 6103", false, false},                                                                  // calendar days, not moved
		{"CA-FED", "access", "Interpretation Act (R.S.C. 1985, c. I-21) s.26, s.35", false, false},                          // not moved
	}
	for _, tt := range tests {
		d, err := r.Compute(Input{Jurisdiction: tt.code, Type: tt.typ, Received: at("2026-06-01T12:00:00Z")})
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(d.Citations, tt.cite) != tt.cited || slices.Contains(d.Unverified, tt.cite) != tt.unverified {
			t.Errorf("%s %s: citations %q, unverified %q", tt.code, tt.typ, d.Citations, d.Unverified)
		}
	}
}

// TestGrants: the rights each law gives, and whether it lets a request be
// verified, agree with the rules file and with Compute.
func TestGrants(t *testing.T) {
	r := mustRules(t)
	tests := []struct {
		code, typ           string
		granted, verifiable bool
	}{
		{"EU", "access", true, true},
		{"EU", "appeal", false, false},    // the GDPR has no appeal to the controller
		{"US-CA", "opt_out", true, false}, // the CCPA forbids verifying an opt-out
		{"US-CA", "limit", true, false},
		{"US-IA", "correct", false, false}, // Iowa gives no right to correct
		{"US-IA", "access", true, true},
		{"XX", "access", false, false},
		{"EU", "sell", false, false},
	}
	for _, tt := range tests {
		granted, verifiable := r.Grants(tt.code, tt.typ)
		if granted != tt.granted || verifiable != tt.verifiable {
			t.Errorf("Grants(%s, %s) = %v, %v; want %v, %v", tt.code, tt.typ, granted, verifiable, tt.granted, tt.verifiable)
		}
	}
	for _, j := range r.Jurisdictions {
		for _, typ := range RequestTypes {
			granted, verifiable := r.Grants(j.Code, typ)
			d, err := r.Compute(Input{Jurisdiction: j.Code, Type: typ, Received: at("2026-06-01T12:00:00Z")})
			if granted != (err == nil) || (granted && verifiable != d.VerificationRequired) {
				t.Errorf("%s %s: Grants says %v, %v; Compute says %v, %v", j.Code, typ, granted, verifiable, err, d.VerificationRequired)
			}
		}
	}
}
