package workflow

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/console"
	"github.com/privacy-pipeline/dsr/internal/erasure"
	"github.com/privacy-pipeline/dsr/internal/metrics"
	"github.com/privacy-pipeline/dsr/internal/notify"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/sfnflow"
	"github.com/privacy-pipeline/dsr/internal/statute"
)

// Watch starts the deadline watch of a request and ends it when the request
// closes.
type Watch interface {
	Start(ctx context.Context, in sfnflow.WatchInput) error
	// End makes the wait the watch is in fail with RequestClosed, which the
	// watch catches into its Succeed state: an ordinary close leaves no
	// aborted execution behind.
	End(ctx context.Context, requestID string) error
}

// WatchWaits keeps the task token of the wait a request's deadline watch is
// in, beside the request and apart from it, so that keeping it never races
// the workflow's saves.
type WatchWaits interface {
	SetWatchWait(ctx context.Context, requestID, token string) error
}

// Metrics counts what operators watch and alarm on.
type Metrics interface {
	Count(name string, r *request.Request)
	Days(name string, days float64, r *request.Request)
}

// DefaultNoticeLead is how long before the last day for an extension notice
// the watch sends it, so the notice arrives in time.
const DefaultNoticeLead = 2 * 24 * time.Hour

// DeadlinePhase is the point of the deadline watch a check acts at: each
// check task of the watch names one in its input ("phase").
type DeadlinePhase string

const (
	// PhaseWait keeps the task token, which the close of the request ends,
	// while the watch waits for its next point.
	PhaseWait DeadlinePhase = "wait"
	// PhaseAsk does the same until the extension-notice point, and asks the
	// operators whether to extend: their answer resumes the watch.
	PhaseAsk DeadlinePhase = "ask"
	// PhaseNotice carries out their decision, or the policy when they made
	// none.
	PhaseNotice DeadlinePhase = "notice"
	// PhaseDue escalates a request still open at its due date.
	PhaseDue DeadlinePhase = "due"
)

// DeadlinePhases are every phase a check task may name.
var DeadlinePhases = []DeadlinePhase{PhaseWait, PhaseAsk, PhaseNotice, PhaseDue}

type (
	// DeadlineTask asks the watch's check to act at a phase.
	DeadlineTask struct {
		RequestID string        `json:"request_id"`
		Phase     DeadlinePhase `json:"phase"`
		TaskToken string        `json:"task_token,omitempty"`
	}
	// DeadlineResult says whether the request is still open and, after the
	// notice phase, until when to wait (scaled, RFC 3339 in UTC) and how many
	// seconds that is from now (at least one), which the watch's wait takes
	// as its timeout.
	DeadlineResult struct {
		Open        bool   `json:"open"`
		WaitUntil   string `json:"wait_until"`
		WaitSeconds int64  `json:"wait_seconds"`
	}
	// ReviewTask asks an operator to review a request; TaskToken resumes it.
	ReviewTask struct {
		RequestID string `json:"request_id"`
		TaskToken string `json:"task_token"`
	}
)

// stamp formats a statutory instant as the scaled workflow instant Wait
// states take.
func (s *Steps) stamp(r *request.Request, t time.Time) string {
	return s.Scale.At(r.ReceivedAt, t).Format(time.RFC3339)
}

func dateTime(d statute.Date) time.Time { return d.StartOfDay(time.UTC) }

// secondsUntil is how many workflow seconds from now statutory instant t
// arrives: at least one, as a task's timeout must be.
func (s *Steps) secondsUntil(r *request.Request, t time.Time) int64 {
	d := s.Scale.At(r.ReceivedAt, t).Sub(s.Clock.Now())
	return max(1, int64(math.Ceil(d.Seconds())))
}

