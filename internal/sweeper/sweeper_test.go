package sweeper

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/clock"
	"github.com/privacy-pipeline/dsr/internal/memstore"
	"github.com/privacy-pipeline/dsr/internal/metrics"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/sfnflow"
)

var now = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// fakeWorkflow knows which executions exist and fails as told.
type fakeWorkflow struct {
	existing    map[string]bool
	describeErr map[string]error
	startErr    map[string]error
	started     []sfnflow.Input
	resumeErr   map[string]error
	resumed     []string // task tokens
}

func (w *fakeWorkflow) Exists(_ context.Context, name string) (bool, error) {
	if err := w.describeErr[name]; err != nil {
		return false, err
	}
	return w.existing[name], nil
}

func (w *fakeWorkflow) Resume(_ context.Context, token string) error {
	if err := w.resumeErr[token]; err != nil {
		return err
	}
	w.resumed = append(w.resumed, token)
	return nil
}

func (w *fakeWorkflow) Start(_ context.Context, in sfnflow.Input) error {
	if err := w.startErr[in.RequestID]; err != nil {
		return err
	}
	w.started = append(w.started, in)
	w.existing[in.RequestID] = true
	return nil
}

// inputs builds an input that shows it came from the request it was given.
type inputs struct{}

func (inputs) WorkflowInput(r *request.Request) sfnflow.Input {
	return sfnflow.Input{RequestID: r.ID, Type: string(r.Type), Jurisdiction: r.Jurisdiction, VerificationTimeoutSeconds: 2592000}
}

// counted keeps the metrics counted, as "name id".
type counted []string

func (c *counted) Count(name string, r *request.Request) { *c = append(*c, name+" "+r.ID) }

// racingStore lets the workflow save the request just before the sweeper's
// first save after a start.
type racingStore struct {
	*memstore.Store
	raced bool
}

func (s *racingStore) Save(ctx context.Context, r *request.Request, ev request.Event) error {
	if !s.raced && ev.Action == "workflow_started" {
		s.raced = true
		other, _ := s.Stored(r.ID)
		other.Status = request.PendingVerification
		if err := s.Store.Save(ctx, &other, request.Event{At: now, Actor: "system", Action: "verification_sent", From: request.Received, To: request.PendingVerification}); err != nil {
			return err
		}
	}
	return s.Store.Save(ctx, r, ev)
}

var errDown = apperr.E(apperr.Unavailable, "The workflow service is unavailable.")

