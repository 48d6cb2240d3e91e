package workflow

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/links"
	"github.com/privacy-pipeline/dsr/internal/metrics"
	"github.com/privacy-pipeline/dsr/internal/notify"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/secret"
	"github.com/privacy-pipeline/dsr/internal/statute"
	"github.com/privacy-pipeline/dsr/internal/suppression"
)

// CloseOutcome is how the request workflow ends a request: each close task
// of the state machine names one in its input ("outcome").
type CloseOutcome string

const (
	// CloseCompleted: carried out; the subject gets what the type
	// delivers (see completion).
	CloseCompleted CloseOutcome = "completed"
	// CloseDenied: an operator refused it, with reasons.
	CloseDenied CloseOutcome = "denied"
	// CloseExpired: the subject never confirmed it.
	CloseExpired CloseOutcome = "expired"
	// CloseFailed: a step failed after its retries; an operator looks.
	CloseFailed CloseOutcome = "failed"
	// CloseAppealGranted: an operator granted an appeal; the request it
	// reverses is made again.
	CloseAppealGranted CloseOutcome = "appeal_granted"
	// CloseNothingToAppeal: the appeal names no decision its subject
	// can appeal.
	CloseNothingToAppeal CloseOutcome = "nothing_to_appeal"
)

// closeStep closes r with one outcome and returns what its subject is
// told; nil when the request is not closed for the subject (a failure,
// which an operator looks at).
type closeStep func(s *Steps, ctx context.Context, r *request.Request, now time.Time) (*notify.Message, error)

// closeSteps are the step of each outcome. A function, not a package
// variable: a variable's value is made when the package initialises, in
// every binary that imports workflow, which then links these steps and the
// mail templates they execute. Executing a template looks methods up by
// name, and a binary that can do that keeps every exported method of every
// type it puts in an interface, the AWS clients' hundreds of operations
// among them: it doubled the size of the functions that send no such mail.
func closeSteps() map[CloseOutcome]closeStep {
	return map[CloseOutcome]closeStep{
		CloseCompleted:       (*Steps).complete,
		CloseDenied:          (*Steps).deny,
		CloseExpired:         (*Steps).expire,
		CloseFailed:          (*Steps).flagFailure,
		CloseAppealGranted:   (*Steps).grantAppeal,
		CloseNothingToAppeal: (*Steps).closeNothingToAppeal,
	}
}

// CloseOutcomes are every outcome a close task may name, sorted.
func CloseOutcomes() []CloseOutcome {
	var out []CloseOutcome
	for o := range closeSteps() {
		out = append(out, o)
	}
	slices.Sort(out)
	return out
}

// CloseTask ends a request with an outcome.
type CloseTask struct {
	RequestID string       `json:"request_id"`
	Outcome   CloseOutcome `json:"outcome"`
}

// CloseRequest ends a request with the task's outcome and tells the
// subject. A closed request's raw mail and agent's permission are kept no
// longer, and its deadline watch stops. Running it again after a failure to
// send mails again (with a fresh link where there is one).
func (s *Steps) CloseRequest(ctx context.Context, in CloseTask) error {
	r, err := s.load(ctx, in.RequestID)
	if err != nil {
		return err
	}
	step, ok := closeSteps()[in.Outcome]
	if !ok {
		return apperr.E(apperr.Invalid, "Unknown outcome.")
	}
	now := s.Clock.Now()
	msg, err := step(s, ctx, r, now)
	if err != nil || msg == nil {
		return err
	}
	if err := s.ForgetMail(ctx, r); err != nil {
		return err
	}
	if err := s.ForgetPermission(ctx, r); err != nil {
		return err
	}
	if err := s.Mailer.Send(ctx, *msg); err != nil {
		return err
	}
	s.countClosed(r, now)
	// The request is closed: its watch has nothing left to guard, and ends
	// successfully.
	return s.Watch.End(ctx, r.ID)
}

// written is a message as a close step returns it: failing to write one is
// a fault of ours.
func written(msg notify.Message, err error) (*notify.Message, error) {
	if err != nil {
		return nil, apperr.Wrap(apperr.Internal, "The message could not be written.", err)
	}
	return &msg, nil
}

// complete completes a carried-out request as its type says.
func (s *Steps) complete(ctx context.Context, r *request.Request, now time.Time) (*notify.Message, error) {
	step := completion(r.Type)
	if step == nil {
		return nil, apperr.E(apperr.Invalid, "Unknown outcome.")
	}
	return step(s, ctx, r, now)
}