// Acknowledge confirms receipt to the subject with the due date and starts
// the request's deadline watch. A request of a subject who has an open
// request of the same type is added to that one instead (Joined): the
// subject is told by mail, and nothing is done twice.
func (s *Steps) Acknowledge(ctx context.Context, in RequestRef) (AckResult, error) {
	r, err := s.load(ctx, in.RequestID)
	if err != nil {
		return AckResult{}, err
	}
	if r.Deadlines.Jurisdiction == "" {
		return AckResult{}, apperr.E(apperr.Internal, "The request has no deadlines.")
	}
	if s.Slots != nil {
		first, err := s.openFirst(ctx, r)
		if err != nil {
			return AckResult{}, err
		}
		if first != "" {
			return AckResult{Joined: true}, s.join(ctx, r, first)
		}
	}
	return AckResult{}, s.acknowledge(ctx, r)
}

func (s *Steps) acknowledge(ctx context.Context, r *request.Request) error {
	notice, ask := r.NoticePoint(s.NoticeLead), r.NoticePoint(s.NoticeLead+s.DecisionLead)
	in := sfnflow.WatchInput{RequestID: r.ID, AskAt: s.stamp(r, ask), NoticeAt: s.stamp(r, notice),
		AskInSeconds:      s.secondsUntil(r, ask),
		AskTimeoutSeconds: int64(s.Scale.Seconds(notice.Sub(ask)))}
	if err := s.Watch.Start(ctx, in); err != nil {
		return err
	}
	remedy, err := s.remedy(r, statute.AckNotice)
	if err != nil {
		return err
	}
	msg, err := notify.Acknowledgement(r.Language, r.Email, r.ID, string(r.Type), r.ReceivedAt, dateTime(r.Deadlines.Due), remedy)
	if err != nil {
		return apperr.Wrap(apperr.Internal, "The acknowledgement could not be written.", err)
	}
	if err := s.Mailer.Send(ctx, msg); err != nil {
		return err
	}
	s.Metrics.Count(metrics.Received, r)
	return s.Store.Record(ctx, r.ID, request.Event{At: s.Clock.Now(), Actor: actor, Action: "acknowledged", Note: "due=" + r.Deadlines.Due.String()})
}

// Extend moves the due date of an open request to the latest the law allows
// and tells the subject why, in the reasons an operator gives. The law
// allows one extension, announced before the first due date, and only where
// it is necessary; the company's policy may allow none.
func (s *Steps) Extend(ctx context.Context, r *request.Request, reasons []string, by string) error {
	if s.Policy.ExtensionsForbidden() {
		return apperr.E(apperr.Conflict, "The company's policy extends no request.")
	}
	return s.extend(ctx, r, reasons, func(remedy notify.Remedy) (notify.Message, error) {
		return notify.Extension(r.Language, r.Email, r.ID, reasons, dateTime(r.Deadlines.Due), remedy)
	}, by)
}

// extend records reasons and sends the notice write makes once the request
// is extended (it reads the new due date; remedy is what the law asks an
// extension notice to carry).
func (s *Steps) extend(ctx context.Context, r *request.Request, reasons []string, write func(remedy notify.Remedy) (notify.Message, error), by string) error {
	d := r.Deadlines
	switch {
	case r.Status.Closed():
		return apperr.E(apperr.Conflict, "The request is closed.")
	case !d.ExtensionAllowed || d.ExtendedDue == nil:
		return apperr.E(apperr.Conflict, "The law allows no extension for this request.")
	case r.Extended:
		return apperr.E(apperr.Conflict, "The request was already extended; the law allows one extension.")
	case d.ExtensionNoticeBy != nil && d.ExtensionNoticeBy.EndOfDay(r.Deadlines.Location()).Before(s.Clock.Now()):
		return apperr.E(apperr.Conflict, "Too late: the extension notice had to be sent by "+d.ExtensionNoticeBy.String()+".")
	case len(reasons) == 0:
		return apperr.InvalidFields(apperr.FieldError{Field: "reason", Detail: "Give the reasons for the extension; the law requires them."})
	}
	remedy, err := s.remedy(r, statute.ExtensionNotice)
	if err != nil {
		return err
	}
	from := d.Due
	r.Extended, r.Extension.Reasons = true, reasons
	r.Deadlines.Due = *d.ExtendedDue
	now := s.Clock.Now()
	r.UpdatedAt = now
	ev := request.Event{At: now, Actor: by, Action: "extended", From: r.Status, To: r.Status, Note: fmt.Sprintf("due=%s->%s", from, r.Deadlines.Due)}
	if err := s.Store.Save(ctx, r, ev); err != nil {
		return err
	}
	msg, err := write(remedy)
	if err != nil {
		return apperr.Wrap(apperr.Internal, "The extension notice could not be written.", err)
	}
	return s.Mailer.Send(ctx, msg)
}

