// Package memstore is an in-memory request store with the rules of the
// DynamoDB store (internal/dynstore): a new request (Version 0) must not exist
// yet, any other save must match the stored version, and each save appends
// its audit event. Tests of the packages that use a store run on it.
package memstore

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// Store keeps requests and audit events in memory. SaveErr, when set, fails
// every save.
type Store struct {
	mu      sync.Mutex
	reqs    map[string]request.Request
	events  map[string][]request.Event
	slots   map[string]string // open slots: subject and type -> request id
	watch   map[string]string // the task token of each deadline watch's wait
	SaveErr error
}

// New returns an empty store.
func New() *Store {
	return &Store{reqs: map[string]request.Request{}, events: map[string][]request.Event{}}
}

// clone copies what a caller could change through a stored request.
func clone(r request.Request) request.Request {
	if r.Identities != nil {
		ids := maps.Clone(r.Identities)
		for k, v := range ids {
			ids[k] = slices.Clone(v)
		}
		r.Identities = ids
	}
	r.Extension.Reasons = slices.Clone(r.Extension.Reasons)
	r.Correction.Values = maps.Clone(r.Correction.Values)
	r.Correction.Fields = slices.Clone(r.Correction.Fields)
	r.Denial.Reasons = slices.Clone(r.Denial.Reasons)
	r.Hold.Reasons = slices.Clone(r.Hold.Reasons)
	r.Appeal.GrantReasons = slices.Clone(r.Appeal.GrantReasons)
	r.Mail.Siblings = slices.Clone(r.Mail.Siblings)
	return r
}

// Get returns a copy of the request, or NotFound.
func (s *Store) Get(_ context.Context, id string) (*request.Request, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.reqs[id]
	if !ok {
		return nil, apperr.E(apperr.NotFound, "No such request.")
	}
	c := clone(r)
	return &c, nil
}

// Save stores r and its event if r is at the stored version.
func (s *Store) Save(_ context.Context, r *request.Request, ev request.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.SaveErr != nil {
		return s.SaveErr
	}
	old, exists := s.reqs[r.ID]
	if (r.Version == 0 && exists) || (r.Version != 0 && (!exists || old.Version != r.Version)) {
		return apperr.Wrap(apperr.Conflict, "The request was changed by someone else; try again.", request.ErrChanged)
	}
	c := clone(*r)
	c.Version = r.Version + 1
	s.reqs[r.ID] = c
	s.events[r.ID] = append(s.events[r.ID], ev)
	r.Version = c.Version
	return nil
}

// Record appends an audit event.
func (s *Store) Record(_ context.Context, id string, ev request.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events[id] = append(s.events[id], ev)
	return nil
}

// Events returns a request's audit events, oldest first.
func (s *Store) Events(_ context.Context, id string) ([]request.Event, error) {
	return s.EventsOf(id), nil
}

// Put stores r as if it had been saved once (Version 1), without an event.
func (s *Store) Put(r request.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r.Version = 1
	s.reqs[r.ID] = clone(r)
}

// Stored returns a copy of the stored request and whether it exists.
func (s *Store) Stored(id string) (request.Request, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.reqs[id]
	return clone(r), ok
}

// EventsOf returns a copy of a request's audit events.
func (s *Store) EventsOf(id string) []request.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.events[id])
}

// All returns copies of every stored request, by id.
func (s *Store) All() map[string]request.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := make(map[string]request.Request, len(s.reqs))
	for id, r := range s.reqs {
		all[id] = clone(r)
	}
	return all
}

// List returns the stored requests a query selects, ordered as the DynamoDB
// store orders them: by due date when selecting statuses, else by receipt.
func (s *Store) List(_ context.Context, q request.Query) ([]*request.Request, error) {
	var out []*request.Request
	for _, r := range s.All() {
		switch {
		case len(q.Statuses) > 0:
			if !slices.Contains(q.Statuses, r.Status) {
				continue
			}
		case r.ReceivedAt.Before(q.Since) || (!q.Until.IsZero() && r.ReceivedAt.After(q.Until)):
			continue
		}
		out = append(out, &r)
	}
	slices.SortFunc(out, func(a, b *request.Request) int {
		if len(q.Statuses) > 0 {
			return strings.Compare(a.Deadlines.Due.String(), b.Deadlines.Due.String())
		}
		return a.ReceivedAt.Compare(b.ReceivedAt)
	})
	return out, nil
}

// SlotHolder returns the request holding an open slot, or "".
func (s *Store) SlotHolder(_ context.Context, slot string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.slots[slot], nil
}

// TakeSlot gives the slot to requestID if previous still holds it.
func (s *Store) TakeSlot(_ context.Context, slot, requestID, previous string, _ time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.slots[slot] != previous {
		return apperr.Wrap(apperr.Conflict, "Another request took the slot.", request.ErrChanged)
	}
	if s.slots == nil {
		s.slots = map[string]string{}
	}
	s.slots[slot] = requestID
	return nil
}

// SetWatchWait keeps the task token of the wait a request's deadline watch
// is in.
func (s *Store) SetWatchWait(_ context.Context, id, token string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.watch == nil {
		s.watch = map[string]string{}
	}
	s.watch[id] = token
	return nil
}

// WatchWait returns the task token kept by SetWatchWait, or "".
func (s *Store) WatchWait(_ context.Context, id string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.watch[id], nil
}
