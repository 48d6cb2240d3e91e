package workflow

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/accesspkg"
	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/erasure"
	"github.com/privacy-pipeline/dsr/internal/memstore"
	"github.com/privacy-pipeline/dsr/internal/notify"
	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/s3exports"
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
// findings, per source id, are the places Find and Erase report they could
// not handle.
type fakeAdapter struct {
	data     map[string]map[string][]map[string]any
	findings map[string][]erasure.Finding
	// fault, when set, is asked before each change of a record (by source
	// id and "value/index"): the error the change fails with, and whether it
	// is made anyway (a timeout after the store made it).
	fault func(sourceID, key string) (error, bool)
}

func (a *fakeAdapter) Find(_ context.Context, src *registry.Source, ids map[string][]string) ([]map[string]any, []erasure.Finding, error) {
	var out []map[string]any
	for _, kind := range src.LookupIdentities() {
		for _, v := range ids[kind] {
			for _, rec := range a.data[src.ID][v] {
				if rec != nil {
					out = append(out, rec)
				}
			}
		}
	}
	return out, a.findings[src.ID], nil
}

// Erase deletes the records (or, anonymizing, deletes the listed fields from
// them and files them under "anonymized"), or in a dry run counts them. Each
// change is written down in the journal before it is made and marked done
// after; fault, when set, can fail a change, made or not.
func (a *fakeAdapter) Erase(ctx context.Context, src *registry.Source, ids map[string][]string, dryRun bool, j erasure.Journal) (erasure.Result, error) {
	res := erasure.Result{Findings: a.findings[src.ID]}
	for _, kind := range src.LookupIdentities() {
		for _, v := range ids[kind] {
			recs := a.data[src.ID][v]
			for i, rec := range recs {
				if rec == nil {
					continue // erased by an earlier attempt
				}
				key := fmt.Sprintf("%s/%d", v, i)
				action := erasure.ActionDeleted
				if src.Erasure == registry.EraseAnonymize {
					action = erasure.ActionAnonymized
				}
				res.Records++
				res.Touched = append(res.Touched, erasure.Touched{Key: key, Action: action})
				if action == erasure.ActionAnonymized {
					res.Anonymized++
				} else {
					res.Deleted++
				}
				if dryRun {
					continue
				}
				step := erasure.Step{Key: key, Action: action, Records: 1}
				if err := erasure.Begin(ctx, j, step); err != nil {
					return erasure.Result{}, err
				}
				var fault error
				made := true
				if a.fault != nil {
					fault, made = a.fault(src.ID, key)
				}
				if made {
					if action == erasure.ActionAnonymized {
						for _, f := range src.Anonymize {
							delete(rec, f)
						}
						a.data[src.ID]["anonymized"] = append(a.data[src.ID]["anonymized"], rec)
					}
					recs[i] = nil
				}
				if fault != nil {
					return erasure.Result{}, fault
				}
				if err := erasure.Done(ctx, j, step); err != nil {
					return erasure.Result{}, err
				}
			}
			if !dryRun && !slices.ContainsFunc(recs, func(r map[string]any) bool { return r != nil }) {
				delete(a.data[src.ID], v)
			}
		}
	}
	return res, nil
}

// Applied: a record is gone once erased.
func (a *fakeAdapter) Applied(_ context.Context, src *registry.Source, _ map[string][]string, s erasure.Step) (bool, error) {
	v, n, _ := strings.Cut(s.Key, "/")
	i, _ := strconv.Atoi(n)
	recs, ok := a.data[src.ID][v]
	return !ok || i >= len(recs) || recs[i] == nil, nil
}

// fakeProgress is the erasure journal in memory.
type fakeProgress struct {
	entries map[string][]erasure.Entry // request id + "/" + source id -> entries
	// failDone makes the next Done calls fail, as a timeout would.
	failDone int
}

type fakeJournal struct {
	p   *fakeProgress
	key string
}

func (p *fakeProgress) Journal(requestID, sourceID string) erasure.Journal {
	return &fakeJournal{p: p, key: requestID + "/" + sourceID}
}

