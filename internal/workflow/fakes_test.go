package workflow

import (
	"bytes"
	"context"
	"errors"
	"io"
	"maps"
	"slices"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/memstore"
	"github.com/privacy-pipeline/dsr/internal/notify"
	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/sfnflow"
)

// fakeStore is the in-memory store, with short names for the tests.
type fakeStore struct{ *memstore.Store }

func newFakeStore() *fakeStore { return &fakeStore{memstore.New()} }

func (s *fakeStore) put(r request.Request) { s.Put(r) }

func (s *fakeStore) eventsOf(id string) []request.Event { return s.EventsOf(id) }

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

// fakeMetrics counts metrics by name and keeps the last value of each.
type fakeMetrics struct {
	counts map[string]int
	days   map[string]float64
}

func (m *fakeMetrics) Days(name string, days float64, _ *request.Request) {
	if m.days == nil {
		m.days = map[string]float64{}
	}
	m.days[name] = days
}

func (m *fakeMetrics) Count(name string, _ *request.Request) {
	if m.counts == nil {
		m.counts = map[string]int{}
	}
	m.counts[name]++
}

// stored returns the stored request, which must exist.
func (s *fakeStore) stored(id string) request.Request {
	r, _ := s.Stored(id)
	return r
}