// extensionOpen reports whether an extension is still to be decided: the
// request is confirmed and open, not extended, the law and the company
// allow one, and nobody decided yet. A request whose subject has not
// confirmed it has nothing to extend: it expires unconfirmed.
func (s *Steps) extensionOpen(r *request.Request) bool {
	unconfirmed := r.Status == request.Received || r.Status == request.PendingVerification
	return !r.Status.Closed() && !unconfirmed && !r.Extended && r.Extension.Decision == "" &&
		r.Deadlines.ExtensionAllowed && r.Deadlines.ExtendedDue != nil && !s.Policy.ExtensionsForbidden()
}

// askOperators asks the operators whether the request must be extended and
// records the task token their answer (privacyctl extend, or keep-date)
// resumes. With nothing to decide it asks nobody: the watch waits on until
// the notice point all the same.
func (s *Steps) askOperators(ctx context.Context, r *request.Request, token string) error {
	if !s.extensionOpen(r) {
		return nil
	}
	now := s.Clock.Now()
	r.Extension.TaskToken, r.UpdatedAt = token, now
	ev := request.Event{At: now, Actor: actor, Action: "extension_decision_asked", From: r.Status, To: r.Status, Note: "notice_by=" + r.Deadlines.ExtensionNoticeBy.String()}
	if err := s.Store.Save(ctx, r, ev); err != nil {
		return err
	}
	if s.OperatorEmail == "" {
		return nil
	}
	msg := notify.ExtensionDecision(s.OperatorEmail, r.ID, dateTime(*r.Deadlines.ExtensionNoticeBy), dateTime(r.Deadlines.Due), dateTime(*r.Deadlines.ExtendedDue))
	return s.Mailer.Send(ctx, msg)
}

// noticePoint carries out, at the last moment for an extension notice, what
// was decided: an operator's extension went out already; a decision to let
// the date stand keeps it. When nobody decided, the company's policy says:
// escalate (the default: the date stands, the request is flagged and the
// operators told), or extend giving as reasons only the facts the request's
// own state shows, and escalate when it shows none. No stock reason is ever
// sent.
func (s *Steps) noticePoint(ctx context.Context, r *request.Request) error {
	if !s.extensionOpen(r) {
		return nil
	}
	r.Extension.TaskToken = "" // the question's wait is over, unanswered
	if s.Policy.ExtendsWithFacts() {
		facts, err := s.extensionFacts(ctx, r)
		if err != nil {
			return err
		}
		if len(facts) > 0 {
			reasons := make([]string, len(facts))
			for i, f := range facts {
				reasons[i] = "fact:" + f
			}
			return s.extend(ctx, r, reasons, func(remedy notify.Remedy) (notify.Message, error) {
				return notify.ExtensionForFacts(r.Language, r.Email, r.ID, facts, dateTime(r.Deadlines.Due), remedy)
			}, actor)
		}
	}
	now := s.Clock.Now()
	r.Extension.Decision, r.NeedsOperator, r.UpdatedAt = request.ExtensionUndecided, true, now
	ev := request.Event{At: now, Actor: actor, Action: "extension_undecided", From: r.Status, To: r.Status, Note: "due=" + r.Deadlines.Due.String()}
	if err := s.Store.Save(ctx, r, ev); err != nil {
		return err
	}
	s.Metrics.Count(metrics.ExtensionUndecided, r)
	if s.OperatorEmail == "" {
		return nil
	}
	return s.Mailer.Send(ctx, notify.ExtensionUndecided(s.OperatorEmail, r.ID, dateTime(r.Deadlines.Due), dateTime(*r.Deadlines.ExtensionNoticeBy)))
}

