package workflow

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/statute"
)

// seedLetter stores the requests one mail made ("send me a copy, then
// delete"), each knowing the others, in the statuses given.
func (e *env) seedLetter(t *testing.T, key string, parts map[request.Type]request.Status) map[request.Type]request.Request {
	t.Helper()
	var ids []string
	made := map[request.Type]request.Request{}
	for typ, st := range parts {
		r := e.seed(t, typ, st, func(r *request.Request) { r.Mail.Key = key })
		made[typ] = r
		ids = append(ids, r.ID)
	}
	for typ, r := range made {
		r.Mail.Siblings = slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return id == r.ID })
		e.store.put(r)
		made[typ] = r
	}
	return made
}

// TestMailKeptUntilItsLastRequestCloses: the requests of one mail share its
// raw message, which goes when the last of them closes, whichever that is.
func TestMailKeptUntilItsLastRequestCloses(t *testing.T) {
	const key = "inbound/6n4thuhcbhpfiuf25gshf70rss364fuejrvmqko1"
	for _, first := range []request.Type{request.Access, request.Delete} {
		t.Run(string(first)+" closes first", func(t *testing.T) {
			e := newEnv(t)
			letter := e.seedLetter(t, key, map[request.Type]request.Status{request.Access: request.PendingVerification, request.Delete: request.PendingVerification})
			second := request.Delete
			if first == request.Delete {
				second = request.Access
			}
			ctx := context.Background()
			if err := e.steps.CloseRequest(ctx, CloseTask{RequestID: letter[first].ID, Outcome: "expired"}); err != nil {
				t.Fatal(err)
			}
			if len(e.rawMail.deleted) != 0 || !hasEvent(e.store.eventsOf(letter[first].ID), "mail_kept") {
				t.Fatalf("deleted %v while %s is open", e.rawMail.deleted, second)
			}
			if err := e.steps.CloseRequest(ctx, CloseTask{RequestID: letter[second].ID, Outcome: "expired"}); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(e.rawMail.deleted, []string{key}) || !hasEvent(e.store.eventsOf(letter[second].ID), "mail_deleted") {
				t.Fatalf("deleted %v after the last request closed", e.rawMail.deleted)
			}
		})
	}
}

func hasEvent(evs []request.Event, action string) bool {
	return slices.ContainsFunc(evs, func(ev request.Event) bool { return ev.Action == action })
}

// TestCheckSiblings: an erasure asked for besides a copy goes on once the
// copy's request is closed (or was never stored); until its own due date it
// waits, then an operator settles it.
func TestCheckSiblings(t *testing.T) {
	const key = "inbound/6n4thuhcbhpfiuf25gshf70rss364fuejrvmqko1"
	ctx := context.Background()
	e := newEnv(t)
	letter := e.seedLetter(t, key, map[request.Type]request.Status{request.Access: request.InProgress, request.Delete: request.InProgress})
	del := letter[request.Delete]
	due := statute.DateOf(e.clock.Now().AddDate(0, 0, 20), time.UTC)
	del.Deadlines = statute.Deadlines{Jurisdiction: "EU", Type: "delete", Received: e.clock.Now(), Due: due, TimeZone: "UTC"}
	e.store.put(del)

	got, err := e.steps.CheckSiblings(ctx, RequestRef{RequestID: del.ID})
	if err != nil || got.Open != 1 {
		t.Fatalf("with the copy in progress: %+v, %v", got, err)
	}
	access := e.store.stored(letter[request.Access].ID)
	access.Status = request.Completed
	e.store.put(access)
	if got, err := e.steps.CheckSiblings(ctx, RequestRef{RequestID: del.ID}); err != nil || got.Open != 0 {
		t.Fatalf("with the copy delivered: %+v, %v", got, err)
	}
	access.Status = request.Failed
	e.store.put(access)
	e.clock.Advance(20 * 24 * time.Hour)
	_, err = e.steps.CheckSiblings(ctx, RequestRef{RequestID: del.ID})
	wantKind(t, err, apperr.Conflict)

	del.Mail.Siblings = []string{request.MailRequestID(key, 5, e.clock.Now(), e.clock.Now())}
	e.store.put(del)
	if got, err := e.steps.CheckSiblings(ctx, RequestRef{RequestID: del.ID}); err != nil || got.Open != 0 {
		t.Fatalf("with a sibling never stored: %+v, %v", got, err)
	}
}
