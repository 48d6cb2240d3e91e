package memstore

import (
	"cmp"
	"context"
	"slices"
	"sync"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/manualtask"
)

// ManualTasks keeps the tasks of manual sources in memory, with the rules of
// dynstore.ManualTasks: a task is made once per request and source, and an
// update only replaces a task still open.
type ManualTasks struct {
	mu    sync.Mutex
	tasks map[string]manualtask.Task // by task id
	waits map[string]string          // by request id
}

// NewManualTasks returns an empty store.
func NewManualTasks() *ManualTasks {
	return &ManualTasks{tasks: map[string]manualtask.Task{}, waits: map[string]string{}}
}

func (s *ManualTasks) AddTask(_ context.Context, t manualtask.Task) (manualtask.Task, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if kept, ok := s.tasks[t.ID()]; ok {
		return kept, false, nil
	}
	s.tasks[t.ID()] = t
	return t, true, nil
}

func (s *ManualTasks) Task(_ context.Context, requestID, sourceID string) (manualtask.Task, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tasks[manualtask.ID(requestID, sourceID)]
	if !ok {
		return manualtask.Task{}, apperr.E(apperr.NotFound, "There is no task "+manualtask.ID(requestID, sourceID)+".")
	}
	return t, nil
}

func (s *ManualTasks) Tasks(_ context.Context, requestID string) ([]manualtask.Task, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []manualtask.Task
	for _, t := range s.tasks {
		if t.RequestID == requestID {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b manualtask.Task) int { return cmp.Compare(a.SourceID, b.SourceID) })
	return out, nil
}

func (s *ManualTasks) Update(_ context.Context, t manualtask.Task) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if kept, ok := s.tasks[t.ID()]; !ok || !kept.IsOpen() {
		return apperr.E(apperr.Conflict, "Task "+t.ID()+" was answered meanwhile.")
	}
	s.tasks[t.ID()] = t
	return nil
}

func (s *ManualTasks) SetWait(_ context.Context, requestID, token string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waits[requestID] = token
	return nil
}

func (s *ManualTasks) Wait(_ context.Context, requestID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waits[requestID], nil
}

func (s *ManualTasks) ClearWait(_ context.Context, requestID, token string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.waits[requestID] == token {
		delete(s.waits, requestID)
	}
	return nil
}
