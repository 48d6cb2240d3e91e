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
// and type joins the first while that one is being carried out: it closes,
// the subject is told which request it joined, and the first request's audit
// log notes it. Anything else goes on by itself.
func TestAcknowledgeJoinsAnOpenRequest(t *testing.T) {
	tests := []struct {
		name       string
		firstType  request.Type
		firstState request.Status
		firstEmail string
		joins      bool
	}{
		{"first in progress", request.Access, request.InProgress, subject, true},
		{"first verified", request.Access, request.Verified, subject, true},
		{"first just received, no confirmation asked", request.Access, request.Received, subject, true},
		{"first just received, to be confirmed", request.Access, request.Received, subject, false},
		{"first waits for its confirmation", request.Access, request.PendingVerification, subject, false},
		{"first completed", request.Access, request.Completed, subject, false},
		{"first failed", request.Access, request.Failed, subject, false},
		{"another type", request.Delete, request.InProgress, subject, false},
		{"another subject", request.Access, request.InProgress, "someone.else@example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t)
			first := e.seed(t, tt.firstType, request.Received, func(r *request.Request) {
				withDeadlines("EU", tt.firstType)(r)
				r.Email = tt.firstEmail
				if strings.Contains(tt.name, "no confirmation") {
					r.Via = request.ViaGPC // as for a Global Privacy Control opt-out
				}
			})
			if res, err := e.steps.Acknowledge(ctx, RequestRef{RequestID: first.ID}); err != nil || res.Joined {
				t.Fatalf("first: %+v, %v", res, err)
			}
			r := e.store.stored(first.ID)
			r.Status = tt.firstState
			e.store.put(r)
			e.mail.sent, e.watch.started = nil, nil

			second := e.seed(t, request.Access, request.Received, withDeadlines("EU", request.Access))
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
				if holder, _ := e.store.SlotHolder(ctx, slotOf(&after)); holder != second.ID && tt.firstEmail == subject && tt.firstType == request.Access {
					t.Errorf("slot held by %s, want the new request", holder)
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

// TestJoinForgetsThePermission: a request that joins another is closed, so
// the signed permission its agent sent meanwhile is deleted with it; the
// first request keeps its own.
func TestJoinForgetsThePermission(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	withAgent := func(r *request.Request) {
		withDeadlines("EU", request.Access)(r)
		r.AgentEmail, r.PermissionKey, r.PermissionType = "agent@example.net", "agents/"+r.ID+"/permission", "image/png"
	}
	first := e.seed(t, request.Access, request.Received, withAgent)
	if _, err := e.steps.Acknowledge(ctx, RequestRef{RequestID: first.ID}); err != nil {
		t.Fatal(err)
	}
	r := e.store.stored(first.ID)
	r.Status = request.InProgress
	e.store.put(r)
	second := e.seed(t, request.Access, request.Received, withAgent)
	if res, err := e.steps.Acknowledge(ctx, RequestRef{RequestID: second.ID}); err != nil || !res.Joined {
		t.Fatalf("second: %+v, %v", res, err)
	}
	if want := []string{second.PermissionKey}; !slices.Equal(e.permissions.deleted, want) {
		t.Fatalf("deleted %v, want %v", e.permissions.deleted, want)
	}
	if !slices.ContainsFunc(e.store.eventsOf(second.ID), func(ev request.Event) bool { return ev.Action == "agent_permission_deleted" }) {
		t.Fatal("no audit event for the deletion")
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
