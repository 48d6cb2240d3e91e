package erasure

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/privacy-pipeline/dsr/internal/recipient"
)

// Receipt records what a delete request did in every source. Receipts form
// a chain: each holds the hash of the one before, so changing or removing a
// receipt breaks every link after it.
type Receipt struct {
	Seq       int64     `json:"seq"`
	PrevHash  string    `json:"prev_hash"`
	RequestID string    `json:"request_id"`
	DryRun    bool      `json:"dry_run,omitempty"`
	IssuedAt  time.Time `json:"issued_at"`
	Sources   []Outcome `json:"sources"`
	// Recipients are those the erasure was passed on to (GDPR Art 19):
	// each told, or not reached, and why.
	Recipients []recipient.Delivery `json:"recipients,omitempty"`
}

// Link is a receipt as the chain stores it: its sequence number, its exact
// bytes and their hash.
type Link struct {
	Seq  int64
	Body []byte
	Hash string
}

// Genesis is the previous hash of the first receipt.
var Genesis = strings.Repeat("0", 64)

// Hash is the SHA-256 of a receipt's bytes, in hex.
func Hash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// Seal makes r the receipt after prev (the zero Link when the chain is
// empty) and returns it as a link.
func Seal(r Receipt, prev Link) (Link, error) {
	r.Seq, r.PrevHash = prev.Seq+1, prev.Hash
	if prev.Seq == 0 {
		r.PrevHash = Genesis
	}
	body, err := json.Marshal(r)
	if err != nil {
		return Link{}, err
	}
	return Link{Seq: r.Seq, Body: body, Hash: Hash(body)}, nil
}

// Open decodes a link's receipt.
func (l Link) Open() (Receipt, error) {
	var r Receipt
	err := json.Unmarshal(l.Body, &r)
	return r, err
}

// Break is the first place a chain does not hold together.
type Break struct {
	Seq     int64
	Problem string
}

func (b *Break) Error() string { return fmt.Sprintf("receipt %d: %s", b.Seq, b.Problem) }

// Anchor is a receipt's number and hash as written, when it was added, to
// storage that nothing may change or delete (S3 Object Lock): the chain
// must still hold that receipt, so removing the newest receipts, or
// rebuilding the chain, shows.
type Anchor struct {
	Seq  int64
	Hash string
}

// Verifier checks a chain one link at a time, in order.
type Verifier struct {
	prev    Link
	count   int64
	anchors map[int64][]string
	newest  int64
}

// Expect makes the verifier check the chain against anchors: each anchored
// receipt must be in the chain with the anchored hash (Next), and the
// chain must reach the newest anchor (Done).
func (v *Verifier) Expect(anchors []Anchor) {
	if v.anchors == nil {
		v.anchors = map[int64][]string{}
	}
	for _, a := range anchors {
		v.anchors[a.Seq] = append(v.anchors[a.Seq], a.Hash)
		v.newest = max(v.newest, a.Seq)
	}
}

// Anchors is the number of anchored receipts expected.
func (v *Verifier) Anchors() int { return len(v.anchors) }

// Next checks the next link: its bytes match its hash, it follows the last
// link (its number, and the hash it names), and its receipt says so too.
func (v *Verifier) Next(l Link) error {
	fail := func(format string, args ...any) error {
		return &Break{Seq: l.Seq, Problem: fmt.Sprintf(format, args...)}
	}
	want := v.prev.Seq + 1
	switch {
	case l.Seq != want:
		return &Break{Seq: want, Problem: fmt.Sprintf("missing: the next receipt stored is %d", l.Seq)}
	case Hash(l.Body) != l.Hash:
		return fail("its content does not match its hash: it was changed")
	}
	r, err := l.Open()
	if err != nil {
		return fail("its content cannot be read: %v", err)
	}
	prevHash := v.prev.Hash
	if v.prev.Seq == 0 {
		prevHash = Genesis
	}
	switch {
	case r.Seq != l.Seq:
		return fail("it says it is receipt %d", r.Seq)
	case r.PrevHash != prevHash:
		return fail("it does not name the hash of receipt %d: receipt %d was changed or replaced", v.prev.Seq, v.prev.Seq)
	}
	for _, h := range v.anchors[l.Seq] {
		if h != l.Hash {
			return fail("its hash is not the one anchored when it was written: the chain was rebuilt from here or earlier")
		}
	}
	v.prev = l
	v.count++
	return nil
}

// Done checks, after the last link, that the chain reaches the newest
// anchored receipt.
func (v *Verifier) Done() error {
	if v.newest > v.prev.Seq {
		return &Break{Seq: v.prev.Seq + 1, Problem: fmt.Sprintf("missing: the chain ends at receipt %d, yet receipt %d was anchored: newer receipts were removed", v.prev.Seq, v.newest)}
	}
	return nil
}

// Count is the number of links checked so far.
func (v *Verifier) Count() int64 { return v.count }

// Head is the last link checked: its hash vouches for the whole chain, so
// operators can record it elsewhere to catch a chain rewritten from scratch.
func (v *Verifier) Head() Link { return v.prev }