func (p *fakeProgress) Entries(_ context.Context, requestID, sourceID, key string) ([]erasure.Entry, error) {
	var out []erasure.Entry
	for _, e := range p.entries[requestID+"/"+sourceID] {
		if key == "" || e.Key == key {
			out = append(out, e)
		}
	}
	return out, nil
}

func (j *fakeJournal) put(s erasure.Step, done bool) {
	if j.p.entries == nil {
		j.p.entries = map[string][]erasure.Entry{}
	}
	es := j.p.entries[j.key]
	for i := range es {
		if es[i].Key == s.Key && es[i].Version == s.Version && es[i].Before == s.Before {
			es[i] = erasure.Entry{Step: s, Done: done}
			return
		}
	}
	j.p.entries[j.key] = append(es, erasure.Entry{Step: s, Done: done})
}

func (j *fakeJournal) Begin(_ context.Context, steps ...erasure.Step) error {
	for _, s := range steps {
		j.put(s, false)
	}
	return nil
}

func (j *fakeJournal) Done(_ context.Context, steps ...erasure.Step) error {
	if j.p.failDone > 0 {
		j.p.failDone--
		return apperr.E(apperr.Unavailable, "The journal is unavailable.")
	}
	for _, s := range steps {
		j.put(s, true)
	}
	return nil
}

func (j *fakeJournal) Drop(_ context.Context, steps ...erasure.Step) error {
	for _, s := range steps {
		j.p.entries[j.key] = slices.DeleteFunc(j.p.entries[j.key], func(e erasure.Entry) bool {
			return e.Key == s.Key && e.Version == s.Version && e.Before == s.Before
		})
	}
	return nil
}

// fakeOutcomes keeps erasure outcomes in memory, merged as the store does.
type fakeOutcomes struct {
	bySource map[string]map[string]erasure.Outcome // request id -> source id -> outcome
	fail     error
}

