package resources

import (
	"os"
	"slices"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/statute"
)

// TestLongestOpenDays: no request the statutory rules allow stays open, on
// time, longer than LongestOpenDays: from its receipt to its last due date
// (extended, where the law allows), for every law and request type,
// received on any day of two years, and confirmed the day before its first
// due date (an unconfirmed request closes then), which restarts clocks that
// run from verification.
func TestLongestOpenDays(t *testing.T) {
	rules, err := statute.Load()
	if err != nil {
		t.Fatal(err)
	}
	longest, at := 0, ""
	for _, code := range rules.Codes() {
		loc := rules.Jurisdiction(code).Location()
		for _, typ := range statute.RequestTypes {
			for day := range 2 * 366 {
				received := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC).AddDate(0, 0, day)
				first, err := rules.Compute(statute.Input{Jurisdiction: code, Type: typ, Received: received})
				if err != nil {
					continue // a right this law does not give
				}
				verified := first.Due.AddDays(-1).StartOfDay(loc).Add(12 * time.Hour)
				d, err := rules.Compute(statute.Input{Jurisdiction: code, Type: typ, Received: received, Verified: verified})
				if err != nil {
					t.Fatal(err)
				}
				last := d.Due
				if d.ExtendedDue != nil {
					last = *d.ExtendedDue
				}
				if n := statute.DateOf(received, time.UTC).DaysUntil(last); n > longest {
					longest, at = n, code+" "+typ+" received "+received.Format(time.DateOnly)
				}
			}
		}
	}
	if longest == 0 {
		t.Fatal("no deadline computed: the test proves nothing")
	}
	if longest > LongestOpenDays {
		t.Errorf("a request may be open %d days (%s), more than LongestOpenDays (%d)", longest, at, LongestOpenDays)
	}
	t.Logf("longest on time: %d days (%s)", longest, at)
}

// TestFunctionFolders: every function has its folder under functions/ (the
// Makefile builds one binary per folder, the stack deploys one per
// Function), and every folder is a function.
func TestFunctionFolders(t *testing.T) {
	entries, err := os.ReadDir("../../functions")
	if err != nil {
		t.Fatal(err)
	}
	var folders, names []string
	for _, e := range entries {
		if e.IsDir() {
			folders = append(folders, e.Name())
		}
	}
	for _, f := range Functions {
		names = append(names, f.Name)
	}
	slices.Sort(names)
	if !slices.Equal(folders, names) {
		t.Errorf("folders %q, functions %q", folders, names)
	}
}

func TestPlaceholder(t *testing.T) {
	tests := []struct {
		fn   Function
		want string
	}{
		{CloseRequest, "CloseRequestFunctionArn"},
		{Acknowledge, "AcknowledgeFunctionArn"},
		{FinishLargeSource, "FinishLargeSourceFunctionArn"},
		{API, ""},
		{Sweeper, ""},
	}
	for _, tt := range tests {
		if got := tt.fn.Placeholder(); got != tt.want {
			t.Errorf("%s: Placeholder() = %q, want %q", tt.fn.Name, got, tt.want)
		}
	}
}
