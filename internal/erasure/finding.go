package erasure

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// Finding is a place in a source where the subject's data may be but the
// pipeline could not handle it: a record that holds one of the subject's
// values but does not parse, a record that holds one where no match rule
// looks, an object that cannot be read at all. Such a place is never passed
// over: erasure does not report the source done while one is open, and an
// access package says what could not be read. An operator looks at the place
// and records what it was (Resolve).
//
// Key is the object's key (or an item's key) in clear, for the operator: a
// finding is kept with the request in the encrypted table, never in logs or
// execution data, and a receipt holds the key hashed. Nothing in a finding
// holds what the record holds: Field is a path of field names.
type Finding struct {
	ID       string `json:"id"`
	SourceID string `json:"source_id"`
	Key      string `json:"key"`
	Version  string `json:"version,omitempty"`
	// Line is the line the record starts on, Record its number among the
	// object's records (JSON arrays); zero where they do not apply.
	Line   int `json:"line,omitempty"`
	Record int `json:"record,omitempty"`
	// RowGroup and Row place a row of a Parquet object: its row group and
	// its row within that group, both counted from 1 (a reader that counts
	// from 0 takes one less); zero where they do not apply.
	RowGroup int    `json:"row_group,omitempty"`
	Row      int    `json:"row,omitempty"`
	Reason   string `json:"reason"`
	Field    string `json:"field,omitempty"`
	// Detail is the system's own words on what is wrong (an unreadable
	// object's problem), never the data.
	Detail string `json:"detail,omitempty"`
	// More counts the doubts of the same object beyond those listed.
	More int `json:"more,omitempty"`
	// Blocking findings keep erasure from being reported done until they are
	// resolved; those of access requests and retained sources inform.
	Blocking bool      `json:"blocking,omitempty"`
	FoundAt  time.Time `json:"found_at"`

	Resolution string    `json:"resolution,omitempty"`
	ResolvedBy string    `json:"resolved_by,omitempty"`
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
	Note       string    `json:"note,omitempty"`
}

// Reasons for a finding.
const (
	FindingUnparseable = "unparseable"       // a record holding a subject's value does not parse
	FindingUnmatched   = "unmatched_field"   // a record holds a subject's value where no rule looks
	FindingUnreadable  = "unreadable_object" // an object cannot be read at all
)

// Resolutions an operator records.
const (
	ResolvedErased     = "erased_by_hand" // the operator erased what the place held of the subject
	ResolvedNotSubject = "not_subject"    // the place holds nothing of the subject
)

// Open reports whether the finding waits for an operator.
func (f Finding) Open() bool { return f.Resolution == "" }

// WithID returns f with its ID: a hash of where it is and why, so that the
// same place found again (a retried step) is the same finding.
func (f Finding) WithID() Finding {
	b := fmt.Appendf(nil, "%s\x00%s\x00%s\x00%d\x00%d\x00%s\x00%s", f.SourceID, f.Key, f.Version, f.Line, f.Record, f.Reason, f.Field)
	if f.RowGroup > 0 || f.Row > 0 {
		// Only where they apply, so that the findings of other formats keep
		// the ids they had.
		b = fmt.Appendf(b, "\x00%d\x00%d", f.RowGroup, f.Row)
	}
	sum := sha256.Sum256(b)
	f.ID = "f-" + hex.EncodeToString(sum[:5])
	return f
}

// OpenBlocking counts the findings that keep erasure from being done.
func OpenBlocking(fs []Finding) int {
	n := 0
	for _, f := range fs {
		if f.Blocking && f.Open() {
			n++
		}
	}
	return n
}
