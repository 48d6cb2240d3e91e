package operator

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/clock"
	"github.com/privacy-pipeline/dsr/internal/memstore"
	"github.com/privacy-pipeline/dsr/internal/notify"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/workflow"
)

// fakeStore is the in-memory store, with short names for the tests.
// beforeSave, when set, runs once before the next Save: another writer
// (the workflow) saving the request between an operator's read and save.
type fakeStore struct {
	*memstore.Store
	beforeSave func()
}

func newFakeStore() *fakeStore { return &fakeStore{Store: memstore.New()} }

func (s *fakeStore) Save(ctx context.Context, r *request.Request, ev request.Event) error {
	if f := s.beforeSave; f != nil {
		s.beforeSave = nil
		f()
	}
	return s.Store.Save(ctx, r, ev)
}

func (s *fakeStore) put(r request.Request) { s.Put(r) }

func (s *fakeStore) eventsOf(id string) []request.Event { return s.EventsOf(id) }

func (s *fakeStore) stored(id string) (request.Request, bool) { return s.Stored(id) }

// failCall is one call of fakeWorkflow.Fail.
type failCall struct {
	Token, ErrorName string
}

// fakeWorkflow records every Resume and Fail call, including those it fails.
type fakeWorkflow struct {
	resumes   []string
	fails     []failCall
	inspected []string
	failedAt  string
	failedErr error
	started   [][2]string
	resumeErr error
	failErr   error
}

func (w *fakeWorkflow) Resume(_ context.Context, taskToken string) error {
	w.resumes = append(w.resumes, taskToken)
	return w.resumeErr
}

func (w *fakeWorkflow) Fail(_ context.Context, taskToken, errorName string) error {
	w.fails = append(w.fails, failCall{taskToken, errorName})
	return w.failErr
}

func (w *fakeWorkflow) FailedStep(_ context.Context, execution string) (string, string, error) {
	w.inspected = append(w.inspected, execution)
	return w.failedAt, `{"request_id":"` + reqID + `","type":"access","operator_review":false}`, w.failedErr
}

func (w *fakeWorkflow) StartNamed(_ context.Context, execution, input string) error {
	w.started = append(w.started, [2]string{execution, input})
	return nil
}

// fakeWatch records the watches stopped.
type fakeWatch struct{ stops []string }

func (w *fakeWatch) End(_ context.Context, id string) error {
	w.stops = append(w.stops, id)
	return nil
}

// fakeMailer records the messages sent.
// fakeMailer records what it sends; fail makes it fail.
type fakeMailer struct {
	sent []notify.Message
	fail bool
}

func (m *fakeMailer) Send(_ context.Context, msg notify.Message) error {
	if m.fail {
		return apperr.E(apperr.Unavailable, "Mail is unavailable.")
	}
	m.sent = append(m.sent, msg)
	return nil
}

// extendCall is one call of fakeExtender.Extend, with a copy of the request
// as it was passed.
type extendCall struct {
	Req     request.Request
	Reasons []string
	By      string
}

// fakeExtender records its calls and returns err.
type fakeExtender struct {
	calls []extendCall
	err   error
}

func (e *fakeExtender) Extend(_ context.Context, r *request.Request, reasons []string, by string) error {
	e.calls = append(e.calls, extendCall{Req: *r, Reasons: reasons, By: by})
	return e.err
}

const (
	reqID     = "dsr-20250301-0123456789abcdef"
	unknownID = "dsr-20250301-zzzzzzzzzzzzzzzz"
	token     = "review-task-token-1"
	who       = "alice"
)

var (
	received = time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	now      = time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)
)

type env struct {
	op       *Operator
	store    *fakeStore
	workflow *fakeWorkflow
	watch    *fakeWatch
	mail     *fakeMailer
	extender *fakeExtender
	rawMail  *fakeRawMail
	forgot   *fakeForgetter
}

func newEnv() *env {
	e := &env{store: newFakeStore(), workflow: &fakeWorkflow{}, watch: &fakeWatch{}, mail: &fakeMailer{}, extender: &fakeExtender{}, rawMail: &fakeRawMail{}, forgot: &fakeForgetter{}}
	e.op = &Operator{Store: e.store, Workflow: e.workflow, Watch: e.watch, Mailer: e.mail, Extender: e.extender, Clock: clock.NewFake(now), RawMail: e.rawMail,
		Permissions: e.forgot}
	return e
}

// fakeForgetter records the requests whose permissions it was asked to
// forget, and in which status.
type fakeForgetter struct{ forgot []string }

func (f *fakeForgetter) ForgetPermission(_ context.Context, r *request.Request) error {
	f.forgot = append(f.forgot, r.ID+" "+string(r.Status))
	return nil
}

