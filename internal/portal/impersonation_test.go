package portal

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/secret"
	"github.com/privacy-pipeline/dsr/internal/sfnflow"
)

// The impersonation suite: someone who is not the subject tries to confirm,
// read or download a request. Every attempt is refused with the answer an
// unknown request gets, nothing is resumed or delivered, and afterwards the
// real subject still completes the confirmation.

// victim and other are two requests waiting for confirmation; the attacker
// holds everything of other's (its own request) and nothing of victim's.
type twoRequests struct {
	e             *env
	victim, other request.Request
}

const (
	otherToken = "other-verify-token"
	otherCode  = "ZXWT5432"
)

func newTwoRequests() *twoRequests {
	e := newEnv()
	victim := e.seed(request.PendingVerification, pending)
	other := e.seed(request.PendingVerification, func(r *request.Request) {
		pending(r)
		r.Email = "attacker@example.net"
		r.Verification.TokenHash = secret.Hash(otherToken)
		r.Verification.CodeHash = secret.CodeHash(r.ID, otherCode)
		r.StatusTokenHash = secret.Hash("other-status-token")
		r.Delivery.TokenHash = secret.Hash("other-download-token")
		r.Delivery.ExportKey = "packages/" + r.ID + ".zip"
		r.Delivery.ExpiresAt = r.ReceivedAt.Add(7 * day)
		r.Verification.TaskToken = "task-token-other"
	})
	return &twoRequests{e: e, victim: victim, other: other}
}

func TestImpersonationRefused(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// attack runs the attempts; each must return an error.
		attack func(p *Portal, victim, other request.Request) []error
		// failures is how many wrong attempts the victim's request counts.
		failures int
	}{
		{"guessed link tokens", func(p *Portal, v, _ request.Request) []error {
			return []error{p.ConfirmVerification(ctx, v.ID, secret.NewToken(), Details{}), p.ConfirmVerification(ctx, v.ID, secret.NewToken(), Details{})}
		}, 2},
		{"guessed codes", func(p *Portal, v, _ request.Request) []error {
			return []error{p.ConfirmCode(ctx, v.ID, secret.NewCode(), Details{}), p.ConfirmCode(ctx, v.ID, secret.NewCode(), Details{})}
		}, 2},
		{"another request's link token", func(p *Portal, v, _ request.Request) []error {
			return []error{p.ConfirmVerification(ctx, v.ID, otherToken, Details{})}
		}, 1},
		{"another request's code", func(p *Portal, v, _ request.Request) []error {
			return []error{p.ConfirmCode(ctx, v.ID, otherCode, Details{})}
		}, 1},
		{"the status token as a link token", func(p *Portal, v, _ request.Request) []error {
			return []error{p.ConfirmVerification(ctx, v.ID, "status-token", Details{})}
		}, 1},
		{"the stored hash as a link token", func(p *Portal, v, _ request.Request) []error {
			return []error{p.ConfirmVerification(ctx, v.ID, v.Verification.TokenHash, Details{})}
		}, 1},
		{"the stored hash as a code", func(p *Portal, v, _ request.Request) []error {
			return []error{p.ConfirmCode(ctx, v.ID, v.Verification.CodeHash, Details{})} // not a code: refused unread
		}, 0},
		{"the link token to read the status or download", func(p *Portal, v, _ request.Request) []error {
			_, e1 := p.Status(ctx, v.ID, verifyToken)
			_, e2 := p.DownloadURL(ctx, v.ID, verifyToken)
			return []error{e1, e2}
		}, 0},
		{"another request's status and download tokens", func(p *Portal, v, _ request.Request) []error {
			_, e1 := p.Status(ctx, v.ID, "other-status-token")
			_, e2 := p.DownloadURL(ctx, v.ID, "other-download-token")
			return []error{e1, e2}
		}, 0},
		{"an empty token and code", func(p *Portal, v, _ request.Request) []error {
			return []error{p.ConfirmVerification(ctx, v.ID, "", Details{}), p.ConfirmCode(ctx, v.ID, "", Details{})}
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTwoRequests()
			p := s.e.portal
			for i, err := range tt.attack(p, s.victim, s.other) {
				if err == nil {
					t.Fatalf("attempt %d was accepted", i+1)
				}
			}
			if len(s.e.workflow.resumes) != 0 || len(s.e.presigner.keys) != 0 {
				t.Fatalf("resumed %v, presigned %v", s.e.workflow.resumes, s.e.presigner.keys)
			}
			got, _ := s.e.store.stored(s.victim.ID)
			if got.Status != request.PendingVerification || got.Verification.Failures != tt.failures {
				t.Fatalf("victim's request: status %s, failures %d, want pending with %d", got.Status, got.Verification.Failures, tt.failures)
			}
			if o, _ := s.e.store.stored(s.other.ID); !reflect.DeepEqual(o, s.other) {
				t.Error("the attacker's own request changed")
			}
			// The real subject still confirms.
			if err := p.ConfirmVerification(ctx, s.victim.ID, verifyToken, Details{}); err != nil {
				t.Fatalf("the subject's own link after the attack: %v", err)
			}
			if !reflect.DeepEqual(s.e.workflow.resumes, []string{"task-token-1"}) {
				t.Fatalf("resumed %v", s.e.workflow.resumes)
			}
		})
	}
}

