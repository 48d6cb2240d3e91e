package portal

import (
	"context"
	"sync"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/sfnflow"
)

// fakeStore keeps requests in memory with the version rules of dynamo.Store.
// saveErr, when set, fails every save.
type fakeStore struct {
	mu      sync.Mutex
	reqs    map[string]request.Request
	events  map[string][]request.Event
	saveErr error
}

func newFakeStore() *fakeStore {
	return &fakeStore{reqs: map[string]request.Request{}, events: map[string][]request.Event{}}
}

func (s *fakeStore) Get(_ context.Context, id string) (*request.Request, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.reqs[id]
	if !ok {
		return nil, apperr.E(apperr.NotFound, "No such request.")
	}
	return &r, nil
}

func (s *fakeStore) Save(_ context.Context, r *request.Request, ev request.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.saveErr != nil {
		return s.saveErr
	}
	old, exists := s.reqs[r.ID]
	if (r.Version == 0 && exists) || (r.Version != 0 && (!exists || old.Version != r.Version)) {
		return apperr.E(apperr.Conflict, "The request was changed by someone else; try again.")
	}
	c := *r
	c.Version = r.Version + 1
	s.reqs[r.ID] = c
	s.events[r.ID] = append(s.events[r.ID], ev)
	r.Version = c.Version
	return nil
}

// put stores r as if saved once before.
func (s *fakeStore) put(r request.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r.Version = 1
	s.reqs[r.ID] = r
}

func (s *fakeStore) stored(id string) (request.Request, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.reqs[id]
	return r, ok
}

// fakeWorkflow records what it was asked to start and resume.
type fakeWorkflow struct {
	starts    []sfnflow.Input
	resumes   []string
	startErr  error
	resumeErr error
}

func (w *fakeWorkflow) Start(_ context.Context, in sfnflow.Input) error {
	if w.startErr != nil {
		return w.startErr
	}
	w.starts = append(w.starts, in)
	return nil
}

func (w *fakeWorkflow) Resume(_ context.Context, taskToken string) error {
	if w.resumeErr != nil {
		return w.resumeErr
	}
	w.resumes = append(w.resumes, taskToken)
	return nil
}

// fakePresigner makes a URL from the key and records its calls.
type fakePresigner struct {
	keys []string
	ttls []time.Duration
}

func (p *fakePresigner) PresignPackage(_ context.Context, key string, ttl time.Duration) (string, error) {
	p.keys = append(p.keys, key)
	p.ttls = append(p.ttls, ttl)
	return "https://exports.example/" + key + "?signed=1", nil
}
