package workflow

import (
	"context"
	"fmt"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// A mail may ask for several requests ("send me a copy, then delete my
// account"): each is a request of its own (request.MailSiblings), and they
// share the raw message. The erasure waits until the others are closed, and
// the message is deleted when the last of them closes.

// SiblingsCheck is what CheckSiblings found: how many of the other
// requests of the same mail are still open.
type SiblingsCheck struct {
	Open int `json:"open"`
}

// openSiblings counts the other requests of r's mail that are not closed.
// One that is not stored (its mail's handling never got that far) has
// nothing to wait for.
func (s *Steps) openSiblings(ctx context.Context, r *request.Request) (int, error) {
	open := 0
	for _, id := range r.Mail.Siblings {
		sib, err := s.Store.Get(ctx, id)
		switch {
		case apperr.Is(err, apperr.NotFound):
		case err != nil:
			return 0, err
		case !sib.Status.Closed():
			open++
		}
	}
	return open, nil
}

// CheckSiblings tells an erasure whether the other requests of its mail
// are closed; the state machine looks again a while later while any is
// open. The wait must leave time to erase: from the erasure's due date on,
// a sibling still open (failed, waiting for an operator) is one for an
// operator to settle, and the erasure fails to them.
func (s *Steps) CheckSiblings(ctx context.Context, in RequestRef) (SiblingsCheck, error) {
	r, err := s.load(ctx, in.RequestID)
	if err != nil {
		return SiblingsCheck{}, err
	}
	open, err := s.openSiblings(ctx, r)
	if err != nil || open == 0 {
		return SiblingsCheck{Open: open}, err
	}
	now := s.Clock.Now()
	if d := r.Deadlines; d.Jurisdiction != "" && !now.Before(d.Due.StartOfDay(d.Location())) {
		return SiblingsCheck{}, apperr.E(apperr.Conflict, fmt.Sprintf("The erasure is due and %d other request(s) of the same mail are still open.", open))
	}
	return SiblingsCheck{Open: open}, nil
}

// ForgetMail deletes the raw message a closed request came in, unless
// another request of the same mail is still open: that one deletes it when
// it closes. Requests close one at a time here, each saved closed before it
// looks (reads are consistent), so at least one of two closing together
// sees the other closed. Deleting again is harmless, so a repeated close
// does no harm.
func (s *Steps) ForgetMail(ctx context.Context, r *request.Request) error {
	if r.Mail.Key == "" {
		return nil
	}
	open, err := s.openSiblings(ctx, r)
	if err != nil {
		return err
	}
	if open > 0 {
		return s.Store.Record(ctx, r.ID, request.Event{At: s.Clock.Now(), Actor: actor, Action: "mail_kept", Note: fmt.Sprintf("open_siblings=%d", open)})
	}
	if err := s.RawMail.Delete(ctx, r.Mail.Key); err != nil {
		return err
	}
	return s.Store.Record(ctx, r.ID, request.Event{At: s.Clock.Now(), Actor: actor, Action: "mail_deleted"})
}