// TestPrefetchConfirmsNothing: a mail scanner that opens the link, however
// often, sees the page and changes nothing; the subject's button then works.
func TestPrefetchConfirmsNothing(t *testing.T) {
	ctx := context.Background()
	e := newEnv()
	r := e.seed(request.PendingVerification, pending)
	for range 5 {
		if err := checkErr(e.portal.CheckVerification(ctx, r.ID, verifyToken)); err != nil {
			t.Fatalf("the page refused the real link: %v", err)
		}
	}
	if got, _ := e.store.stored(r.ID); !reflect.DeepEqual(got, r) || len(e.workflow.resumes) != 0 || len(e.store.eventsOf(r.ID)) != 0 {
		t.Fatal("opening the link changed the request")
	}
	if err := e.portal.ConfirmVerification(ctx, r.ID, verifyToken, Details{}); err != nil {
		t.Fatal(err)
	}
}

// TestReplayRefused: a link or code that confirmed once is refused ever after,
// with the answer an unknown request gets, and resumes nothing more.
func TestReplayRefused(t *testing.T) {
	ctx := context.Background()
	for _, first := range []string{"link", "code"} {
		t.Run(first, func(t *testing.T) {
			e := newEnv()
			r := e.seed(request.PendingVerification, pending)
			var err error
			if first == "link" {
				err = e.portal.ConfirmVerification(ctx, r.ID, verifyToken, Details{})
			} else {
				err = e.portal.ConfirmCode(ctx, r.ID, verifyCode, Details{})
			}
			if err != nil {
				t.Fatal(err)
			}
			wantNoSuchLink(t, e.portal.ConfirmVerification(ctx, r.ID, verifyToken, Details{}))
			wantNoSuchLink(t, checkErr(e.portal.CheckVerification(ctx, r.ID, verifyToken)))
			wantWrongCode(t, e.portal.ConfirmCode(ctx, r.ID, verifyCode, Details{}))
			if len(e.workflow.resumes) != 1 {
				t.Fatalf("resumed %d times", len(e.workflow.resumes))
			}
			unknown := request.NewID(r.ReceivedAt)
			wantNoSuchLink(t, e.portal.ConfirmVerification(ctx, unknown, verifyToken, Details{}))
			wantWrongCode(t, e.portal.ConfirmCode(ctx, unknown, verifyCode, Details{}))
		})
	}
}

// opRecorder records the operations a submission makes on the store and
// the workflow, without their values.
type opRecorder struct {
	*fakeStore
	ops *[]string
}

func (s opRecorder) Get(ctx context.Context, id string) (*request.Request, error) {
	*s.ops = append(*s.ops, "store.Get")
	return s.fakeStore.Get(ctx, id)
}

func (s opRecorder) Save(ctx context.Context, r *request.Request, ev request.Event) error {
	*s.ops = append(*s.ops, "store.Save "+ev.Action)
	return s.fakeStore.Save(ctx, r, ev)
}

type workflowRecorder struct {
	*fakeWorkflow
	ops *[]string
}

func (w workflowRecorder) Start(ctx context.Context, in sfnflow.Input) error {
	*w.ops = append(*w.ops, fmt.Sprintf("workflow.Start verification=%v", in.VerificationTimeoutSeconds > 0))
	return w.fakeWorkflow.Start(ctx, in)
}

// TestSubmissionSameForKnownAndUnknownEmail: a request for an address the
// company knows and one for an address it has never seen get the same
// answer and cause the same operations, in the same order, so neither the
// wording nor the work (and so the time) tells them apart.
func TestSubmissionSameForKnownAndUnknownEmail(t *testing.T) {
	run := func(email string) ([]string, Receipt) {
		e := newEnv()
		var ops []string
		e.portal.Store = opRecorder{fakeStore: e.store, ops: &ops}
		e.portal.Workflow = workflowRecorder{fakeWorkflow: e.workflow, ops: &ops}
		// The known subject has a request already; the unknown has nothing.
		e.seed(request.Completed, func(r *request.Request) { r.Email = subject })
		rc, err := e.portal.Submit(context.Background(), request.Submission{Type: "access", Email: email, Jurisdiction: "EU"})
		if err != nil {
			t.Fatal(err)
		}
		return ops, rc
	}
	knownOps, known := run(subject)
	unknownOps, unknown := run("never.seen@example.org")
	if !reflect.DeepEqual(knownOps, unknownOps) || len(knownOps) == 0 {
		t.Fatalf("operations differ:\nknown   %v\nunknown %v", knownOps, unknownOps)
	}
	mask := func(rc Receipt) Receipt {
		return Receipt{ID: "ID", Status: rc.Status, StatusURL: strings.NewReplacer(rc.ID, "ID", statusToken(t, rc), "TOKEN").Replace(rc.StatusURL)}
	}
	if mask(known) != mask(unknown) {
		t.Fatalf("receipts differ: %+v / %+v", mask(known), mask(unknown))
	}
}