// fakeRawMail records the raw messages deleted.
type fakeRawMail struct{ deleted []string }

func (m *fakeRawMail) ForgetMail(_ context.Context, r *request.Request) error {
	if r.Mail.Key == "" {
		return nil
	}
	key := r.Mail.Key
	m.deleted = append(m.deleted, key)
	return nil
}

// waiting is a request whose workflow waits for an operator's review.
func waiting() request.Request {
	return request.Request{
		ID:           reqID,
		Type:         request.Access,
		Status:       request.InProgress,
		Jurisdiction: "EU",
		Email:        "a@example.com",
		ReceivedAt:   received,
		UpdatedAt:    received,
		Review:       request.Review{TaskToken: token},
	}
}

// wantErr fails t unless err is an *apperr.Error of kind, naming field when
// field is not empty.
func wantErr(t *testing.T, err error, kind apperr.Kind, field string) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want %v", kind)
	}
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Kind != kind {
		t.Fatalf("err = %v, want kind %v", err, kind)
	}
	if field == "" {
		return
	}
	for _, f := range ae.Fields {
		if f.Field == field {
			return
		}
	}
	t.Fatalf("err fields = %+v, want one for %q", ae.Fields, field)
}

// wantUnchanged fails t unless the stored request is still before and no
// event was recorded.
func wantUnchanged(t *testing.T, s *fakeStore, before request.Request) {
	t.Helper()
	got, ok := s.stored(before.ID)
	if !ok {
		t.Fatalf("request %s is gone", before.ID)
	}
	before.Version = 1
	if !reflect.DeepEqual(got, before) {
		t.Errorf("stored request changed:\n got %+v\nwant %+v", got, before)
	}
	if evs := s.eventsOf(before.ID); len(evs) != 0 {
		t.Errorf("events = %+v, want none", evs)
	}
}

func TestApprove(t *testing.T) {
	for _, status := range []request.Status{request.InProgress, request.Verified, request.Failed} {
		t.Run(string(status), func(t *testing.T) {
			e := newEnv()
			r := waiting()
			r.Status = status
			e.store.put(r)

			if err := e.op.Approve(context.Background(), reqID, who, nil); err != nil {
				t.Fatalf("Approve: %v", err)
			}
			if want := []string{token}; !reflect.DeepEqual(e.workflow.resumes, want) {
				t.Errorf("resumes = %q, want %q", e.workflow.resumes, want)
			}
			if len(e.workflow.fails) != 0 {
				t.Errorf("fails = %+v, want none", e.workflow.fails)
			}
			got, _ := e.store.stored(reqID)
			if got.Review.TaskToken != "" {
				t.Errorf("ReviewTaskToken = %q, want it cleared", got.Review.TaskToken)
			}
			if got.Status != status {
				t.Errorf("Status = %s, want %s (the workflow moves it)", got.Status, status)
			}
			if !got.UpdatedAt.Equal(now) {
				t.Errorf("UpdatedAt = %v, want %v", got.UpdatedAt, now)
			}
			if got.Version != 2 {
				t.Errorf("Version = %d, want 2", got.Version)
			}
			want := []request.Event{{At: now, Actor: "operator:alice", Action: "approved", From: status, To: status}}
			if evs := e.store.eventsOf(reqID); !reflect.DeepEqual(evs, want) {
				t.Errorf("events = %+v, want %+v", evs, want)
			}
		})
	}
}

// TestApproveCorrections: a confirmed correction letter whose new values
// were not read waits for an operator to give them; they are checked as a
// subject's are, stored before the workflow goes on (its next step writes
// them), and a plain approval is refused, as it would correct nothing.
func TestApproveCorrections(t *testing.T) {
	ctx := context.Background()
	e := newEnv()
	e.op.Correctable = []string{"name", "postal_code"}
	r := waiting()
	r.Type, r.Mail.Key = request.Correct, "inbound/abc"
	e.store.put(r)

	wantErr(t, e.op.Approve(ctx, reqID, who, nil), apperr.Invalid, "correct")
	wantErr(t, e.op.ApproveCorrections(ctx, reqID, who, request.Corrections{"email": "x@example.com"}), apperr.Invalid, "corrections.email")
	wantErr(t, e.op.ApproveCorrections(ctx, reqID, who, request.Corrections{"name": "  "}), apperr.Invalid, "corrections.name")
	wantUnchanged(t, e.store, r)

	if err := e.op.ApproveCorrections(ctx, reqID, who, request.Corrections{"postal_code": " 10115 "}); err != nil {
		t.Fatal(err)
	}
	got, _ := e.store.stored(reqID)
	if !reflect.DeepEqual(got.Correction.Values, request.Corrections{"postal_code": "10115"}) || got.Review.TaskToken != "" || len(e.workflow.resumes) != 1 {
		t.Fatalf("corrections of %v, token %q, resumes %v", got.Correction.Values.Fields(), got.Review.TaskToken, e.workflow.resumes)
	}
	var actions []string
	for _, ev := range e.store.eventsOf(reqID) {
		actions = append(actions, ev.Action+" "+ev.Note)
	}
	if want := []string{"corrections_given fields=postal_code", "approved "}; !reflect.DeepEqual(actions, want) {
		t.Fatalf("events %q, want %q", actions, want)
	}

	other := waiting()
	other.ID = "dsr-20250301-0000000000000001"
	e.store.put(other)
	wantErr(t, e.op.ApproveCorrections(ctx, other.ID, who, request.Corrections{"name": "Jane Roe"}), apperr.Conflict, "")
}

