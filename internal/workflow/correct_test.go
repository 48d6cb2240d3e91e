package workflow

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/i18n"
	"github.com/privacy-pipeline/dsr/internal/notify"
	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// fakeCorrector records what it was asked to correct.
type fakeCorrector struct {
	found  int
	err    error
	called []map[string]string
	src    string
}

func (c *fakeCorrector) Correct(_ context.Context, src *registry.Source, _ map[string][]string, values map[string]string) (int, error) {
	c.called = append(c.called, values)
	c.src = src.ID
	return c.found, c.err
}

// withProfile makes the test registry's users the account source whose name
// and phone may be corrected.
func withProfile(t *testing.T, e *env) *fakeCorrector {
	t.Helper()
	reg, err := registry.Parse([]byte(strings.Replace(testRegistry, "    provides: {user_id: user_id}\n",
		"    provides: {user_id: user_id}\n    account: true\n    data_points: {name: name}\n    correctable: [name, phone]\n", 1)))
	if err != nil {
		t.Fatal(err)
	}
	c := &fakeCorrector{found: 1}
	e.steps.Registry, e.steps.Corrector = reg, c
	return c
}

func TestApplyCorrections(t *testing.T) {
	values := request.Corrections{"name": "Jane Roe", "phone": "+44 20 7946 0000"}
	tests := []struct {
		name        string
		typ         request.Type
		status      request.Status
		corrections request.Corrections
		found       int
		correctErr  error
		kind        apperr.Kind
		wantNote    string
	}{
		{name: "applied", typ: request.Correct, status: request.InProgress, corrections: values, found: 1, wantNote: "source=users fields=name,phone records=1"},
		{name: "no record found", typ: request.Correct, status: request.InProgress, corrections: values, found: 0, wantNote: "source=users fields=name,phone records=0"},
		{name: "not verified", typ: request.Correct, status: request.PendingVerification, corrections: values, kind: apperr.Conflict},
		{name: "not a correction", typ: request.Access, status: request.InProgress, corrections: values, kind: apperr.Conflict},
		{name: "a field the registry no longer allows", typ: request.Correct, status: request.InProgress, corrections: request.Corrections{"plan": "pro"}, kind: apperr.Conflict},
		{name: "source unavailable", typ: request.Correct, status: request.InProgress, corrections: values, correctErr: apperr.E(apperr.Unavailable, "down"), kind: apperr.Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t)
			c := withProfile(t, e)
			c.found, c.err = tt.found, tt.correctErr
			before := e.seed(t, tt.typ, tt.status, func(r *request.Request) { r.Correction.Values = tt.corrections })
			err := e.steps.ApplyCorrections(ctx, RequestRef{RequestID: before.ID})
			after := e.store.stored(before.ID)
			if tt.kind != 0 {
				wantKind(t, err, tt.kind)
				if !reflect.DeepEqual(after, before) {
					t.Errorf("request changed:\n got %+v\nwant %+v", after, before)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(c.called) != 1 || !reflect.DeepEqual(c.called[0], map[string]string(values)) || c.src != "users" {
				t.Fatalf("corrector called with %v on %s", c.called, c.src)
			}
			if after.Correction.Values != nil || !reflect.DeepEqual(after.Correction.Fields, []string{"name", "phone"}) || after.Correction.Items != tt.found {
				t.Fatalf("after: corrections %v, fields %v, items %d", after.Correction.Values, after.Correction.Fields, after.Correction.Items)
			}
			ev := lastEvent(t, e.store, before.ID)
			if ev.Action != "corrected" || ev.Note != tt.wantNote || strings.Contains(ev.Note, "Roe") {
				t.Fatalf("event %+v", ev)
			}
			// Again: nothing more happens.
			if err := e.steps.ApplyCorrections(ctx, RequestRef{RequestID: before.ID}); err != nil || len(c.called) != 1 {
				t.Fatalf("again: %v, %d calls", err, len(c.called))
			}
			// The close mails the fields, never the values.
			if err := e.steps.CloseRequest(ctx, CloseTask{RequestID: before.ID, Outcome: CloseCompleted}); err != nil {
				t.Fatal(err)
			}
			want, _ := notify.Corrected(i18n.English, subject, before.ID, []string{"name", "phone"}, tt.found > 0)
			if msg := onlyMessage(t, e); msg != want || strings.Contains(msg.Text, "Roe") {
				t.Fatalf("mail %q:\n%s", msg.Subject, msg.Text)
			}
		})
	}
}

// TestCloseUncorrected: a correction request whose values were not applied
// cannot complete.
func TestCloseUncorrected(t *testing.T) {
	e := newEnv(t)
	withProfile(t, e)
	r := e.seed(t, request.Correct, request.InProgress, func(r *request.Request) { r.Correction.Values = request.Corrections{"name": "x"} })
	err := e.steps.CloseRequest(context.Background(), CloseTask{RequestID: r.ID, Outcome: CloseCompleted})
	wantKind(t, err, apperr.Conflict)
	if len(e.mail.sent) != 0 {
		t.Fatal("mail sent")
	}
}
