package memstore

import (
	"context"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/request"
)

func TestVersionRules(t *testing.T) {
	ctx := context.Background()
	s := New()
	r := &request.Request{ID: "dsr-1", Status: request.Received, Extension: request.Extension{Reasons: []string{"a"}}}
	if err := s.Save(ctx, r, request.Event{Action: "received"}); err != nil || r.Version != 1 {
		t.Fatalf("first save: %v, version %d", err, r.Version)
	}
	again := &request.Request{ID: "dsr-1"}
	if err := s.Save(ctx, again, request.Event{}); apperr.KindOf(err) != apperr.Conflict {
		t.Fatalf("second new save: %v", err)
	}
	a, _ := s.Get(ctx, "dsr-1")
	b, _ := s.Get(ctx, "dsr-1")
	a.Extension.Reasons[0] = "changed"
	if err := s.Save(ctx, a, request.Event{Action: "a"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, b, request.Event{Action: "b"}); apperr.KindOf(err) != apperr.Conflict {
		t.Fatalf("stale save: %v", err)
	}
	if got, _ := s.Stored("dsr-1"); got.Extension.Reasons[0] != "changed" || got.Version != 2 {
		t.Fatalf("stored %+v", got)
	}
	r.Extension.Reasons[0] = "caller's copy"
	if got, _ := s.Stored("dsr-1"); got.Extension.Reasons[0] != "changed" {
		t.Fatal("the store shares memory with a caller")
	}
	if evs := s.EventsOf("dsr-1"); len(evs) != 2 || evs[1].Action != "a" {
		t.Fatalf("events %+v", evs)
	}
	if _, err := s.Get(ctx, "nope"); apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("missing: %v", err)
	}
	s.SaveErr = apperr.E(apperr.Unavailable, "down")
	if err := s.Save(ctx, a, request.Event{}); apperr.KindOf(err) != apperr.Unavailable {
		t.Fatalf("SaveErr: %v", err)
	}
}
