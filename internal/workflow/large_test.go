package workflow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// largeRegistry has a small S3 source, a large one, a large one whose
// erasure keeps records, a key template source and a table.
const largeRegistry = `
identities: [email, user_id]
sources:
  - id: users
    dynamodb: {table: users, index: email-index, partition_key: email, identity: email}
    provides: {user_id: user_id}
    erasure: delete
` + disclosed + `
  - id: small
    s3: {bucket: b, prefix: small/, format: jsonl, match: [{field: user_id, identity: user_id}]}
    erasure: delete
` + disclosed + `
  - id: clicks
    s3: {bucket: b, prefix: clicks/, format: jsonl, match: [{field: user_id, identity: user_id}]}
    erasure: delete
` + disclosed + `
  - id: invoices
    s3: {bucket: b, prefix: invoices/, format: jsonl, match: [{field: user_id, identity: user_id}]}
    erasure: retain
    retain: {reason: Tax law., citation: AO § 147, period: P10Y}
` + disclosed + `
  - id: profiles
    s3: {bucket: b, prefix: profiles/, key_template: "{user_id}/", format: json}
    erasure: delete
` + disclosed

const disclosed = `    categories: [identifiers]
    purposes: [Run the service.]
    recipients: []
    retention: {period: 1 year}
`

func newLargeEnv(t *testing.T) (*env, *fakeObjects) {
	t.Helper()
	e := newEnv(t)
	reg, err := registry.Parse([]byte(largeRegistry))
	if err != nil {
		t.Fatal(err)
	}
	e.steps.Registry = reg
	e.adapter.data = map[string]map[string][]map[string]any{"users": {subject: {{"user_id": "u-1", "email": subject}}}}
	objects := &fakeObjects{objects: map[string]map[string][]map[string]any{}}
	for _, id := range []string{"small", "clicks", "invoices", "profiles"} {
		n := 3
		if id == "small" {
			n = 2
		}
		objects.objects[id] = map[string][]map[string]any{}
		for i := range n {
			objects.objects[id][fmt.Sprintf("%s/%d.jsonl", id, i)] = []map[string]any{{"user_id": "u-2", "n": json.Number(fmt.Sprint(i))}}
		}
	}
	clicks := objects.objects["clicks"]
	clicks["clicks/2.jsonl"] = append(clicks["clicks/2.jsonl"], map[string]any{"user_id": "u-1", "n": json.Number("20")}, map[string]any{"user_id": "u-1", "n": json.Number("21")})
	clicks["clicks/0.jsonl"] = append(clicks["clicks/0.jsonl"], map[string]any{"user_id": "u-1", "n": json.Number("0")})
	e.steps.Objects = objects
	e.steps.LargeMinObjects = 2
	return e, objects
}

func TestPlanLargeSources(t *testing.T) {
	tests := []struct {
		name      string
		typ       request.Type
		min       int
		noObjects bool
		sources   []string
		large     []string
		bytes     map[string]int64 // under each prefix, where it matters
	}{
		{"access: more than the minimum is large", request.Access, 2, false, []string{"users", "small", "profiles"}, []string{"clicks", "invoices"}, nil},
		{"delete: a source that keeps records is worked whole", request.Delete, 2, false, []string{"users", "small", "invoices", "profiles"}, []string{"clicks"}, nil},
		{"the minimum is not more", request.Access, 3, false, []string{"users", "small", "clicks", "invoices", "profiles"}, nil, nil},
		{"no minimum: nothing is large", request.Access, 0, false, []string{"users", "small", "clicks", "invoices", "profiles"}, nil, nil},
		{"no object source: nothing is large", request.Access, 2, true, []string{"users", "small", "clicks", "invoices", "profiles"}, nil, nil},
		// Two objects, but more than a gibibyte: one invocation could not read
		// them in time.
		{"few objects but many bytes are large", request.Access, 3, false, []string{"users", "clicks", "invoices", "profiles"}, []string{"small"}, map[string]int64{"small": DefaultLargeMinBytes + 1, "clicks": DefaultLargeMinBytes}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, objects := newLargeEnv(t)
			e.steps.LargeMinObjects = tt.min
			objects.bytes = tt.bytes
			if tt.noObjects {
				e.steps.Objects = nil
			}
			r := e.seed(t, tt.typ, request.Verified, nil)
			plan, err := e.steps.ResolveIdentities(context.Background(), RequestRef{RequestID: r.ID})
			if err != nil {
				t.Fatal(err)
			}
			var large []string
			for _, l := range plan.Large {
				large = append(large, l.SourceID)
				if src := e.steps.Registry.Source(l.SourceID); l.Bucket != src.S3.Bucket || l.Prefix != src.S3.Prefix {
					t.Errorf("large source %+v does not name its bucket and prefix", l)
				}
			}
			if !slices.Equal(plan.Sources, tt.sources) || !slices.Equal(large, tt.large) || plan.Large == nil {
				t.Fatalf("plan %+v, want sources %v and large %v", plan, tt.sources, tt.large)
			}
			if slices.Contains(objects.counted, "profiles") || slices.Contains(objects.counted, "users") {
				t.Errorf("counted the objects of %v: only fixed-prefix S3 sources can be large", objects.counted)
			}
			if b, _ := json.Marshal(plan); strings.Contains(string(b), `"sources":null`) || strings.Contains(string(b), `"large":null`) {
				t.Errorf("plan JSON %s: the state machine needs lists, never null", b)
			}
			if (plan.Next == nil) != (len(plan.Large) == 0) || (plan.Next != nil && *plan.Next != plan.Large[0]) {
				t.Errorf("next %+v is not the first large source", plan.Next)
			}
		})
	}
}