// TestApproveAppeal: granting an appeal takes the reasons the subject is
// sent, stored before the workflow goes on; an approval of anything else
// takes none, so no operator believes reasons were sent that were not.
func TestApproveAppeal(t *testing.T) {
	ctx := context.Background()
	appeal := waiting()
	appeal.Type, appeal.Appeal.Of = request.Appeal, "dsr-20250201-0123456789abcdef"
	tests := []struct {
		name    string
		r       request.Request
		reasons []string
		kind    apperr.Kind // 0: granted
	}{
		{"an appeal with reasons", appeal, []string{"  Identity confirmed by phone.  ", " "}, 0},
		{"an appeal without reasons", appeal, []string{" "}, apperr.Invalid},
		{"a delete with reasons", waiting(), []string{"Looks fine."}, apperr.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv()
			e.store.put(tt.r)
			err := e.op.Approve(ctx, reqID, who, tt.reasons)
			if tt.kind != 0 {
				wantErr(t, err, tt.kind, "reason")
				wantUnchanged(t, e.store, tt.r)
				if len(e.workflow.resumes) != 0 {
					t.Fatalf("resumed %q", e.workflow.resumes)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := e.store.stored(reqID)
			if !reflect.DeepEqual(got.Appeal.GrantReasons, []string{"Identity confirmed by phone."}) || len(e.workflow.resumes) != 1 {
				t.Fatalf("reasons %q, resumes %q", got.Appeal.GrantReasons, e.workflow.resumes)
			}
			evs := e.store.eventsOf(reqID)
			if len(evs) != 2 || evs[0].Action != "appeal_grant_decided" || evs[1].Action != "approved" {
				t.Fatalf("events %+v: the reasons must be stored before the workflow goes on", evs)
			}
		})
	}
}

func TestApproveRefused(t *testing.T) {
	noToken := waiting()
	noToken.Review.TaskToken = ""
	inStatus := func(s request.Status) *request.Request {
		r := waiting()
		r.Status = s
		return &r
	}
	tests := []struct {
		name  string
		req   *request.Request // stored before, if any
		id    string
		kind  apperr.Kind
		field string
	}{
		{"no review pending", &noToken, reqID, apperr.Conflict, ""},
		{"completed", inStatus(request.Completed), reqID, apperr.Conflict, ""},
		{"denied", inStatus(request.Denied), reqID, apperr.Conflict, ""},
		{"expired", inStatus(request.Expired), reqID, apperr.Conflict, ""},
		{"cancelled", inStatus(request.Cancelled), reqID, apperr.Conflict, ""},
		{"empty id", inStatus(request.InProgress), "", apperr.Invalid, "id"},
		{"malformed id", inStatus(request.InProgress), "dsr-1", apperr.Invalid, "id"},
		{"upper-case id", inStatus(request.InProgress), "DSR-20250301-0123456789ABCDEF", apperr.Invalid, "id"},
		{"unknown id", inStatus(request.InProgress), unknownID, apperr.NotFound, ""},
		{"empty store", nil, reqID, apperr.NotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv()
			if tt.req != nil {
				e.store.put(*tt.req)
			}
			err := e.op.Approve(context.Background(), tt.id, who, nil)
			wantErr(t, err, tt.kind, tt.field)
			if len(e.workflow.resumes) != 0 || len(e.workflow.fails) != 0 {
				t.Errorf("workflow called: resumes %q, fails %+v", e.workflow.resumes, e.workflow.fails)
			}
			if tt.req != nil {
				wantUnchanged(t, e.store, *tt.req)
			}
		})
	}
}

