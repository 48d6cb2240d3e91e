package ratelimit

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/clock"
)

// memCounter is a Counter in memory that remembers each key's expiry.
type memCounter struct {
	n       map[string]int64
	expires map[string]time.Time
	err     error
}

func newMemCounter() *memCounter {
	return &memCounter{n: map[string]int64{}, expires: map[string]time.Time{}}
}

func (c *memCounter) Increment(_ context.Context, key string, expires time.Time) (int64, error) {
	if c.err != nil {
		return 0, c.err
	}
	c.n[key]++
	c.expires[key] = expires
	return c.n[key], nil
}

func TestParseRule(t *testing.T) {
	tests := []struct {
		in      string
		want    Rule
		wantErr bool
	}{
		{"20/1h", Rule{20, time.Hour}, false},
		{" 5/24h ", Rule{5, 24 * time.Hour}, false},
		{"1/1s", Rule{1, time.Second}, false},
		{"off", Off, false},
		{"0/1h", Rule{}, true},
		{"-1/1h", Rule{}, true},
		{"20", Rule{}, true},
		{"20/", Rule{}, true},
		{"20/h", Rule{}, true},
		{"20/500ms", Rule{}, true},
		{"20/1500ms", Rule{}, true},
		{"20/745h", Rule{}, true},
		{"", Rule{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRule(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLimiterAllowsUpToTheLimitPerWindow(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 3, 1, 10, 59, 30, 0, time.UTC))
	c := newMemCounter()
	l := &Limiter{Name: "client", Rule: Rule{Limit: 3, Window: time.Minute}, Counter: c, Clock: clk}

	for i := range 3 {
		if err := l.Allow(ctx, "203.0.113.7"); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	err := l.Allow(ctx, "203.0.113.7")
	var e *apperr.Error
	if !errors.As(err, &e) || e.Kind != apperr.RateLimited {
		t.Fatalf("fourth call: %v, want RateLimited", err)
	}
	if e.RetryAfter != 30*time.Second {
		t.Fatalf("RetryAfter = %v, want the 30s left in the window", e.RetryAfter)
	}
	// Another subject has its own counter.
	if err := l.Allow(ctx, "198.51.100.1"); err != nil {
		t.Fatalf("another client: %v", err)
	}
	// The next window starts afresh.
	clk.Advance(30 * time.Second)
	if err := l.Allow(ctx, "203.0.113.7"); err != nil {
		t.Fatalf("next window: %v", err)
	}
	for key, exp := range c.expires {
		if strings.Contains(key, "203.0.113.7") {
			t.Errorf("key %q holds the subject in clear", key)
		}
		if exp.After(clk.Now().Add(time.Minute)) {
			t.Errorf("counter %q lives until %v, past its window", key, exp)
		}
	}
}

func TestLimitersWithDifferentNamesDoNotShareCounters(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	c := newMemCounter()
	a := &Limiter{Name: "client", Rule: Rule{Limit: 1, Window: time.Hour}, Counter: c, Clock: clk}
	b := &Limiter{Name: "identity", Rule: Rule{Limit: 1, Window: time.Hour}, Counter: c, Clock: clk}
	if err := a.Allow(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	if err := b.Allow(ctx, "x"); err != nil {
		t.Fatalf("the identity limit counted the client's call: %v", err)
	}
}

func TestLimiterOffOrNilAllowsEverything(t *testing.T) {
	ctx := context.Background()
	c := newMemCounter()
	c.err = errors.New("must not be called")
	var nilLimiter *Limiter
	off := &Limiter{Name: "client", Rule: Off, Counter: c, Clock: clock.System{}}
	for _, l := range []*Limiter{nilLimiter, off} {
		for range 5 {
			if err := l.Allow(ctx, "x"); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestLimiterPassesStoreErrorsOn(t *testing.T) {
	c := newMemCounter()
	c.err = apperr.E(apperr.Unavailable, "down")
	l := &Limiter{Name: "client", Rule: Rule{Limit: 1, Window: time.Hour}, Counter: c, Clock: clock.System{}}
	if err := l.Allow(context.Background(), "x"); !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("err = %v, want the store's Unavailable", err)
	}
}
