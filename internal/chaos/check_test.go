package chaos

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/erasure"
	"github.com/privacy-pipeline/dsr/internal/request"
)

var demoModes = map[string]string{
	"users": "delete", "preferences": "delete", "sessions": "delete", "orders": "delete", "events": "delete",
	"clickstream": "delete", "support": "delete", "loyalty": "delete", "newsletter": "delete", "web-archive": "delete",
	"profile-history": "delete", "reviews": "anonymize", "invoices": "retain", "profiles": "delete",
}

// snapshotOf is the world as seeded, as a snapshot reads it.
func snapshotOf(w *world) *snapshot {
	s := &snapshot{items: map[string]map[string]any{}, objects: map[string][]byte{}, versions: map[string][]byte{}, table: map[string]string{}}
	for _, it := range w.items {
		attrs := normalized(it.attrs)
		k := itemRef(it.table, it.key, attrs)
		s.items[k], s.table[k] = attrs, it.table
	}
	n := map[string]int{}
	for _, o := range w.objects {
		var b strings.Builder
		for _, l := range o.lines {
			b.WriteString(l.text)
		}
		ref := o.bucket + "/" + o.key
		s.objects[ref] = []byte(b.String())
		if o.bucket == "demo-archive" {
			n[ref]++
			s.versions[ref+"@v"+string(rune('0'+n[ref]))] = []byte(b.String())
		}
	}
	return s
}

// erased is a snapshot after the pipeline erased p as it should: p's items
// gone (reviews anonymized), p's records gone from every object but the
// invoices, objects left without records deleted, older versions holding p
// deleted and the rewritten current one a new version.
func erased(w *world, before *snapshot, p *person) *snapshot {
	after := &snapshot{items: map[string]map[string]any{}, objects: map[string][]byte{}, versions: map[string][]byte{}, table: before.table}
	owners := map[string]*person{}
	for _, it := range w.items {
		owners[itemRef(it.table, it.key, normalized(it.attrs))] = it.owner
	}
	for k, v := range before.items {
		switch {
		case owners[k] != p:
			after.items[k] = v
		case before.table[k] == "demo-reviews":
			a := maps.Clone(v)
			delete(a, "email")
			delete(a, "author_name")
			after.items[k] = a
		}
	}
	holds := func(b []byte) bool {
		for _, l := range lines(b) {
			if w.owners[l] == p {
				return true
			}
		}
		return false
	}
	for ref, b := range before.objects {
		if w.retained[ref] || !holds(b) {
			after.objects[ref] = b
			continue
		}
		var kept []string
		for _, l := range lines(b) {
			if w.owners[l] != p {
				kept = append(kept, l)
			}
		}
		if len(kept) > 0 {
			after.objects[ref] = []byte(strings.Join(kept, ""))
			if strings.HasPrefix(ref, "demo-archive/") {
				after.versions[ref+"@new"] = after.objects[ref]
			}
		}
	}
	for v, b := range before.versions {
		if !holds(b) {
			after.versions[v] = b
		}
	}
	return after
}

func subjectOf(w *world, typ request.Type, hasData func(*person) bool) *person {
	for _, p := range w.subjects {
		if p.req == typ && p.userID != "" && hasData(p) {
			return p
		}
	}
	return nil
}

