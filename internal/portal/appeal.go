package portal

import (
	"context"
	"crypto/subtle"
	"fmt"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/secret"
	"github.com/privacy-pipeline/dsr/internal/statute"
)

// appealUnderItsLaw gives an appeal the law of the decision it appeals:
// its deadline is that law's, whatever law the form or the mailbox
// assumed. Something is taken from the decided request only when it is the
// same person's (the same address) and its law gives an appeal; otherwise
// the appeal keeps the law it names and, once its subject confirms it, is
// closed as having nothing to appeal. So nothing answered here tells
// whether a request exists, or whose it is.
func (p *Portal) appealUnderItsLaw(ctx context.Context, in request.Submission) (request.Submission, error) {
	if request.Type(in.Type) != request.Appeal {
		return in, nil
	}
	decided, err := p.Store.Get(ctx, in.AppealOf)
	switch {
	case apperr.Is(err, apperr.NotFound):
		return in, nil
	case err != nil:
		return in, err
	}
	if !sameAddress(decided.Email, in.Email) {
		return in, nil
	}
	if granted, _ := p.Statute.Grants(decided.Jurisdiction, string(request.Appeal)); granted {
		in.Jurisdiction = decided.Jurisdiction
	}
	return in, nil
}

// sameAddress compares two normalized addresses in constant time.
func sameAddress(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// FollowUp makes, or finds, the request that carries out what a granted
// appeal reversed, and starts its workflow: the appealed request's type,
// subject, law and corrections, received now and already verified (the
// subject confirmed the appeal from the same address), without another
// operator review (the appeal was that review). It is due by the appeal's
// own date at the latest, without extension: the law wants the action taken
// within the appeal's period. Its id derives from the appeal's, so a retry
// finds the request it made.
func (p *Portal) FollowUp(ctx context.Context, appeal, decided *request.Request) (*request.Request, error) {
	if appeal.Type != request.Appeal || appeal.Appeal.Of != decided.ID {
		return nil, apperr.E(apperr.Internal, "A follow-up is made for a granted appeal of the request it names.")
	}
	id := request.FollowUpID(appeal.ID, appeal.ReceivedAt)
	r, err := p.Store.Get(ctx, id)
	switch {
	case err == nil:
		return r, p.startFollowUp(ctx, r)
	case !apperr.Is(err, apperr.NotFound):
		return nil, err
	}
	now := p.Clock.Now()
	in := request.Submission{Type: string(decided.Type), Email: decided.Email, Jurisdiction: decided.Jurisdiction, Language: string(decided.Language)}
	if len(decided.Correction.Values) > 0 {
		c := decided.Correction.Values
		in.Corrections = &c
	}
	r, ev := request.NewFollowUp(in, appeal, now)
	if r.Deadlines, err = p.Statute.Compute(statute.Input{Jurisdiction: r.Jurisdiction, Type: string(r.Type), Received: now}); err != nil {
		return nil, apperr.Wrap(apperr.Internal, "No deadline rules for the appealed request's type.", err)
	}
	r.Deadlines = withinAppeal(p.Policy.Deadlines(r.Deadlines), appeal)
	r.StatusTokenHash = secret.Hash(secret.NewToken()) // no status link: the subject follows it by mail
	if err := p.Store.Save(ctx, r, ev); err != nil {
		if !apperr.Is(err, apperr.Conflict) {
			return nil, err
		}
		// A retry running at the same time made it first.
		if r, err = p.Store.Get(ctx, id); err != nil {
			return nil, err
		}
	}
	return r, p.startFollowUp(ctx, r)
}

// startFollowUp starts a follow-up's workflow; one that runs, or ran, is
// left alone.
func (p *Portal) startFollowUp(ctx context.Context, r *request.Request) error {
	if err := p.Workflow.Start(ctx, p.WorkflowInput(r)); err != nil && !apperr.Is(err, apperr.Conflict) {
		return err
	}
	return nil
}

// withinAppeal ends a follow-up's period no later than the appeal's due
// date, and then allows no extension.
func withinAppeal(d statute.Deadlines, appeal *request.Request) statute.Deadlines {
	due := appeal.Deadlines.Due
	if !due.Before(d.Due) {
		return d
	}
	d.Due, d.ExtensionAllowed, d.ExtensionNoticeBy, d.ExtendedDue = due, false, nil, nil
	d.Citations = append(append([]string(nil), d.Citations...), fmt.Sprintf("carried out within the period of appeal %s", appeal.ID))
	return d
}
