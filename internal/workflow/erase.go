package workflow

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/erasure"
	"github.com/privacy-pipeline/dsr/internal/notify"
	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// KeyHasher turns a key that may hold identity values (an object key with an
// email in it, an item key that is a user id) into a keyed hash, so that a
// receipt can show which keys erasure touched without holding them.
type KeyHasher interface {
	HashKey(ctx context.Context, key string) (string, error)
}

// Outcomes keeps what erasure did in each source of a request. An outcome
// put for a source replaces the one kept: outcomes are computed whole, from
// the erasure journal (Progress).
type Outcomes interface {
	PutOutcome(ctx context.Context, requestID string, o erasure.Outcome) error
	Outcomes(ctx context.Context, requestID string) ([]erasure.Outcome, error)
}

// Progress keeps the erasure journal of each request and source: every
// change is written down before it is made and marked done after (see
// erasure.Journal), so what each attempt did survives its failure, timeout
// or redrive, and the receipt counts every change once.
type Progress interface {
	Journal(requestID, sourceID string) erasure.Journal
	// Entries returns the steps of a source; with a key, that key's only.
	Entries(ctx context.Context, requestID, sourceID, key string) ([]erasure.Entry, error)
}

// Applier tells whether a change begun but not marked done was made; ids
// are the subject's, whose records a change made no longer shows.
type Applier interface {
	Applied(ctx context.Context, src *registry.Source, ids map[string][]string, s erasure.Step) (bool, error)
}

// settle decides the steps an earlier attempt began but did not mark done
// (it failed, timed out or was stopped in between): a change that was made
// is marked done, one that was not is forgotten and made again now.
func (s *Steps) settle(ctx context.Context, requestID string, src *registry.Source, key string, ids map[string][]string, a Applier) error {
	entries, err := s.Progress.Entries(ctx, requestID, src.ID, key)
	if err != nil {
		return err
	}
	j := s.Progress.Journal(requestID, src.ID)
	for _, e := range entries {
		if e.Done {
			continue
		}
		made, err := a.Applied(ctx, src, ids, e.Step)
		if err != nil {
			return err
		}
		mark := erasure.Drop
		if made {
			mark = erasure.Done
		}
		if err := mark(ctx, j, e.Step); err != nil {
			return err
		}
	}
	return nil
}

// journaled is what the journal says erasure did in a source, over every
// attempt.
func (s *Steps) journaled(ctx context.Context, requestID, sourceID string) (erasure.Result, error) {
	entries, err := s.Progress.Entries(ctx, requestID, sourceID, "")
	if err != nil {
		return erasure.Result{}, err
	}
	return erasure.Counted(entries), nil
}

// Receipts is the chain of erasure receipts.
type Receipts interface {
	// Append chains the request's receipt, sealed on the last one; a
	// request that has a receipt already gets it back.
	Append(ctx context.Context, requestID string, seal func(prev erasure.Link) (erasure.Link, error)) (erasure.Link, error)
}

// Anchors keeps each receipt's number and hash where they cannot be changed
// or deleted (see s3anchors).
type Anchors interface {
	Put(ctx context.Context, a erasure.Anchor) error
}

