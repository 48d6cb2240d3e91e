package workflow

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/request"
)

// TestAcknowledgeJoinsAnOpenRequest: a second request of the same subject
// and type joins the first while that one is being carried out, when doing
// it would come to the same: it closes, the subject is told which request it
// joined, and the first request's audit log notes it. Anything else goes on
// by itself and holds its own slot.
func TestAcknowledgeJoinsAnOpenRequest(t *testing.T) {
	gpc := func(r *request.Request) { r.Via = request.ViaGPC } // no confirmation asked
	dryRun := func(r *request.Request) { r.DryRun = true }
	corrections := func(c request.Corrections) func(*request.Request) {
		return func(r *request.Request) { r.Correction.Values = c }
	}
	tests := []struct {
		name       string
		typ        request.Type
		firstState request.Status
		first      func(*request.Request) // besides type and deadlines
		second     func(*request.Request)
		joins      bool
	}{
		{"first in progress", request.Access, request.InProgress, nil, nil, true},
		{"first verified", request.Access, request.Verified, nil, nil, true},
		{"first just received, no confirmation asked", request.Access, request.Received, gpc, nil, true},
		{"first just received, to be confirmed", request.Access, request.Received, nil, nil, false},
		{"first waits for its confirmation", request.Access, request.PendingVerification, nil, nil, false},
		{"first completed", request.Access, request.Completed, nil, nil, false},
		{"first failed", request.Access, request.Failed, nil, nil, false},
		{"another type", request.Access, request.InProgress, func(r *request.Request) {
			r.Type = request.Delete
			withDeadlines("EU", request.Delete)(r)
		}, nil, false},
		{"another subject", request.Access, request.InProgress, func(r *request.Request) { r.Email = "someone.else@example.com" }, nil, false},
		{"another law", request.Access, request.InProgress, nil, withDeadlines("UK", request.Access), false},
		{"a delete after a dry run", request.Delete, request.InProgress, dryRun, nil, false},
		{"a dry run after a delete", request.Delete, request.InProgress, nil, dryRun, false},
		{"two dry runs", request.Delete, request.InProgress, dryRun, dryRun, true},
		{"two deletes", request.Delete, request.Verified, nil, nil, true},
		{"the same corrections", request.Correct, request.Verified,
			corrections(request.Corrections{"name": "Jane Roe", "phone": "+44 20 7946 0000"}),
			corrections(request.Corrections{"phone": "+44 20 7946 0000", "name": "Jane Roe"}), true},
		{"a correction to another value", request.Correct, request.Verified,
			corrections(request.Corrections{"name": "Jane Roe"}), corrections(request.Corrections{"name": "Jane Poe"}), false},
		{"a correction of another field", request.Correct, request.Verified,
			corrections(request.Corrections{"name": "Jane Roe"}), corrections(request.Corrections{"postal_code": "Jane Roe"}), false},
		{"a correction of one more field", request.Correct, request.Verified,
			corrections(request.Corrections{"name": "Jane Roe"}), corrections(request.Corrections{"name": "Jane Roe", "phone": "1"}), false},
		{"a correction after the first's were written", request.Correct, request.InProgress,
			func(r *request.Request) { r.Correction.Values, r.Correction.Fields = nil, []string{"name"} },
			corrections(request.Corrections{"name": "Jane Roe"}), false},
		{"an agent's request", request.Access, request.InProgress, nil, func(r *request.Request) { r.Agent.Email = "agent@firm.example" }, false},
		{"an agent's first request", request.Access, request.InProgress, func(r *request.Request) { r.Agent.Email = "agent@firm.example" }, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t)
			first := e.seed(t, tt.typ, request.Received, func(r *request.Request) {
				withDeadlines("EU", tt.typ)(r)
				if tt.first != nil {
					tt.first(r)
				}
			})
			if res, err := e.steps.Acknowledge(ctx, RequestRef{RequestID: first.ID}); err != nil || res.Joined {
				t.Fatalf("first: %+v, %v", res, err)
			}
			r := e.store.stored(first.ID)
			r.Status = tt.firstState
			e.store.put(r)
			e.mail.sent, e.watch.started = nil, nil

			second := e.seed(t, tt.typ, request.Received, func(r *request.Request) {
				withDeadlines("EU", tt.typ)(r)
				if tt.second != nil {
					tt.second(r)
				}
			})
			res, err := e.steps.Acknowledge(ctx, RequestRef{RequestID: second.ID})
			if err != nil {
				t.Fatal(err)
			}
			after := e.store.stored(second.ID)
			msg := onlyMessage(t, e)
			if !tt.joins {
				if res.Joined || after.JoinedTo != "" || after.Status != request.Received || len(e.watch.started) != 1 {
					t.Fatalf("joined %v to %q, status %s, watches %d", res.Joined, after.JoinedTo, after.Status, len(e.watch.started))
				}
				if !strings.Contains(msg.Subject, "We received") {
					t.Errorf("mail %q, want the acknowledgement", msg.Subject)
				}
				if holder, _ := e.store.SlotHolder(ctx, slotOf(&after)); holder != second.ID && after.Agent.Email == "" {
					t.Errorf("slot held by %q, want the new request", holder)
				}
				return
			}
			if !res.Joined || after.JoinedTo != first.ID || after.Status != request.Cancelled || len(e.watch.started) != 0 {
				t.Fatalf("joined %v to %q, status %s, watches %d", res.Joined, after.JoinedTo, after.Status, len(e.watch.started))
			}
			if !strings.Contains(msg.Subject, second.ID) || !strings.Contains(msg.Text, first.ID) {
				t.Errorf("mail %q:\n%s", msg.Subject, msg.Text)
			}
			if ev := lastEvent(t, e.store, second.ID); ev.Action != "joined" || ev.Note != "joined="+first.ID {
				t.Errorf("event of the new request %+v", ev)
			}
			if ev := lastEvent(t, e.store, first.ID); ev.Action != "duplicate_joined" || ev.Note != "request="+second.ID {
				t.Errorf("event of the first request %+v", ev)
			}
		})
	}
}

