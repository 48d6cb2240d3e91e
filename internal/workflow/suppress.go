package workflow

import (
	"context"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/resources"
	"github.com/privacy-pipeline/dsr/internal/suppression"
)

// RecordSuppression sets the flag the request's type asks for (opt-out,
// limit, restriction, objection) on the subject's entry in the suppression
// list, and audits it. A flag set before stays as it was, with the request
// that set it first; running the step again changes nothing.
func (s *Steps) RecordSuppression(ctx context.Context, in RequestRef) error {
	r, err := s.load(ctx, in.RequestID)
	if err != nil {
		return err
	}
	if s.Suppressions == nil {
		return apperr.E(apperr.Internal, "The suppression list is not configured ("+resources.Suppressions.EnvVar+").")
	}
	flag, ok := suppression.FlagFor(r.Type)
	if !ok {
		return apperr.E(apperr.Conflict, "This request type sets no suppression flag.")
	}
	switch {
	case r.Status == request.Verified || r.Status == request.InProgress:
	case r.Status == request.Received && !r.NeedsVerification():
	default:
		return apperr.E(apperr.Conflict, "Only a verified request, or one the law lets go unverified, can set a flag.")
	}
	via := r.Via
	if via == "" {
		via = "request"
	}
	key := suppression.SubjectKey(r.Email)
	set, err := s.Suppressions.Set(ctx, key, flag, suppression.Entry{RequestID: r.ID, At: s.Clock.Now(), Via: via})
	if err != nil {
		return err
	}
	note := "flag=" + string(flag)
	if !set {
		flags, err := s.Suppressions.Get(ctx, key)
		if err != nil {
			return err
		}
		if first := flags[flag].RequestID; first != r.ID {
			note += "; set_before_by=" + first
		}
	}
	return s.move(ctx, r, request.InProgress, "suppression_recorded", note)
}