func TestApproveErrors(t *testing.T) {
	saveErr := apperr.E(apperr.Conflict, "The request was changed by someone else; try again.")
	resumeErr := apperr.E(apperr.Unavailable, "The workflow service is unavailable.")
	tests := []struct {
		name        string
		saveErr     error
		resumeErr   error
		want        error
		wantResumes []string
	}{
		{"save keeps failing after the resume: error returned", saveErr, nil, saveErr, []string{token}},
		{"resume fails: error returned, the request still waits", nil, resumeErr, resumeErr, []string{token}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv()
			e.store.put(waiting())
			e.store.SaveErr, e.workflow.resumeErr = tt.saveErr, tt.resumeErr
			err := e.op.Approve(context.Background(), reqID, who, nil)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !reflect.DeepEqual(e.workflow.resumes, tt.wantResumes) {
				t.Errorf("resumes = %q, want %q", e.workflow.resumes, tt.wantResumes)
			}
			if tt.resumeErr != nil {
				wantUnchanged(t, e.store, waiting())
			}
		})
	}
}

func TestDeny(t *testing.T) {
	tests := []struct {
		name    string
		reasons []string
		want    []string
	}{
		{"one reason", []string{"Manifestly unfounded."}, []string{"Manifestly unfounded."}},
		{
			"trimmed, blanks dropped",
			[]string{"  Manifestly unfounded.\n", "", " \t ", "\tExcessive: repeated request. "},
			[]string{"Manifestly unfounded.", "Excessive: repeated request."},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv()
			e.store.put(waiting())

			if err := e.op.Deny(context.Background(), reqID, who, tt.reasons); err != nil {
				t.Fatalf("Deny: %v", err)
			}
			if want := []failCall{{token, "RequestDenied"}}; !reflect.DeepEqual(e.workflow.fails, want) {
				t.Errorf("fails = %+v, want %+v", e.workflow.fails, want)
			}
			if len(e.workflow.resumes) != 0 {
				t.Errorf("resumes = %q, want none", e.workflow.resumes)
			}
			got, _ := e.store.stored(reqID)
			if !reflect.DeepEqual(got.Denial.Reasons, tt.want) {
				t.Errorf("DenialReasons = %q, want %q", got.Denial.Reasons, tt.want)
			}
			if got.Status != request.InProgress {
				t.Errorf("Status = %s, want %s (the workflow closes it)", got.Status, request.InProgress)
			}
			if !got.UpdatedAt.Equal(now) || got.Version != 2 {
				t.Errorf("UpdatedAt, Version = %v, %d; want %v, 2", got.UpdatedAt, got.Version, now)
			}
			want := []request.Event{{At: now, Actor: "operator:alice", Action: "denial_decided", From: request.InProgress, To: request.InProgress}}
			if evs := e.store.eventsOf(reqID); !reflect.DeepEqual(evs, want) {
				t.Errorf("events = %+v, want %+v", evs, want)
			}
		})
	}
}

func TestDenyRefused(t *testing.T) {
	noToken := waiting()
	noToken.Review.TaskToken = ""
	inStatus := func(s request.Status) *request.Request {
		r := waiting()
		r.Status = s
		return &r
	}
	reasons := []string{"Manifestly unfounded."}
	tests := []struct {
		name    string
		req     *request.Request // stored before, if any
		id      string
		reasons []string
		kind    apperr.Kind
		field   string
	}{
		{"nil reasons", inStatus(request.InProgress), reqID, nil, apperr.Invalid, "reason"},
		{"no reasons", inStatus(request.InProgress), reqID, []string{}, apperr.Invalid, "reason"},
		{"blank reasons", inStatus(request.InProgress), reqID, []string{"", "  ", "\t\n"}, apperr.Invalid, "reason"},
		{"no review pending", &noToken, reqID, reasons, apperr.Conflict, ""},
		{"completed", inStatus(request.Completed), reqID, reasons, apperr.Conflict, ""},
		{"denied", inStatus(request.Denied), reqID, reasons, apperr.Conflict, ""},
		{"expired", inStatus(request.Expired), reqID, reasons, apperr.Conflict, ""},
		{"cancelled", inStatus(request.Cancelled), reqID, reasons, apperr.Conflict, ""},
		{"malformed id", inStatus(request.InProgress), "dsr-20250301-0123", reasons, apperr.Invalid, "id"},
		{"unknown id", inStatus(request.InProgress), unknownID, reasons, apperr.NotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv()
			if tt.req != nil {
				e.store.put(*tt.req)
			}
			err := e.op.Deny(context.Background(), tt.id, who, tt.reasons)
			wantErr(t, err, tt.kind, tt.field)
			if len(e.workflow.resumes) != 0 || len(e.workflow.fails) != 0 {
				t.Errorf("workflow called: resumes %q, fails %+v", e.workflow.resumes, e.workflow.fails)
			}
			if tt.req != nil {
				wantUnchanged(t, e.store, *tt.req)
			}
		})
	}
}

