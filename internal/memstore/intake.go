package memstore

import (
	"context"
	"sync"
	"time"

	"github.com/privacy-pipeline/dsr/internal/idempotency"
	"github.com/privacy-pipeline/dsr/internal/suppression"
)

// Idempotency keeps idempotency records in memory with the DynamoDB store's
// rules: a claim succeeds only when no live record holds the key.
type Idempotency struct {
	mu      sync.Mutex
	records map[string]idempotency.Record
	// Err, when set, fails every call.
	Err error
}

// NewIdempotency returns an empty record store.
func NewIdempotency() *Idempotency {
	return &Idempotency{records: map[string]idempotency.Record{}}
}

func (s *Idempotency) Claim(_ context.Context, key string, rec idempotency.Record, now time.Time) (*idempotency.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return nil, s.Err
	}
	if found, ok := s.records[key]; ok && found.Live(now) {
		return &found, nil
	}
	s.records[key] = rec
	return nil, nil
}

func (s *Idempotency) Complete(_ context.Context, key string, rec idempotency.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	s.records[key] = rec
	return nil
}

func (s *Idempotency) Release(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	delete(s.records, key)
	return nil
}

// Keys returns how many keys are held, live or not.
func (s *Idempotency) Keys() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.records)
}

// Counters are rate-limit counters in memory.
type Counters struct {
	mu sync.Mutex
	n  map[string]int64
	// Err, when set, fails every call.
	Err error
}

// NewCounters returns empty counters.
func NewCounters() *Counters { return &Counters{n: map[string]int64{}} }

func (c *Counters) Increment(_ context.Context, key string, _ time.Time) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Err != nil {
		return 0, c.Err
	}
	c.n[key]++
	return c.n[key], nil
}

// Suppressions is the suppression list in memory, with the DynamoDB list's
// rule: a flag once set keeps its first entry.
type Suppressions struct {
	mu      sync.Mutex
	entries map[string]map[suppression.Flag]suppression.Entry
	// Err, when set, fails every call.
	Err error
}

// NewSuppressions returns an empty list.
func NewSuppressions() *Suppressions {
	return &Suppressions{entries: map[string]map[suppression.Flag]suppression.Entry{}}
}

func (s *Suppressions) Set(_ context.Context, key string, flag suppression.Flag, e suppression.Entry) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return false, s.Err
	}
	if _, ok := s.entries[key][flag]; ok {
		return false, nil
	}
	if s.entries[key] == nil {
		s.entries[key] = map[suppression.Flag]suppression.Entry{}
	}
	s.entries[key][flag] = e
	return true, nil
}

func (s *Suppressions) Get(_ context.Context, key string) (map[suppression.Flag]suppression.Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return nil, s.Err
	}
	out := map[suppression.Flag]suppression.Entry{}
	for f, e := range s.entries[key] {
		out[f] = e
	}
	return out, nil
}