// completion is how a request of type t is completed: what it delivers
// and what its subject is told. An appeal is not completed this way: it is
// granted or denied.
func completion(t request.Type) closeStep {
	switch {
	case t == request.Access || t == request.Portability:
		return (*Steps).deliverPackage
	case t == request.Delete:
		return (*Steps).confirmErasure
	case t == request.Correct:
		return (*Steps).confirmCorrection
	case hasFlag(t):
		return (*Steps).confirmChoice
	}
	return nil
}

func hasFlag(t request.Type) bool {
	_, ok := suppression.FlagFor(t)
	return ok
}

// deliverPackage mails a fresh download link to the access package.
func (s *Steps) deliverPackage(ctx context.Context, r *request.Request, now time.Time) (*notify.Message, error) {
	if r.Delivery.ExportKey == "" {
		return nil, apperr.E(apperr.Conflict, "The access package was not built.")
	}
	token := secret.NewToken()
	r.Delivery.TokenHash = secret.Hash(token)
	r.Delivery.ExpiresAt = now.Add(s.DownloadTTL)
	r.CompletedAt = now
	if err := s.move(ctx, r, request.Completed, "completed", "delivered=download_link"); err != nil {
		return nil, err
	}
	return written(notify.DownloadReady(r.Language, r.Email, r.ID, links.Base(s.BaseURL).Download(r.ID, token, r.Language), r.Delivery.ExpiresAt))
}

