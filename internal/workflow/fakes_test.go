package workflow

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/erasure"
	"github.com/privacy-pipeline/dsr/internal/memstore"
	"github.com/privacy-pipeline/dsr/internal/notify"
	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/sfnflow"
)

// fakeStore is the in-memory store, with short names for the tests.
type fakeStore struct {
	*memstore.Store
	// failRecords is how many audit appends fail.
	failRecords int
}

func newFakeStore() *fakeStore { return &fakeStore{Store: memstore.New()} }

func (s *fakeStore) Record(ctx context.Context, id string, ev request.Event) error {
	if s.failRecords > 0 {
		s.failRecords--
		return apperr.E(apperr.Unavailable, "Request storage is unavailable.")
	}
	return s.Store.Record(ctx, id, ev)
}

func (s *fakeStore) put(r request.Request) { s.Put(r) }

func (s *fakeStore) eventsOf(id string) []request.Event { return s.EventsOf(id) }

// fakeMailer records the messages it sends; failNext makes the next sends fail.
type fakeMailer struct {
	sent     []notify.Message
	failNext int
}

var errMailDown = errors.New("smtp: mail relay unavailable")

func (m *fakeMailer) Send(_ context.Context, msg notify.Message) error {
	if m.failNext > 0 {
		m.failNext--
		return apperr.Wrap(apperr.Unavailable, "Mail is unavailable.", errMailDown)
	}
	m.sent = append(m.sent, msg)
	return nil
}

// fakeAdapter holds records per source id, keyed by the identity value by
// which the source finds them (the value of the source's lookup identity).
type fakeAdapter struct {
	data map[string]map[string][]map[string]any
}

func (a *fakeAdapter) Find(_ context.Context, src *registry.Source, ids map[string][]string) ([]map[string]any, error) {
	var out []map[string]any
	for _, kind := range src.LookupIdentities() {
		for _, v := range ids[kind] {
			out = append(out, a.data[src.ID][v]...)
		}
	}
	return out, nil
}

// Erase deletes the records (or, anonymizing, deletes the listed fields from
// them and files them under "anonymized"), or in a dry run counts them.
func (a *fakeAdapter) Erase(_ context.Context, src *registry.Source, ids map[string][]string, dryRun bool) (erasure.Result, error) {
	var res erasure.Result
	for _, kind := range src.LookupIdentities() {
		for _, v := range ids[kind] {
			recs := a.data[src.ID][v]
			res.Records += len(recs)
			for i := range recs {
				res.Touched = append(res.Touched, erasure.Touched{Key: fmt.Sprintf("%s/%d", v, i), Action: erasure.ActionDeleted})
			}
			if src.Erasure == registry.EraseAnonymize {
				res.Anonymized += len(recs)
			} else {
				res.Deleted += len(recs)
			}
			if dryRun {
				continue
			}
			if src.Erasure == registry.EraseAnonymize {
				for _, rec := range recs {
					for _, f := range src.Anonymize {
						delete(rec, f)
					}
					a.data[src.ID]["anonymized"] = append(a.data[src.ID]["anonymized"], rec)
				}
			}
			delete(a.data[src.ID], v)
		}
	}
	return res, nil
}

// fakeOutcomes keeps erasure outcomes in memory, merged as the store does.
type fakeOutcomes struct {
	bySource map[string]map[string]erasure.Outcome // request id -> source id -> outcome
	fail     error
}

func (f *fakeOutcomes) AddOutcome(_ context.Context, requestID string, o erasure.Outcome) error {
	if f.fail != nil {
		return f.fail
	}
	if f.bySource == nil {
		f.bySource = map[string]map[string]erasure.Outcome{}
	}
	if f.bySource[requestID] == nil {
		f.bySource[requestID] = map[string]erasure.Outcome{}
	}
	f.bySource[requestID][o.SourceID] = f.bySource[requestID][o.SourceID].Merge(o)
	return nil
}

func (f *fakeOutcomes) HasOutcome(_ context.Context, requestID, sourceID string) (bool, error) {
	_, ok := f.bySource[requestID][sourceID]
	return ok, nil
}

func (f *fakeOutcomes) Outcomes(_ context.Context, requestID string) ([]erasure.Outcome, error) {
	var out []erasure.Outcome
	for _, id := range slices.Sorted(maps.Keys(f.bySource[requestID])) {
		out = append(out, f.bySource[requestID][id])
	}
	return out, nil
}

