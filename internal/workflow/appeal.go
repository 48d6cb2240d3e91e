package workflow

import (
	"context"
	"crypto/subtle"
	"fmt"
	"html"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/notify"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// FollowUps makes (or finds, when asked again) the request that carries
// out what a granted appeal reversed, and starts its workflow.
type FollowUps interface {
	FollowUp(ctx context.Context, appeal, decided *request.Request) (*request.Request, error)
}

// Why an appeal has nothing to appeal, for the audit log (never for the
// subject, who might have named someone else's request).
const (
	appealNotFound      = "not_found"
	appealOtherSubject  = "other_subject"
	appealOtherLaw      = "other_law"
	appealNotDecided    = "not_decided"
	appealOfAnAppeal    = "an_appeal"
	appealAppealedAfter = "appealed_before"
)

// awaitAppealDecision finds the decision an appeal reconsiders, marks it
// appealed, and waits for an operator to grant the appeal or uphold the
// decision, with reasons. An appeal that names nothing its subject can
// appeal fails with ErrNothingToAppeal (the workflow closes it).
func (s *Steps) awaitAppealDecision(ctx context.Context, appeal *request.Request, token string) error {
	decided, why, err := s.appealedDecision(ctx, appeal)
	if err != nil {
		return err
	}
	now := s.Clock.Now()
	if why != "" {
		if err := s.Store.Record(ctx, appeal.ID, request.Event{At: now, Actor: actor, Action: "appeal_checked", Note: "nothing_to_appeal reason=" + why}); err != nil {
			return err
		}
		return apperr.Wrap(apperr.Conflict, "The appeal names no decision its subject can appeal.", request.ErrNothingToAppeal)
	}
	if decided.Appeal.AppealedBy == "" {
		decided.Appeal.AppealedBy, decided.UpdatedAt = appeal.ID, now
		if err := s.Store.Save(ctx, decided, request.Event{At: now, Actor: actor, Action: "appealed", From: decided.Status, To: decided.Status, Note: "appeal=" + appeal.ID}); err != nil {
			return err
		}
	}
	appeal.Review.TaskToken = token
	to := appeal.Status
	if to == request.Verified {
		to = request.InProgress // not again after a redrive
	}
	ev, err := appeal.Move(to, now, actor, "review_requested", "appeal_of="+decided.ID)
	if err != nil {
		return err
	}
	if err := s.Store.Save(ctx, appeal, ev); err != nil {
		return err
	}
	if s.OperatorEmail == "" {
		return nil
	}
	text := fmt.Sprintf("Appeal %s asks to reconsider request %s (%s, %s). Decide by %s, giving the reasons; the subject is sent them:\n\n"+
		"privacyctl show %s\nprivacyctl approve %s --reason \"...\"   # grant: the request is carried out\nprivacyctl deny %s --reason \"...\"      # uphold the decision\n",
		appeal.ID, decided.ID, decided.Type, decided.Status, appeal.Deadlines.Due, decided.ID, appeal.ID, appeal.ID)
	return s.Mailer.Send(ctx, notify.Message{To: s.OperatorEmail, Subject: "Appeal: privacy request " + appeal.ID,
		Text: text, HTML: "<pre>" + html.EscapeString(text) + "</pre>"})
}

// appealedDecision is the request an appeal names, when its subject can
// appeal it: theirs (the same address), under the same law, decided
// (denied, or completed in a way they dispute), itself no appeal, and
// appealed by no other appeal. Otherwise why says what is wrong.
func (s *Steps) appealedDecision(ctx context.Context, appeal *request.Request) (decided *request.Request, why string, err error) {
	if !request.ValidID(appeal.Appeal.Of) {
		return nil, appealNotFound, nil
	}
	decided, err = s.Store.Get(ctx, appeal.Appeal.Of)
	switch {
	case apperr.Is(err, apperr.NotFound):
		return nil, appealNotFound, nil
	case err != nil:
		return nil, "", err
	}
	switch {
	case subtle.ConstantTimeCompare([]byte(decided.Email), []byte(appeal.Email)) != 1:
		// Said as not found to the subject: the reference may be another's.
		return nil, appealOtherSubject, nil
	case decided.Jurisdiction != appeal.Jurisdiction:
		return nil, appealOtherLaw, nil
	case decided.Type == request.Appeal:
		return nil, appealOfAnAppeal, nil
	case decided.Status != request.Denied && decided.Status != request.Completed:
		return nil, appealNotDecided, nil
	case decided.Appeal.AppealedBy != "" && decided.Appeal.AppealedBy != appeal.ID:
		return nil, appealAppealedAfter, nil
	}
	return decided, "", nil
}

// grantAppeal carries out a granted appeal: the request the decision
// refused is made again, verified and due within the appeal's period, and
// the subject is told the decision, its reasons, and the new request.
func (s *Steps) grantAppeal(ctx context.Context, appeal *request.Request, now time.Time) (*notify.Message, error) {
	switch {
	case appeal.Type != request.Appeal:
		return nil, apperr.E(apperr.Conflict, "Only an appeal is granted.")
	case len(appeal.Appeal.GrantReasons) == 0:
		return nil, apperr.E(apperr.Conflict, "A granted appeal needs the operator's reasons.")
	case s.FollowUps == nil:
		return nil, apperr.E(apperr.Internal, "No maker of follow-up requests is configured.")
	}
	decided, err := s.Store.Get(ctx, appeal.Appeal.Of)
	if err != nil {
		return nil, err
	}
	follow, err := s.FollowUps.FollowUp(ctx, appeal, decided)
	if err != nil {
		return nil, err
	}
	if appeal.Status != request.Completed { // completed: a retry after the mail failed
		appeal.Appeal.FollowUp, appeal.CompletedAt, appeal.Review.TaskToken = follow.ID, now, ""
		if err := s.move(ctx, appeal, request.Completed, "appeal_granted", "follow_up="+follow.ID); err != nil {
			return nil, err
		}
		if err := s.Store.Record(ctx, decided.ID, request.Event{At: now, Actor: actor, Action: "appeal_granted", Note: "appeal=" + appeal.ID + " follow_up=" + follow.ID}); err != nil {
			return nil, err
		}
	}
	return written(notify.AppealGranted(appeal.Language, appeal.Email, appeal.ID, appeal.Appeal.GrantReasons, follow.ID, dateTime(follow.Deadlines.Due)))
}

// closeNothingToAppeal closes an appeal that names no decision its subject
// can appeal, telling them so without saying which case it is.
func (s *Steps) closeNothingToAppeal(ctx context.Context, appeal *request.Request, now time.Time) (*notify.Message, error) {
	if appeal.Type != request.Appeal {
		return nil, apperr.E(apperr.Conflict, "Only an appeal has nothing to appeal.")
	}
	if appeal.Status != request.Denied { // denied: a retry after the mail failed
		appeal.CompletedAt, appeal.Review.TaskToken = now, ""
		if err := s.move(ctx, appeal, request.Denied, "nothing_to_appeal", ""); err != nil {
			return nil, err
		}
	}
	return written(notify.NothingToAppeal(appeal.Language, appeal.Email, appeal.ID, appeal.Appeal.Of))
}
