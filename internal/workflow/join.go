package workflow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/notify"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// Slots keeps, per subject and request type, which request was last opened,
// so a second request of the same kind can find the first.
type Slots interface {
	SlotHolder(ctx context.Context, slot string) (string, error)
	// TakeSlot gives the slot to requestID if previous ("" for none) still
	// holds it; otherwise it fails with request.ErrChanged.
	TakeSlot(ctx context.Context, slot, requestID, previous string, expires time.Time) error
}

// AckResult says whether the request joined an open request of the same
// subject and type instead of going on.
type AckResult struct {
	Joined bool `json:"joined"`
}

// slotOf names the slot of the request's subject and type: a hash, since the
// slot's key is stored in clear.
func slotOf(r *request.Request) string {
	sum := sha256.Sum256([]byte("open:" + r.Email))
	return hex.EncodeToString(sum[:16]) + "#" + string(r.Type)
}

// joinable reports whether a new request of the same kind should join h:
// h is being carried out or about to be. A request waiting for its
// confirmation (or about to) is not joined, so a subject who lost the link
// gets a fresh one with the new request; a failed one waits for an operator.
func joinable(h *request.Request) bool {
	switch h.Status {
	case request.Received:
		return h.JoinedTo == "" && !h.NeedsVerification()
	case request.Verified, request.InProgress:
		return h.JoinedTo == ""
	}
	return false
}

// openFirst returns the open request of the same subject and type that r
// joins, or "" when r takes the slot and goes on itself.
func (s *Steps) openFirst(ctx context.Context, r *request.Request) (string, error) {
	if r.JoinedTo != "" {
		return r.JoinedTo, nil
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
			if err == nil && joinable(h) {
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
// (after the mail failed) mails again.
func (s *Steps) join(ctx context.Context, r *request.Request, first string) error {
	if r.JoinedTo == "" {
		r.JoinedTo = first
		r.CompletedAt = s.Clock.Now()
		if err := s.move(ctx, r, request.Cancelled, "joined", "joined="+first); err != nil {
			return err
		}
	}
	// An agent may have sent the permission before the request joined.
	if err := s.ForgetPermission(ctx, r); err != nil {
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
