package operator

import (
	"context"
	"strings"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/erasure"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// Findings keeps the places in the sources that may hold a subject but
// could not be handled, and the task token of a workflow waiting on them.
type Findings interface {
	Findings(ctx context.Context, requestID string) ([]erasure.Finding, error)
	Resolve(ctx context.Context, requestID, findingID, resolution, who, note string, at time.Time) (erasure.Finding, error)
	Wait(ctx context.Context, requestID string) (string, error)
	ClearWait(ctx context.Context, requestID, token string) error
}

// ListFindings returns a request's findings.
func (o *Operator) ListFindings(ctx context.Context, id string) ([]erasure.Finding, error) {
	r, err := o.load(ctx, id)
	if err != nil {
		return nil, err
	}
	return o.Findings.Findings(ctx, r.ID)
}

// Resolve records what an operator found at the places a request's findings
// name: erased by hand (erasure.ResolvedErased) or not the subject's
// (erasure.ResolvedNotSubject). Each decision is audited under the
// operator's name. When the last blocking finding is resolved, a workflow
// waiting on them goes on to the receipt; called with no finding after a
// failure to resume, it resumes.
func (o *Operator) Resolve(ctx context.Context, id string, findingIDs []string, resolution, who, note string) error {
	if len(findingIDs) > 0 && resolution != erasure.ResolvedErased && resolution != erasure.ResolvedNotSubject {
		return apperr.InvalidFields(apperr.FieldError{Field: "resolution", Detail: "Say what the place held: erased by hand, or not the subject's."})
	}
	r, err := o.load(ctx, id)
	if err != nil {
		return err
	}
	if r.Status.Closed() {
		return apperr.E(apperr.Conflict, "The request is closed ("+string(r.Status)+").")
	}
	note = strings.TrimSpace(note)
	for _, fid := range findingIDs {
		f, err := o.Findings.Resolve(ctx, r.ID, fid, resolution, "operator:"+who, note, o.Clock.Now())
		if err != nil {
			return err
		}
		ev := request.Event{At: o.Clock.Now(), Actor: "operator:" + who, Action: "finding_resolved", Note: "finding=" + f.ID + " source=" + f.SourceID + " resolution=" + resolution}
		if err := o.Store.Record(ctx, r.ID, ev); err != nil {
			return err
		}
	}
	return o.resumeAfterFindings(ctx, r.ID, who)
}

// resumeAfterFindings resumes a workflow waiting on the request's findings
// once none of them blocks.
func (o *Operator) resumeAfterFindings(ctx context.Context, id, who string) error {
	fs, err := o.Findings.Findings(ctx, id)
	if err != nil || erasure.OpenBlocking(fs) > 0 {
		return err
	}
	token, err := o.Findings.Wait(ctx, id)
	if err != nil || token == "" {
		return err // not waiting (yet): the workflow goes on when it gets there
	}
	if err := o.Workflow.Resume(ctx, token); err != nil && !apperr.Is(err, apperr.Conflict) {
		return err // still waiting: privacyctl resolve ID resumes it
	}
	if err := o.Findings.ClearWait(ctx, id, token); err != nil {
		return err
	}
	return o.Store.Record(ctx, id, request.Event{At: o.Clock.Now(), Actor: "operator:" + who, Action: "findings_wait_resumed"})
}