// TestSlotHidesWhatItHolds: the slot's key is stored in clear, so it holds
// neither the address nor a corrected value, only a hash of them.
func TestSlotHidesWhatItHolds(t *testing.T) {
	r := &request.Request{Type: request.Correct, Email: subject, Jurisdiction: "EU", Correction: request.Correction{Values: request.Corrections{"name": "Jane Roe"}}}
	slot := slotOf(r)
	for _, clear := range []string{subject, "a@", "Jane", "Roe", "name", "EU"} {
		if strings.Contains(slot, clear) {
			t.Errorf("slot %q holds %q", slot, clear)
		}
	}
	// Values cannot run into names: {"ab": "c"} is not {"a": "bc"}.
	a := &request.Request{Type: request.Correct, Email: subject, Jurisdiction: "EU", Correction: request.Correction{Values: request.Corrections{"ab": "c"}}}
	b := &request.Request{Type: request.Correct, Email: subject, Jurisdiction: "EU", Correction: request.Correction{Values: request.Corrections{"a": "bc"}}}
	if slotOf(a) == slotOf(b) {
		t.Error("two corrections share a slot")
	}
}

// TestJoinRetriesMail: a join whose mail failed mails again when the step is
// run again, and stays joined to the same request.
func TestJoinRetriesMail(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	first := e.seed(t, request.Access, request.Received, withDeadlines("EU", request.Access))
	if _, err := e.steps.Acknowledge(ctx, RequestRef{RequestID: first.ID}); err != nil {
		t.Fatal(err)
	}
	e.mail.sent = nil
	r := e.store.stored(first.ID)
	r.Status = request.InProgress
	e.store.put(r)
	second := e.seed(t, request.Access, request.Received, withDeadlines("EU", request.Access))
	e.mail.failNext = 1
	if _, err := e.steps.Acknowledge(ctx, RequestRef{RequestID: second.ID}); err == nil {
		t.Fatal("the mail failure was not reported")
	}
	// Meanwhile the first request closed: the second is joined already.
	r = e.store.stored(first.ID)
	r.Status = request.Completed
	e.store.put(r)
	res, err := e.steps.Acknowledge(ctx, RequestRef{RequestID: second.ID})
	if err != nil || !res.Joined {
		t.Fatalf("retry: %+v, %v", res, err)
	}
	if msg := onlyMessage(t, e); !strings.Contains(msg.Text, first.ID) {
		t.Fatalf("mail:\n%s", msg.Text)
	}
}

// TestJoinForgetsTheMail: a mailed request that joins another is closed, so
// its raw message is deleted, as at any close; the first keeps its own.
func TestJoinForgetsTheMail(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	mailed := func(r *request.Request) {
		withDeadlines("EU", request.Access)(r)
		r.Mail.Key = "inbound/" + r.ID
	}
	first := e.seed(t, request.Access, request.Received, mailed)
	if _, err := e.steps.Acknowledge(ctx, RequestRef{RequestID: first.ID}); err != nil {
		t.Fatal(err)
	}
	r := e.store.stored(first.ID)
	r.Status = request.InProgress
	e.store.put(r)
	second := e.seed(t, request.Access, request.Received, mailed)
	if res, err := e.steps.Acknowledge(ctx, RequestRef{RequestID: second.ID}); err != nil || !res.Joined {
		t.Fatalf("second: %+v, %v", res, err)
	}
	if want := []string{second.Mail.Key}; !slices.Equal(e.rawMail.deleted, want) {
		t.Fatalf("deleted %v, want %v", e.rawMail.deleted, want)
	}
}

// racingSlots lets another request take the slot just before this one does.
type racingSlots struct {
	*fakeStore
	rival string
	raced bool
}

func (s *racingSlots) TakeSlot(ctx context.Context, slot, requestID, previous string, expires time.Time) error {
	if !s.raced {
		s.raced = true
		if err := s.fakeStore.TakeSlot(ctx, slot, s.rival, previous, expires); err != nil {
			return err
		}
	}
	return s.fakeStore.TakeSlot(ctx, slot, requestID, previous, expires)
}

// TestJoinRace: when another request takes the slot first, the step reads
// it again and joins that request.
func TestJoinRace(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	rival := e.seed(t, request.Access, request.InProgress, withDeadlines("EU", request.Access))
	r := e.seed(t, request.Access, request.Received, withDeadlines("EU", request.Access))
	e.steps.Slots = &racingSlots{fakeStore: e.store, rival: rival.ID}
	res, err := e.steps.Acknowledge(ctx, RequestRef{RequestID: r.ID})
	if err != nil || !res.Joined || e.store.stored(r.ID).JoinedTo != rival.ID {
		t.Fatalf("%+v, %v, joined to %q", res, err, e.store.stored(r.ID).JoinedTo)
	}
}
