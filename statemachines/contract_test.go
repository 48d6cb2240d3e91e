package statemachines

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/workflow"
)

// aslState is the part of a state the contract check reads.
type aslState struct {
	Type       string          `json:"Type"`
	Retry      json.RawMessage `json:"Retry"`
	Catch      []aslCatcher    `json:"Catch"`
	Parameters struct {
		Payload map[string]any `json:"Payload"`
	} `json:"Parameters"`
	Choices       []aslChoice `json:"Choices"`
	ItemProcessor *aslMachine `json:"ItemProcessor"`
}

type aslCatcher struct {
	ErrorEquals []string `json:"ErrorEquals"`
}

type aslChoice struct {
	And          []aslChoice `json:"And"`
	Variable     string      `json:"Variable"`
	StringEquals string      `json:"StringEquals"`
	Next         string      `json:"Next"`
}

type aslMachine struct {
	StartAt string               `json:"StartAt"`
	States  map[string]*aslState `json:"States"`
}

// each calls fn for every state of m, nested machines' too.
func (m *aslMachine) each(fn func(name string, s *aslState)) {
	for name, s := range m.States {
		fn(name, s)
		if s.ItemProcessor != nil {
			s.ItemProcessor.each(fn)
		}
	}
}

// definitions are the ASL files as they are written, by file name.
type definitions map[string]*aslMachine

// contractProblems is everything in defs that disagrees with what the Go
// code declares (internal/workflow): a Task without the standard Retry, an
// error name no Go code sends and AWS does not define, a close outcome or
// deadline phase the task does not know (or one it knows that no state
// names), and a state a redrive resumes at that request.asl.json lacks.
func contractProblems(defs definitions) []string {
	var problems []string
	errorNames := workflow.ErrorNames()
	outcomes := map[string]bool{}
	phases := map[string]bool{}
	for _, file := range slices.Sorted(maps.Keys(defs)) {
		defs[file].each(func(name string, s *aslState) {
			at := fmt.Sprintf("%s: %q", file, name)
			if s.Type != "Task" {
				return
			}
			if string(s.Retry) != StandardRetry {
				problems = append(problems, at+` has not "Retry": `+StandardRetry)
			}
			for _, c := range s.Catch {
				for _, e := range c.ErrorEquals {
					if !slices.Contains(errorNames, e) {
						problems = append(problems, fmt.Sprintf("%s catches %q, which Go does not declare (workflow.ErrorNames)", at, e))
					}
				}
			}
			if v, ok := s.Parameters.Payload["outcome"]; ok {
				o, _ := v.(string)
				outcomes[o] = true
				if !slices.Contains(workflow.CloseOutcomes(), workflow.CloseOutcome(o)) {
					problems = append(problems, fmt.Sprintf("%s closes with outcome %q, which is no workflow.CloseOutcome", at, v))
				}
			}
			if v, ok := s.Parameters.Payload["phase"]; ok {
				p, _ := v.(string)
				phases[p] = true
				if !slices.Contains(workflow.DeadlinePhases, workflow.DeadlinePhase(p)) {
					problems = append(problems, fmt.Sprintf("%s checks phase %q, which is no workflow.DeadlinePhase", at, v))
				}
			}
		})
	}
	for _, o := range workflow.CloseOutcomes() {
		if !outcomes[string(o)] {
			problems = append(problems, fmt.Sprintf("no state closes with outcome %q", o))
		}
	}
	for _, p := range workflow.DeadlinePhases {
		if !phases[string(p)] {
			problems = append(problems, fmt.Sprintf("no state checks phase %q", p))
		}
	}
	return append(problems, resumeProblems(defs["request.asl.json"])...)
}

// resumeProblems checks the states a redrive resumes at against the
// request workflow: each exists, and its first state, a Choice, branches
// to each of workflow.Resumable, in order, when resume_from names it.
func resumeProblems(m *aslMachine) []string {
	if m == nil {
		return []string{"request.asl.json is missing"}
	}
	var problems []string
	states := map[string]bool{}
	m.each(func(name string, _ *aslState) { states[name] = true })
	for _, name := range append(slices.Clone(workflow.Resumable), workflow.ResumesAtIdentities...) {
		if !states[name] {
			problems = append(problems, fmt.Sprintf("a redrive resumes at or after %q, which is no state of request.asl.json", name))
		}
	}
	for _, wait := range slices.Sorted(maps.Keys(workflow.ResumesAtTheStepWaitedFor)) {
		step := workflow.ResumesAtTheStepWaitedFor[wait]
		if !states[wait] || !slices.Contains(workflow.Resumable, step) {
			problems = append(problems, fmt.Sprintf("a failure at %q resumes at %q: the first must be a state, the second resumable", wait, step))
		}
	}
	var branches []string
	if first := m.States[m.StartAt]; first != nil {
		for _, c := range first.Choices {
			named := ""
			for _, cond := range c.And {
				if cond.Variable == "$.resume_from" && cond.StringEquals != "" {
					named = cond.StringEquals
				}
			}
			if named != c.Next {
				problems = append(problems, fmt.Sprintf("the first Choice goes to %q when resume_from is %q", c.Next, named))
			}
			branches = append(branches, c.Next)
		}
	}
	if !slices.Equal(branches, workflow.Resumable) {
		problems = append(problems, fmt.Sprintf("the first Choice resumes at %q, workflow.Resumable is %q", branches, workflow.Resumable))
	}
	return problems
}

