package s3src

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/erasure"
	"github.com/privacy-pipeline/dsr/internal/registry"
)

// templated returns a source whose objects under exports/users/{user_id}/
// are the subject's.
func templated(t *testing.T, format string) *registry.Source {
	t.Helper()
	return templatedErasing(t, format, "delete")
}

func templatedErasing(t *testing.T, format, erasure string) *registry.Source {
	t.Helper()
	reg, err := registry.Parse([]byte(fmt.Sprintf(`
identities: [email, user_id]
sources:
  - id: exports
    s3: {bucket: %s, prefix: exports/, key_template: "users/{user_id}/", format: %s}
    erasure: %s
    categories: [identifiers]
    purposes: [Keep exports.]
    recipients: []
    retention: {period: 1 year}
  - id: users
    dynamodb: {table: users, partition_key: email, identity: email}
    provides: {user_id: user_id}
    erasure: delete
    categories: [identifiers]
    purposes: [Keep accounts.]
    recipients: []
    retention: {period: 1 year}
`, bucket, format, erasure)))
	if err != nil {
		t.Fatal(err)
	}
	return reg.Source("exports")
}

// templateObjects: two folders of the subject (u-1, u-2), the folders of
// users whose ids extend or resemble hers, and objects outside the prefix.
var templateObjects = map[string]string{
	"exports/users/u-1/a.jsonl":        `{"n":1}` + "\n" + `{"n":2}` + "\n" + "not json\n",
	"exports/users/u-1/deep/b.jsonl":   `{"n":3}` + "\n",
	"exports/users/u-2/c.jsonl":        `{"n":4}` + "\n",
	"exports/users/u-10/d.jsonl":       `{"n":"other: u-10"}` + "\n",
	"exports/users/u-1x/e.jsonl":       `{"n":"other: u-1x"}` + "\n",
	"exports/users/u-1.jsonl":          `{"n":"other: a file, not her folder"}` + "\n",
	"exports/users/U-1/f.jsonl":        `{"n":"other: U-1"}` + "\n",
	"exports/users/a%20b/g.jsonl":      `{"n":"other: escaped value"}` + "\n",
	"users/u-1/h.jsonl":                `{"n":"outside the prefix"}` + "\n",
	"exports/users/u-1%2Fx/i.jsonl":    `{"n":"other: escaped slash"}` + "\n",
	"exports/users/jane@example.com/j": `{"n":"other: email folder"}` + "\n",
}