// confirmErasure tells the subject what erasure did, or in a dry run what
// it would have done. It waits on no finding: the receipt step did.
func (s *Steps) confirmErasure(ctx context.Context, r *request.Request, now time.Time) (*notify.Message, error) {
	findings, err := s.openFindings(ctx, r)
	if err != nil {
		return nil, err // the receipt step waits on them; this is a redrive too early
	}
	outcomes, err := s.Outcomes.Outcomes(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	for i := range outcomes {
		outcomes[i].Findings = nil
		for _, f := range findings {
			if f.SourceID == outcomes[i].SourceID {
				outcomes[i].Findings = append(outcomes[i].Findings, f)
			}
		}
	}
	r.CompletedAt = now
	r.Hold.TaskToken = ""
	if r.DryRun {
		if err := s.move(ctx, r, request.Completed, "completed", "delivered=dry_run_report"); err != nil {
			return nil, err
		}
		return written(notify.DryRun(r.Language, r.Email, r.ID, s.erasureSummary(outcomes)))
	}
	recipients, err := s.toldRecipients(ctx, r)
	if err != nil {
		return nil, err
	}
	if err := s.move(ctx, r, request.Completed, "completed", "delivered=erasure_confirmation"); err != nil {
		return nil, err
	}
	// Data the law made us keep makes the deletion one in part, whose
	// notice carries what the law requires of it.
	summary, remedy := s.erasureSummary(outcomes), notify.Remedy{}
	if len(summary.Retained) > 0 {
		if remedy, err = s.remedy(r, statute.PartialNotice); err != nil {
			return nil, err
		}
	}
	return written(notify.Erased(r.Language, r.Email, r.ID, summary, remedy, recipients...))
}

// confirmCorrection tells the subject which fields were corrected.
func (s *Steps) confirmCorrection(ctx context.Context, r *request.Request, now time.Time) (*notify.Message, error) {
	if r.Correction.Fields == nil || (r.Status != request.InProgress && r.Status != request.Completed) {
		return nil, apperr.E(apperr.Conflict, "The corrections were not applied.")
	}
	recipients, err := s.toldRecipients(ctx, r)
	if err != nil {
		return nil, err
	}
	r.CompletedAt = now
	if err := s.move(ctx, r, request.Completed, "completed", "delivered=correction_confirmation"); err != nil {
		return nil, err
	}
	return written(notify.Corrected(r.Language, r.Email, r.ID, r.Correction.Fields, r.Correction.Items > 0, recipients...))
}

// confirmChoice tells the subject the flag of the request's type is on
// the suppression list.
func (s *Steps) confirmChoice(ctx context.Context, r *request.Request, now time.Time) (*notify.Message, error) {
	if r.Status != request.InProgress && r.Status != request.Completed { // completed: a retry after the mail failed
		return nil, apperr.E(apperr.Conflict, "The choice was not recorded.")
	}
	recipients, err := s.toldRecipients(ctx, r)
	if err != nil {
		return nil, err
	}
	r.CompletedAt = now
	if err := s.move(ctx, r, request.Completed, "completed", "delivered=choice_confirmation"); err != nil {
		return nil, err
	}
	return written(notify.Recorded(r.Language, r.Email, r.ID, string(r.Type), r.Via == request.ViaGPC, recipients...))
}

// expire closes a request its subject never confirmed.
func (s *Steps) expire(ctx context.Context, r *request.Request, now time.Time) (*notify.Message, error) {
	if r.Status == request.Verified {
		// Confirmed as the wait ran out: the confirmation finds the
		// workflow no longer waiting and undoes itself. Read again.
		return nil, apperr.Wrap(apperr.Unavailable, "A confirmation that came too late is being undone.", request.ErrChanged)
	}
	r.ClearVerification()
	r.Verification.TaskToken = ""
	remedy, err := s.remedy(r, statute.UnverifiedNotice)
	if err != nil {
		return nil, err
	}
	if err := s.move(ctx, r, request.Expired, "expired", "never_verified"); err != nil {
		return nil, err
	}
	return written(notify.NeverVerified(r.Language, r.Email, r.ID, remedy))
}

// deny tells the subject the operator's reasons for refusing the request
// and what they can do next. A denied appeal upholds the decision it named.
func (s *Steps) deny(ctx context.Context, r *request.Request, now time.Time) (*notify.Message, error) {
	reasons := r.Denial.Reasons
	if len(reasons) == 0 && r.Denial.OtherController == "" {
		return nil, apperr.E(apperr.Conflict, "A denial needs the operator's reasons.")
	}
	// An appeal's rule says what its denial carries: the Attorney
	// General where the law says so, never another appeal.
	remedy, err := s.remedy(r, statute.DenialNotice)
	if err != nil {
		return nil, err
	}
	r.Review.TaskToken, r.Hold.TaskToken = "", ""
	r.CompletedAt = now
	if err := s.move(ctx, r, request.Denied, "denied", fmt.Sprintf("reasons=%d", len(reasons))); err != nil {
		return nil, err
	}
	if r.Denial.OtherController != "" {
		return written(notify.NotController(r.Language, r.Email, r.ID, notify.Authority{Name: r.Denial.OtherController, URL: r.Denial.OtherControllerContact}))
	}
	remedy.Provision = r.Denial.Provision
	if r.Type != request.Appeal {
		return written(notify.Denial(r.Language, r.Email, r.ID, reasons, remedy))
	}
	if r.Appeal.Of != "" {
		// The decision the appeal named stands; its log says so.
		if err := s.Store.Record(ctx, r.Appeal.Of, request.Event{At: now, Actor: actor, Action: "appeal_upheld", Note: "appeal=" + r.ID}); err != nil && !apperr.Is(err, apperr.NotFound) {
			return nil, err
		}
	}
	return written(notify.AppealDecided(r.Language, r.Email, r.ID, false, reasons, remedy))
}

// flagFailure marks a request failed for an operator. The subject is not
// told of internal failures.
func (s *Steps) flagFailure(ctx context.Context, r *request.Request, _ time.Time) (*notify.Message, error) {
	if r.Status.Closed() {
		// Closed meanwhile (cancelled while a step ran): nothing to flag.
		return nil, nil
	}
	r.NeedsOperator = true
	return nil, s.move(ctx, r, request.Failed, "failed", "needs_operator")
}

// ForgetPermission deletes the signed permission of a closed request's
// agent: it was needed to verify the request, and is often a scan of an
// identity document. Where operators keep them a while
// (PermissionRetentionDays), the exports bucket's lifecycle rule deletes it
// that many days from now instead. Either way the audit log says so, by
// action and days alone. Running it again does no harm.
func (s *Steps) ForgetPermission(ctx context.Context, r *request.Request) error {
	if r.Agent.PermissionKey == "" {
		return nil
	}
	if s.Permissions == nil {
		return apperr.E(apperr.Internal, "No store of agents' permissions is configured.")
	}
	ev := request.Event{At: s.Clock.Now(), Actor: actor, Action: "agent_permission_deleted"}
	if days := s.PermissionRetentionDays; days > 0 {
		if err := s.Permissions.ExpirePermission(ctx, r.Agent.PermissionKey, r.Agent.PermissionType); err != nil {
			return err
		}
		ev.Action, ev.Note = "agent_permission_expires", fmt.Sprintf("after_days=%d", days)
	} else if err := s.Permissions.DeletePermission(ctx, r.Agent.PermissionKey); err != nil {
		return err
	}
	return s.Store.Record(ctx, r.ID, ev)
}

// countClosed records the metrics of a closed request.
func (s *Steps) countClosed(r *request.Request, now time.Time) {
	switch r.Status {
	case request.Completed:
		s.Metrics.Count(metrics.Completed, r)
		s.Metrics.Days(metrics.DaysToComplete, now.Sub(r.ReceivedAt).Hours()/24, r)
		if r.Deadlines.Jurisdiction != "" {
			s.Metrics.Days(metrics.HeadroomDays, r.Deadlines.Due.EndOfDay(r.Deadlines.Location()).Sub(now).Hours()/24, r)
		}
	case request.Denied:
		s.Metrics.Count(metrics.Denied, r)
	case request.Expired:
		s.Metrics.Count(metrics.Expired, r)
	}
}