// The data check finds what it looks for: an erased subject's records left,
// another's changed or gone, bytes that were not there; and passes an
// erasure done as the registry says.
func TestCompare(t *testing.T) {
	var w *world
	var p *person
	for seed := uint64(1); p == nil && seed < 50; seed++ {
		w = newWorld(seed, 30, demoModes)
		p = subjectOf(w, request.Delete, func(p *person) bool {
			e := w.expect[p]
			return e["events"] != nil && e["reviews"] != nil && e["invoices"] != nil && e["profile-history"] != nil
		})
	}
	if p == nil {
		t.Fatal("no delete subject with events, reviews, invoices and profile history: the test would prove little")
	}
	gone := fates{erased: map[*person]bool{p: true}, maybeErased: map[*person]bool{}, corrected: map[*person]bool{}, maybeCorrected: map[*person]bool{}}
	before := snapshotOf(w)
	check := func(after *snapshot, f fates) *Report {
		rep := &Report{}
		(&runner{world: w}).compare(rep, before, after, f)
		return rep
	}

	if rep := check(erased(w, before, p), gone); rep.OtherDataChanged != 0 || rep.ErasedDataLeft != 0 {
		t.Fatalf("a right erasure: %d changed, %d left: %v", rep.OtherDataChanged, rep.ErasedDataLeft, rep.Problems)
	}
	if rep := check(before, gone); rep.ErasedDataLeft == 0 {
		t.Error("nothing erased: no record left reported")
	}
	perhaps := fates{erased: map[*person]bool{}, maybeErased: map[*person]bool{p: true}, corrected: map[*person]bool{}, maybeCorrected: map[*person]bool{}}
	for name, after := range map[string]*snapshot{"not yet": before, "done": erased(w, before, p)} {
		if rep := check(after, perhaps); rep.OtherDataChanged != 0 || rep.ErasedDataLeft != 0 {
			t.Errorf("a deletion not completed, %s: %v", name, rep.Problems)
		}
	}

	// Someone else's record goes, or changes; bytes appear.
	ref := "demo-events/events/2026-12-01.jsonl"
	for name, tc := range map[string]struct {
		change func(string) string
		want   int
	}{
		"another's line gone": {func(s string) string {
			for _, l := range lines([]byte(s)) {
				if o := w.owners[l]; o != nil && o != p {
					return strings.Replace(s, l, "", 1)
				}
			}
			return s
		}, 1},
		// Gone as it was, and there as it was not.
		"another's line changed": {func(s string) string { return strings.Replace(s, `"page_view"`, `"page_vieW"`, 1) }, 2},
		"a line added":           {func(s string) string { return s + `{"user_id":"uc-9999"}` + "\n" }, 1},
		"lines swapped": {func(s string) string {
			ls := lines([]byte(s))
			ls[0], ls[1] = ls[1], ls[0]
			return strings.Join(ls, "")
		}, 2},
	} {
		after := erased(w, before, p)
		changed := tc.change(string(after.objects[ref]))
		if changed == string(after.objects[ref]) {
			t.Fatalf("%s: the change changed nothing", name)
		}
		after.objects[ref] = []byte(changed)
		if rep := check(after, gone); rep.OtherDataChanged != tc.want {
			t.Errorf("%s: %d changes found, want %d: %v", name, rep.OtherDataChanged, tc.want, rep.Problems)
		}
	}
	// The law keeps the invoices: erasing them is a change.
	after := erased(w, before, p)
	for ref := range w.retained {
		after.objects[ref] = []byte(lines(before.objects[ref])[0])
	}
	if rep := check(after, gone); rep.OtherDataChanged == 0 {
		t.Error("retained invoices erased: no change found")
	}
	// A review deleted where it should be anonymized.
	after = erased(w, before, p)
	for k := range after.items {
		if after.table[k] == "demo-reviews" && after.items[k]["email"] == nil {
			delete(after.items, k)
			break
		}
	}
	if rep := check(after, gone); rep.OtherDataChanged != 1 {
		t.Errorf("a review deleted, not anonymized: %v", rep.Problems)
	}
	// An older version holding the subject is left.
	after = erased(w, before, p)
	left := false
	for _, v := range slices.Sorted(maps.Keys(before.versions)) {
		if _, ok := after.versions[v]; !ok {
			after.versions[v], left = before.versions[v], true
			break
		}
	}
	if rep := check(after, gone); !left || rep.ErasedDataLeft != 1 {
		t.Errorf("an older version holding the subject left (%v): %v", left, rep.Problems)
	}
}

// A correction changes exactly the fields it names.
func TestCompareCorrections(t *testing.T) {
	w := newWorld(4, 20, demoModes)
	p := subjectOf(w, request.Correct, func(*person) bool { return true })
	before := snapshotOf(w)
	done := fates{erased: map[*person]bool{}, maybeErased: map[*person]bool{}, corrected: map[*person]bool{p: true}, maybeCorrected: map[*person]bool{}}
	correct := func(extra bool) *snapshot {
		after := snapshotOf(w)
		for k, it := range after.items {
			if after.table[k] == "demo-users" && it["user_id"] == p.userID {
				for f, v := range p.corrections {
					it[f] = v
				}
				if extra {
					it["plan"] = "changed"
				}
			}
		}
		return after
	}
	for _, tc := range []struct {
		name  string
		after *snapshot
		want  int
	}{{"applied", correct(false), 0}, {"not applied", before, 1}, {"another field changed too", correct(true), 1}} {
		rep := &Report{}
		(&runner{world: w}).compare(rep, before, tc.after, done)
		if rep.OtherDataChanged != tc.want {
			t.Errorf("%s: %d changes found, want %d: %v", tc.name, rep.OtherDataChanged, tc.want, rep.Problems)
		}
	}
}