func parseDefinitions(t *testing.T, files map[string]string) definitions {
	t.Helper()
	defs := definitions{}
	for name, text := range files {
		var m aslMachine
		if err := json.Unmarshal([]byte(text), &m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		defs[name] = &m
	}
	return defs
}

// TestContract: the state machines, as written, agree with the Go code on
// every name they share.
func TestContract(t *testing.T) {
	files := map[string]string{}
	for _, name := range Files() {
		b, err := Raw(name)
		if err != nil {
			t.Fatal(err)
		}
		files[name] = string(b)
	}
	if len(files) != 2 {
		t.Fatalf("%d definitions, want 2: a new one needs a look at what this test checks", len(files))
	}
	for _, p := range contractProblems(parseDefinitions(t, files)) {
		t.Error(p)
	}
}

// The contract check finds each kind of disagreement.
func TestContractProblems(t *testing.T) {
	const retry = `"Retry": "${StandardRetry}"`
	resume := func(states ...string) string {
		var choices []string
		for _, s := range states {
			choices = append(choices, fmt.Sprintf(`{"And": [{"Variable": "$.resume_from", "IsPresent": true}, {"Variable": "$.resume_from", "StringEquals": %q}], "Next": %q}`, s, s))
		}
		return `"Start or resume?": {"Type": "Choice", "Choices": [` + strings.Join(choices, ",") + `], "Default": "Close"}`
	}
	var fine []string
	for _, s := range append(append(slices.Clone(workflow.Resumable), workflow.ResumesAtIdentities...), slices.Sorted(maps.Keys(workflow.ResumesAtTheStepWaitedFor))...) {
		fine = append(fine, fmt.Sprintf(`%q: {"Type": "Pass", "End": true}`, s))
	}
	for _, o := range workflow.CloseOutcomes() {
		fine = append(fine, fmt.Sprintf(`"Close %s": {"Type": "Task", %s, "Parameters": {"Payload": {"outcome": %q}}, "Catch": [{"ErrorEquals": ["States.ALL"]}], "End": true}`, o, retry, o))
	}
	request := func(extra ...string) string {
		states := append(append([]string{resume(workflow.Resumable...)}, fine...), extra...)
		return `{"StartAt": "Start or resume?", "States": {` + strings.Join(states, ",") + `}}`
	}
	var checks []string
	for _, p := range workflow.DeadlinePhases {
		checks = append(checks, fmt.Sprintf(`"Check %s": {"Type": "Task", %s, "Parameters": {"Payload": {"phase": %q}}, "End": true}`, p, retry, p))
	}
	watch := func(extra ...string) string {
		return `{"StartAt": "Check ask", "States": {` + strings.Join(append(slices.Clone(checks), extra...), ",") + `}}`
	}
	tests := []struct {
		name           string
		request, watch string
		want           string // a fragment of the only problem; "" for none
	}{
		{"fine", request(), watch(), ""},
		{"a task without the standard Retry", request(`"Bare": {"Type": "Task", "End": true}`), watch(), `"Bare" has not "Retry"`},
		{"a task with its own Retry", request(), watch(`"Own": {"Type": "Task", "Retry": [{"ErrorEquals": ["States.ALL"]}], "End": true}`), `"Own" has not "Retry"`},
		{"a task in a Map without it", request(`"Each": {"Type": "Map", "End": true, "ItemProcessor": {"StartAt": "One", "States": {"One": {"Type": "Task", "End": true}}}}`), watch(),
			`"One" has not "Retry"`},
		{"a caught error Go does not declare", request(`"Odd": {"Type": "Task", ` + retry + `, "Catch": [{"ErrorEquals": ["RequestRefused"]}], "End": true}`), watch(), `catches "RequestRefused"`},
		{"an outcome that is no constant", request(`"Close oddly": {"Type": "Task", ` + retry + `, "Parameters": {"Payload": {"outcome": "withdrawn"}}, "End": true}`), watch(), `outcome "withdrawn"`},
		{"a phase that is no constant", request(), watch(`"Check late": {"Type": "Task", ` + retry + `, "Parameters": {"Payload": {"phase": "late"}}, "End": true}`), `phase "late"`},
		{"a phase no state checks", request(), `{"StartAt": "Check ask", "States": {` + strings.Join(checks[:len(checks)-1], ",") + `}}`, `no state checks phase "due"`},
		{"a resume point that is no state",
			strings.Replace(request(), fmt.Sprintf(`%q: {"Type": "Pass"`, workflow.ResumesAtIdentities[0]), `"Renamed": {"Type": "Pass"`, 1), watch(),
			fmt.Sprintf("%q, which is no state", workflow.ResumesAtIdentities[0])},
		{"a resume point the Choice does not branch to",
			strings.Replace(request(), resume(workflow.Resumable...), resume(workflow.Resumable[1:]...), 1), watch(), "the first Choice resumes at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problems := contractProblems(parseDefinitions(t, map[string]string{"request.asl.json": tt.request, "deadline-watch.asl.json": tt.watch}))
			if tt.want == "" {
				if len(problems) > 0 {
					t.Errorf("problems: %q", problems)
				}
				return
			}
			if len(problems) != 1 || !strings.Contains(problems[0], tt.want) {
				t.Errorf("problems = %q, want one with %q", problems, tt.want)
			}
		})
	}
}