// fakeExports keeps parts and packages in memory. Part of a source that was
// not collected is NotFound, as in s3exports.
type fakeExports struct {
	parts    map[string][]map[string]any // by requestID + "/" + sourceID
	packages map[string][]byte
	results  map[string]map[string][]byte // by requestID + "/" + sourceID, then object key
	// failDeletes is how many DeleteObjectResults calls fail.
	failDeletes int
	held        map[string]bool // by requestID + "/" + sourceID
}

func newFakeExports() *fakeExports {
	return &fakeExports{parts: map[string][]map[string]any{}, packages: map[string][]byte{}, results: map[string]map[string][]byte{}}
}

func (e *fakeExports) PutObjectResult(_ context.Context, requestID, sourceID, objectKey string, result []byte) error {
	k := requestID + "/" + sourceID
	if e.results[k] == nil {
		e.results[k] = map[string][]byte{}
	}
	e.results[k][objectKey] = slices.Clone(result)
	return nil
}

// ObjectResults returns the results in map order: no order to rely on.
func (e *fakeExports) ObjectResults(_ context.Context, requestID, sourceID string) ([][]byte, error) {
	var out [][]byte
	for _, b := range e.results[requestID+"/"+sourceID] {
		out = append(out, b)
	}
	return out, nil
}

func (e *fakeExports) DeleteObjectResults(_ context.Context, requestID, sourceID string) error {
	if e.failDeletes > 0 {
		e.failDeletes--
		return apperr.E(apperr.Unavailable, "The exports bucket is unavailable.")
	}
	delete(e.results, requestID+"/"+sourceID)
	return nil
}

func (e *fakeExports) MarkHeld(_ context.Context, requestID, sourceID string) error {
	if e.held == nil {
		e.held = map[string]bool{}
	}
	e.held[requestID+"/"+sourceID] = true
	return nil
}

func (e *fakeExports) Held(_ context.Context, requestID, sourceID string) (bool, error) {
	return e.held[requestID+"/"+sourceID], nil
}

func (e *fakeExports) ClearHeld(_ context.Context, requestID string, sourceIDs []string) error {
	for _, id := range sourceIDs {
		delete(e.held, requestID+"/"+id)
	}
	return nil
}

func (e *fakeExports) PutPart(_ context.Context, requestID, sourceID string, records []map[string]any) error {
	e.parts[requestID+"/"+sourceID] = slices.Clone(records)
	return nil
}

func (e *fakeExports) Part(_ context.Context, requestID, sourceID string) ([]map[string]any, error) {
	p, ok := e.parts[requestID+"/"+sourceID]
	if !ok {
		return nil, apperr.E(apperr.NotFound, "A source's records were not collected.")
	}
	return p, nil
}

func (e *fakeExports) DeletePart(_ context.Context, requestID, sourceID string) error {
	delete(e.parts, requestID+"/"+sourceID)
	return nil
}

func (e *fakeExports) PutPackage(_ context.Context, requestID string, body io.ReadSeeker) (string, error) {
	var b bytes.Buffer
	if _, err := io.Copy(&b, body); err != nil {
		return "", err
	}
	key := "packages/" + requestID + ".zip"
	e.packages[key] = b.Bytes()
	return key, nil
}

func (e *fakeExports) partKeys() []string { return slices.Sorted(maps.Keys(e.parts)) }

// fakeWatch records the watches started and stopped.
type fakeWatch struct {
	started []sfnflow.WatchInput
	stopped []string
}

func (w *fakeWatch) Start(_ context.Context, in sfnflow.WatchInput) error {
	w.started = append(w.started, in)
	return nil
}

func (w *fakeWatch) Stop(_ context.Context, id string) error {
	w.stopped = append(w.stopped, id)
	return nil
}

// fakeMetrics counts metrics by name and keeps the last value of each.
type fakeMetrics struct {
	counts map[string]int
	days   map[string]float64
}

func (m *fakeMetrics) Days(name string, days float64, _ *request.Request) {
	if m.days == nil {
		m.days = map[string]float64{}
	}
	m.days[name] = days
}

func (m *fakeMetrics) Count(name string, _ *request.Request) {
	if m.counts == nil {
		m.counts = map[string]int{}
	}
	m.counts[name]++
}

// stored returns the stored request, which must exist.
func (s *fakeStore) stored(id string) request.Request {
	r, _ := s.Stored(id)
	return r
}

