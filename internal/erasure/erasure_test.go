package erasure

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func chain(t *testing.T, n int) []Link {
	t.Helper()
	var links []Link
	prev := Link{}
	for i := range n {
		l, err := Seal(Receipt{RequestID: "dsr-20261123-000000000000000" + string(rune('a'+i)), IssuedAt: time.Date(2026, 11, 23, 10, i, 0, 0, time.UTC),
			Sources: []Outcome{{SourceID: "users", Kind: "dynamodb", Mode: "delete", Records: i + 1, Deleted: i + 1}}}, prev)
		if err != nil {
			t.Fatal(err)
		}
		links = append(links, l)
		prev = l
	}
	return links
}

func verify(links []Link) (int64, error) {
	var v Verifier
	for _, l := range links {
		if err := v.Next(l); err != nil {
			return v.Count(), err
		}
	}
	return v.Count(), nil
}

func TestChain(t *testing.T) {
	rehash := func(l Link) Link { l.Hash = Hash(l.Body); return l }
	tests := []struct {
		name    string
		tamper  func(links []Link) []Link
		wantSeq int64 // 0: intact
		want    string
	}{
		{"intact", func(l []Link) []Link { return l }, 0, ""},
		{"content changed", func(l []Link) []Link {
			l[1].Body = []byte(strings.Replace(string(l[1].Body), `"deleted":2`, `"deleted":0`, 1))
			return l
		}, 2, "does not match its hash"},
		{"content changed and hash recomputed", func(l []Link) []Link {
			l[1].Body = []byte(strings.Replace(string(l[1].Body), `"deleted":2`, `"deleted":0`, 1))
			l[1] = rehash(l[1])
			return l
		}, 3, "does not name the hash of receipt 2"},
		{"removed", func(l []Link) []Link { return append(l[:1], l[2:]...) }, 2, "missing: the next receipt stored is 3"},
		{"replaced by a receipt of its own", func(l []Link) []Link {
			forged, _ := Seal(Receipt{RequestID: "dsr-20261123-forgedforgedforg"}, l[0])
			l[1] = forged
			return l
		}, 3, "does not name the hash of receipt 2"},
		{"renumbered", func(l []Link) []Link {
			l[2].Body = []byte(strings.Replace(string(l[2].Body), `"seq":3`, `"seq":7`, 1))
			l[2] = rehash(l[2])
			return l
		}, 3, "it says it is receipt 7"},
		{"first receipt without the genesis hash", func(l []Link) []Link {
			l[0].Body = []byte(strings.Replace(string(l[0].Body), Genesis, strings.Repeat("1", 64), 1))
			l[0] = rehash(l[0])
			return l
		}, 1, "does not name the hash of receipt 0"},
		{"not JSON", func(l []Link) []Link { l[3].Body = []byte("{"); l[3] = rehash(l[3]); return l }, 4, "cannot be read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			links := tt.tamper(chain(t, 4))
			n, err := verify(links)
			if tt.wantSeq == 0 {
				if err != nil || n != 4 {
					t.Fatalf("verified %d, err %v", n, err)
				}
				return
			}
			var b *Break
			if !errors.As(err, &b) || b.Seq != tt.wantSeq || !strings.Contains(b.Problem, tt.want) {
				t.Fatalf("err %v, want a break at %d: %q", err, tt.wantSeq, tt.want)
			}
			if n != tt.wantSeq-1 {
				t.Errorf("%d receipts passed before the break at %d", n, tt.wantSeq)
			}
		})
	}
}

// TestChainAgainstAnchors: what a hash chain alone cannot show, anchors do:
// the newest receipts removed, or the whole chain rebuilt.
func TestChainAgainstAnchors(t *testing.T) {
	anchorsOf := func(links []Link) []Anchor {
		var as []Anchor
		for _, l := range links {
			as = append(as, Anchor{Seq: l.Seq, Hash: l.Hash})
		}
		return as
	}
	original := chain(t, 4)
	rebuilt := chain(t, 4)
	rebuilt[2], _ = Seal(Receipt{RequestID: "dsr-20261123-rebuiltrebuiltre"}, rebuilt[1])
	rebuilt[3], _ = Seal(Receipt{RequestID: "dsr-20261123-rebuiltrebuiltrf"}, rebuilt[2])
	tests := []struct {
		name    string
		links   []Link
		anchors []Anchor
		wantSeq int64 // 0: intact
		want    string
	}{
		{"intact, every receipt anchored", original, anchorsOf(original), 0, ""},
		{"intact, anchors lag behind", original, anchorsOf(original[:2]), 0, ""},
		{"no anchors", original, nil, 0, ""},
		{"newest receipts removed", original[:2], anchorsOf(original), 3, "the chain ends at receipt 2, yet receipt 4 was anchored"},
		{"every receipt removed", nil, anchorsOf(original), 1, "the chain ends at receipt 0"},
		{"rebuilt from receipt 3", rebuilt, anchorsOf(original), 3, "not the one anchored"},
		{"a second anchor for a receipt", original, append(anchorsOf(original), Anchor{Seq: 2, Hash: strings.Repeat("f", 64)}), 2, "not the one anchored"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v Verifier
			v.Expect(tt.anchors)
			var err error
			for _, l := range tt.links {
				if err = v.Next(l); err != nil {
					break
				}
			}
			if err == nil {
				err = v.Done()
			}
			if tt.wantSeq == 0 {
				if err != nil {
					t.Fatalf("err %v", err)
				}
				return
			}
			var b *Break
			if !errors.As(err, &b) || b.Seq != tt.wantSeq || !strings.Contains(b.Problem, tt.want) {
				t.Fatalf("err %v, want a break at %d: %q", err, tt.wantSeq, tt.want)
			}
		})
	}
}

func TestSealLinks(t *testing.T) {
	links := chain(t, 2)
	r, err := links[1].Open()
	if err != nil {
		t.Fatal(err)
	}
	if r.Seq != 2 || r.PrevHash != links[0].Hash || links[1].Seq != 2 || links[1].Hash != Hash(links[1].Body) {
		t.Fatalf("second receipt %+v, link %+v", r, links[1])
	}
	first, _ := links[0].Open()
	if first.PrevHash != Genesis {
		t.Fatalf("first receipt's previous hash %q", first.PrevHash)
	}
}

// Counted adds up the done steps of a journal: each change once, begun
// steps not at all, anonymized records apart from deleted ones, versions
// touched without records.
func TestCounted(t *testing.T) {
	entries := []Entry{
		{Step: Step{Key: "events/a.jsonl", Action: ActionRewritten, Records: 2, Before: "e1"}, Done: true},
		{Step: Step{Key: "events/a.jsonl", Action: ActionRewritten, Records: 1, Before: "e2"}, Done: true},
		{Step: Step{Key: "events/b.jsonl", Action: ActionDeleted, Records: 4, Before: "e3"}},
		{Step: Step{Key: "events/a.jsonl", Version: "v1", Action: ActionVersionDeleted}, Done: true},
		{Step: Step{Key: `{"review_id":"r-1"}`, Action: ActionAnonymized, Records: 1}, Done: true},
	}
	got := Counted(entries)
	if got.Records != 4 || got.Deleted != 3 || got.Anonymized != 1 || len(got.Touched) != 4 {
		t.Fatalf("counted %+v", got)
	}
	if keys, versions := (Outcome{Touched: got.Touched}).TouchedCounts(); keys != 3 || versions != 1 {
		t.Fatalf("touched %d keys, %d versions", keys, versions)
	}
}