func TestTemplatedFind(t *testing.T) {
	tests := []struct {
		name    string
		ids     map[string][]string
		want    string
		listed  []string
		refused bool
	}{
		{"her folders, every record of every object", map[string][]string{"user_id": {"u-2", "u-1"}},
			`{"n":1}` + "\n" + `{"n":2}` + "\n" + `{"n":3}` + "\n" + `{"n":4}`, nil, false},
		{"no user id: nothing read", map[string][]string{"email": {"jane@example.com"}}, "", nil, false},
		{"a value with a space is escaped", map[string][]string{"user_id": {"a b"}}, `{"n":"other: escaped value"}`, nil, false},
		{"hostile: climbs up", map[string][]string{"user_id": {"../../users/u-1"}}, "", nil, true},
		{"hostile: slash", map[string][]string{"user_id": {"u-1/x"}}, "", nil, true},
		{"hostile: empty", map[string][]string{"user_id": {""}}, "", nil, true},
		{"hostile: control", map[string][]string{"user_id": {"u-1\r\n"}}, "", nil, true},
		{"hostile beside a good value refuses all", map[string][]string{"user_id": {"u-1", ".."}}, "", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeS3(templateObjects)
			rows, _, err := newAdapter(t, f).Find(context.Background(), templated(t, "jsonl"), tt.ids)
			if tt.refused {
				var ae *apperr.Error
				if !errors.As(err, &ae) || ae.Kind != apperr.Invalid || !errors.Is(err, registry.ErrKeyValue) {
					t.Fatalf("err %v, want Invalid wrapping ErrKeyValue", err)
				}
				if len(f.gets) != 0 {
					t.Fatalf("read %v before refusing", f.gets)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := rowsJSON(t, rows); got != tt.want {
				t.Fatalf("rows\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestTemplatedFormats(t *testing.T) {
	tests := []struct{ format, body, want string }{
		{"csv", "a,b\r\n1,\"x, y\"\r\n\r\n2,z\r\n", `{"a":"1","b":"x, y"}` + "\n" + `{"a":"2","b":"z"}`},
		{"json", `[{"a":1},{"a":2}]`, `{"a":1}` + "\n" + `{"a":2}`},
		{"json", `{"a":1}`, `{"a":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			f := newFakeS3(map[string]string{"exports/users/u-1/x": tt.body, "exports/users/u-2/x": tt.body})
			rows, _, err := newAdapter(t, f).Find(context.Background(), templated(t, tt.format), map[string][]string{"user_id": {"u-1"}})
			if err != nil {
				t.Fatal(err)
			}
			if got := rowsJSON(t, rows); got != tt.want {
				t.Fatalf("rows\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestTemplatedErase(t *testing.T) {
	ids := map[string][]string{"user_id": {"u-1", "u-2"}}
	deleted := []string{"exports/users/u-1/a.jsonl", "exports/users/u-1/deep/b.jsonl", "exports/users/u-2/c.jsonl"}

	f := newFakeS3(templateObjects)
	dry, err := newAdapter(t, f).Erase(context.Background(), templated(t, "jsonl"), ids, true, nil)
	if err != nil || len(f.deletes) != 0 || len(f.puts) != 0 || dry.Records != 4 || len(dry.Touched) != 3 {
		t.Fatalf("dry run: %+v, %v; deletes %v puts %v", dry, err, f.deletes, f.puts)
	}

	res, err := newAdapter(t, f).Erase(context.Background(), templated(t, "jsonl"), ids, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(f.deletes)
	var touched []string
	for _, tk := range res.Touched {
		if tk.Action != erasure.ActionDeleted {
			t.Errorf("%s: %s", tk.Key, tk.Action)
		}
		touched = append(touched, tk.Key)
	}
	sort.Strings(touched)
	// a.jsonl holds a line that is not JSON: it is hers too, and goes uncounted.
	if res.Records != 4 || res.Deleted != 4 || !slices.Equal(touched, deleted) || !slices.Equal(f.deletes, deleted) || len(f.puts) != 0 {
		t.Fatalf("erased %+v; deletes %v puts %v", res, f.deletes, f.puts)
	}
	for key, body := range templateObjects {
		if _, kept := f.objects[key]; kept == slices.Contains(deleted, key) {
			t.Errorf("%s: kept %v", key, kept)
		} else if kept && string(f.objects[key]) != body {
			t.Errorf("%s changed", key)
		}
	}

	f = newFakeS3(templateObjects)
	if _, err := newAdapter(t, f).Erase(context.Background(), templated(t, "jsonl"), map[string][]string{"user_id": {"u-1", "../u-2"}}, false, nil); !errors.Is(err, registry.ErrKeyValue) {
		t.Fatalf("hostile value: %v", err)
	}
	if len(f.deletes) != 0 {
		t.Fatalf("deleted %v before refusing", f.deletes)
	}
}

func TestTemplatedAnonymize(t *testing.T) {
	f := newFakeS3(map[string]string{
		"exports/users/u-1/a.jsonl": `{"n":1,"name":"Jane"}` + "\n" + `{"n":2,"name":"Jane"}` + "\n",
		"exports/users/u-2/a.jsonl": `{"n":3,"name":"John"}` + "\n",
	})
	src := templatedErasing(t, "jsonl", "anonymize\n    anonymize: [name]")
	res, err := newAdapter(t, f).Erase(context.Background(), src, map[string][]string{"user_id": {"u-1"}}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(f.objects["exports/users/u-1/a.jsonl"]); got != `{"n":1,"name":null}`+"\n"+`{"n":2,"name":null}`+"\n" || res.Anonymized != 2 {
		t.Fatalf("anonymized %+v:\n%s", res, got)
	}
	if got := string(f.objects["exports/users/u-2/a.jsonl"]); got != `{"n":3,"name":"John"}`+"\n" {
		t.Fatalf("another subject's folder changed: %s", got)
	}
}

// Under the subject's folder in a versioned bucket every older version goes,
// whatever it holds: all of it is hers. Other folders keep theirs.
func TestTemplatedEraseVersioned(t *testing.T) {
	f := newFakeS3(nil)
	f.versioning = "Enabled"
	f.write("exports/users/u-1/a.jsonl", []byte("not json\n"))    // v1
	f.write("exports/users/u-1/a.jsonl", []byte(`{"n":1}`+"\n"))  // v2
	f.write("exports/users/u-10/b.jsonl", []byte(`{"n":2}`+"\n")) // v3
	f.write("exports/users/u-10/b.jsonl", []byte(`{"n":3}`+"\n")) // v4
	res, err := newAdapter(t, f).Erase(context.Background(), templated(t, "jsonl"), map[string][]string{"user_id": {"u-1"}}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"exports/users/u-1/a.jsonl@v1", "exports/users/u-1/a.jsonl@v2"}; !slices.Equal(slices.Sorted(slices.Values(f.versionDeletes)), want) {
		t.Errorf("versions deleted %v, want %v", f.versionDeletes, want)
	}
	if len(f.older["exports/users/u-1/a.jsonl"]) != 0 || len(f.older["exports/users/u-10/b.jsonl"]) != 1 {
		t.Errorf("older versions left: %v", f.older)
	}
	if len(res.Touched) != 3 {
		t.Errorf("touched %+v: the object and its two versions", res.Touched)
	}
}
