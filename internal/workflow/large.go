package workflow

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/erasure"
	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// Large sources. An S3 source with more objects than one task should read is
// worked one object per task: the state machine lists the objects itself (a
// Distributed Map over the source's prefix) and runs CollectSource or
// EraseSource with the object's key. Each task stores what it found or did in
// its object as an object result in the exports bucket; FinishLargeSource
// merges them once every object is done. Execution data holds only ids, the
// source's bucket and prefix, object keys and counts.

// ObjectSource works an S3 source one object at a time.
type ObjectSource interface {
	Oversized(ctx context.Context, src *registry.Source, maxObjects int, maxBytes int64) (bool, error)
	FindInObject(ctx context.Context, src *registry.Source, ids map[string][]string, key string) ([]map[string]any, []erasure.Finding, error)
	EraseInObject(ctx context.Context, src *registry.Source, ids map[string][]string, key string, dryRun bool, j erasure.Journal) (erasure.Result, error)
	Applier
}

// DefaultLargeMinObjects: a source with more objects than this is large.
const DefaultLargeMinObjects = 1000

// DefaultLargeMinBytes: a source holding more bytes than this is large too,
// however few its objects. One invocation reads about 80 MB/s from S3 at
// most, and rewrites Parquet at a few MB/s in 512 MB: a gibibyte is well
// within its five minutes, where a few large files would not be.
const DefaultLargeMinBytes int64 = 1 << 30

type (
	// LargeSource is a source the state machine works object by object: the
	// bucket and prefix its Distributed Map lists.
	LargeSource struct {
		SourceID string `json:"source_id"`
		Bucket   string `json:"bucket"`
		Prefix   string `json:"prefix"`
	}
	// LargeSourceTask finishes the first large source of the plan.
	LargeSourceTask struct {
		RequestID string `json:"request_id"`
		Plan      Plan   `json:"plan"`
	}
)

// objectResult is what one per-object task found (Records) or did
// (Erasure) in one object.
type objectResult struct {
	Key     string           `json:"key"`
	Records []map[string]any `json:"records,omitempty"`
	Erasure *erasure.Result  `json:"erasure,omitempty"`
}

// plan splits the registry's sources into those worked in one task and the
// large ones.
func (s *Steps) plan(ctx context.Context, r *request.Request) (Plan, error) {
	p := Plan{Sources: []string{}, Large: []LargeSource{}}
	// Manual sources are their owners' work (see manual.go).
	for _, src := range s.Registry.Automated() {
		large, err := s.large(ctx, r, src)
		if err != nil {
			return Plan{}, err
		}
		if large {
			p.Large = append(p.Large, LargeSource{SourceID: src.ID, Bucket: src.S3.Bucket, Prefix: src.S3.Prefix})
		} else {
			p.Sources = append(p.Sources, src.ID)
		}
	}
	return p.withNext(), nil
}

// withNext sets Next to the first large source.
func (p Plan) withNext() Plan {
	p.Next = nil
	if len(p.Large) > 0 {
		next := p.Large[0]
		p.Next = &next
	}
	return p
}

// large reports whether a source is worked object by object: an S3 source
// with a fixed prefix (a key template already narrows it to the subject's
// folders) holding more than LargeMinObjects objects or LargeMinBytes bytes,
// unless a delete request only counts what it keeps there.
func (s *Steps) large(ctx context.Context, r *request.Request, src *registry.Source) (bool, error) {
	if s.Objects == nil || s.LargeMinObjects <= 0 || !src.Splittable() ||
		(r.Type == request.Delete && src.Erasure == registry.EraseRetain) {
		return false, nil
	}
	return s.Objects.Oversized(ctx, src, s.LargeMinObjects, cmp.Or(s.LargeMinBytes, DefaultLargeMinBytes))
}

// collectObject stores the subject's records in one object of a large source.
func (s *Steps) collectObject(ctx context.Context, r *request.Request, src *registry.Source, key string) (SourceResult, error) {
	if s.Objects == nil {
		return SourceResult{}, apperr.E(apperr.Invalid, "Sources are not worked object by object here.")
	}
	records, findings, err := s.Objects.FindInObject(ctx, src, r.Identities, key)
	if err != nil {
		return SourceResult{}, err
	}
	if err := s.recordFindings(ctx, r, src, findings); err != nil {
		return SourceResult{}, err
	}
	if len(records) > 0 {
		if err := s.putObjectResult(ctx, r.ID, src.ID, objectResult{Key: key, Records: src.Exported(records)}); err != nil {
			return SourceResult{}, err
		}
	}
	return SourceResult{SourceID: src.ID, Records: len(records)}, nil
}

