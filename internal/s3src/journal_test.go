package s3src

import (
	"bytes"
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/erasure"
)

// memJournal keeps steps in memory, by key, version and ETag before, as
// the workflow's journal does.
type memJournal struct {
	mu    sync.Mutex
	steps map[string]erasure.Entry
}

func (j *memJournal) put(done bool, steps []erasure.Step) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.steps == nil {
		j.steps = map[string]erasure.Entry{}
	}
	for _, s := range steps {
		j.steps[s.Key+"@"+s.Version+"@"+s.Before] = erasure.Entry{Step: s, Done: done}
	}
}

func (j *memJournal) Begin(_ context.Context, steps ...erasure.Step) error {
	j.put(false, steps)
	return nil
}

func (j *memJournal) Done(_ context.Context, steps ...erasure.Step) error {
	j.put(true, steps)
	return nil
}

func (j *memJournal) Drop(_ context.Context, steps ...erasure.Step) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, s := range steps {
		delete(j.steps, s.Key+"@"+s.Version+"@"+s.Before)
	}
	return nil
}

func (j *memJournal) entries() []erasure.Entry {
	var out []erasure.Entry
	for _, k := range slices.Sorted(maps.Keys(j.steps)) {
		out = append(out, j.steps[k])
	}
	return out
}

// A conditional write whose answer is lost (a timeout after S3 made it) is
// retried by the SDK, and S3 refuses the retry: the object no longer has
// the ETag the write was conditional on, because of the write itself. The
// change was made, and it is counted once, whether it rewrote the object
// or deleted it.
func TestLostAnswerOfAConditionalWriteIsCounted(t *testing.T) {
	ids := map[string][]string{"user_id": {"u-1"}}
	mine := `{"user_id":"u-1"}` + "\n"
	for _, tc := range []struct{ name, op, initial, want string }{
		{"rewrite", "put", mine + `{"user_id":"u-2"}` + "\n" + mine, `{"user_id":"u-2"}` + "\n"},
		{"delete", "delete", mine + mine, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const key = "events/a.jsonl"
			f := newFakeS3(map[string]string{key: tc.initial})
			f.fault = func(op, k string) (error, bool) {
				if op == tc.op && k == key {
					return errPrecondition, true
				}
				return nil, false
			}
			j := &memJournal{}
			if _, err := newAdapter(t, f).Erase(context.Background(), source(), ids, false, j); err != nil {
				t.Fatal(err)
			}
			if got := string(f.objects[key]); got != tc.want {
				t.Fatalf("object = %q, want %q", got, tc.want)
			}
			entries := j.entries()
			if got := erasure.Counted(entries); got.Deleted != 2 || len(entries) != 1 || !entries[0].Done {
				t.Fatalf("journal %+v counts %d deleted, want the one change, done, counting 2", entries, got.Deleted)
			}
		})
	}
}

// A rewrite refused because someone else changed the object first, whose
// step was never forgotten (the invocation was killed between the refusal
// and the journal), was not made: the object still holds the subject's
// records, whatever its ETag now. Settling it as made would count the
// records twice once they are erased.
func TestAppliedLooksAtTheObject(t *testing.T) {
	ctx := context.Background()
	ids := map[string][]string{"user_id": {"u-1"}}
	const key = "events/a.jsonl"
	mine := `{"user_id":"u-1"}` + "\n"
	f := newFakeS3(map[string]string{key: mine + `{"user_id":"u-2"}` + "\n"})
	a := newAdapter(t, f)
	step := erasure.Step{Key: key, Action: erasure.ActionRewritten, Records: 1, Before: f.etags[key]}

	f.write(key, append(bytes.Clone(f.objects[key]), `{"user_id":"u-3"}`+"\n"...)) // the other writer
	if made, err := a.Applied(ctx, source(), ids, step); err != nil || made {
		t.Fatalf("refused rewrite: Applied = %v, %v; want false", made, err)
	}
	// Made, then changed again by someone else: the subject is gone.
	f.write(key, []byte(strings.ReplaceAll(string(f.objects[key]), mine, "")))
	f.write(key, append(bytes.Clone(f.objects[key]), `{"user_id":"u-4"}`+"\n"...))
	if made, err := a.Applied(ctx, source(), ids, step); err != nil || !made {
		t.Fatalf("rewrite made: Applied = %v, %v; want true", made, err)
	}
	// The ETag it began from: not made.
	same := erasure.Step{Key: key, Action: erasure.ActionRewritten, Records: 1, Before: f.etags[key]}
	if made, err := a.Applied(ctx, source(), ids, same); err != nil || made {
		t.Fatalf("unchanged object: Applied = %v, %v; want false", made, err)
	}
}