func TestDenyErrors(t *testing.T) {
	saveErr := apperr.E(apperr.Conflict, "The request was changed by someone else; try again.")
	failErr := apperr.E(apperr.Unavailable, "The workflow service is unavailable.")
	tests := []struct {
		name      string
		saveErr   error
		failErr   error
		want      error
		wantFails []failCall
	}{
		{"save fails: workflow not failed", saveErr, nil, saveErr, nil},
		{"fail fails: error returned", nil, failErr, failErr, []failCall{{token, workflow.RequestDenied}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv()
			e.store.put(waiting())
			e.store.SaveErr, e.workflow.failErr = tt.saveErr, tt.failErr
			err := e.op.Deny(context.Background(), reqID, who, []string{"Manifestly unfounded."})
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !reflect.DeepEqual(e.workflow.fails, tt.wantFails) {
				t.Errorf("fails = %+v, want %+v", e.workflow.fails, tt.wantFails)
			}
		})
	}
}

func TestExtend(t *testing.T) {
	extErr := apperr.E(apperr.Conflict, "The request was already extended; the law allows one extension.")
	tests := []struct {
		name    string
		reasons []string
		extErr  error
		want    []string
	}{
		{"reasons passed", []string{"Complex request."}, nil, []string{"Complex request."}},
		{"reasons cleaned", []string{" Complex request. ", "", "\t", "Many sources.\n"}, nil, []string{"Complex request.", "Many sources."}},
		{"blank reasons left to the extender", []string{" ", ""}, nil, nil},
		{"extender error returned", []string{"Complex request."}, extErr, []string{"Complex request."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv()
			r := waiting()
			r.Review.TaskToken = ""
			e.store.put(r)
			e.extender.err = tt.extErr

			err := e.op.Extend(context.Background(), reqID, who, tt.reasons)
			if !errors.Is(err, tt.extErr) {
				t.Fatalf("err = %v, want %v", err, tt.extErr)
			}
			if len(e.extender.calls) != 1 {
				t.Fatalf("extender calls = %d, want 1", len(e.extender.calls))
			}
			c := e.extender.calls[0]
			stored, _ := e.store.stored(reqID)
			if !reflect.DeepEqual(c.Req, stored) {
				t.Errorf("extender got request %+v, want the stored %+v", c.Req, stored)
			}
			if !reflect.DeepEqual(c.Reasons, tt.want) {
				t.Errorf("extender got reasons %q, want %q", c.Reasons, tt.want)
			}
			if c.By != "operator:alice" {
				t.Errorf("extender got by %q, want %q", c.By, "operator:alice")
			}
			if len(e.workflow.resumes) != 0 || len(e.workflow.fails) != 0 {
				t.Errorf("workflow called: resumes %q, fails %+v", e.workflow.resumes, e.workflow.fails)
			}
		})
	}
}

func TestExtendRefused(t *testing.T) {
	tests := []struct {
		name  string
		id    string
		kind  apperr.Kind
		field string
	}{
		{"empty id", "", apperr.Invalid, "id"},
		{"malformed id", "dsr-2025-03-01-0123456789abcdef", apperr.Invalid, "id"},
		{"id with excluded letters", "dsr-20250301-0123456789abcdei", apperr.Invalid, "id"},
		{"unknown id", unknownID, apperr.NotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv()
			e.store.put(waiting())
			err := e.op.Extend(context.Background(), tt.id, who, []string{"Complex request."})
			wantErr(t, err, tt.kind, tt.field)
			if len(e.extender.calls) != 0 {
				t.Errorf("extender called: %+v", e.extender.calls)
			}
			wantUnchanged(t, e.store, waiting())
		})
	}
}

