package dynstore

import (
	"reflect"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/statute"
)

// TestEveryRequestFieldIsStored: a request with every field set comes back
// from its record unchanged. A field added to request.Request and forgotten
// here would be lost on the first save.
func TestEveryRequestFieldIsStored(t *testing.T) {
	var r request.Request
	v := reflect.ValueOf(&r).Elem()
	for i := range v.NumField() {
		f, name := v.Field(i), v.Type().Field(i).Name
		switch name {
		case "Deadlines":
			day := statute.DateOf(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), time.UTC)
			f.Set(reflect.ValueOf(statute.Deadlines{Jurisdiction: "EU", Type: "access", Received: time.Date(2026, 1, 31, 9, 0, 0, 0, time.UTC),
				ClockStart: day, Due: day, ExtendedDue: &day, TimeZone: "Europe/Brussels", Citations: []string{"Art 12(3)"}}))
		case "Level":
			f.Set(reflect.ValueOf(statute.Level{DataPoints: 2, Declaration: true, Cite: "x"}))
		default:
			fill(t, f, name)
		}
	}
	rec, err := toRecord(&r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := rec.request()
	if err != nil {
		t.Fatal(err)
	}
	gv := reflect.ValueOf(got).Elem()
	for i := range v.NumField() {
		name := v.Type().Field(i).Name
		if !reflect.DeepEqual(gv.Field(i).Interface(), v.Field(i).Interface()) {
			t.Errorf("%s: stored %v, read back %v", name, v.Field(i).Interface(), gv.Field(i).Interface())
		}
	}
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