// fakeReceipts is a chain in memory with the store's rules: one receipt per
// request, each sealed on the last.
type fakeAnchors struct {
	put      []erasure.Anchor
	failNext int
}

func (f *fakeAnchors) Put(_ context.Context, a erasure.Anchor) error {
	if f.failNext > 0 {
		f.failNext--
		return apperr.E(apperr.Unavailable, "The receipt anchors are unavailable.")
	}
	f.put = append(f.put, a)
	return nil
}

type fakeReceipts struct {
	links     []erasure.Link
	byRequest map[string]int // request id -> index in links
}

func (f *fakeReceipts) Append(_ context.Context, requestID string, seal func(prev erasure.Link) (erasure.Link, error)) (erasure.Link, error) {
	if i, ok := f.byRequest[requestID]; ok {
		return f.links[i], nil
	}
	var prev erasure.Link
	if len(f.links) > 0 {
		prev = f.links[len(f.links)-1]
	}
	l, err := seal(prev)
	if err != nil {
		return erasure.Link{}, err
	}
	if f.byRequest == nil {
		f.byRequest = map[string]int{}
	}
	f.byRequest[requestID] = len(f.links)
	f.links = append(f.links, l)
	return l, nil
}

// fakeHasher hashes keys with a fixed secret.
type fakeHasher struct{}

func (fakeHasher) HashKey(_ context.Context, key string) (string, error) {
	sum := sha256.Sum256([]byte("test secret/" + key))
	return "h:" + hex.EncodeToString(sum[:8]), nil
}

// fakeObjects is one S3 source's objects, each a list of records that name
// the subject by the source's match fields.
type fakeObjects struct {
	objects map[string]map[string][]map[string]any // source id -> key -> records
	counted []string                               // sources MoreObjectsThan was asked about
}

func (f *fakeObjects) MoreObjectsThan(_ context.Context, src *registry.Source, n int) (bool, error) {
	f.counted = append(f.counted, src.ID)
	return len(f.objects[src.ID]) > n, nil
}

func (f *fakeObjects) mine(src *registry.Source, ids map[string][]string, rec map[string]any) bool {
	for _, m := range src.S3.Match {
		if v, ok := rec[m.Field].(string); ok && slices.Contains(ids[m.Identity], v) {
			return true
		}
	}
	return false
}

func (f *fakeObjects) FindInObject(_ context.Context, src *registry.Source, ids map[string][]string, key string) ([]map[string]any, error) {
	var out []map[string]any
	for _, rec := range f.objects[src.ID][key] {
		if f.mine(src, ids, rec) {
			out = append(out, rec)
		}
	}
	return out, nil
}

func (f *fakeObjects) EraseInObject(_ context.Context, src *registry.Source, ids map[string][]string, key string, dryRun bool) (erasure.Result, error) {
	var res erasure.Result
	var kept []map[string]any
	for _, rec := range f.objects[src.ID][key] {
		if f.mine(src, ids, rec) {
			res.Records++
			res.Deleted++
			continue
		}
		kept = append(kept, rec)
	}
	if res.Records > 0 {
		res.Touched = []erasure.Touched{{Key: key, Action: erasure.ActionRewritten}}
		if !dryRun {
			f.objects[src.ID][key] = kept
		}
	}
	return res, nil
}

// fakeRawMail records deleted raw messages; fail makes deletes fail.
type fakeRawMail struct {
	deleted []string
	fail    bool
}

func (m *fakeRawMail) Delete(_ context.Context, key string) error {
	if m.fail {
		return apperr.E(apperr.Unavailable, "The raw-mail bucket is unavailable.")
	}
	m.deleted = append(m.deleted, key)
	return nil
}

// fakePermissions records what became of agents' permissions; fail makes
// every call fail.
type fakePermissions struct {
	deleted []string
	expired []string // key and media type
	fail    bool
}

func (p *fakePermissions) DeletePermission(_ context.Context, key string) error {
	if p.fail {
		return apperr.E(apperr.Unavailable, "The exports bucket is unavailable.")
	}
	p.deleted = append(p.deleted, key)
	return nil
}

func (p *fakePermissions) ExpirePermission(_ context.Context, key, mediaType string) error {
	if p.fail {
		return apperr.E(apperr.Unavailable, "The exports bucket is unavailable.")
	}
	p.expired = append(p.expired, key+" "+mediaType)
	return nil
}