func TestSweep(t *testing.T) {
	old := now.Add(-10 * time.Minute)
	tests := []struct {
		name string
		// edit makes the request what the case is about; it starts
		// received ten minutes ago, with no workflow.
		edit        func(*request.Request)
		existing    bool
		describeErr error
		startErr    error
		race        bool
		// want: started, flagged afterwards, the last audit action, the
		// metric counted, and whether the sweep reports an error.
		started   bool
		flagged   bool
		action    string
		metric    string
		wantErr   bool
		unchecked bool
	}{
		{name: "lost after it was stored", started: true, action: "workflow_started", metric: metrics.StartedLate},
		{name: "lost, flagged when its start failed", edit: func(r *request.Request) { r.NeedsOperator = true },
			started: true, action: "workflow_started", metric: metrics.StartedLate},
		{name: "flagged, and the workflow saves it first", edit: func(r *request.Request) { r.NeedsOperator = true }, race: true,
			started: true, action: "workflow_started", metric: metrics.StartedLate},
		{name: "its start fails", startErr: errDown, flagged: true, action: "workflow_start_failed", metric: metrics.NotStarted},
		{name: "its start fails again", edit: func(r *request.Request) { r.NeedsOperator = true }, startErr: errDown,
			flagged: true, action: "received", metric: metrics.NotStarted},
		{name: "started meanwhile", startErr: apperr.E(apperr.Conflict, "The workflow of this request already ran."), action: "received"},
		{name: "just stored: the portal may still be starting it", edit: func(r *request.Request) { r.UpdatedAt = now.Add(-time.Minute) }, action: "received"},
		{name: "its workflow runs", existing: true, action: "received"},
		{name: "its workflow cannot be looked up", describeErr: errDown, action: "received", wantErr: true, unchecked: true},
		{name: "joined to another", edit: func(r *request.Request) { r.Status, r.JoinedTo = request.Cancelled, "dsr-20261123-0000000000000000" }, action: "received"},
		{name: "waiting for its confirmation", edit: func(r *request.Request) { r.Status = request.PendingVerification }, action: "received"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			mem := memstore.New()
			r := request.New(request.Submission{Type: "access", Email: "a@example.com", Jurisdiction: "EU"}, old)
			if tt.edit != nil {
				tt.edit(r)
			}
			if err := mem.Save(ctx, r, request.Event{At: r.UpdatedAt, Actor: "subject", Action: "received", To: request.Received}); err != nil {
				t.Fatal(err)
			}
			wf := &fakeWorkflow{existing: map[string]bool{}, describeErr: map[string]error{}, startErr: map[string]error{}}
			wf.existing[r.ID] = tt.existing
			wf.describeErr[r.ID] = tt.describeErr
			wf.startErr[r.ID] = tt.startErr
			var m counted
			var store Store = mem
			if tt.race {
				store = &racingStore{Store: mem}
			}
			s := &Sweeper{Store: store, Workflow: wf, Inputs: inputs{}, Metrics: &m, Clock: clock.NewFake(now), MinAge: DefaultMinAge}

			res, err := s.Sweep(ctx)
			if (err != nil) != tt.wantErr {
				t.Fatalf("sweep: %v", err)
			}
			if got := len(wf.started) == 1; got != tt.started {
				t.Fatalf("started %+v", wf.started)
			}
			if tt.started && wf.started[0] != (inputs{}).WorkflowInput(r) {
				t.Errorf("started with %+v, want the portal's input", wf.started[0])
			}
			after, _ := mem.Stored(r.ID)
			if after.NeedsOperator != tt.flagged {
				t.Errorf("needs operator %v, want %v", after.NeedsOperator, tt.flagged)
			}
			if tt.race && after.Status != request.PendingVerification {
				t.Errorf("the workflow's write was lost: %s", after.Status)
			}
			evs := mem.EventsOf(r.ID)
			if last := evs[len(evs)-1]; last.Action != tt.action || (last.Action != "received" && !strings.Contains(last.Note, "by=sweeper")) {
				t.Errorf("last event %+v, want %s", last, tt.action)
			}
			if want := []string{}; tt.metric != "" {
				want = append(want, tt.metric+" "+r.ID)
				if !slices.Equal(m, want) {
					t.Errorf("metrics %v, want %v", m, want)
				}
			} else if len(m) != 0 {
				t.Errorf("metrics %v", m)
			}
			ids := map[string][]string{"started": res.Started, "not started": res.NotStarted, "unchecked": res.Unchecked}
			for what, want := range map[string]bool{"started": tt.started, "not started": tt.metric == metrics.NotStarted, "unchecked": tt.unchecked} {
				if got := slices.Equal(ids[what], []string{r.ID}); got != want {
					t.Errorf("%s: %v", what, ids[what])
				}
			}
		})
	}
}

