package portal

import (
	"context"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/memstore"
	"github.com/privacy-pipeline/dsr/internal/notify"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/sfnflow"
)

// fakeStore is the in-memory store, with short names for the tests.
type fakeStore struct{ *memstore.Store }

func newFakeStore() *fakeStore { return &fakeStore{memstore.New()} }

func (s *fakeStore) put(r request.Request) { s.Put(r) }

func (s *fakeStore) eventsOf(id string) []request.Event { return s.EventsOf(id) }

// fakeWorkflow records what it was asked to start and resume. As the SDK
// does, it fails a start whose context has ended.
type fakeWorkflow struct {
	starts    []sfnflow.Input
	resumes   []string
	startErr  error
	resumeErr error
	// deadlines are those of the contexts starts were asked in (zero: none).
	deadlines []time.Time
}

func (w *fakeWorkflow) Start(ctx context.Context, in sfnflow.Input) error {
	dl, _ := ctx.Deadline()
	w.deadlines = append(w.deadlines, dl)
	if err := ctx.Err(); err != nil {
		return apperr.Wrap(apperr.Unavailable, "The workflow service is unavailable.", err)
	}
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

// started returns the input the workflow of request id was started with.
func (w *fakeWorkflow) started(t *testing.T, id string) sfnflow.Input {
	t.Helper()
	for _, in := range w.starts {
		if in.RequestID == id {
			return in
		}
	}
	t.Fatalf("no workflow started for %s", id)
	return sfnflow.Input{}
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

func (s *fakeStore) stored(id string) (request.Request, bool) { return s.Stored(id) }

// fakeMailer keeps what it was asked to send.
type fakeMailer struct {
	sent []notify.Message
	err  error
}

func (m *fakeMailer) Send(_ context.Context, msg notify.Message) error {
	if m.err != nil {
		return m.err
	}
	m.sent = append(m.sent, msg)
	return nil
}

// checkErr keeps the error of CheckVerification.
func checkErr(_ Requirement, err error) error { return err }
