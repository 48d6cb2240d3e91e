package workflow

import (
	"context"
	"fmt"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/metrics"
	"github.com/privacy-pipeline/dsr/internal/notify"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/sfnflow"
	"github.com/privacy-pipeline/dsr/internal/statute"
)

// Watch starts and stops the deadline watch of a request.
type Watch interface {
	Start(ctx context.Context, in sfnflow.WatchInput) error
	Stop(ctx context.Context, requestID string) error
}

// Metrics counts what operators watch and alarm on.
type Metrics interface {
	Count(name string, r *request.Request)
	Days(name string, days float64, r *request.Request)
}

// DefaultExtensionReasons are recorded when the deadline watch extends a
// request on which nobody recorded a reason: the condition the laws name. The
// subject reads it in their language (the catalogue's
// mail.extended.default_reason).
var DefaultExtensionReasons = []string{"The request is complex and we need more time to find your data in all our systems."}

// DefaultNoticeLead is how long before the last day for an extension notice
// the watch sends it, so the notice arrives in time.
const DefaultNoticeLead = 2 * 24 * time.Hour

type (
	// DeadlineTask asks the watch's check to act at a phase: "notice" (send
	// an extension notice if needed) or "due" (escalate if still open).
	DeadlineTask struct {
		RequestID string `json:"request_id"`
		Phase     string `json:"phase"`
	}
	// DeadlineResult says whether the request is still open and, after the
	// notice phase, until when to wait (scaled, RFC 3339 in UTC).
	DeadlineResult struct {
		Open      bool   `json:"open"`
		WaitUntil string `json:"wait_until"`
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
	if err := s.Watch.Start(ctx, sfnflow.WatchInput{RequestID: r.ID, NoticeAt: s.stamp(r, r.NoticePoint(s.NoticeLead))}); err != nil {
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
// and tells the subject why. The law allows one extension, announced before
// the first due date; anything else is refused.
func (s *Steps) Extend(ctx context.Context, r *request.Request, reasons []string, by string) error {
	return s.extend(ctx, r, reasons, reasons, by)
}

// extend records reasons and tells the subject told (nil: the catalogue's
// default reason, in the subject's language).
func (s *Steps) extend(ctx context.Context, r *request.Request, reasons, told []string, by string) error {
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
	r.Extended, r.ExtensionReasons = true, reasons
	r.Deadlines.Due = *d.ExtendedDue
	now := s.Clock.Now()
	r.UpdatedAt = now
	ev := request.Event{At: now, Actor: by, Action: "extended", From: r.Status, To: r.Status, Note: fmt.Sprintf("due=%s->%s", from, r.Deadlines.Due)}
	if err := s.Store.Save(ctx, r, ev); err != nil {
		return err
	}
	msg, err := notify.Extension(r.Language, r.Email, r.ID, told, dateTime(r.Deadlines.Due), remedy)
	if err != nil {
		return apperr.Wrap(apperr.Internal, "The extension notice could not be written.", err)
	}
	return s.Mailer.Send(ctx, msg)
}

// CheckDeadline is the deadline watch's step. At the notice point it extends
// a request that is still open (if the law allows and nobody has yet) and
// says until when to wait; at the due date it escalates a request that is
// still open: flagged overdue, counted, and mailed to the operators.
func (s *Steps) CheckDeadline(ctx context.Context, in DeadlineTask) (DeadlineResult, error) {
	r, err := s.load(ctx, in.RequestID)
	if err != nil {
		return DeadlineResult{}, err
	}
	if r.Status.Closed() {
		return DeadlineResult{Open: false}, nil
	}
	switch in.Phase {
	case "notice":
		if r.Deadlines.ExtensionAllowed && !r.Extended {
			// Reasons an operator recorded go to the subject as written;
			// without them the law's condition is given, in the subject's
			// language, and recorded in English.
			reasons, told := r.ExtensionReasons, r.ExtensionReasons
			if len(reasons) == 0 {
				reasons, told = DefaultExtensionReasons, nil
			}
			if err := s.extend(ctx, r, reasons, told, actor); err != nil {
				return DeadlineResult{}, err
			}
		}
		return DeadlineResult{Open: true, WaitUntil: s.stamp(r, r.Deadlines.Due.EndOfDay(r.Deadlines.Location()))}, nil
	case "due":
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
			msg, err := notify.Overdue(s.OperatorEmail, r.ID, dateTime(r.Deadlines.Due))
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
	r.ReviewTaskToken = in.TaskToken
	now := s.Clock.Now()
	r.UpdatedAt = now
	if err := s.Store.Save(ctx, r, request.Event{At: now, Actor: actor, Action: "review_requested", From: r.Status, To: r.Status}); err != nil {
		return err
	}
	if s.OperatorEmail == "" {
		return nil
	}
	return s.Mailer.Send(ctx, notify.Message{To: s.OperatorEmail,
		Subject: "Review: privacy request " + r.ID,
		Text:    "Request " + r.ID + " waits for your decision until " + r.Deadlines.Due.String() + ".\n\nprivacyctl approve " + r.ID + "\nprivacyctl deny " + r.ID + " --reason \"...\"\n",
		HTML:    "<p>Request <strong>" + r.ID + "</strong> waits for your decision until " + r.Deadlines.Due.String() + ".</p>"})
}
