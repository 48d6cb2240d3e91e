package s3src

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/apperr"
)

func TestOversized(t *testing.T) {
	objects := map[string]string{}
	for i := range 5 {
		objects[fmt.Sprintf("events/%d.jsonl", i)] = "{}\n" // 3 bytes each
	}
	objects["other/x.jsonl"] = strings.Repeat("{}\n", 100)
	for _, tt := range []struct {
		objects int
		bytes   int64
		want    bool
	}{
		{0, 100, true}, {4, 100, true}, {5, 100, false}, {6, 100, false},
		// Few objects, many bytes: 15 under the prefix.
		{10, 14, true}, {10, 15, false},
	} {
		t.Run(fmt.Sprint(tt.objects, "/", tt.bytes), func(t *testing.T) {
			f := newFakeS3(objects) // two keys a page: listing is paged
			got, err := newAdapter(t, f).Oversized(context.Background(), source(), tt.objects, tt.bytes)
			if err != nil || got != tt.want {
				t.Fatalf("Oversized(%d, %d) = %v, %v; want %v", tt.objects, tt.bytes, got, err, tt.want)
			}
			if len(f.gets) != 0 {
				t.Fatal("objects were read to count them")
			}
		})
	}
}

// TestPerObject: finding and erasing one object at a time gives what Find
// and Erase give for the whole prefix, object by object.
func TestPerObject(t *testing.T) {
	objects := map[string]string{
		"events/a.jsonl": `{"user_id":"u-1","n":1}` + "\n" + `{"user_id":"u-3","n":2}` + "\n",
		"events/b.jsonl": `{"user_id":"u-3","n":3}` + "\n",
		"events/c.jsonl": `{"email":"ada@example.com","n":4}` + "\n",
	}
	ids := map[string][]string{"user_id": {"u-1"}, "email": {"ada@example.com"}}
	ctx := context.Background()
	whole := newFakeS3(objects)
	wantRows, _, err := newAdapter(t, whole).Find(ctx, source(), ids)
	if err != nil {
		t.Fatal(err)
	}
	wantRes, err := newAdapter(t, whole).Erase(ctx, source(), ids, false, nil)
	if err != nil {
		t.Fatal(err)
	}

	each := newFakeS3(objects)
	a := newAdapter(t, each)
	var rows []map[string]any
	records, deleted, touched := 0, 0, 0
	for _, key := range []string{"events/a.jsonl", "events/b.jsonl", "events/c.jsonl"} {
		r, _, err := a.FindInObject(ctx, source(), ids, key)
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r...)
		res, err := a.EraseInObject(ctx, source(), ids, key, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		records, deleted, touched = records+res.Records, deleted+res.Deleted, touched+len(res.Touched)
	}
	if rowsJSON(t, rows) != rowsJSON(t, wantRows) {
		t.Errorf("rows %s, want %s", rowsJSON(t, rows), rowsJSON(t, wantRows))
	}
	if records != wantRes.Records || deleted != wantRes.Deleted || touched != len(wantRes.Touched) || records != 2 {
		t.Errorf("per object: %d records %d deleted %d touched; whole: %+v", records, deleted, touched, wantRes)
	}
	if fmt.Sprint(each.objects) != fmt.Sprint(whole.objects) {
		t.Errorf("objects after per-object erasure %v, after erasure %v", each.objects, whole.objects)
	}
}

func TestPerObjectRefusesOtherKeys(t *testing.T) {
	ids := map[string][]string{"user_id": {"u-1"}}
	for _, tt := range []struct {
		name string
		key  string
		tmpl bool
	}{
		{"outside the prefix", "support/x.jsonl", false},
		{"prefix lookalike", "eventsX/x.jsonl", false},
		{"empty", "", false},
		{"templated source", "exports/users/u-1/a.jsonl", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeS3(map[string]string{tt.key: `{"user_id":"u-1"}` + "\n"})
			src := source()
			if tt.tmpl {
				src = templated(t, "jsonl")
			}
			_, _, err := newAdapter(t, f).FindInObject(context.Background(), src, ids, tt.key)
			_, err2 := newAdapter(t, f).EraseInObject(context.Background(), src, ids, tt.key, false, nil)
			for _, e := range []error{err, err2} {
				var ae *apperr.Error
				if !errors.As(e, &ae) || ae.Kind != apperr.Invalid {
					t.Fatalf("err %v, want Invalid", e)
				}
			}
			if len(f.gets)+len(f.deletes)+len(f.puts) != 0 {
				t.Fatal("the object was touched")
			}
		})
	}
}
