package erasure

import (
	"context"
	"maps"
	"slices"
	"sync"
)

// MemJournal keeps steps in memory, by key, version and state before, as
// the workflow's journal does, for the adapters' tests.
type MemJournal struct {
	mu    sync.Mutex
	steps map[string]Entry
}

func journalKey(s Step) string { return s.Key + "@" + s.Version + "@" + s.Before }

func (j *MemJournal) put(done bool, steps []Step) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.steps == nil {
		j.steps = map[string]Entry{}
	}
	for _, s := range steps {
		j.steps[journalKey(s)] = Entry{Step: s, Done: done}
	}
}

// Begin records steps about to be made.
func (j *MemJournal) Begin(_ context.Context, steps ...Step) error {
	j.put(false, steps)
	return nil
}

// Done records steps made.
func (j *MemJournal) Done(_ context.Context, steps ...Step) error {
	j.put(true, steps)
	return nil
}

// Drop forgets begun steps.
func (j *MemJournal) Drop(_ context.Context, steps ...Step) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, s := range steps {
		delete(j.steps, journalKey(s))
	}
	return nil
}

// Entries are the steps kept, in key order.
func (j *MemJournal) Entries() []Entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []Entry
	for _, k := range slices.Sorted(maps.Keys(j.steps)) {
		out = append(out, j.steps[k])
	}
	return out
}

// Pending are the steps begun and not done.
func (j *MemJournal) Pending() []Step {
	var out []Step
	for _, e := range j.Entries() {
		if !e.Done {
			out = append(out, e.Step)
		}
	}
	return out
}