// TestSweepGoesOn: one request that cannot be checked or started does not
// keep the others from starting; the sweep reports the failure at the end,
// and a request whose start keeps failing is counted at every sweep but
// flagged once.
func TestSweepGoesOn(t *testing.T) {
	ctx := context.Background()
	mem := memstore.New()
	old := now.Add(-time.Hour)
	var ids []string
	for range 3 {
		r := request.New(request.Submission{Type: "delete", Email: "a@example.com", Jurisdiction: "UK"}, old)
		if err := mem.Save(ctx, r, request.Event{At: old, Actor: "subject", Action: "received", To: request.Received}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	wf := &fakeWorkflow{existing: map[string]bool{}, describeErr: map[string]error{ids[0]: errDown}, startErr: map[string]error{ids[1]: errDown}}
	var m counted
	s := &Sweeper{Store: mem, Workflow: wf, Inputs: inputs{}, Metrics: &m, Clock: clock.NewFake(now), MinAge: DefaultMinAge}
	for sweep := 1; sweep <= 2; sweep++ {
		res, err := s.Sweep(ctx)
		if !apperr.Is(err, apperr.Unavailable) {
			t.Fatalf("sweep %d: %v", sweep, err)
		}
		if !slices.Equal(res.Unchecked, ids[:1]) || !slices.Equal(res.NotStarted, ids[1:2]) {
			t.Fatalf("sweep %d: %+v", sweep, res)
		}
	}
	if len(wf.started) != 1 || wf.started[0].RequestID != ids[2] {
		t.Fatalf("started %+v", wf.started)
	}
	// The store lists them in no order that matters.
	slices.Sort(m)
	if want := []string{metrics.NotStarted + " " + ids[1], metrics.NotStarted + " " + ids[1], metrics.StartedLate + " " + ids[2]}; !slices.Equal(m, want) {
		t.Errorf("metrics %v, want %v", m, want)
	}
	flags := 0
	for _, ev := range mem.EventsOf(ids[1]) {
		if ev.Action == "workflow_start_failed" {
			flags++
		}
	}
	if flags != 1 {
		t.Errorf("flagged %d times", flags)
	}
}

// TestSweepResumesConfirmedRequests: a request confirmed (by the subject's
// link, or an operator) whose workflow was never told, because the
// function ended between saving the confirmation and resuming the
// workflow, waits no longer than a sweep: its workflow, still waiting on
// the verification's task token, is resumed. One confirmed just now, one
// whose workflow no longer waits, and requests in other states are left
// alone.
func TestSweepResumesConfirmedRequests(t *testing.T) {
	ctx := context.Background()
	mem := memstore.New()
	old := now.Add(-10 * time.Minute)
	made := map[string]*request.Request{}
	for _, c := range []struct {
		name   string
		status request.Status
		at     time.Time
	}{{"stuck", request.Verified, old}, {"just confirmed", request.Verified, now.Add(-time.Minute)}, {"moved on", request.Verified, old},
		{"pending", request.PendingVerification, old}, {"in progress", request.InProgress, old}} {
		r := request.New(request.Submission{Type: "access", Email: "a@example.com", Jurisdiction: "EU"}, old)
		r.Status, r.UpdatedAt, r.Verification.TaskToken = c.status, c.at, "token-"+c.name
		if err := mem.Save(ctx, r, request.Event{At: c.at, Actor: "subject", Action: "verified", To: c.status}); err != nil {
			t.Fatal(err)
		}
		made[c.name] = r
	}
	wf := &fakeWorkflow{existing: map[string]bool{}, describeErr: map[string]error{}, startErr: map[string]error{},
		resumeErr: map[string]error{"token-moved on": apperr.E(apperr.Conflict, "The request is no longer waiting for this step.")}}
	for _, r := range made {
		wf.existing[r.ID] = true
	}
	s := &Sweeper{Store: mem, Workflow: wf, Inputs: inputs{}, Metrics: &counted{}, Clock: clock.NewFake(now), MinAge: DefaultMinAge}
	res, err := s.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(wf.resumed, []string{"token-stuck"}) || !slices.Equal(res.Resumed, []string{made["stuck"].ID}) {
		t.Fatalf("resumed %v, result %+v; want the stuck request's workflow alone", wf.resumed, res)
	}
	evs := mem.EventsOf(made["stuck"].ID)
	if last := evs[len(evs)-1]; last.Action != "workflow_resumed" || last.Note != "by=sweeper" {
		t.Errorf("last event %+v", last)
	}
}
