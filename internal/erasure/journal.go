package erasure

import (
	"cmp"
	"context"
	"slices"
	"strings"
)

// Step is one change erasure makes in a source: an object rewritten or
// deleted, an older object version deleted, an item deleted or anonymized.
// Each is written down before it is made and marked done after (Journal),
// so that what a failed, timed-out or redriven attempt did is known and
// counted once. Key is in clear (the journal is kept with the request in
// the encrypted table); receipts hold it hashed.
type Step struct {
	Key     string `json:"key"`
	Version string `json:"version,omitempty"`
	Action  string `json:"action"`
	// Records are the subject's records the change deletes or anonymizes
	// (none for an older version: the current one counts them).
	Records int `json:"records"`
	// Before is what the key held before the change (an object's ETag), so
	// a step found begun but not done can be told made or not.
	Before string `json:"before,omitempty"`
}

// Journal records each change before it is made and once it is made. A
// nil Journal records nothing (a dry run).
type Journal interface {
	Begin(ctx context.Context, steps ...Step) error
	Done(ctx context.Context, steps ...Step) error
	// Drop forgets begun steps that were refused (a conditional write
	// that lost to another writer).
	Drop(ctx context.Context, steps ...Step) error
}

// Begin and Done call j, unless it is nil.
func Begin(ctx context.Context, j Journal, steps ...Step) error {
	if j == nil || len(steps) == 0 {
		return nil
	}
	return j.Begin(ctx, steps...)
}

// Done marks steps done in j, unless it is nil.
func Done(ctx context.Context, j Journal, steps ...Step) error {
	if j == nil || len(steps) == 0 {
		return nil
	}
	return j.Done(ctx, steps...)
}

// Drop forgets refused steps in j, unless it is nil.
func Drop(ctx context.Context, j Journal, steps ...Step) error {
	if j == nil || len(steps) == 0 {
		return nil
	}
	return j.Drop(ctx, steps...)
}

// Entry is a step as the journal keeps it: begun, or done.
type Entry struct {
	Step
	Done bool `json:"done"`
}

// Counted is what the done steps of one source add up to: the subject's
// records deleted or anonymized, and every key and version touched (in key
// order), each change counted once however many attempts it took.
func Counted(entries []Entry) Result {
	var res Result
	entries = slices.Clone(entries)
	slices.SortStableFunc(entries, func(a, b Entry) int {
		return cmp.Or(strings.Compare(a.Key, b.Key), strings.Compare(a.Version, b.Version))
	})
	for _, e := range entries {
		if !e.Done {
			continue
		}
		res.Records += e.Records
		if e.Action == ActionAnonymized {
			res.Anonymized += e.Records
		} else {
			res.Deleted += e.Records
		}
		res.Touched = append(res.Touched, Touched{Key: e.Key, Version: e.Version, Action: e.Action})
	}
	return res
}