// WriteReceipt chains the request's erasure receipt: what erasure did in
// every source of the registry, in its order. Run again, it writes nothing
// new.
func (s *Steps) WriteReceipt(ctx context.Context, in RequestRef) error {
	r, err := s.load(ctx, in.RequestID)
	if err != nil {
		return err
	}
	if r.Type != request.Delete || r.Status != request.InProgress {
		return apperr.E(apperr.Conflict, "Only a delete request in progress gets an erasure receipt.")
	}
	findings, err := s.openFindings(ctx, r)
	if err != nil {
		return err
	}
	tasks, err := s.openManualTasks(ctx, r)
	if err != nil {
		return err
	}
	outcomes, err := s.Outcomes.Outcomes(ctx, r.ID)
	if err != nil {
		return err
	}
	ordered, err := s.inRegistryOrder(outcomes)
	if err != nil {
		return err
	}
	for i := range ordered {
		if ordered[i].Findings, err = s.forReceipt(ctx, findings, ordered[i].SourceID); err != nil {
			return err
		}
	}
	// Then the manual sources asked, each as its owner attested.
	for _, t := range tasks {
		src := s.Registry.Source(t.SourceID)
		if src == nil || src.Manual == nil {
			continue
		}
		o, err := s.attestation(ctx, src, t)
		if err != nil {
			return err
		}
		ordered = append(ordered, o)
	}
	// Then the recipients the erasure was passed on to, told or not.
	told, err := s.deliveries(ctx, r)
	if err != nil {
		return err
	}
	rec := erasure.Receipt{RequestID: r.ID, DryRun: r.DryRun, IssuedAt: s.Clock.Now().UTC(), Sources: ordered, Recipients: told}
	link, err := s.Receipts.Append(ctx, r.ID, func(prev erasure.Link) (erasure.Link, error) { return erasure.Seal(rec, prev) })
	if err != nil {
		return err
	}
	// Anchored after it is chained: a retry finds the receipt written and
	// anchors it then (anchoring again adds nothing).
	if s.Anchors != nil {
		if err := s.Anchors.Put(ctx, erasure.Anchor{Seq: link.Seq, Hash: link.Hash}); err != nil {
			return err
		}
	}
	note := fmt.Sprintf("receipt=%d hash=%s", link.Seq, link.Hash)
	return s.Store.Record(ctx, r.ID, request.Event{At: s.Clock.Now(), Actor: actor, Action: "receipt_written", Note: note})
}

// inRegistryOrder returns one outcome per source of the registry, in its
// order; a source without one was not erased, and no receipt may say so.
func (s *Steps) inRegistryOrder(outcomes []erasure.Outcome) ([]erasure.Outcome, error) {
	var ordered []erasure.Outcome
	for _, src := range s.Registry.Automated() {
		i := slices.IndexFunc(outcomes, func(o erasure.Outcome) bool { return o.SourceID == src.ID })
		if i < 0 {
			return nil, apperr.E(apperr.Conflict, fmt.Sprintf("Source %q has no erasure outcome yet; erase it before the receipt is written.", src.ID))
		}
		ordered = append(ordered, outcomes[i])
	}
	return ordered, nil
}

// EraseSource carries out a delete request in one source, as the source's
// erasure mode says: it deletes the subject's records, anonymizes them, or
// counts those the law requires to keep. What it did is kept for the
// request's receipt and confirmation.
func (s *Steps) EraseSource(ctx context.Context, in SourceTask) (SourceResult, error) {
	r, err := s.load(ctx, in.RequestID)
	if err != nil {
		return SourceResult{}, err
	}
	if r.Type != request.Delete || r.Status != request.InProgress {
		return SourceResult{}, apperr.E(apperr.Conflict, "Only a delete request in progress can erase.")
	}
	src, err := s.source(in.SourceID)
	if err != nil {
		return SourceResult{}, err
	}
	if in.Key != "" {
		return s.eraseObject(ctx, r, src, in.Key)
	}
	if r.OnHold && !r.DryRun {
		return SourceResult{}, apperr.Wrap(apperr.Conflict, "A legal hold blocks erasure until an operator releases it.", request.ErrOnHold)
	}
	o, findings, err := s.erase(ctx, r, src, r.Identities, r.DryRun)
	if err != nil {
		return SourceResult{}, err
	}
	if err := s.recordFindings(ctx, r, src, findings); err != nil {
		return SourceResult{}, err
	}
	if err := s.Outcomes.PutOutcome(ctx, r.ID, o); err != nil {
		return SourceResult{}, err
	}
	note := fmt.Sprintf("source=%s mode=%s records=%d", src.ID, src.Erasure, o.Records)
	if err := s.Store.Record(ctx, r.ID, request.Event{At: s.Clock.Now(), Actor: actor, Action: "source_erased", Note: note}); err != nil {
		return SourceResult{}, err
	}
	return SourceResult{SourceID: src.ID, Records: o.Records}, nil
}