func TestVerify(t *testing.T) {
	pending := func() request.Request {
		r := waiting()
		r.Status, r.Verification.TaskToken, r.Review.TaskToken, r.Verification.TokenHash = request.PendingVerification, "verify-task-token", "", "hash"
		r.Verification.CodeHash = "code-hash"
		return r
	}
	t.Run("resumes the verification step and records how", func(t *testing.T) {
		e := newEnv()
		e.store.put(pending())
		if err := e.op.Verify(context.Background(), reqID, who, " signed letter "); err != nil {
			t.Fatal(err)
		}
		got, _ := e.store.stored(reqID)
		if got.Status != request.Verified || got.Verification.TokenHash != "" || got.Verification.CodeHash != "" {
			t.Fatalf("status %s, link hash %q, code hash %q", got.Status, got.Verification.TokenHash, got.Verification.CodeHash)
		}
		if len(e.workflow.resumes) != 1 || e.workflow.resumes[0] != "verify-task-token" {
			t.Fatalf("resumes %v", e.workflow.resumes)
		}
		if evs := e.store.eventsOf(reqID); len(evs) != 1 || evs[0].Actor != "operator:alice" || evs[0].Note != "method=signed letter" {
			t.Fatalf("events %+v", evs)
		}
	})
	t.Run("a request locked by wrong attempts", func(t *testing.T) {
		e := newEnv()
		locked := pending()
		locked.Verification.TokenHash, locked.Verification.CodeHash = "", ""
		locked.Verification.Failures, locked.Verification.Locked = request.MaxVerifyFailures, true
		e.store.put(locked)
		if err := e.op.Verify(context.Background(), reqID, who, "photo ID checked by video call"); err != nil {
			t.Fatal(err)
		}
		got, _ := e.store.stored(reqID)
		if got.Status != request.Verified || got.Verification.Locked || len(e.workflow.resumes) != 1 {
			t.Fatalf("status %s, locked %v, resumes %v", got.Status, got.Verification.Locked, e.workflow.resumes)
		}
	})
	t.Run("refused", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			r    request.Request
			how  string
			kind apperr.Kind
		}{
			{"no method", pending(), " ", apperr.Invalid},
			{"not pending", waiting(), "call", apperr.Conflict},
		} {
			e := newEnv()
			e.store.put(tt.r)
			if err := e.op.Verify(context.Background(), reqID, who, tt.how); apperr.KindOf(err) != tt.kind {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if len(e.workflow.resumes) != 0 {
				t.Fatalf("%s: resumed", tt.name)
			}
		}
	})
}

func TestCancel(t *testing.T) {
	e := newEnv()
	e.store.put(waiting())
	if err := e.op.Cancel(context.Background(), reqID, who); err != nil {
		t.Fatal(err)
	}
	got, _ := e.store.stored(reqID)
	if got.Status != request.Cancelled || got.CompletedAt != now {
		t.Fatalf("after cancel %+v", got)
	}
	// The review the workflow waits in ends with the error it catches into
	// its Succeed state; nothing is stopped (ABORTED would raise an alarm).
	if want := []failCall{{token, workflow.RequestCancelledError}}; !reflect.DeepEqual(e.workflow.fails, want) || len(e.watch.stops) != 1 || e.watch.stops[0] != reqID {
		t.Fatalf("fails %+v, watch ends %v", e.workflow.fails, e.watch.stops)
	}
	if len(e.mail.sent) != 1 || e.mail.sent[0].To != "a@example.com" || !strings.Contains(e.mail.sent[0].Text, "cancelled") {
		t.Fatalf("mail %+v", e.mail.sent)
	}
	if err := e.op.Cancel(context.Background(), reqID, who); apperr.KindOf(err) != apperr.Conflict {
		t.Fatalf("second cancel: %v", err)
	}
}

// TestCancelFinishesAfterAFailure: a cancel whose mail failed is saved as
// cancelled, and running it again finishes what it left (once).
func TestCancelFinishesAfterAFailure(t *testing.T) {
	e := newEnv()
	e.store.put(waiting())
	e.mail.fail = true
	if err := e.op.Cancel(context.Background(), reqID, who); err == nil {
		t.Fatal("a failed mail is no error")
	}
	if got, _ := e.store.stored(reqID); got.Status != request.Cancelled {
		t.Fatalf("status %s", got.Status)
	}
	e.mail.fail = false
	if err := e.op.Cancel(context.Background(), reqID, who); err != nil {
		t.Fatalf("second cancel: %v", err)
	}
	if len(e.mail.sent) != 1 || len(e.watch.stops) != 2 {
		t.Fatalf("mail %d, watch stops %d", len(e.mail.sent), len(e.watch.stops))
	}
	if err := e.op.Cancel(context.Background(), reqID, who); apperr.KindOf(err) != apperr.Conflict {
		t.Fatalf("third cancel: %v", err)
	}
}

// TestCancelDeletesTheMail: a cancelled request that came by email no
// longer keeps the mail; one that came from the form has none to delete.
func TestCancelDeletesTheMail(t *testing.T) {
	for _, key := range []string{"inbound/6n4thuhcbhpfiuf25gshf70rss364fuejrvmqko1", ""} {
		e := newEnv()
		r := waiting()
		r.Mail.Key = key
		e.store.put(r)
		if err := e.op.Cancel(context.Background(), reqID, who); err != nil {
			t.Fatal(err)
		}
		if want := []string{key}; (key == "" && len(e.rawMail.deleted) != 0) || (key != "" && !slices.Equal(e.rawMail.deleted, want)) {
			t.Fatalf("mail key %q: deleted %v", key, e.rawMail.deleted)
		}
	}
}

