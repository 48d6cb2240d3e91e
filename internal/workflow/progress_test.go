package workflow

import (
	"context"
	"errors"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/apperr"
)

var errThrottled = apperr.Wrap(apperr.Unavailable, "A source is unavailable.", errors.New("ThrottlingException"))

// An erasure that fails part-way, or times out after a change was made but
// before it was marked done, is counted exactly once when the step runs
// again: the outcome (and so the receipt and the mail) holds every record
// erased, by every attempt.
func TestEraseCountsEveryChangeOnce(t *testing.T) {
	tests := []struct {
		name string
		// made: the failing change is made anyway (a timeout after the store
		// made it); otherwise it is refused (throttled).
		made bool
	}{
		{"refused part-way", false},
		{"timed out after the change was made", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			e, r := newModesEnv(t)
			e.adapter.data["users"][subject] = []map[string]any{{"user_id": "u-1"}, {"user_id": "u-1", "n": 2}, {"user_id": "u-1", "n": 3}}
			calls := 0
			e.adapter.fault = func(_, key string) (error, bool) {
				if calls++; calls == 2 {
					return errThrottled, tt.made
				}
				return nil, true
			}
			if _, err := e.steps.EraseSource(ctx, SourceTask{RequestID: r.ID, SourceID: "users"}); !apperr.Is(err, apperr.Unavailable) {
				t.Fatalf("first attempt: %v", err)
			}
			e.adapter.fault = nil
			if _, err := e.steps.EraseSource(ctx, SourceTask{RequestID: r.ID, SourceID: "users"}); err != nil {
				t.Fatal(err)
			}
			// And once more, as a retry after the step's result was lost.
			if _, err := e.steps.EraseSource(ctx, SourceTask{RequestID: r.ID, SourceID: "users"}); err != nil {
				t.Fatal(err)
			}
			o := e.outcomes.bySource[r.ID]["users"]
			if o.Records != 3 || o.Deleted != 3 || len(o.Touched) != 3 {
				t.Fatalf("outcome %+v, want the 3 records deleted, each once", o)
			}
			if len(e.adapter.data["users"]) != 0 {
				t.Fatalf("left %v", e.adapter.data["users"])
			}
		})
	}
}

// A change begun whose Done could not be written (the journal failed) is
// settled by the next attempt: made, it is counted; not made, it is made.
func TestEraseSettlesBegunSteps(t *testing.T) {
	ctx := context.Background()
	e, r := newModesEnv(t)
	e.progress.failDone = 1
	if _, err := e.steps.EraseSource(ctx, SourceTask{RequestID: r.ID, SourceID: "users"}); !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("first attempt: %v", err)
	}
	entries, _ := e.progress.Entries(ctx, r.ID, "users", "")
	if len(entries) != 1 || entries[0].Done {
		t.Fatalf("journal after the failure: %+v", entries)
	}
	if _, err := e.steps.EraseSource(ctx, SourceTask{RequestID: r.ID, SourceID: "users"}); err != nil {
		t.Fatal(err)
	}
	if o := e.outcomes.bySource[r.ID]["users"]; o.Deleted != 1 {
		t.Fatalf("outcome %+v, want the record erased by the first attempt counted", o)
	}
}

// A dry run writes nothing in the journal.
func TestDryRunKeepsNoJournal(t *testing.T) {
	ctx := context.Background()
	e, r := newModesEnv(t)
	r.DryRun = true
	e.store.put(r)
	if _, err := e.steps.EraseSource(ctx, SourceTask{RequestID: r.ID, SourceID: "users"}); err != nil {
		t.Fatal(err)
	}
	if len(e.progress.entries) != 0 || e.outcomes.bySource[r.ID]["users"].Deleted != 1 {
		t.Fatalf("journal %v, outcome %+v", e.progress.entries, e.outcomes.bySource[r.ID]["users"])
	}
}