// erase does, or in a dry run plans, the erasure of one source. It returns
// what it did and the places it could not handle (see erasure.Finding).
// What it did is what the journal holds: this attempt's changes and those
// of every earlier one, each once.
func (s *Steps) erase(ctx context.Context, r *request.Request, src *registry.Source, ids map[string][]string, dryRun bool) (erasure.Outcome, []erasure.Finding, error) {
	o := erasure.Outcome{SourceID: src.ID, Description: src.Description, Kind: src.Kind(), Mode: src.Erasure, DryRun: dryRun}
	if src.Erasure == registry.EraseRetain {
		records, findings, err := s.adapter(src).Find(ctx, src, ids)
		if err != nil {
			return erasure.Outcome{}, nil, err
		}
		o.Records, o.Retained = len(records), len(records)
		if len(records) > 0 {
			until, err := keptUntil(src.Retain, records, s.Clock.Now())
			if err != nil {
				return erasure.Outcome{}, nil, err
			}
			o.Retention = &erasure.Retention{Reason: src.Retain.Reason, Citation: src.Retain.Citation, Until: until.Format(time.DateOnly)}
		}
		return o, findings, nil
	}
	if dryRun {
		res, err := s.adapter(src).Erase(ctx, src, ids, true, nil)
		if err != nil {
			return erasure.Outcome{}, nil, err
		}
		o, err = s.erasedOutcome(ctx, o, src, res)
		return o, res.Findings, err
	}
	if err := s.settle(ctx, r.ID, src, "", ids, s.adapter(src)); err != nil {
		return erasure.Outcome{}, nil, err
	}
	res, err := s.adapter(src).Erase(ctx, src, ids, false, s.Progress.Journal(r.ID, src.ID))
	if err != nil {
		return erasure.Outcome{}, nil, err
	}
	done, err := s.journaled(ctx, r.ID, src.ID)
	if err != nil {
		return erasure.Outcome{}, nil, err
	}
	o, err = s.erasedOutcome(ctx, o, src, done)
	return o, res.Findings, err
}

// erasedOutcome completes o with what an adapter did in src (res), its
// touched keys hashed.
func (s *Steps) erasedOutcome(ctx context.Context, o erasure.Outcome, src *registry.Source, res erasure.Result) (erasure.Outcome, error) {
	touched, err := s.hashTouched(ctx, res.Touched)
	if err != nil {
		return erasure.Outcome{}, err
	}
	o.Touched = touched
	return countedOutcome(o, src, res), nil
}

// countedOutcome completes o with the counts of res (its Touched as given).
func countedOutcome(o erasure.Outcome, src *registry.Source, res erasure.Result) erasure.Outcome {
	o.Records, o.Deleted, o.Anonymized = res.Records, res.Deleted, res.Anonymized
	if src.Erasure == registry.EraseAnonymize {
		o.Fields = src.Anonymize
	}
	return o
}