// The receipt check compares every source's counts with the seeded data.
func TestReceiptProblems(t *testing.T) {
	expect := map[string]*tally{"users": {records: 1, deleted: 1}, "reviews": {records: 2, anonymized: 2}, "invoices": {records: 1, retained: 1}}
	sources := []string{"users", "reviews", "invoices", "events"}
	right := func() erasure.Receipt {
		return erasure.Receipt{Sources: []erasure.Outcome{
			{SourceID: "users", Deleted: 1}, {SourceID: "reviews", Anonymized: 2},
			{SourceID: "invoices", Retained: 1, Retention: &erasure.Retention{Until: "2031-03-01"}}, {SourceID: "events"},
		}}
	}
	if p := receiptProblems(right(), expect, "2031-03-01", sources); len(p) != 0 {
		t.Fatalf("a right receipt: %v", p)
	}
	for name, change := range map[string]func(*erasure.Receipt){
		"one deleted too many":  func(r *erasure.Receipt) { r.Sources[0].Deleted++ },
		"one anonymized missed": func(r *erasure.Receipt) { r.Sources[1].Anonymized-- },
		"deleted where kept":    func(r *erasure.Receipt) { r.Sources[2].Retained, r.Sources[2].Deleted = 0, 1 },
		"kept until wrong":      func(r *erasure.Receipt) { r.Sources[2].Retention.Until = "2031-03-02" },
		"a source missing":      func(r *erasure.Receipt) { r.Sources = r.Sources[:3] },
		"deleted where none":    func(r *erasure.Receipt) { r.Sources[3].Deleted = 1 },
	} {
		r := right()
		change(&r)
		if p := receiptProblems(r, expect, "2031-03-01", sources); len(p) != 1 {
			t.Errorf("%s: %d problems, want 1: %v", name, len(p), p)
		}
	}
}

// The seeded world counts what it wrote: each subject's records by source
// add up to the lines and items that name the subject, and each damaged
// line is where the subject says.
func TestWorldCountsWhatItWrote(t *testing.T) {
	w := newWorld(5, 40, demoModes)
	byOwner := map[*person]int{}
	for _, o := range w.objects {
		if strings.HasPrefix(o.key, "profiles/") && o.bucket == "demo-archive" {
			continue // versions: only the current ones count, checked below
		}
		for _, l := range o.lines {
			if l.owner != nil && !strings.HasSuffix(l.text, "page_vi\n") {
				n := 1
				if strings.HasPrefix(l.text, "[") {
					n = strings.Count(l.text, "{")
				}
				byOwner[l.owner] += n
			}
		}
	}
	for _, it := range w.items {
		byOwner[it.owner]++
	}
	messy := 0
	for _, p := range w.subjects {
		total := 0
		for src, t := range w.expect[p] {
			if src != "profile-history" {
				total += t.records
			}
		}
		if total != byOwner[p] {
			t.Errorf("%s: the world counts %d records, its data holds %d", p, total, byOwner[p])
		}
		if p.damaged != "" {
			messy++
			for _, o := range w.objects {
				if o.key == p.damaged && o.lines[p.damagedLine-1].text != damagedText(p) {
					t.Errorf("%s: line %d is not the damaged one", p, p.damagedLine)
				}
			}
		}
	}
	if messy == 0 || len(w.subjects) != 40 {
		t.Errorf("%d subjects, %d with damaged data", len(w.subjects), messy)
	}
}

// The grant check finds an action no grant allows.
func TestCheckGrants(t *testing.T) {
	ok := map[string]map[string][]string{"api": {"requests": {"dynamodb:PutItem"}}, "erase-source": {"requests": {"dynamodb:GetItem"}}}
	rep := &Report{}
	checkGrants(rep, ok)
	if rep.UngrantedActions != 0 {
		t.Fatalf("granted actions: %v", rep.Problems)
	}
	ok["erase-source"]["requests"] = append(ok["erase-source"]["requests"], "dynamodb:DeleteItem")
	checkGrants(rep, ok)
	if rep.UngrantedActions != 1 {
		t.Fatalf("an ungranted action: %v", rep.Problems)
	}
}