// eraseObject erases the subject in one object of a large source.
func (s *Steps) eraseObject(ctx context.Context, r *request.Request, src *registry.Source, key string) (SourceResult, error) {
	if s.Objects == nil {
		return SourceResult{}, apperr.E(apperr.Invalid, "Sources are not worked object by object here.")
	}
	if r.OnHold && !r.DryRun {
		// A child of a Distributed Map cannot fail its map with an error the
		// workflow catches by name: it marks the source held and changes
		// nothing; finishing the source then waits on the hold, and the
		// source is worked again once it is released.
		return SourceResult{SourceID: src.ID}, s.Exports.MarkHeld(ctx, r.ID, src.ID)
	}
	if !r.DryRun {
		// The journal keeps what each object's task did: finishing the
		// source adds it up, every change once.
		if err := s.settle(ctx, r.ID, src, key, r.Identities, s.Objects); err != nil {
			return SourceResult{}, err
		}
		res, err := s.Objects.EraseInObject(ctx, src, r.Identities, key, false, s.Progress.Journal(r.ID, src.ID))
		if err != nil {
			return SourceResult{}, err
		}
		return SourceResult{SourceID: src.ID, Records: res.Records}, s.recordFindings(ctx, r, src, res.Findings)
	}
	res, err := s.Objects.EraseInObject(ctx, src, r.Identities, key, true, nil)
	if err != nil {
		return SourceResult{}, err
	}
	if err := s.recordFindings(ctx, r, src, res.Findings); err != nil {
		return SourceResult{}, err
	}
	res.Findings = nil // kept with the request, where the keys may stay clear
	// Hashed here, where erasure may use the receipt key; the object result
	// then holds only hashed keys besides its own.
	if res.Touched, err = s.hashTouched(ctx, res.Touched); err != nil {
		return SourceResult{}, err
	}
	// A dry run changes nothing: what it would do is kept per object.
	if res.Records > 0 || res.Deleted > 0 || res.Anonymized > 0 || len(res.Touched) > 0 {
		if err := s.putObjectResult(ctx, r.ID, src.ID, objectResult{Key: key, Erasure: &res}); err != nil {
			return SourceResult{}, err
		}
	}
	return SourceResult{SourceID: src.ID, Records: res.Records}, nil
}

func (s *Steps) putObjectResult(ctx context.Context, requestID, sourceID string, res objectResult) error {
	b, err := json.Marshal(res)
	if err != nil {
		return apperr.Wrap(apperr.Internal, "An object's result could not be encoded.", err)
	}
	return s.Exports.PutObjectResult(ctx, requestID, sourceID, res.Key, b)
}

// FinishLargeSource merges the object results of the plan's first large
// source, once its Distributed Map is done: for access, into the source's
// part of the package; for erasure, into the source's outcome and the audit
// log. It returns the plan without that source.
func (s *Steps) FinishLargeSource(ctx context.Context, in LargeSourceTask) (Plan, error) {
	r, err := s.load(ctx, in.RequestID)
	if err != nil {
		return Plan{}, err
	}
	if len(in.Plan.Large) == 0 {
		return Plan{}, apperr.E(apperr.Invalid, "The plan has no large source left.")
	}
	src, err := s.source(in.Plan.Large[0].SourceID)
	if err != nil {
		return Plan{}, err
	}
	raw, err := s.Exports.ObjectResults(ctx, r.ID, src.ID)
	if err != nil {
		return Plan{}, err
	}
	results := make([]objectResult, len(raw))
	for i, b := range raw {
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.UseNumber()
		if err := dec.Decode(&results[i]); err != nil {
			return Plan{}, apperr.Wrap(apperr.Internal, "An object's result could not be read.", err)
		}
	}
	// In key order, as a single task would have met them.
	slices.SortFunc(results, func(a, b objectResult) int { return strings.Compare(a.Key, b.Key) })
	switch r.Type {
	case request.Delete:
		if r.Status != request.InProgress {
			return Plan{}, apperr.E(apperr.Conflict, "Only a delete request in progress can erase.")
		}
		if err := s.heldBack(ctx, r, src); err != nil {
			return Plan{}, err
		}
		if err := s.finishErasure(ctx, r, src, results); err != nil {
			return Plan{}, err
		}
	default:
		// A part already written is this run's (a collection starts
		// afresh, see clearLargeWork): an earlier attempt of this step
		// merged it and timed out after, maybe with the object results
		// already removed. It is kept, never written again from what is left.
		written, err := s.Exports.HasPart(ctx, r.ID, src.ID)
		switch {
		case err == nil && !written:
			records := []map[string]any{}
			for _, res := range results {
				records = append(records, res.Records...)
			}
			if err := s.Exports.PutPart(ctx, r.ID, src.ID, records); err != nil {
				return Plan{}, err
			}
		case err != nil:
			return Plan{}, err
		}
	}
	if err := s.Exports.DeleteObjectResults(ctx, r.ID, src.ID); err != nil {
		return Plan{}, err
	}
	return Plan{Sources: in.Plan.Sources, Large: in.Plan.Large[1:]}.withNext(), nil
}

