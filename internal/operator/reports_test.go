package operator

import (
	"context"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/clock"
	"github.com/privacy-pipeline/dsr/internal/memstore"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/statute"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t.Add(10 * time.Hour)
}

func seedReports(t *testing.T) *Reports {
	t.Helper()
	s := memstore.New()
	due := func(d string) statute.Deadlines {
		dd, err := statute.ParseDate(d)
		if err != nil {
			t.Fatal(err)
		}
		return statute.Deadlines{Due: dd}
	}
	for _, r := range []request.Request{
		{ID: "dsr-a", Type: request.Access, Status: request.Completed, Jurisdiction: "EU", ReceivedAt: day("2026-01-10"), CompletedAt: day("2026-01-20"), Deadlines: due("2026-02-10")},
		{ID: "dsr-b", Type: request.Access, Status: request.Completed, Jurisdiction: "US-CA", ReceivedAt: day("2026-02-01"), CompletedAt: day("2026-02-05"), Deadlines: due("2026-03-18")},
		{ID: "dsr-c", Type: request.Access, Status: request.Denied, Jurisdiction: "EU", ReceivedAt: day("2026-03-01"), CompletedAt: day("2026-03-31"), Deadlines: due("2026-04-01"), Denial: request.Denial{Reasons: []string{"Manifestly unfounded."}}},
		{ID: "dsr-d", Type: request.Delete, Status: request.Expired, Jurisdiction: "EU", ReceivedAt: day("2026-04-01"), UpdatedAt: day("2026-04-29"), Deadlines: due("2026-05-01")},
		{ID: "dsr-e", Type: request.Delete, Status: request.InProgress, Jurisdiction: "EU", ReceivedAt: day("2026-11-01"), Deadlines: due("2026-12-01"), Extended: true},
		{ID: "dsr-f", Type: request.Delete, Status: request.PendingVerification, Jurisdiction: "US-CA", ReceivedAt: day("2026-11-20"), Deadlines: due("2027-01-04")},
		{ID: "dsr-g", Type: request.Access, Status: request.Failed, Jurisdiction: "EU", ReceivedAt: day("2026-10-01"), Deadlines: due("2026-11-02"), Overdue: true, NeedsOperator: true},
		{ID: "dsr-h", Type: request.Access, Status: request.Completed, Jurisdiction: "EU", ReceivedAt: day("2025-12-30"), CompletedAt: day("2026-01-02"), Deadlines: due("2026-01-30")},
	} {
		s.Put(r)
	}
	return &Reports{Store: s, Clock: clock.NewFake(day("2026-11-23"))}
}

func TestList(t *testing.T) {
	rp := seedReports(t)
	tests := []struct {
		name string
		f    Filter
		want []string
	}{
		{"every open request, soonest due first", Filter{}, []string{"dsr-g", "dsr-e", "dsr-f"}},
		{"by status", Filter{Status: request.InProgress}, []string{"dsr-e"}},
		{"closed status", Filter{Status: request.Completed}, []string{"dsr-h", "dsr-a", "dsr-b"}},
		{"by jurisdiction", Filter{Jurisdiction: "US-CA"}, []string{"dsr-f"}},
		{"overdue", Filter{Overdue: true}, []string{"dsr-g"}},
		{"due within 10 days", Filter{DueWithin: 10}, []string{"dsr-g", "dsr-e"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := rp.List(context.Background(), tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range rows {
				ids = append(ids, r.ID)
			}
			if len(ids) != len(tt.want) {
				t.Fatalf("ids %v, want %v", ids, tt.want)
			}
			for i := range ids {
				if ids[i] != tt.want[i] {
					t.Fatalf("ids %v, want %v", ids, tt.want)
				}
			}
		})
	}
	rows, _ := rp.List(context.Background(), Filter{})
	if rows[0].WaitsFor != "an operator (failed or overdue)" || rows[2].WaitsFor != "the subject's confirmation" || rows[1].DaysLeft != 8 {
		t.Fatalf("rows %+v", rows)
	}
}

func TestRecords(t *testing.T) {
	rp := seedReports(t)
	recs, err := rp.Records(context.Background(), day("2026-01-01"))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 7 || recs[0].RequestID != "dsr-a" {
		t.Fatalf("records %+v", recs)
	}
	byID := map[string]Record{}
	for _, r := range recs {
		byID[r.RequestID] = r
	}
	if r := byID["dsr-c"]; r.Response != "denied" || r.DenialBasis != "Manifestly unfounded." || r.ResponseDate != "2026-03-31" || r.RequestDate != "2026-03-01" {
		t.Fatalf("denied record %+v", r)
	}
	if r := byID["dsr-d"]; r.DenialBasis != "identity not verified" || r.ResponseDate != "2026-04-29" {
		t.Fatalf("expired record %+v", r)
	}
	if r := byID["dsr-e"]; r.ResponseDate != "" || r.Response != "in_progress" {
		t.Fatalf("open record %+v", r)
	}
}

func TestMetrics(t *testing.T) {
	rp := seedReports(t)
	ms, err := rp.Metrics(context.Background(), 2026)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Type != "access" || ms[1].Type != "delete" {
		t.Fatalf("metrics %+v", ms)
	}
	access, del := ms[0], ms[1]
	// Access 2026: a (10 days), b (4 days), c (30 days, denied), g (open).
	if access.Received != 4 || access.Complied != 2 || access.Denied != 1 || access.Open != 1 || access.MedianDays == nil || *access.MedianDays != 10 {
		t.Fatalf("access %+v median %v", access, access.MedianDays)
	}
	// Delete 2026: d (expired after 28 days), e and f open.
	if del.Received != 3 || del.Denied != 1 || del.Open != 2 || *del.MedianDays != 28 {
		t.Fatalf("delete %+v", del)
	}
	if _, err := rp.Metrics(context.Background(), 1999); apperr.KindOf(err) != apperr.Invalid {
		t.Fatalf("year 1999: %v", err)
	}
}

func TestBacklog(t *testing.T) {
	rp := seedReports(t)
	open, soon, err := rp.Backlog(context.Background(), 3)
	if err != nil {
		t.Fatal(err)
	}
	// Open: g (overdue, 21 days ago), e (due in 8 days), f (due in 42 days).
	if open != 3 || soon != 1 {
		t.Fatalf("open %d, due within 3 days %d", open, soon)
	}
	if _, soon, _ := rp.Backlog(context.Background(), 10); soon != 2 {
		t.Fatalf("due within 10 days %d", soon)
	}
}

func TestWaitsFor(t *testing.T) {
	tests := []struct {
		r    request.Request
		want string
	}{
		{request.Request{Status: request.PendingVerification}, "the subject's confirmation"},
		{request.Request{Status: request.PendingVerification, Verification: request.Verification{Locked: true}}, "an operator to verify the subject (too many wrong attempts)"},
		{request.Request{Status: request.Expired, Verification: request.Verification{Locked: true}}, ""},
		{request.Request{Status: request.InProgress, Review: request.Review{TaskToken: "t"}}, "an operator's review"},
		{request.Request{Status: request.Failed, NeedsOperator: true}, "an operator (failed or overdue)"},
		{request.Request{Status: request.InProgress}, "the workflow"},
		{request.Request{Status: request.PendingVerification, NeedsOperator: true, Agent: request.Agent{PowerOfAttorney: true}}, "an operator to review the agent's power of attorney"},
	}
	for _, tt := range tests {
		if got := waitsFor(&tt.r); got != tt.want {
			t.Errorf("waitsFor(%s, locked %v) = %q, want %q", tt.r.Status, tt.r.Verification.Locked, got, tt.want)
		}
	}
}
