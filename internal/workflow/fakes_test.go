package workflow

import (
	"bytes"
	"context"
	"errors"
	"io"
	"maps"
	"slices"
	"sync"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/notify"
	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/sfnflow"
)

// fakeStore keeps requests in memory with the version rules of dynamo.Store:
// a Version 0 request must not exist yet, any other must match the stored
// version, and a successful save increments r.Version.
type fakeStore struct {
	mu     sync.Mutex
	reqs   map[string]request.Request
	events map[string][]request.Event
}

func newFakeStore() *fakeStore {
	return &fakeStore{reqs: map[string]request.Request{}, events: map[string][]request.Event{}}
}

func copyRequest(r request.Request) request.Request {
	if r.Identities != nil {
		ids := make(map[string][]string, len(r.Identities))
		for k, v := range r.Identities {
			ids[k] = slices.Clone(v)
		}
		r.Identities = ids
	}
	return r
}

func (s *fakeStore) Get(_ context.Context, id string) (*request.Request, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.reqs[id]
	if !ok {
		return nil, apperr.E(apperr.NotFound, "No such request.")
	}
	c := copyRequest(r)
	return &c, nil
}

func (s *fakeStore) Save(_ context.Context, r *request.Request, ev request.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, exists := s.reqs[r.ID]
	if (r.Version == 0 && exists) || (r.Version != 0 && (!exists || old.Version != r.Version)) {
		return apperr.E(apperr.Conflict, "The request was changed by someone else; try again.")
	}
	c := copyRequest(*r)
	c.Version = r.Version + 1
	s.reqs[r.ID] = c
	s.events[r.ID] = append(s.events[r.ID], ev)
	r.Version = c.Version
	return nil
}

func (s *fakeStore) Record(_ context.Context, id string, ev request.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events[id] = append(s.events[id], ev)
	return nil
}

// put stores r as it is, as if saved once before (Version 1).
func (s *fakeStore) put(r request.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r.Version = 1
	s.reqs[r.ID] = copyRequest(r)
}

// stored returns the stored request, which must exist.
func (s *fakeStore) stored(id string) request.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return copyRequest(s.reqs[id])
}

func (s *fakeStore) eventsOf(id string) []request.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.events[id])
}

// fakeMailer records the messages it sends; failNext makes the next sends fail.
type fakeMailer struct {
	sent     []notify.Message
	failNext int
}

var errMailDown = errors.New("smtp: mail relay unavailable")

func (m *fakeMailer) Send(_ context.Context, msg notify.Message) error {
	if m.failNext > 0 {
		m.failNext--
		return apperr.Wrap(apperr.Unavailable, "Mail is unavailable.", errMailDown)
	}
	m.sent = append(m.sent, msg)
	return nil
}

// fakeAdapter holds records per source id, keyed by the identity value by
// which the source finds them (the value of the source's lookup identity).
type fakeAdapter struct {
	data map[string]map[string][]map[string]any
}

func (a *fakeAdapter) Find(_ context.Context, src *registry.Source, ids map[string][]string) ([]map[string]any, error) {
	var out []map[string]any
	for _, kind := range src.LookupIdentities() {
		for _, v := range ids[kind] {
			out = append(out, a.data[src.ID][v]...)
		}
	}
	return out, nil
}

func (a *fakeAdapter) Erase(_ context.Context, src *registry.Source, ids map[string][]string) (int, error) {
	n := 0
	for _, kind := range src.LookupIdentities() {
		for _, v := range ids[kind] {
			n += len(a.data[src.ID][v])
			delete(a.data[src.ID], v)
		}
	}
	return n, nil
}

// fakeExports keeps parts and packages in memory. Part of a source that was
// not collected is NotFound, as in s3exports.
type fakeExports struct {
	parts    map[string][]map[string]any // by requestID + "/" + sourceID
	packages map[string][]byte
}

func newFakeExports() *fakeExports {
	return &fakeExports{parts: map[string][]map[string]any{}, packages: map[string][]byte{}}
}

func (e *fakeExports) PutPart(_ context.Context, requestID, sourceID string, records []map[string]any) error {
	e.parts[requestID+"/"+sourceID] = slices.Clone(records)
	return nil
}

func (e *fakeExports) Part(_ context.Context, requestID, sourceID string) ([]map[string]any, error) {
	p, ok := e.parts[requestID+"/"+sourceID]
	if !ok {
		return nil, apperr.E(apperr.NotFound, "A source's records were not collected.")
	}
	return p, nil
}

func (e *fakeExports) DeletePart(_ context.Context, requestID, sourceID string) error {
	delete(e.parts, requestID+"/"+sourceID)
	return nil
}

func (e *fakeExports) PutPackage(_ context.Context, requestID string, body io.ReadSeeker) (string, error) {
	var b bytes.Buffer
	if _, err := io.Copy(&b, body); err != nil {
		return "", err
	}
	key := "packages/" + requestID + ".zip"
	e.packages[key] = b.Bytes()
	return key, nil
}

func (e *fakeExports) partKeys() []string { return slices.Sorted(maps.Keys(e.parts)) }

// fakeWatch records the watches started and stopped.
type fakeWatch struct {
	started []sfnflow.WatchInput
	stopped []string
}

func (w *fakeWatch) Start(_ context.Context, in sfnflow.WatchInput) error {
	w.started = append(w.started, in)
	return nil
}

func (w *fakeWatch) Stop(_ context.Context, id string) error {
	w.stopped = append(w.stopped, id)
	return nil
}

// fakeMetrics counts metrics by name.
type fakeMetrics struct{ counts map[string]int }

func (m *fakeMetrics) Count(name string, _ *request.Request) {
	if m.counts == nil {
		m.counts = map[string]int{}
	}
	m.counts[name]++
}