// TestCancelForgetsThePermission: a cancelled request is closed, so its
// agent's signed permission is forgotten, once the cancellation is saved.
func TestCancelForgetsThePermission(t *testing.T) {
	e := newEnv()
	r := waiting()
	r.Agent.Email, r.Agent.PermissionKey, r.Agent.PermissionType = "agent@example.net", "agents/"+reqID+"/permission", "application/pdf"
	e.store.put(r)
	if err := e.op.Cancel(context.Background(), reqID, who); err != nil {
		t.Fatal(err)
	}
	if want := []string{reqID + " cancelled"}; !slices.Equal(e.forgot.forgot, want) {
		t.Fatalf("forgot %v, want %v", e.forgot.forgot, want)
	}
}

func TestRedrive(t *testing.T) {
	failed := func() request.Request {
		r := waiting()
		r.Status, r.Review.TaskToken, r.NeedsOperator = request.Failed, "", true
		return r
	}
	tests := []struct {
		name     string
		r        request.Request
		failedAt string
		resume   string
		kind     apperr.Kind
	}{
		{"failed packaging resumes there", failed(), "Build the access package", "Build the access package", 0},
		{"failed in a source resumes at the identities", failed(), "Collect the subject's records from one source", "Find the subject's identities in every source", 0},
		{"failed before verification cannot resume", failed(), "Wait for the subject to confirm their email", "", apperr.Conflict},
		{"not failed", waiting(), "Build the access package", "", apperr.Conflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv()
			e.store.put(tt.r)
			e.workflow.failedAt = tt.failedAt
			resume, err := e.op.Redrive(context.Background(), reqID, who)
			if tt.kind != 0 {
				if apperr.KindOf(err) != tt.kind {
					t.Fatalf("error %v", err)
				}
				if len(e.workflow.started) != 0 {
					t.Fatal("started an execution")
				}
				return
			}
			if err != nil || resume != tt.resume {
				t.Fatalf("resume %q, %v", resume, err)
			}
			got, _ := e.store.stored(reqID)
			if got.Status != request.InProgress || got.NeedsOperator || got.Redrives != 1 || got.Execution() != reqID+"-r1" {
				t.Fatalf("after redrive %+v", got)
			}
			if len(e.workflow.started) != 1 || e.workflow.started[0][0] != reqID+"-r1" || !strings.Contains(e.workflow.started[0][1], `"resume_from":"`+tt.resume+`"`) {
				t.Fatalf("started %v", e.workflow.started)
			}
			if e.workflow.inspected[0] != reqID {
				t.Fatalf("inspected %v", e.workflow.inspected)
			}
		})
	}
}

// TestAnswerTheExtensionQuestion: a deadline watch asking whether to extend
// is resumed by the operator's answer, an extension or keep-date; the
// question's token is forgotten, and keep-date is recorded.
func TestAnswerTheExtensionQuestion(t *testing.T) {
	ctx := context.Background()
	asked := func() request.Request {
		r := waiting()
		r.Review.TaskToken, r.Extension.TaskToken = "", "ask-token"
		return r
	}
	t.Run("extend", func(t *testing.T) {
		e := newEnv()
		e.store.put(asked())
		if err := e.op.Extend(ctx, reqID, who, []string{"A supplier holds part of your data."}); err != nil {
			t.Fatal(err)
		}
		if got, _ := e.store.stored(reqID); got.Extension.TaskToken != "" || !slices.Equal(e.workflow.resumes, []string{"ask-token"}) {
			t.Fatalf("token %q, resumes %v", got.Extension.TaskToken, e.workflow.resumes)
		}
	})
	t.Run("keep the date", func(t *testing.T) {
		e := newEnv()
		e.store.put(asked())
		if err := e.op.KeepDate(ctx, reqID, who); err != nil {
			t.Fatal(err)
		}
		got, _ := e.store.stored(reqID)
		if got.Extension.Decision != request.ExtensionKept || got.Extension.TaskToken != "" || !slices.Equal(e.workflow.resumes, []string{"ask-token"}) {
			t.Fatalf("stored %+v, resumes %v", got, e.workflow.resumes)
		}
		var actions []string
		for _, ev := range e.store.eventsOf(reqID) {
			actions = append(actions, ev.Actor+" "+ev.Action)
		}
		if !slices.Equal(actions, []string{"operator:alice extension_declined", "operator:alice extension_decision_given"}) {
			t.Fatalf("events %v", actions)
		}
	})
	t.Run("keep the date when nobody asked yet", func(t *testing.T) {
		e := newEnv()
		r := asked()
		r.Extension.TaskToken = ""
		e.store.put(r)
		if err := e.op.KeepDate(ctx, reqID, who); err != nil {
			t.Fatal(err)
		}
		if got, _ := e.store.stored(reqID); got.Extension.Decision != request.ExtensionKept || len(e.workflow.resumes) != 0 {
			t.Fatalf("stored %+v, resumes %v", got, e.workflow.resumes)
		}
	})
	t.Run("a resume that failed is done again", func(t *testing.T) {
		e := newEnv()
		e.store.put(asked())
		e.workflow.resumeErr = apperr.E(apperr.Unavailable, "Step Functions is unavailable.")
		if err := e.op.KeepDate(ctx, reqID, who); apperr.KindOf(err) != apperr.Unavailable {
			t.Fatalf("err %v", err)
		}
		e.workflow.resumeErr = nil
		if err := e.op.KeepDate(ctx, reqID, who); err != nil {
			t.Fatal(err)
		}
		if got, _ := e.store.stored(reqID); got.Extension.TaskToken != "" || len(e.workflow.resumes) != 2 {
			t.Fatalf("token %q, resumes %v", got.Extension.TaskToken, e.workflow.resumes)
		}
	})
	t.Run("refused", func(t *testing.T) {
		for _, edit := range []func(*request.Request){
			func(r *request.Request) { r.Status = request.Completed },
			func(r *request.Request) { r.Extended = true },
		} {
			e := newEnv()
			r := asked()
			edit(&r)
			e.store.put(r)
			wantErr(t, e.op.KeepDate(ctx, reqID, who), apperr.Conflict, "")
		}
	})
}