// heldBack fails with ErrOnHold when a legal hold kept tasks from erasing
// in some objects of the source: the workflow waits until the hold is
// released (or goes on at once if it already is), the wait clears the mark
// (AwaitHold), and the source is worked again. The results of objects
// already erased stay, and finishing counts them then. The mark stays until
// that wait, so a retry of this step fails the same way.
func (s *Steps) heldBack(ctx context.Context, r *request.Request, src *registry.Source) error {
	held, err := s.Exports.Held(ctx, r.ID, src.ID)
	if err != nil || !held {
		return err
	}
	note := "source=" + src.ID
	if err := s.Store.Record(ctx, r.ID, request.Event{At: s.Clock.Now(), Actor: actor, Action: "erasure_held_in_objects", Note: note}); err != nil {
		return err
	}
	return apperr.Wrap(apperr.Conflict, "A legal hold kept erasure from some objects of a large source.", request.ErrOnHold)
}

// finishErasure records what the per-object tasks erased in a large source,
// as EraseSource does for a source worked in one task: for a real erasure,
// what the journal holds (each change once, however often a task ran); for
// a dry run, what each object's task would have done.
func (s *Steps) finishErasure(ctx context.Context, r *request.Request, src *registry.Source, results []objectResult) error {
	var sum erasure.Result
	if r.DryRun {
		for _, res := range results {
			if res.Erasure == nil {
				continue
			}
			sum.Records += res.Erasure.Records
			sum.Deleted += res.Erasure.Deleted
			sum.Anonymized += res.Erasure.Anonymized
			sum.Touched = append(sum.Touched, res.Erasure.Touched...) // hashed object by object
		}
	} else {
		done, err := s.journaled(ctx, r.ID, src.ID)
		if err != nil {
			return err
		}
		if done.Touched, err = s.hashTouched(ctx, done.Touched); err != nil {
			return err
		}
		sum = done
	}
	o := erasure.Outcome{SourceID: src.ID, Description: src.Description, Kind: src.Kind(), Mode: src.Erasure, DryRun: r.DryRun, Touched: sum.Touched}
	o = countedOutcome(o, src, sum)
	// The audit event first: a retry between the two repeats the event
	// rather than losing it; the outcome it then puts is the same.
	note := fmt.Sprintf("source=%s mode=%s records=%d objects=%d", src.ID, src.Erasure, o.Records, len(o.Touched))
	if err := s.Store.Record(ctx, r.ID, request.Event{At: s.Clock.Now(), Actor: actor, Action: "source_erased", Note: note}); err != nil {
		return err
	}
	return s.Outcomes.PutOutcome(ctx, r.ID, o)
}

// clearLargeWork drops what an earlier run of the request's collection or
// erasure (before a redrive) left of its large sources: object results, and
// for a collection the merged parts. Finishing a large source then merges
// this run's objects only, and a part it finds is one it wrote itself.
func (s *Steps) clearLargeWork(ctx context.Context, r *request.Request, p Plan) error {
	for _, l := range p.Large {
		if err := s.Exports.DeleteObjectResults(ctx, r.ID, l.SourceID); err != nil {
			return err
		}
		if r.Type == request.Access || r.Type == request.Portability {
			if err := s.Exports.DeletePart(ctx, r.ID, l.SourceID); err != nil {
				return err
			}
		}
	}
	return nil
}
