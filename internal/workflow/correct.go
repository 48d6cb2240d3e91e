package workflow

import (
	"context"
	"fmt"
	"strings"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// Corrector changes attributes of the subject's records in a source.
type Corrector interface {
	Correct(ctx context.Context, src *registry.Source, ids map[string][]string, values map[string]string) (int, error)
}

// ApplyCorrections writes the new values of a verified correction request
// to the subject's profile, the registry's account source, and audits which
// fields changed in how many records (never the values). The values are
// then cleared from the request (the profile holds them now), unless the
// registry names recipients told of corrections: those need the values,
// and TellRecipients clears them once it has passed them on. Running the
// step again after it succeeded changes nothing.
func (s *Steps) ApplyCorrections(ctx context.Context, in RequestRef) error {
	r, err := s.load(ctx, in.RequestID)
	if err != nil {
		return err
	}
	if r.Type != request.Correct || r.Status != request.InProgress {
		return apperr.E(apperr.Conflict, "Only a verified correction request in progress can correct.")
	}
	if r.Correction.Fields != nil {
		return nil // applied already
	}
	if len(r.Correction.Values) == 0 {
		return apperr.E(apperr.Conflict, "The request holds no corrections.")
	}
	src := s.Registry.Account()
	if src == nil || len(src.Correctable) == 0 || s.Corrector == nil {
		return apperr.E(apperr.Conflict, "The registry names no profile whose fields can be corrected.")
	}
	if bad := request.CheckCorrectable(r.Correction.Values, src.Correctable); len(bad) > 0 {
		return apperr.E(apperr.Conflict, "The registry no longer lets every requested field be corrected.")
	}
	n, err := s.Corrector.Correct(ctx, src, r.Identities, r.Correction.Values)
	if err != nil {
		return err
	}
	r.Correction.Fields, r.Correction.Items = r.Correction.Values.Fields(), n
	// The new values stay while recipients are to be told of them, or the
	// owners (or endpoints) of systems the pipeline cannot change are to
	// apply them; the step that tells recipients clears them after.
	if (n == 0 || len(s.Registry.NotifiedOf(string(request.Correct))) == 0) && len(s.manualSources(r)) == 0 {
		r.Correction.Values = nil
	}
	return s.move(ctx, r, request.InProgress, "corrected",
		fmt.Sprintf("source=%s fields=%s records=%d", src.ID, strings.Join(r.Correction.Fields, ","), n))
}