// TestDenyWith: a refusal may name the provision it rests on, or, instead
// of reasons, the controller the subject should ask; what cannot be sent
// as a notice is refused before the workflow is touched.
func TestDenyWith(t *testing.T) {
	long := strings.Repeat("x", 201)
	tests := []struct {
		name  string
		d     Denial
		field string // "": accepted
		check func(t *testing.T, r request.Request)
	}{
		{"with a provision", Denial{Reasons: []string{"Exempt."}, Provision: " section 39 "}, "", func(t *testing.T, r request.Request) {
			if r.Denial.Provision != "section 39" || r.Denial.OtherController != "" {
				t.Errorf("provision %q, controller %q", r.Denial.Provision, r.Denial.OtherController)
			}
		}},
		{"not the controller", Denial{Controller: "Loja Exemplo Ltda.", ControllerContact: "privacidade@loja.example"}, "", func(t *testing.T, r request.Request) {
			if r.Denial.OtherController != "Loja Exemplo Ltda." || r.Denial.OtherControllerContact != "privacidade@loja.example" || len(r.Denial.Reasons) != 0 {
				t.Errorf("controller %q %q, reasons %q", r.Denial.OtherController, r.Denial.OtherControllerContact, r.Denial.Reasons)
			}
		}},
		{"a controller without a contact", Denial{Controller: "Loja Exemplo Ltda."}, "controller_contact", nil},
		{"a contact without a controller", Denial{Reasons: []string{"x"}, ControllerContact: "a@b.example"}, "controller", nil},
		{"a controller and a provision", Denial{Controller: "Loja", ControllerContact: "a@b.example", Provision: "s. 1"}, "provision", nil},
		{"no reasons", Denial{Provision: "section 39"}, "reason", nil},
		{"a provision too long", Denial{Reasons: []string{"x"}, Provision: long}, "provision", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv()
			e.store.put(waiting())
			err := e.op.DenyWith(context.Background(), reqID, who, tt.d)
			if tt.field != "" {
				wantErr(t, err, apperr.Invalid, tt.field)
				wantUnchanged(t, e.store, waiting())
				if len(e.workflow.fails) != 0 {
					t.Errorf("workflow failed %+v", e.workflow.fails)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := e.store.stored(reqID)
			tt.check(t, got)
			if want := []failCall{{token, "RequestDenied"}}; !reflect.DeepEqual(e.workflow.fails, want) {
				t.Errorf("fails = %+v", e.workflow.fails)
			}
		})
	}
}

type manualWaits map[string]string

func (m manualWaits) Wait(_ context.Context, id string) (string, error) { return m[id], nil }

// TestCancelEndsTheManualWait: a request waiting on the owners of manual
// sources ends there too.
func TestCancelEndsTheManualWait(t *testing.T) {
	e := newEnv()
	r := waiting()
	r.Review.TaskToken = ""
	e.store.put(r)
	e.op.ManualWaits = manualWaits{reqID: "manual-token"}
	if err := e.op.Cancel(context.Background(), reqID, who); err != nil {
		t.Fatal(err)
	}
	if want := []failCall{{"manual-token", workflow.RequestCancelledError}}; !reflect.DeepEqual(e.workflow.fails, want) {
		t.Fatalf("fails %+v", e.workflow.fails)
	}
}