// Facts an extension may give as its reasons when nobody decided: what the
// request's own state shows, each a catalogue key (mail.extended.fact.*).
const (
	FactLegalHold         = "legal_hold"
	FactFindingsOpen      = "findings_open"
	FactPermissionAwaited = "permission_awaited"
)

// extensionFacts are the facts of the request's state that keep it from
// being answered in time, which an extension may state as its reasons.
func (s *Steps) extensionFacts(ctx context.Context, r *request.Request) ([]string, error) {
	var facts []string
	if r.OnHold {
		facts = append(facts, FactLegalHold)
	}
	if s.Findings != nil && r.Type == request.Delete {
		fs, err := s.Findings.Findings(ctx, r.ID)
		if err != nil {
			return nil, err
		}
		if erasure.OpenBlocking(fs) > 0 {
			facts = append(facts, FactFindingsOpen)
		}
	}
	if r.Agent.Email != "" && r.Agent.PermissionKey == "" {
		facts = append(facts, FactPermissionAwaited)
	}
	return facts, nil
}

// CheckDeadline is the deadline watch's step. A set time before the notice
// point it asks the operators whether to extend (PhaseAsk); at the
// notice point it carries out their decision, or the policy (PhaseNotice),
// and says until when to wait; at the due date it escalates a
// request that is still open: flagged overdue, counted, and mailed to the
// operators.
func (s *Steps) CheckDeadline(ctx context.Context, in DeadlineTask) (DeadlineResult, error) {
	if !request.ValidID(in.RequestID) {
		return DeadlineResult{}, apperr.E(apperr.Invalid, "The task input has no valid request id.")
	}
	// Not s.load: a cancelled request is what ends a watch, not an error.
	r, err := s.Store.Get(ctx, in.RequestID)
	if err != nil {
		return DeadlineResult{}, err
	}
	closed := apperr.Wrap(apperr.Conflict, "The request is closed.", request.ErrClosed)
	if r.Status.Closed() {
		if in.Phase == PhaseWait || in.Phase == PhaseAsk {
			return DeadlineResult{}, closed
		}
		return DeadlineResult{Open: false}, nil
	}
	switch in.Phase {
	case PhaseWait, PhaseAsk:
		if in.TaskToken == "" {
			return DeadlineResult{}, apperr.E(apperr.Invalid, "The task input has no task token.")
		}
		if err := s.WatchWaits.SetWatchWait(ctx, r.ID, in.TaskToken); err != nil {
			return DeadlineResult{}, err
		}
		if in.Phase == PhaseAsk {
			if err := s.askOperators(ctx, r, in.TaskToken); err != nil {
				return DeadlineResult{}, err
			}
			// Owners of manual sources are reminded while the request
			// can still be answered without an extension.
			if err := s.remindOwners(ctx, r); err != nil {
				return DeadlineResult{}, err
			}
		}
		// Closed meanwhile, between the read and keeping the token: the
		// close found no wait to end, so this one ends now. A close after
		// this read finds the token.
		if r, err = s.Store.Get(ctx, r.ID); err != nil {
			return DeadlineResult{}, err
		}
		if r.Status.Closed() {
			return DeadlineResult{}, closed
		}
		return DeadlineResult{Open: true}, nil
	case PhaseNotice:
		if err := s.noticePoint(ctx, r); err != nil {
			return DeadlineResult{}, err
		}
		if err := s.escalateTasks(ctx, r); err != nil {
			return DeadlineResult{}, err
		}
		due := r.Deadlines.Due.EndOfDay(r.Deadlines.Location())
		return DeadlineResult{Open: true, WaitUntil: s.stamp(r, due), WaitSeconds: s.secondsUntil(r, due)}, nil
	case PhaseDue:
		if !r.Overdue {
			r.Overdue, r.NeedsOperator = true, true
			now := s.Clock.Now()
			r.UpdatedAt = now
			ev := request.Event{At: now, Actor: actor, Action: "overdue", From: r.Status, To: r.Status, Note: "due=" + r.Deadlines.Due.String()}
			if err := s.Store.Save(ctx, r, ev); err != nil {
				return DeadlineResult{}, err
			}
			s.Metrics.Count(metrics.Overdue, r)
		}
		if s.OperatorEmail != "" {
			msg, err := notify.Overdue(s.OperatorEmail, r.ID, dateTime(r.Deadlines.Due), s.consoleURL(r.ID))
			if err != nil {
				return DeadlineResult{}, apperr.Wrap(apperr.Internal, "The overdue notice could not be written.", err)
			}
			if err := s.Mailer.Send(ctx, msg); err != nil {
				return DeadlineResult{}, err
			}
		}
		return DeadlineResult{Open: true}, nil
	default:
		return DeadlineResult{}, apperr.E(apperr.Invalid, "Unknown phase.")
	}
}

