package devstack

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/resources"
	"github.com/privacy-pipeline/dsr/statemachines"
)

// Every state machine renders with the local substitutions, and every
// substitution is used by some state machine.
func TestSubstitutionsFillEveryStateMachine(t *testing.T) {
	for _, region := range []string{"us-east-1", "eu-central-1"} {
		subs := Substitutions(region)
		used := map[string]bool{}
		for _, sm := range resources.StateMachines {
			raw, err := statemachines.Definition(sm.File)
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range statemachines.Placeholders(raw) {
				used[name] = true
				if _, ok := subs[name]; !ok {
					t.Errorf("%s: placeholder %s has no substitution", sm.File, name)
				}
			}
			def, err := statemachines.Render(raw, subs)
			if err != nil {
				t.Fatalf("%s: %v", sm.File, err)
			}
			if !json.Valid([]byte(def)) {
				t.Errorf("%s renders to invalid JSON", sm.File)
			}
			if strings.Contains(def, "${") {
				t.Errorf("%s keeps a placeholder after rendering", sm.File)
			}
			if !strings.Contains(def, ":"+region+":") {
				t.Errorf("%s names no ARN in %s", sm.File, region)
			}
		}
		for name := range subs {
			if !used[name] {
				t.Errorf("substitution %s is used by no state machine", name)
			}
		}
	}
}

// The ARN a state machine names reaches the handler that Start registers for
// that function, through the Lambda host, as the SDK sends it (colons escaped).
func TestFunctionARNsReachTheirHandlers(t *testing.T) {
	handlers := map[string]any{}
	for _, f := range resources.Functions {
		handlers[namePrefix+f.Name] = func(context.Context) (string, error) { return f.Name, nil }
	}
	h, err := newLambdaHost("http://127.0.0.1:1", handlers, nil)
	if err != nil {
		t.Fatal(err)
	}
	placeholders := 0
	for _, f := range resources.Functions {
		if f.Placeholder() == "" {
			continue
		}
		placeholders++
		arn := Substitutions("us-east-1")[f.Placeholder()]
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/2015-03-31/functions/"+strings.ReplaceAll(arn, ":", "%3A")+"/invocations", strings.NewReader("{}")))
		body, _ := io.ReadAll(rec.Body)
		if rec.Code != 200 || string(body) != `"`+f.Name+`"` {
			t.Errorf("%s (%s): %d %s, want the %s handler", f.Placeholder(), arn, rec.Code, body, f.Name)
		}
	}
	if placeholders == 0 {
		t.Fatal("no function has a placeholder")
	}
}
