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
		{"UK: ICO example, Oct 3 2026 is a Saturday", Input{Jurisdiction: "UK", Type: "access", Received: at("2026-09-03T12:00:00Z")},
			"", "2026-10-05", "2026-10-05", "2026-12-03", true},
		{"UK: ends on the summer bank holiday", Input{Jurisdiction: "UK", Type: "access", Received: at("2026-07-31T12:00:00Z")},
			"", "2026-09-01", "2026-09-01", "2026-11-02", true}, // Oct 31 is a Saturday
		{"UK: clock stopped ten days for clarification", Input{Jurisdiction: "UK", Type: "access", Received: at("2026-03-02T12:00:00Z"),
			Pauses: []Pause{{From: at("2026-03-05T09:00:00Z"), To: at("2026-03-15T09:00:00Z")}}},
			"", "2026-04-13", "2026-04-13", "2026-06-12", true},
		{"US-CA: 45 days, ack skips Lincoln's Birthday and Presidents' Day", Input{Jurisdiction: "US-CA", Type: "access", Received: at("2026-01-31T18:00:00Z")},
			"2026-02-17", "2026-03-17", "2026-03-17", "2026-05-01", true},
		{"US-CA: evening in Los Angeles is the next day in UTC", Input{Jurisdiction: "US-CA", Type: "delete", Received: at("2026-03-01T05:00:00Z")},
			"2026-03-13", "2026-04-14", "2026-04-14", "2026-05-29", true},
		{"US-CA: opt-out, 15 business days over Thanksgiving, no verification", Input{Jurisdiction: "US-CA", Type: "opt_out", Received: at("2026-11-20T17:00:00Z")},
			"", "2026-12-15", "", "", false},
		{"US-NJ: the clock starts at verification", Input{Jurisdiction: "US-NJ", Type: "access", Received: at("2026-02-01T15:00:00Z"), Verified: at("2026-02-10T15:00:00Z")},
			"", "2026-03-27", "2026-03-27", "2026-05-11", true},
		{"US-NJ: not yet verified counts from receipt", Input{Jurisdiction: "US-NJ", Type: "access", Received: at("2026-02-01T15:00:00Z")},
			"", "2026-03-18", "2026-03-18", "2026-05-02", true},
		{"US-VA: appeal, 60 days, no extension", Input{Jurisdiction: "US-VA", Type: "appeal", Received: at("2026-06-01T15:00:00Z")},
			"", "2026-07-31", "", "", true},
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