// AwaitReview records the task token an operator's decision will resume.
func (s *Steps) AwaitReview(ctx context.Context, in ReviewTask) error {
	r, err := s.load(ctx, in.RequestID)
	if err != nil {
		return err
	}
	if in.TaskToken == "" {
		return apperr.E(apperr.Invalid, "The task input has no task token.")
	}
	if r.Type == request.Appeal {
		return s.awaitAppealDecision(ctx, r, in.TaskToken)
	}
	r.Review.TaskToken = in.TaskToken
	now := s.Clock.Now()
	r.UpdatedAt = now
	if err := s.Store.Save(ctx, r, request.Event{At: now, Actor: actor, Action: "review_requested", From: r.Status, To: r.Status}); err != nil {
		return err
	}
	if s.OperatorEmail == "" {
		return nil
	}
	if r.AwaitsCorrections() {
		return s.Mailer.Send(ctx, notify.Message{To: s.OperatorEmail,
			Subject: "Correct by hand: privacy request " + r.ID,
			Text: "Request " + r.ID + " is a confirmed correction whose letter gives the new values in words the rules could not read with confidence. " +
				"Read the letter and give them by " + r.Deadlines.Due.String() + ":\n\nprivacyctl letter " + r.ID + "\nprivacyctl approve " + r.ID +
				" --correct FIELD=VALUE ...\nprivacyctl deny " + r.ID + " --reason \"...\"\n",
			HTML: "<p>Request <strong>" + r.ID + "</strong> is a confirmed correction whose letter gives the new values in words the rules could not read with confidence. " +
				"Read the letter (<code>privacyctl letter " + r.ID + "</code>) and give them by " + r.Deadlines.Due.String() + " (<code>privacyctl approve " + r.ID + " --correct FIELD=VALUE</code>).</p>"})
	}
	return s.Mailer.Send(ctx, notify.Message{To: s.OperatorEmail,
		Subject: "Review: privacy request " + r.ID,
		Text:    "Request " + r.ID + " waits for your decision until " + r.Deadlines.Due.String() + ".\n\nprivacyctl approve " + r.ID + "\nprivacyctl deny " + r.ID + " --reason \"...\"\n",
		HTML:    "<p>Request <strong>" + r.ID + "</strong> waits for your decision until " + r.Deadlines.Due.String() + ".</p>"})
}

// consoleURL is the console page of the request's deadline watch (named by
// the request id), or "" where there is no console (the local stack).
func (s *Steps) consoleURL(requestID string) string {
	if s.WatchConsole == "" {
		return ""
	}
	return console.ExecutionURL(sfnflow.ExecutionARN(s.WatchConsole, requestID))
}
