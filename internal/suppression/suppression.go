// Package suppression is the list the company's systems read before they use
// someone's data: whether the person opted out of sale and sharing, limited
// the use of sensitive data, asked for processing to be restricted, or
// objected to it. Entries are keyed by a hash of the normalized email, which
// the company's systems compute the same way (SubjectKey), so the list holds
// no address in clear.
package suppression

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/privacy-pipeline/dsr/internal/request"
)

// Flag is one purpose a subject can stop.
type Flag string

const (
	// OptOutSaleSharing: do not sell or share (CCPA §1798.120, GPC).
	OptOutSaleSharing Flag = "opt_out_sale_sharing"
	// LimitSensitive: use sensitive personal information only as the law
	// allows without consent (CCPA §1798.121).
	LimitSensitive Flag = "limit_sensitive"
	// RestrictProcessing: store but do not otherwise process (GDPR Art 18).
	RestrictProcessing Flag = "restrict_processing"
	// Object: stop processing based on legitimate interests or for direct
	// marketing (GDPR Art 21).
	Object Flag = "object"
)

// Flags are all flags, in the order documents list them.
var Flags = []Flag{OptOutSaleSharing, LimitSensitive, RestrictProcessing, Object}

// flagOf maps the request types that set a flag to it.
var flagOf = map[request.Type]Flag{
	request.OptOut:   OptOutSaleSharing,
	request.Limit:    LimitSensitive,
	request.Restrict: RestrictProcessing,
	request.Object:   Object,
}

// FlagFor returns the flag a request type sets, if any.
func FlagFor(t request.Type) (Flag, bool) {
	f, ok := flagOf[t]
	return f, ok
}

// KeyPrefix separates suppression keys from other hashes of email addresses
// (such as the plain SHA-256 that advertising lists share), so the list
// cannot be joined with them.
const KeyPrefix = "suppression:"

// SubjectKey is the key of a subject's entry: the lowercase hex SHA-256 of
// KeyPrefix followed by the email address trimmed and lower-cased. In a
// shell: printf 'suppression:%s' "$(echo ' Jane@Example.com ' | xargs | tr A-Z a-z)" | sha256sum
func SubjectKey(email string) string {
	sum := sha256.Sum256([]byte(KeyPrefix + strings.ToLower(strings.TrimSpace(email))))
	return hex.EncodeToString(sum[:])
}

// Entry records why and since when a flag is set.
type Entry struct {
	// RequestID is the request that set the flag.
	RequestID string
	At        time.Time
	// Via says how the request came: "request" (the subject asked) or "gpc"
	// (the browser's Global Privacy Control signal).
	Via string
}

// Store keeps the list.
type Store interface {
	// Set sets flag for the subject key unless it is set already; it
	// reports whether it was newly set.
	Set(ctx context.Context, key string, flag Flag, e Entry) (bool, error)
	// Get returns the subject's flags that are set.
	Get(ctx context.Context, key string) (map[Flag]Entry, error)
}
