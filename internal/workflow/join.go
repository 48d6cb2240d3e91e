package workflow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/notify"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// Slots keeps, per subject and outcome (see slotOf), which request was last
// opened, so a second request asking for the same can find the first.
type Slots interface {
	SlotHolder(ctx context.Context, slot string) (string, error)
	// TakeSlot gives the slot to requestID if previous ("" for none) still
	// holds it; otherwise it fails with request.ErrChanged.
	TakeSlot(ctx context.Context, slot, requestID, previous string, expires time.Time) error
}

// AckResult says whether the request joined an open request asking for the
// same instead of going on.
type AckResult struct {
	Joined bool `json:"joined"`
}

// A new request joins an open one only where carrying it out would come to
// exactly what the open one does, so joining never loses anything the
// subject asked for:
//
//   - the same subject, type and law (the law fixes the deadlines, the
//     verification level, the extension and what the subject is told);
//   - a dry run only with a dry run: a real delete never waits on a report;
//   - a correction only with one that changes the same fields to the same
//     values;
//   - never an authorized agent's request, nor a request joined to an
//     agent's: the subject has to confirm that agent's authority, and the
//     agent's status page and permission upload would tell a joined request
//     from a lone one.
//
// The slot of a request is keyed by a hash of all of this, so requests
// whose outcomes differ hold different slots and never meet.

// slotOf names the slot of the request's subject and outcome: a hash, since
// the slot's key is stored in clear and the address and corrected values
// are personal data; the type stays readable for operators.
func slotOf(r *request.Request) string {
	h := sha256.New()
	// Each part is length-prefixed, so no two lists of parts hash alike.
	part := func(s string) { fmt.Fprintf(h, "%d:%s;", len(s), s) }
	part("open")
	part(r.Email)
	part(string(r.Type))
	part(r.Jurisdiction)
	part(strconv.FormatBool(r.DryRun))
	for _, name := range r.Correction.Values.Fields() {
		part(name)
		part(r.Correction.Values[name])
	}
	return hex.EncodeToString(h.Sum(nil)[:16]) + "#" + string(r.Type)
}

// joinsNothing reports whether r goes on by itself whatever else is open:
// an agent's request, and a correction letter whose new values an operator
// has yet to read (two such letters may ask for different values).
func joinsNothing(r *request.Request) bool { return r.Agent.Email != "" || r.AwaitsCorrections() }

// joinable reports whether r should join h: h would come to the same (its
// slot is r's; a correction whose values were already written and cleared
// cannot be compared, so it is not joined) and is being carried out or about
// to be. A request waiting for its confirmation (or about to) is not joined,
// so a subject who lost the link gets a fresh one with the new request; a
// failed one waits for an operator.
func joinable(r, h *request.Request) bool {
	if h.JoinedTo != "" || joinsNothing(h) || slotOf(h) != slotOf(r) {
		return false
	}
	switch h.Status {
	case request.Received:
		return !h.NeedsVerification()
	case request.Verified, request.InProgress:
		return true
	}
	return false
}

// openFirst returns the open request that r joins, or "" when r takes the
// slot (if it may hold one) and goes on itself.
func (s *Steps) openFirst(ctx context.Context, r *request.Request) (string, error) {
	if r.JoinedTo != "" {
		return r.JoinedTo, nil
	}
	if joinsNothing(r) {
		return "", nil
	}
	slot := slotOf(r)
	for range 3 {
		holder, err := s.Slots.SlotHolder(ctx, slot)
		if err != nil || holder == r.ID {
			return "", err
		}
		if holder != "" {
			h, err := s.Store.Get(ctx, holder)
			if err != nil && !apperr.Is(err, apperr.NotFound) {
				return "", err
			}
			if err == nil && joinable(r, h) {
				return h.ID, nil
			}
		}
		err = s.Slots.TakeSlot(ctx, slot, r.ID, holder, slotExpiry(r))
		if !errors.Is(err, request.ErrChanged) {
			return "", err
		}
	}
	return "", apperr.Wrap(apperr.Unavailable, "Other requests of this subject keep taking the slot; try again.", request.ErrChanged)
}

// slotExpiry is when a slot may be forgotten: a day after the last date its
// request may be answered.
func slotExpiry(r *request.Request) time.Time {
	last := r.Deadlines.Due
	if r.Deadlines.ExtendedDue != nil {
		last = *r.Deadlines.ExtendedDue
	}
	return last.EndOfDay(r.Deadlines.Location()).Add(24 * time.Hour)
}

// join closes r as added to first and tells the subject. Running it again
// (after the mail failed) mails again. The moment of the join stands for the
// moment a lone request's verification would start: its status shows what
// such a request would show from then on (see portal.Status), and until its
// link would expire it takes wrong links and codes as a lone one does.
func (s *Steps) join(ctx context.Context, r *request.Request, first string) error {
	if r.JoinedTo == "" {
		now := s.Clock.Now()
		r.JoinedTo = first
		r.CompletedAt = now
		if r.NeedsVerification() {
			r.Verification.ExpiresAt = now.Add(s.VerifyLinkTTL)
		}
		if err := s.move(ctx, r, request.Cancelled, "joined", "joined="+first); err != nil {
			return err
		}
	}
	// The request is closed: a raw message it came in goes, as at any
	// close. (An agent's request never joins, so no permission waits.)
	if err := s.ForgetMail(ctx, r); err != nil {
		return err
	}
	msg, err := notify.Joined(r.Language, r.Email, r.ID, first)
	if err != nil {
		return apperr.Wrap(apperr.Internal, "The message could not be written.", err)
	}
	if err := s.Mailer.Send(ctx, msg); err != nil {
		return err
	}
	return s.Store.Record(ctx, first, request.Event{At: s.Clock.Now(), Actor: actor, Action: "duplicate_joined", Note: "request=" + r.ID})
}
