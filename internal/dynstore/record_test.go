package dynstore

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/statute"
)

// TestEveryRequestFieldIsStored: a request with every field of every part
// set comes back from its record unchanged. A field added to request.Request
// or to one of its parts and forgotten in the record would be lost on the
// first save; the test finds the fields by reflection, so it cannot miss one.
func TestEveryRequestFieldIsStored(t *testing.T) {
	var r request.Request
	fillStruct(t, reflect.ValueOf(&r).Elem(), "Request")
	rec, err := toRecord(&r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := rec.request()
	if err != nil {
		t.Fatal(err)
	}
	compare(t, reflect.ValueOf(r), reflect.ValueOf(*got), "Request")
}

// TestRecordAttributesUnchanged: the parts are a shape in Go only. Each
// field is stored under the attribute it always had, so requests saved
// before the parts existed read back whole.
func TestRecordAttributesUnchanged(t *testing.T) {
	want := []string{
		"pk", "sk", "kind", "type", "status", "jurisdiction", "email", "language", "received_at", "updated_at",
		"status_token_hash", "verify_token_hash", "verify_code_hash", "verify_failures", "verify_locked",
		"verify_level", "declared_by", "agent_email", "permission_key", "permission_type", "power_of_attorney",
		"verify_expires_at", "task_token", "identities", "export_key", "download_token_hash", "download_expires_at",
		"needs_operator", "completed_at", "deadlines", "due_date", "extended", "extension_reasons", "overdue",
		"extension_task_token", "extension_decision", "review_task_token", "denial_reasons", "denial_provision",
		"other_controller", "other_controller_contact", "redrives", "via", "joined_to", "dry_run", "on_hold",
		"hold_reasons", "hold_task_token", "corrections", "corrected_fields", "corrected_items", "mail_key",
		"unauthenticated_sender", "mail_siblings", "appeal_of", "appealed_by", "grant_reasons", "follow_up", "follows_appeal",
		"version",
	}
	var got []string
	rt := reflect.TypeOf(record{})
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("dynamodbav"), ",")
		got = append(got, name)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stored attributes changed:\n got %q\nwant %q", got, want)
	}
}

// fillStruct sets every field of v, a request or one of its parts, to a
// value that is not its zero value. Parts (structs of package request) are
// filled field by field.
func fillStruct(t *testing.T, v reflect.Value, path string) {
	t.Helper()
	for i := range v.NumField() {
		f, name := v.Field(i), path+"."+v.Type().Field(i).Name
		switch {
		case f.Type() == reflect.TypeOf(statute.Deadlines{}):
			day := statute.DateOf(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), time.UTC)
			f.Set(reflect.ValueOf(statute.Deadlines{Jurisdiction: "EU", Type: "access", Received: time.Date(2026, 1, 31, 9, 0, 0, 0, time.UTC),
				ClockStart: day, Due: day, ExtendedDue: &day, TimeZone: "Europe/Brussels", Citations: []string{"Art 12(3)"}}))
		case f.Type() == reflect.TypeOf(statute.Level{}):
			f.Set(reflect.ValueOf(statute.Level{DataPoints: 2, Declaration: true, Cite: "x"}))
		case isPart(f.Type()):
			fillStruct(t, f, name)
		default:
			fill(t, f, name)
		}
		if f.IsZero() {
			t.Fatalf("%s: left at its zero value", name)
		}
	}
}

// isPart reports whether t is a part of request.Request: a struct of
// package request.
func isPart(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && t.PkgPath() == reflect.TypeOf(request.Request{}).PkgPath()
}

// fill sets f to a value that is not its zero value.
func fill(t *testing.T, f reflect.Value, name string) {
	t.Helper()
	if f.Type() == reflect.TypeOf(time.Time{}) {
		f.Set(reflect.ValueOf(time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)))
		return
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(name + "-value")
	case reflect.Bool:
		f.SetBool(true)
	case reflect.Int:
		f.SetInt(7)
	case reflect.Slice:
		s := reflect.MakeSlice(f.Type(), 1, 1)
		fill(t, s.Index(0), name)
		f.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(f.Type())
		val := reflect.New(f.Type().Elem()).Elem()
		fill(t, val, name)
		m.SetMapIndex(reflect.ValueOf("key").Convert(f.Type().Key()), val)
		f.Set(m)
	default:
		t.Fatalf("%s: no test value for a %s", name, f.Kind())
	}
}

// compare reports every field, down into the parts, that did not come back
// as it was stored.
func compare(t *testing.T, want, got reflect.Value, path string) {
	t.Helper()
	for i := range want.NumField() {
		w, g, name := want.Field(i), got.Field(i), path+"."+want.Type().Field(i).Name
		if isPart(w.Type()) {
			compare(t, w, g, name)
			continue
		}
		if !reflect.DeepEqual(g.Interface(), w.Interface()) {
			t.Errorf("%s: stored %v, read back %v", name, w.Interface(), g.Interface())
		}
	}
}