// TestLargeSourceAccess: per-object tasks store what they find (the
// attributes to export); finishing the source merges it, in key order, into
// the source's part.
func TestLargeSourceAccess(t *testing.T) {
	for _, tc := range []struct {
		name   string
		export []string
		want   string
	}{
		{"whole records", nil, "[map[n:0 user_id:u-1] map[n:20 user_id:u-1] map[n:21 user_id:u-1]]"},
		{"the attributes to export", []string{"n"}, "[map[n:0] map[n:20] map[n:21]]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, objects := newLargeEnv(t)
			e.steps.Registry.Source("clicks").Export = tc.export
			ctx := context.Background()
			r := e.seed(t, request.Access, request.InProgress, func(r *request.Request) { r.Identities = map[string][]string{"email": {subject}, "user_id": {"u-1"}} })
			total := 0
			for _, key := range slices.Sorted(func(yield func(string) bool) {
				for k := range objects.objects["clicks"] {
					yield(k)
				}
			}) {
				res, err := e.steps.CollectSource(ctx, SourceTask{RequestID: r.ID, SourceID: "clicks", Key: key})
				if err != nil {
					t.Fatal(err)
				}
				total += res.Records
			}
			if total != 3 || len(e.exports.results[r.ID+"/clicks"]) != 2 {
				t.Fatalf("found %d records, stored %d object results; want 3 in 2", total, len(e.exports.results[r.ID+"/clicks"]))
			}
			plan := Plan{Sources: []string{"users"}, Large: []LargeSource{{SourceID: "clicks"}, {SourceID: "invoices"}}}
			next, err := e.steps.FinishLargeSource(ctx, LargeSourceTask{RequestID: r.ID, Plan: plan})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(next.Sources, plan.Sources) || len(next.Large) != 1 || next.Large[0].SourceID != "invoices" || next.Next == nil || next.Next.SourceID != "invoices" {
				t.Fatalf("next plan %+v", next)
			}
			part, err := e.exports.Part(ctx, r.ID, "clicks")
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(part); got != tc.want {
				t.Fatalf("part %s", got)
			}
			if len(e.exports.results) != 0 {
				t.Fatal("object results left behind")
			}
			// A large source without any of the subject's records still gets its part.
			if _, err := e.steps.FinishLargeSource(ctx, LargeSourceTask{RequestID: r.ID, Plan: next}); err != nil {
				t.Fatal(err)
			}
			if part, err := e.exports.Part(ctx, r.ID, "invoices"); err != nil || len(part) != 0 || part == nil {
				t.Fatalf("empty part %v, %v", part, err)
			}
		})
	}
}

