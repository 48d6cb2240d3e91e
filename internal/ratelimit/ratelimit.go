// Package ratelimit counts requests in fixed windows, per client address or
// per identity, in a store that every instance of the API shares. A window's
// counter lives only as long as the window: it is named by the window's start
// and expires with it.
package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/clock"
)

// Counter adds one to a named counter and returns its new value. The counter
// may be forgotten after expires.
type Counter interface {
	Increment(ctx context.Context, key string, expires time.Time) (int64, error)
}

// Rule allows Limit events per Window; a zero Limit allows everything.
type Rule struct {
	Limit  int
	Window time.Duration
}

// Off is a rule that limits nothing.
var Off = Rule{}

func (r Rule) String() string {
	if r.Limit == 0 {
		return "off"
	}
	return strconv.Itoa(r.Limit) + "/" + r.Window.String()
}

// ParseRule reads a rule written as "<limit>/<window>", such as "20/1h" or
// "5/24h" (windows in Go duration syntax, from one second to 31 days), or
// "off".
func ParseRule(s string) (Rule, error) {
	if strings.TrimSpace(s) == "off" {
		return Off, nil
	}
	limit, window, ok := strings.Cut(strings.TrimSpace(s), "/")
	n, err := strconv.Atoi(limit)
	if !ok || err != nil || n < 1 {
		return Rule{}, fmt.Errorf("rate limit %q: write <count>/<window>, such as 20/1h, or off", s)
	}
	d, err := time.ParseDuration(window)
	if err != nil || d < time.Second || d > 31*24*time.Hour || d%time.Second != 0 {
		return Rule{}, fmt.Errorf("rate limit %q: the window must be whole seconds between 1s and 744h", s)
	}
	return Rule{Limit: n, Window: d}, nil
}

// Limiter enforces one rule on one kind of subject (a client address, an
// identity).
type Limiter struct {
	// Name tells the limits apart in the shared store: "client", "identity".
	Name    string
	Rule    Rule
	Counter Counter
	Clock   clock.Clock
}

// Allow counts one event for subject and returns a RateLimited error, with
// the time left in the window, once the rule's limit is passed. The subject
// is stored only as a hash.
func (l *Limiter) Allow(ctx context.Context, subject string) error {
	if l == nil || l.Rule.Limit == 0 {
		return nil
	}
	now := l.Clock.Now()
	start := now.Truncate(l.Rule.Window)
	end := start.Add(l.Rule.Window)
	n, err := l.Counter.Increment(ctx, l.key(subject, start), end)
	if err != nil {
		return err
	}
	if n > int64(l.Rule.Limit) {
		return Exceeded(end.Sub(now))
	}
	return nil
}

// key names the counter of subject in the window that starts at start.
func (l *Limiter) key(subject string, start time.Time) string {
	sum := sha256.Sum256([]byte(l.Name + "\x00" + subject))
	return "rate#" + l.Name + "#" + strconv.FormatInt(start.Unix(), 10) + "#" + hex.EncodeToString(sum[:16])
}

// Exceeded is the error of a passed limit: try again after retryAfter.
func Exceeded(retryAfter time.Duration) error {
	e := apperr.E(apperr.RateLimited, "Too many requests. Try again later.")
	e.RetryAfter = max(retryAfter, time.Second)
	return e
}