// hashTouched returns the touched keys hashed; without a hasher, none.
func (s *Steps) hashTouched(ctx context.Context, touched []erasure.Touched) ([]erasure.Touched, error) {
	if s.KeyHasher == nil {
		return nil, nil
	}
	var out []erasure.Touched
	for _, t := range touched {
		var err error
		if t.Key, err = s.KeyHasher.HashKey(ctx, t.Key); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// keptUntil is the last day the last of the retained records is kept.
func keptUntil(rule *registry.RetainRule, records []map[string]any, now time.Time) (time.Time, error) {
	var last time.Time
	for _, rec := range records {
		until, err := rule.KeptUntil(rec, now)
		if errors.Is(err, registry.ErrNoDate) {
			return time.Time{}, apperr.E(apperr.Invalid, fmt.Sprintf("A retained record has no readable date in its field %q; the registry's retention rule cannot be applied.", rule.After))
		}
		if err != nil {
			return time.Time{}, apperr.Wrap(apperr.Internal, "The retention period could not be computed.", err)
		}
		if until.After(last) {
			last = until
		}
	}
	return last, nil
}

// erasureSummary is what the subject is told was kept, and why.
func (s *Steps) erasureSummary(outcomes []erasure.Outcome) notify.ErasureSummary {
	var sum notify.ErasureSummary
	if ordered, err := s.inRegistryOrder(outcomes); err == nil {
		outcomes = ordered
	}
	for _, o := range outcomes {
		what := o.Description
		if what == "" {
			what = o.SourceID
		}
		switch {
		case o.Retained > 0 && o.Retention != nil:
			until, _ := time.Parse(time.DateOnly, o.Retention.Until)
			sum.Retained = append(sum.Retained, notify.Retained{What: what, Records: o.Retained,
				Reason: o.Retention.Reason, Citation: o.Retention.Citation, Until: until})
		case o.Anonymized > 0:
			sum.Anonymized = append(sum.Anonymized, notify.Anonymized{What: what, Records: o.Anonymized, Fields: o.Fields})
		case o.Deleted+o.ErasedByHand() > 0:
			sum.Deleted = append(sum.Deleted, notify.Deleted{What: what, Records: o.Deleted + o.ErasedByHand()})
		}
	}
	return sum
}

// HoldTask asks the workflow to wait on a legal hold; TaskToken resumes it.
type HoldTask struct {
	RequestID string `json:"request_id"`
	TaskToken string `json:"task_token"`
}

// AwaitHold records the task token that releasing the request's legal hold
// resumes. A hold released meanwhile is reported (ErrNotOnHold), and the
// workflow goes straight back to erasing.
func (s *Steps) AwaitHold(ctx context.Context, in HoldTask) error {
	r, err := s.load(ctx, in.RequestID)
	if err != nil {
		return err
	}
	if in.TaskToken == "" {
		return apperr.E(apperr.Invalid, "The task input has no task token.")
	}
	// Large sources are worked again after the wait, from the start.
	var splittable []string // the sources a hold can mark
	for _, src := range s.Registry.Sources {
		if src.Splittable() {
			splittable = append(splittable, src.ID)
		}
	}
	if err := s.Exports.ClearHeld(ctx, r.ID, splittable); err != nil {
		return err
	}
	if !r.OnHold {
		return apperr.Wrap(apperr.Conflict, "The request is no longer on legal hold.", request.ErrNotOnHold)
	}
	now := s.Clock.Now()
	r.Hold.TaskToken, r.UpdatedAt = in.TaskToken, now
	return s.Store.Save(ctx, r, request.Event{At: now, Actor: actor, Action: "erasure_waits_on_hold", From: r.Status, To: r.Status})
}

// PlanErasure says what erasing a verified delete request would do in each
// source, changing nothing: it resolves the subject's identities if the
// workflow has not yet, and runs every source as a dry run. It is what
// "privacyctl erase --dry-run" prints.
func (s *Steps) PlanErasure(ctx context.Context, id string) ([]erasure.Outcome, error) {
	r, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	switch {
	case r.Type != request.Delete:
		return nil, apperr.E(apperr.Conflict, "Only a delete request erases anything.")
	case r.Status == request.Received || r.Status == request.PendingVerification:
		return nil, apperr.E(apperr.Conflict, "The request is not verified yet: whose data it is has not been confirmed.")
	case r.Status.Closed():
		return nil, apperr.E(apperr.Conflict, "The request is closed ("+string(r.Status)+").")
	}
	ids := r.Identities
	if len(ids) == 0 {
		if ids, err = s.resolve(ctx, r.Email, nil); err != nil {
			return nil, err
		}
	}
	var plan []erasure.Outcome
	for _, src := range s.Registry.Automated() {
		o, findings, err := s.erase(ctx, r, src, ids, true)
		if err != nil {
			return nil, err
		}
		o.Findings = findings // shown to the operator who asked, keys and all
		plan = append(plan, o)
	}
	return plan, nil
}