// TestLargeSourceErasure: per-object tasks erase object by object; finishing
// the source records one outcome with the sums and one audit event.
func TestLargeSourceErasure(t *testing.T) {
	e, objects := newLargeEnv(t)
	e.steps.KeyHasher = prefixHasher{}
	ctx := context.Background()
	r := e.seed(t, request.Delete, request.InProgress, func(r *request.Request) { r.Identities = map[string][]string{"email": {subject}, "user_id": {"u-1"}} })
	for key := range objects.objects["clicks"] {
		if _, err := e.steps.EraseSource(ctx, SourceTask{RequestID: r.ID, SourceID: "clicks", Key: key}); err != nil {
			t.Fatal(err)
		}
	}
	for key, recs := range objects.objects["clicks"] {
		if len(recs) != 1 || recs[0]["user_id"] != "u-2" {
			t.Errorf("%s holds %v after erasure", key, recs)
		}
	}
	next, err := e.steps.FinishLargeSource(ctx, LargeSourceTask{RequestID: r.ID, Plan: Plan{Sources: []string{}, Large: []LargeSource{{SourceID: "clicks"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(next.Large) != 0 || next.Large == nil || next.Next != nil {
		t.Fatalf("next plan %+v", next)
	}
	o := e.outcomes.bySource[r.ID]["clicks"]
	if o.Records != 3 || o.Deleted != 3 || o.Mode != "delete" || len(o.Touched) != 2 || o.Touched[0].Key != "hash:clicks/0.jsonl" || o.Touched[1].Key != "hash:clicks/2.jsonl" {
		t.Fatalf("outcome %+v", o)
	}
	if ev := lastEvent(t, e.store, r.ID); ev.Action != "source_erased" || ev.Note != "source=clicks mode=delete records=3 objects=2" {
		t.Fatalf("event %+v", ev)
	}
	if len(e.exports.results) != 0 {
		t.Fatal("object results left behind")
	}
}

// TestLargeSourceErasureRetried: a finish that failed after recording the
// outcome, then retried, counts the source's erasures once.
func TestLargeSourceErasureRetried(t *testing.T) {
	e, objects := newLargeEnv(t)
	ctx := context.Background()
	r := e.seed(t, request.Delete, request.InProgress, func(r *request.Request) { r.Identities = map[string][]string{"email": {subject}, "user_id": {"u-1"}} })
	for key := range objects.objects["clicks"] {
		if _, err := e.steps.EraseSource(ctx, SourceTask{RequestID: r.ID, SourceID: "clicks", Key: key}); err != nil {
			t.Fatal(err)
		}
	}
	task := LargeSourceTask{RequestID: r.ID, Plan: Plan{Sources: []string{}, Large: []LargeSource{{SourceID: "clicks"}}}}
	e.exports.failDeletes = 1
	if _, err := e.steps.FinishLargeSource(ctx, task); apperr.KindOf(err) != apperr.Unavailable {
		t.Fatalf("first finish: %v, want the failed delete", err)
	}
	if _, err := e.steps.FinishLargeSource(ctx, task); err != nil {
		t.Fatal(err)
	}
	if o := e.outcomes.bySource[r.ID]["clicks"]; o.Records != 3 || o.Deleted != 3 || len(o.Touched) != 2 {
		t.Fatalf("outcome after a retry %+v, want 3 records in 2 objects, counted once", o)
	}
	if len(e.exports.results) != 0 {
		t.Fatal("object results left behind")
	}
}

// TestLargeSourceErasureOnHold: a hold placed while a large source is
// being erased leaves the objects not yet worked as they are; finishing
// the source waits on the hold; after the release the source is worked
// again and the receipt counts every erasure once.
func TestLargeSourceErasureOnHold(t *testing.T) {
	e, objects := newLargeEnv(t)
	ctx := context.Background()
	r := e.seed(t, request.Delete, request.InProgress, func(r *request.Request) { r.Identities = map[string][]string{"email": {subject}, "user_id": {"u-1"}} })
	erase := func(key string) {
		t.Helper()
		if _, err := e.steps.EraseSource(ctx, SourceTask{RequestID: r.ID, SourceID: "clicks", Key: key}); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
	}
	setHold := func(on bool) {
		t.Helper()
		stored := e.store.stored(r.ID)
		stored.OnHold = on
		if err := e.store.Save(ctx, &stored, request.Event{At: e.clock.Now(), Actor: "operator:test", Action: "hold"}); err != nil {
			t.Fatal(err)
		}
	}
	task := LargeSourceTask{RequestID: r.ID, Plan: Plan{Sources: []string{}, Large: []LargeSource{{SourceID: "clicks"}}}}

	erase("clicks/0.jsonl") // before the hold: erased
	setHold(true)
	erase("clicks/1.jsonl")
	erase("clicks/2.jsonl") // on hold: left as it is
	if recs := objects.objects["clicks"]["clicks/2.jsonl"]; len(recs) != 3 {
		t.Fatalf("an object was erased in on hold: %v", recs)
	}
	// The first finish fails on the audit log and is retried: the retry
	// still sees the source held, and records nothing.
	e.store.failRecords = 1
	if _, err := e.steps.FinishLargeSource(ctx, task); apperr.KindOf(err) != apperr.Unavailable {
		t.Fatalf("finish with the audit log down: %v", err)
	}
	_, err := e.steps.FinishLargeSource(ctx, task)
	var onHold *ErasureOnHold
	if !errors.As(TaskError(err), &onHold) {
		t.Fatalf("finish on hold: %v, want the ErasureOnHold the workflow waits on", err)
	}
	if _, ok := e.outcomes.bySource[r.ID]["clicks"]; ok {
		t.Fatal("an outcome was recorded while objects were held")
	}
	if ev := lastEvent(t, e.store, r.ID); ev.Action != "erasure_held_in_objects" || ev.Note != "source=clicks" {
		t.Fatalf("event %+v", ev)
	}
	if _, err := e.steps.FinishLargeSource(ctx, task); !errors.As(TaskError(err), &onHold) {
		t.Fatalf("finish again before the wait: %v, want ErasureOnHold", err)
	}

	// The workflow waits on the hold; the wait clears the mark.
	if err := e.steps.AwaitHold(ctx, HoldTask{RequestID: r.ID, TaskToken: "token-1"}); err != nil {
		t.Fatal(err)
	}
	if held, _ := e.exports.Held(ctx, r.ID, "clicks"); held {
		t.Fatal("the mark survived the wait")
	}
	// Released: the workflow works every object again.
	setHold(false)
	for key := range objects.objects["clicks"] {
		erase(key)
	}
	next, err := e.steps.FinishLargeSource(ctx, task)
	if err != nil || len(next.Large) != 0 {
		t.Fatalf("finish after the release: %+v, %v", next, err)
	}
	o := e.outcomes.bySource[r.ID]["clicks"]
	if o.Records != 3 || o.Deleted != 3 || len(o.Touched) != 2 {
		t.Fatalf("outcome %+v, want the 3 records of 2 objects, each counted once", o)
	}
	for key, recs := range objects.objects["clicks"] {
		if len(recs) != 1 || recs[0]["user_id"] != "u-2" {
			t.Errorf("%s holds %v after erasure", key, recs)
		}
	}
}

// A hold released before the workflow began to wait on it: the wait ends at
// once (NotOnHold, and the workflow erases again), the mark cleared.
func TestAwaitHoldAlreadyReleasedClearsMarks(t *testing.T) {
	e, _ := newLargeEnv(t)
	ctx := context.Background()
	r := e.seed(t, request.Delete, request.InProgress, nil)
	if err := e.exports.MarkHeld(ctx, r.ID, "clicks"); err != nil {
		t.Fatal(err)
	}
	err := e.steps.AwaitHold(ctx, HoldTask{RequestID: r.ID, TaskToken: "token-1"})
	var notOnHold *NotOnHold
	if !errors.As(TaskError(err), &notOnHold) {
		t.Fatalf("err %v, want NotOnHold", err)
	}
	if held, _ := e.exports.Held(ctx, r.ID, "clicks"); held {
		t.Fatal("the mark survived")
	}
}

func TestLargeSourceRefusals(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(e *env, r request.Request) error
		typ  request.Type
		kind apperr.Kind
	}{
		{"finish without a large source", func(e *env, r request.Request) error {
			_, err := e.steps.FinishLargeSource(ctx, LargeSourceTask{RequestID: r.ID, Plan: Plan{}})
			return err
		}, request.Access, apperr.Invalid},
		{"finish an unknown source", func(e *env, r request.Request) error {
			_, err := e.steps.FinishLargeSource(ctx, LargeSourceTask{RequestID: r.ID, Plan: Plan{Large: []LargeSource{{SourceID: "nope"}}}})
			return err
		}, request.Access, apperr.Invalid},
		{"erase an object for an access request", func(e *env, r request.Request) error {
			_, err := e.steps.EraseSource(ctx, SourceTask{RequestID: r.ID, SourceID: "clicks", Key: "clicks/0.jsonl"})
			return err
		}, request.Access, apperr.Conflict},
		{"bad request id", func(e *env, r request.Request) error {
			_, err := e.steps.CollectSource(ctx, SourceTask{RequestID: "../x", SourceID: "clicks", Key: "clicks/0.jsonl"})
			return err
		}, request.Access, apperr.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := newLargeEnv(t)
			r := e.seed(t, tt.typ, request.InProgress, nil)
			wantKind(t, tt.run(e, r), tt.kind)
		})
	}
}

// prefixHasher marks keys as hashed without hiding them, so tests can read them.
type prefixHasher struct{}

func (prefixHasher) HashKey(_ context.Context, key string) (string, error) { return "hash:" + key, nil }

// TestLargeSourceDryRun: a dry run works a large source object by object
// and changes nothing; the outcome says what erasure would do.
func TestLargeSourceDryRun(t *testing.T) {
	e, objects := newLargeEnv(t)
	ctx := context.Background()
	r := e.seed(t, request.Delete, request.InProgress, func(r *request.Request) {
		r.DryRun = true
		r.Identities = map[string][]string{"email": {subject}, "user_id": {"u-1"}}
	})
	before := fmt.Sprint(objects.objects["clicks"])
	for key := range objects.objects["clicks"] {
		if _, err := e.steps.EraseSource(ctx, SourceTask{RequestID: r.ID, SourceID: "clicks", Key: key}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.steps.FinishLargeSource(ctx, LargeSourceTask{RequestID: r.ID, Plan: Plan{Sources: []string{}, Large: []LargeSource{{SourceID: "clicks"}}}}); err != nil {
		t.Fatal(err)
	}
	if after := fmt.Sprint(objects.objects["clicks"]); after != before {
		t.Fatalf("a dry run changed the objects:\n%s\n%s", before, after)
	}
	if o := e.outcomes.bySource[r.ID]["clicks"]; !o.DryRun || o.Records != 3 {
		t.Fatalf("outcome %+v", o)
	}
}

// TestLargeSourceAccessRetried: finishing a large source again after it
// finished (its invocation timed out after it wrote the part and removed
// the object results) keeps the part it wrote; building the package again
// after it was built and recorded keeps the package; and a collection
// started again (a redrive) drops what an earlier run left of the large
// sources, so their parts are merged from this run's objects.
func TestLargeSourceAccessRetried(t *testing.T) {
	e, objects := newLargeEnv(t)
	ctx := context.Background()
	r := e.seed(t, request.Access, request.InProgress, func(r *request.Request) { r.Identities = map[string][]string{"email": {subject}, "user_id": {"u-1"}} })
	for key := range objects.objects["clicks"] {
		if _, err := e.steps.CollectSource(ctx, SourceTask{RequestID: r.ID, SourceID: "clicks", Key: key}); err != nil {
			t.Fatal(err)
		}
	}
	plan := Plan{Sources: []string{"users"}, Large: []LargeSource{{SourceID: "clicks"}}}
	for attempt := range 2 {
		if _, err := e.steps.FinishLargeSource(ctx, LargeSourceTask{RequestID: r.ID, Plan: plan}); err != nil {
			t.Fatal(err)
		}
		if part, err := e.exports.Part(ctx, r.ID, "clicks"); err != nil || len(part) != 3 {
			t.Fatalf("attempt %d: part of %d records (%v), want 3", attempt+1, len(part), err)
		}
	}

	for _, src := range e.steps.Registry.Sources {
		if src.ID != "clicks" {
			if err := e.exports.PutPart(ctx, r.ID, src.ID, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := e.steps.BuildPackage(ctx, RequestRef{RequestID: r.ID}); err != nil {
		t.Fatal(err)
	}
	built := maps.Clone(e.exports.packages)
	if err := e.steps.BuildPackage(ctx, RequestRef{RequestID: r.ID}); err != nil {
		t.Fatalf("building again: %v", err)
	}
	if !maps.EqualFunc(built, e.exports.packages, bytes.Equal) || len(e.exports.partKeys()) != 0 {
		t.Fatalf("building again changed the package or left work files: %v", e.exports.partKeys())
	}

	// A redrive resolves the identities again: the large source starts afresh.
	stale := e.seed(t, request.Access, request.Verified, nil)
	e.adapter.data["users"][subject] = []map[string]any{{"user_id": "u-1", "email": subject}}
	_ = e.exports.PutPart(ctx, stale.ID, "clicks", []map[string]any{{"user_id": "u-1", "n": json.Number("99")}})
	_ = e.exports.PutObjectResult(ctx, stale.ID, "clicks", "clicks/gone.jsonl", []byte(`{"key":"clicks/gone.jsonl"}`))
	p, err := e.steps.ResolveIdentities(ctx, RequestRef{RequestID: stale.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Large) == 0 {
		t.Fatal("no large source in the plan: the test would prove nothing")
	}
	if _, err := e.exports.Part(ctx, stale.ID, "clicks"); !apperr.Is(err, apperr.NotFound) || len(e.exports.results[stale.ID+"/clicks"]) != 0 {
		t.Fatalf("an earlier run's work is left: part %v, results %d", err, len(e.exports.results[stale.ID+"/clicks"]))
	}
}
