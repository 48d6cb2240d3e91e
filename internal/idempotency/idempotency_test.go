package idempotency_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/clock"
	"github.com/privacy-pipeline/dsr/internal/idempotency"
	"github.com/privacy-pipeline/dsr/internal/memstore"
)

const key = "0b6f1c9e-3a52-4b8e-9a57-1d2c3e4f5a6b"

func newKeeper() (*idempotency.Keeper, *clock.Fake, *memstore.Idempotency) {
	clk := clock.NewFake(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	store := memstore.NewIdempotency()
	return &idempotency.Keeper{Store: store, Clock: clk, TTL: time.Hour, Lease: time.Minute}, clk, store
}

func TestValidKey(t *testing.T) {
	tests := []struct {
		key  string
		want bool
	}{
		{key, true},
		{strings.Repeat("a", 16), true},
		{strings.Repeat("a", 255), true},
		{strings.Repeat("a", 15), false},
		{strings.Repeat("a", 256), false},
		{"", false},
		{"0b6f1c9e 3a52 4b8e 9a57", false},
		{"0b6f1c9e-3a52-4b8e-9a57\t", false},
		{"0b6f1c9e-3a52-4b8e-9a57-é", false},
	}
	for _, tt := range tests {
		if got := idempotency.ValidKey(tt.key); got != tt.want {
			t.Errorf("ValidKey(%q) = %v, want %v", tt.key, got, tt.want)
		}
	}
}

func TestFingerprintSeparatesParts(t *testing.T) {
	a := idempotency.Fingerprint([]byte("ab"), []byte("c"))
	b := idempotency.Fingerprint([]byte("a"), []byte("bc"))
	if a == b {
		t.Fatal("two splits of the same bytes have the same fingerprint")
	}
	if a != idempotency.Fingerprint([]byte("ab"), []byte("c")) {
		t.Fatal("the fingerprint is not stable")
	}
}

func TestKeeper(t *testing.T) {
	ctx := context.Background()
	answer := idempotency.Answer{Status: 202, ContentType: "application/json", Location: "https://x/s", Body: []byte(`{"id":"1"}`)}

	t.Run("first request goes ahead, the same request gets its answer", func(t *testing.T) {
		k, _, _ := newKeeper()
		got, err := k.Begin(ctx, key, "fp1")
		if err != nil || got != nil {
			t.Fatalf("first Begin = %v, %v; want go ahead", got, err)
		}
		if err := k.Finish(ctx, key, "fp1", answer); err != nil {
			t.Fatal(err)
		}
		got, err = k.Begin(ctx, key, "fp1")
		if err != nil || got == nil || got.Status != 202 || string(got.Body) != `{"id":"1"}` || got.Location != "https://x/s" {
			t.Fatalf("replay = %+v, %v", got, err)
		}
	})
	t.Run("a different request with the key is a conflict", func(t *testing.T) {
		k, _, _ := newKeeper()
		_, _ = k.Begin(ctx, key, "fp1")
		_ = k.Finish(ctx, key, "fp1", answer)
		_, err := k.Begin(ctx, key, "fp2")
		if !apperr.Is(err, apperr.Conflict) || !strings.Contains(err.Error(), "different request") {
			t.Fatalf("err = %v, want Conflict about a different request", err)
		}
	})
	t.Run("the same request still being handled is a conflict with a wait", func(t *testing.T) {
		k, clk, _ := newKeeper()
		_, _ = k.Begin(ctx, key, "fp1")
		clk.Advance(20 * time.Second)
		_, err := k.Begin(ctx, key, "fp1")
		var e *apperr.Error
		if !errors.As(err, &e) || e.Kind != apperr.Conflict || e.RetryAfter != 40*time.Second {
			t.Fatalf("err = %v, want Conflict with RetryAfter 40s", err)
		}
	})
	t.Run("a pending key whose lease ran out is taken over", func(t *testing.T) {
		k, clk, _ := newKeeper()
		_, _ = k.Begin(ctx, key, "fp1")
		clk.Advance(time.Minute)
		if got, err := k.Begin(ctx, key, "fp1"); err != nil || got != nil {
			t.Fatalf("Begin after the lease = %v, %v; want go ahead", got, err)
		}
	})
	t.Run("an answer is kept until the TTL", func(t *testing.T) {
		k, clk, _ := newKeeper()
		_, _ = k.Begin(ctx, key, "fp1")
		_ = k.Finish(ctx, key, "fp1", answer)
		clk.Advance(time.Hour - time.Second)
		if got, _ := k.Begin(ctx, key, "fp2"); got != nil {
			t.Fatal("another body got the kept answer")
		}
		clk.Advance(time.Second)
		if got, err := k.Begin(ctx, key, "fp2"); err != nil || got != nil {
			t.Fatalf("after the TTL = %v, %v; want go ahead", got, err)
		}
	})
	t.Run("an abandoned key is free again", func(t *testing.T) {
		k, _, _ := newKeeper()
		_, _ = k.Begin(ctx, key, "fp1")
		if err := k.Abandon(ctx, key); err != nil {
			t.Fatal(err)
		}
		if got, err := k.Begin(ctx, key, "fp1"); err != nil || got != nil {
			t.Fatalf("after Abandon = %v, %v; want go ahead", got, err)
		}
	})
	t.Run("a claim whose answer was lost is the caller's", func(t *testing.T) {
		k, _, store := newKeeper()
		k.Store = lostAnswer{store}
		if got, err := k.Begin(ctx, key, "fp1"); err != nil || got != nil {
			t.Fatalf("Begin = %v, %v; want go ahead", got, err)
		}
		// The same request sent again meanwhile is another claim: it waits.
		if _, err := k.Begin(ctx, key, "fp1"); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("a second claim: err = %v, want Conflict", err)
		}
	})
	t.Run("a malformed key is invalid and stores nothing", func(t *testing.T) {
		k, _, store := newKeeper()
		_, err := k.Begin(ctx, "short", "fp1")
		if !apperr.Is(err, apperr.Invalid) || store.Keys() != 0 {
			t.Fatalf("err = %v, keys %d", err, store.Keys())
		}
	})
	t.Run("store errors pass on", func(t *testing.T) {
		k, _, store := newKeeper()
		store.Err = apperr.E(apperr.Unavailable, "down")
		if _, err := k.Begin(ctx, key, "fp1"); !apperr.Is(err, apperr.Unavailable) {
			t.Fatalf("err = %v", err)
		}
	})
}

// lostAnswer is a store whose claims are made but whose answers are lost:
// the SDK sends each claim again, and the retry finds the key taken.
type lostAnswer struct{ idempotency.Store }

func (l lostAnswer) Claim(ctx context.Context, key string, rec idempotency.Record, now time.Time) (*idempotency.Record, error) {
	if found, err := l.Store.Claim(ctx, key, rec, now); found != nil || err != nil {
		return found, err
	}
	return l.Store.Claim(ctx, key, rec, now)
}
