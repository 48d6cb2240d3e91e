// Package erasure describes what erasing a subject did in each source: the
// records deleted, anonymized or retained (with the legal reason and until
// when), and the keys and versions touched. The outcomes of a request form
// its erasure receipt; receipts are chained by hash so that a changed or
// removed receipt is noticed.
package erasure

import "time"

// Actions on a key or version. In a dry run they are what would happen.
const (
	ActionDeleted        = "deleted"         // an item or whole object removed
	ActionRewritten      = "rewritten"       // an object replaced without the subject's records
	ActionAnonymized     = "anonymized"      // an item or object whose subject's records lost the listed fields
	ActionVersionDeleted = "version_deleted" // an older object version that held the subject, removed
)

// Touched is one key (an item's primary key, an object's key) and, for
// object versions, the version id, with what happened to it. Keys can hold
// identity values: they are hashed (see Hasher) before they are stored.
type Touched struct {
	Key     string `json:"key"`
	Version string `json:"version,omitempty"`
	Action  string `json:"action"`
}

// Result is what a source adapter did, or in a dry run would do, to one
// source: the subject's records it found there and what became of them.
type Result struct {
	Records    int
	Deleted    int
	Anonymized int
	Touched    []Touched
	// Findings are the places that may hold the subject but were left as
	// they were (see Finding).
	Findings []Finding
}

// Retention is why and until when records were kept.
type Retention struct {
	Reason   string `json:"reason"`
	Citation string `json:"citation"`
	// Until is the last day the last of the records is kept (YYYY-MM-DD).
	Until string `json:"until"`
}

// Outcome is what erasure did in one source for one request. It holds counts,
// hashed keys, version ids and the registry's own words; no personal data.
type Outcome struct {
	SourceID    string `json:"source_id"`
	Description string `json:"description,omitempty"`
	Kind        string `json:"kind"`
	Mode        string `json:"mode"`
	DryRun      bool   `json:"dry_run,omitempty"`
	// Records are the subject's records found.
	Records    int `json:"records"`
	Deleted    int `json:"deleted"`
	Anonymized int `json:"anonymized"`
	// Fields are the anonymized fields.
	Fields    []string   `json:"fields,omitempty"`
	Retained  int        `json:"retained"`
	Retention *Retention `json:"retention,omitempty"`
	Touched   []Touched  `json:"touched,omitempty"`
	// Findings are the places that may have held the subject and what an
	// operator found there (keys hashed, as Touched).
	Findings []Finding `json:"findings,omitempty"`
	// Attestation is what the owner of a manual source (Kind "manual",
	// Mode ModeAttested) said was done there: the pipeline changed
	// nothing in it itself.
	Attestation *Attestation `json:"attestation,omitempty"`
}

// ModeAttested is the mode of a manual source's outcome: its owner erased
// and attested.
const ModeAttested = "attested"

// Attestation is who attested what, and when, for a manual source.
type Attestation struct {
	TaskID string `json:"task_id"`
	// Status is the task's answer: "done" (erased as asked) or "none"
	// (the system held nothing of the subject).
	Status string `json:"status"`
	// What says the answer in words.
	What string    `json:"what"`
	By   string    `json:"by"`
	At   time.Time `json:"at"`
	// NoteHash is a keyed hash of the note that came with the answer (the
	// note is free text and stays with the task).
	NoteHash string `json:"note_hash,omitempty"`
}

// AttestedErased reports whether the owner of a manual source attested
// that the subject's data was erased there.
func (o Outcome) AttestedErased() bool { return o.Attestation != nil && o.Attestation.Status == "done" }

// ErasedByHand counts the findings an operator erased by hand.
func (o Outcome) ErasedByHand() int {
	n := 0
	for _, f := range o.Findings {
		if f.Resolution == ResolvedErased {
			n++
		}
	}
	return n
}

// TouchedCounts counts the keys (items and objects) and the object
// versions erasure touched in the source.
func (o Outcome) TouchedCounts() (keys, versions int) {
	for _, k := range o.Touched {
		if k.Version != "" {
			versions++
		} else {
			keys++
		}
	}
	return keys, versions
}
