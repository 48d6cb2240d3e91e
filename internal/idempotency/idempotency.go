// Package idempotency makes a retried submission safe: the first request
// with an Idempotency-Key is carried out and its answer kept for a while; a
// retry with the same key and the same body gets that answer again instead of
// a second request, and a retry with a different body is refused.
package idempotency

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/clock"
	"github.com/privacy-pipeline/dsr/internal/secret"
)

// Answer is a kept HTTP answer.
type Answer struct {
	Status      int
	ContentType string
	Location    string
	Body        []byte
}

// Record is what is kept under a key: the fingerprint of the request and,
// once it is done, its answer. A record without an answer is being handled
// until PendingUntil; after that another request may take the key over (the
// first one crashed or lost its connection to the store).
type Record struct {
	Fingerprint  string
	Answer       *Answer
	PendingUntil time.Time
	ExpiresAt    time.Time
	// Claim is a random token of the request that claimed the key: a store
	// whose claim was made but whose answer was lost sends it again, finds
	// the key taken, and can tell it took the key itself.
	Claim string
}

// Live reports whether the record still holds its key at now.
func (r *Record) Live(now time.Time) bool {
	if !now.Before(r.ExpiresAt) {
		return false
	}
	return r.Answer != nil || now.Before(r.PendingUntil)
}

// Store keeps records by (hashed) key.
type Store interface {
	// Claim stores rec under key unless a live record is there, which it
	// returns instead; it returns nil when the key was claimed.
	Claim(ctx context.Context, key string, rec Record, now time.Time) (*Record, error)
	// Complete stores the finished record.
	Complete(ctx context.Context, key string, rec Record) error
	// Release forgets a key whose request should be tried again.
	Release(ctx context.Context, key string) error
}

// Defaults: how long answers are kept, and how long a request may hold its
// key before another may take it over.
const (
	DefaultTTL   = 24 * time.Hour
	DefaultLease = time.Minute
)

// Key limits: long enough that a key cannot be guessed (a UUID is 36
// characters), short enough to bound what is stored.
const (
	MinKeyLength = 16
	MaxKeyLength = 255
)

// Keeper applies the rules on a Store.
type Keeper struct {
	Store Store
	Clock clock.Clock
	TTL   time.Duration
	Lease time.Duration
}

var (
	errBadKey = apperr.InvalidFields(apperr.FieldError{Field: "Idempotency-Key",
		Detail: "Use 16 to 255 visible ASCII characters, such as a random UUID."})
	errOtherBody = apperr.E(apperr.Conflict, "This Idempotency-Key was used with a different request. Use a new key for a new request.")
)

// ValidKey reports whether key may be used.
func ValidKey(key string) bool {
	if len(key) < MinKeyLength || len(key) > MaxKeyLength {
		return false
	}
	for i := 0; i < len(key); i++ {
		if key[i] <= ' ' || key[i] > '~' {
			return false
		}
	}
	return true
}

// Fingerprint identifies a request by its parts (method, path, media type,
// body...): two requests with the same fingerprint are the same request.
func Fingerprint(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		// Length-prefixed: no two splits of the same bytes collide.
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(p))))
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// storedKey is the key as stored: its hash, so a key (which a client may
// have made from anything) is never kept as given.
func storedKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "idem#" + hex.EncodeToString(sum[:])
}

// Begin claims key for a request with the given fingerprint. It returns the
// kept answer when the same request was already answered, nil when the
// caller should go ahead (and then call Finish or Abandon), or an error: the
// key is malformed (Invalid), was used for another request, or the same
// request is still being handled (Conflict).
func (k *Keeper) Begin(ctx context.Context, key, fingerprint string) (*Answer, error) {
	if !ValidKey(key) {
		return nil, errBadKey
	}
	now := k.Clock.Now()
	rec := Record{Fingerprint: fingerprint, PendingUntil: now.Add(k.lease()), ExpiresAt: now.Add(k.ttl()), Claim: secret.NewToken()}
	found, err := k.Store.Claim(ctx, storedKey(key), rec, now)
	if err != nil || found == nil {
		return nil, err
	}
	if found.Fingerprint != fingerprint {
		return nil, errOtherBody
	}
	if found.Answer == nil && found.Claim == rec.Claim {
		return nil, nil // this very claim, made though its answer was lost
	}
	if found.Answer == nil {
		e := apperr.E(apperr.Conflict, "A request with this Idempotency-Key is still being handled. Try again shortly.")
		e.RetryAfter = max(time.Second, found.PendingUntil.Sub(now).Round(time.Second))
		return nil, e
	}
	return found.Answer, nil
}

// Finish keeps the answer to the request that claimed key.
func (k *Keeper) Finish(ctx context.Context, key, fingerprint string, a Answer) error {
	now := k.Clock.Now()
	return k.Store.Complete(ctx, storedKey(key), Record{Fingerprint: fingerprint, Answer: &a, ExpiresAt: now.Add(k.ttl())})
}

// Abandon frees key after an answer that should not be kept (a passing
// failure), so a retry is carried out afresh.
func (k *Keeper) Abandon(ctx context.Context, key string) error {
	return k.Store.Release(ctx, storedKey(key))
}

func (k *Keeper) ttl() time.Duration {
	if k.TTL > 0 {
		return k.TTL
	}
	return DefaultTTL
}

func (k *Keeper) lease() time.Duration {
	if k.Lease > 0 {
		return k.Lease
	}
	return DefaultLease
}