func (f *fakeOutcomes) PutOutcome(_ context.Context, requestID string, o erasure.Outcome) error {
	if f.fail != nil {
		return f.fail
	}
	if f.bySource == nil {
		f.bySource = map[string]map[string]erasure.Outcome{}
	}
	if f.bySource[requestID] == nil {
		f.bySource[requestID] = map[string]erasure.Outcome{}
	}
	f.bySource[requestID][o.SourceID] = o
	return nil
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
	held        map[string]bool   // by requestID + "/" + sourceID
	manual      map[string][]byte // owners' exports, by key
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

func (e *fakeExports) PutManualExport(_ context.Context, requestID, sourceID, ext, _ string, body []byte) (string, error) {
	if e.manual == nil {
		e.manual = map[string][]byte{}
	}
	key := "manual/" + requestID + "/" + sourceID + "." + ext
	e.manual[key] = slices.Clone(body)
	return key, nil
}

func (e *fakeExports) ManualExport(_ context.Context, key string) (io.ReadCloser, error) {
	b, ok := e.manual[key]
	if !ok {
		return nil, apperr.E(apperr.NotFound, "A manual source's export is gone.")
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func (e *fakeExports) DeleteManualExport(_ context.Context, key string) error {
	delete(e.manual, key)
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

func (e *fakeExports) HasPart(ctx context.Context, requestID, sourceID string) (bool, error) {
	_, err := e.Part(ctx, requestID, sourceID)
	if apperr.Is(err, apperr.NotFound) {
		return false, nil
	}
	return err == nil, err
}

func (e *fakeExports) DeletePart(_ context.Context, requestID, sourceID string) error {
	delete(e.parts, requestID+"/"+sourceID)
	return nil
}

func (e *fakeExports) EachRecord(ctx context.Context, requestID, sourceID string, yield func(map[string]any) error) error {
	records, err := e.Part(ctx, requestID, sourceID)
	if err != nil {
		return err
	}
	for _, r := range records {
		if err := yield(r); err != nil {
			return err
		}
	}
	return nil
}

// NewPackage streams into a buffer, kept as the package when closed.
func (e *fakeExports) NewPackage(_ context.Context, requestID string) (s3exports.PackageWriter, string) {
	key := "packages/" + requestID + ".zip"
	return &fakePackage{e: e, key: key}, key
}

type fakePackage struct {
	bytes.Buffer
	e       *fakeExports
	key     string
	aborted bool
}

func (p *fakePackage) Close() error {
	p.e.packages[p.key] = p.Bytes()
	return nil
}

func (p *fakePackage) Abort() { p.aborted = true }

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

func (w *fakeWatch) End(_ context.Context, id string) error {
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
	counted []string                               // sources Oversized was asked about
	bytes   map[string]int64                       // source id -> bytes under its prefix, if set
}

func (f *fakeObjects) Oversized(_ context.Context, src *registry.Source, maxObjects int, maxBytes int64) (bool, error) {
	f.counted = append(f.counted, src.ID)
	return len(f.objects[src.ID]) > maxObjects || f.bytes[src.ID] > maxBytes, nil
}

func (f *fakeObjects) mine(src *registry.Source, ids map[string][]string, rec map[string]any) bool {
	for _, m := range src.S3.Match {
		if v, ok := rec[m.Field].(string); ok && slices.Contains(ids[m.Identity], v) {
			return true
		}
	}
	return false
}

func (f *fakeObjects) FindInObject(_ context.Context, src *registry.Source, ids map[string][]string, key string) ([]map[string]any, []erasure.Finding, error) {
	var out []map[string]any
	for _, rec := range f.objects[src.ID][key] {
		if f.mine(src, ids, rec) {
			out = append(out, rec)
		}
	}
	return out, nil, nil
}

// Applied: an object rewritten no longer holds the subject.
func (f *fakeObjects) Applied(_ context.Context, src *registry.Source, _ map[string][]string, s erasure.Step) (bool, error) {
	return s.Before != fmt.Sprint(len(f.objects[src.ID][s.Key])), nil
}

func (f *fakeObjects) EraseInObject(ctx context.Context, src *registry.Source, ids map[string][]string, key string, dryRun bool, j erasure.Journal) (erasure.Result, error) {
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
			// The number of records stands in for an object's ETag.
			step := erasure.Step{Key: key, Action: erasure.ActionRewritten, Records: res.Records, Before: fmt.Sprint(len(f.objects[src.ID][key]))}
			if err := erasure.Begin(ctx, j, step); err != nil {
				return erasure.Result{}, err
			}
			f.objects[src.ID][key] = kept
			if err := erasure.Done(ctx, j, step); err != nil {
				return erasure.Result{}, err
			}
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

// fakeFindings keeps findings in memory, as the store does: a finding kept
// already stays as it is.
type fakeFindings struct {
	byRequest map[string][]erasure.Finding
	waits     map[string]string
}

func (f *fakeFindings) AddFindings(_ context.Context, requestID string, fs []erasure.Finding) error {
	if f.byRequest == nil {
		f.byRequest = map[string][]erasure.Finding{}
	}
	for _, n := range fs {
		if !slices.ContainsFunc(f.byRequest[requestID], func(o erasure.Finding) bool { return o.ID == n.ID }) {
			f.byRequest[requestID] = append(f.byRequest[requestID], n)
		}
	}
	return nil
}

func (f *fakeFindings) Findings(_ context.Context, requestID string) ([]erasure.Finding, error) {
	return slices.Clone(f.byRequest[requestID]), nil
}

func (f *fakeFindings) SetWait(_ context.Context, requestID, token string) error {
	if f.waits == nil {
		f.waits = map[string]string{}
	}
	f.waits[requestID] = token
	return nil
}

// resolve resolves every open finding of a request as the operator would.
func (f *fakeFindings) resolve(requestID, resolution string) {
	for i := range f.byRequest[requestID] {
		f.byRequest[requestID][i].Resolution = resolution
		f.byRequest[requestID][i].ResolvedBy = "operator:test"
	}
}

// manifest returns the manifest.json of the request's package.
func (e *fakeExports) manifest(t *testing.T, requestID string) string {
	t.Helper()
	body, ok := e.packages["packages/"+requestID+".zip"]
	if !ok {
		t.Fatal("no package")
	}
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := zr.Open(accesspkg.ManifestFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
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
