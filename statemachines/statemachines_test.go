package statemachines

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/resources"
)

func TestPlaceholders(t *testing.T) {
	tests := []struct {
		asl  string
		want []string
	}{
		{"", nil},
		{`{"FunctionName": "${AFunctionArn}"}`, []string{"AFunctionArn"}},
		{"${B} ${A} ${B} ${A}", []string{"A", "B"}},
		{"${a1}${Z9}", []string{"Z9", "a1"}},
		{"$A {A} ${} ${a-b} ${a b} $${", nil},
		{`"Payload.$": "$", "x.$": "$$.Task.Token"`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.asl, func(t *testing.T) {
			if got := Placeholders(tc.asl); !slices.Equal(got, tc.want) {
				t.Errorf("Placeholders = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRender(t *testing.T) {
	values := map[string]string{"A": "arn:a", "B": "arn:b:$LATEST", "Unused": "x"}
	tests := []struct {
		name    string
		asl     string
		want    string
		missing []string // names the error must give
	}{
		{name: "all filled", asl: `{"x":"${A}","y":"${B}","z":"${A}"}`, want: `{"x":"arn:a","y":"arn:b:$LATEST","z":"arn:a"}`},
		{name: "nothing to fill", asl: `{"x":"$.y"}`, want: `{"x":"$.y"}`},
		{name: "one missing", asl: `${A} ${Missing}`, missing: []string{"Missing"}},
		{name: "two missing, one twice", asl: `${M1} ${A} ${M2} ${M1}`, missing: []string{"M1", "M2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Render(tc.asl, values)
			if tc.missing == nil {
				if err != nil || got != tc.want {
					t.Fatalf("Render = %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Render = %q, want an error", got)
			}
			if got != "" {
				t.Errorf("a half-filled definition came back: %q", got)
			}
			for _, name := range tc.missing {
				if strings.Count(err.Error(), name) != 1 {
					t.Errorf("error %q should name %s once", err, name)
				}
			}
			if strings.Contains(err.Error(), "${A}") || strings.Contains(err.Error(), " A") {
				t.Errorf("error %q names a placeholder that has a value", err)
			}
		})
	}
}

func TestDefinitionUnknownFile(t *testing.T) {
	if _, err := Definition("nope.asl.json"); err == nil {
		t.Fatal("Definition of a missing file gave no error")
	}
}

// machine is the part of ASL the graph checks read.
type machine struct {
	StartAt string            `json:"StartAt"`
	States  map[string]*state `json:"States"`
}

type state struct {
	Type          string    `json:"Type"`
	Next          string    `json:"Next"`
	End           bool      `json:"End"`
	Default       string    `json:"Default"`
	Choices       []target  `json:"Choices"`
	Catch         []target  `json:"Catch"`
	ItemProcessor *machine  `json:"ItemProcessor"`
	Iterator      *machine  `json:"Iterator"`
	Branches      []machine `json:"Branches"`
}

type target struct {
	Next string `json:"Next"`
}

// checkMachine reports every transition to a missing state, every state that
// cannot be reached from StartAt and every state that neither moves on nor
// ends; nested machines (Map, Parallel) are checked on their own.
func checkMachine(path string, m *machine) []string {
	var problems []string
	if m.States[m.StartAt] == nil {
		return append(problems, fmt.Sprintf("%s: StartAt %q is no state", path, m.StartAt))
	}
	next := map[string][]string{}
	for name, s := range m.States {
		var to []string
		if s.Next != "" {
			to = append(to, s.Next)
		}
		if s.Default != "" {
			to = append(to, s.Default)
		}
		for _, c := range s.Choices {
			to = append(to, c.Next)
		}
		for _, c := range s.Catch {
			to = append(to, c.Next)
		}
		for _, n := range to {
			if m.States[n] == nil {
				problems = append(problems, fmt.Sprintf("%s: %q goes to %q, which is no state", path, name, n))
			}
		}
		next[name] = to
		switch s.Type {
		case "Choice":
			if len(s.Choices) == 0 {
				problems = append(problems, fmt.Sprintf("%s: choice %q has no choices", path, name))
			}
		case "Succeed", "Fail":
		default:
			if (s.Next != "") == s.End {
				problems = append(problems, fmt.Sprintf("%s: %q must have either Next or End", path, name))
			}
		}
		for _, sub := range []*machine{s.ItemProcessor, s.Iterator} {
			if sub != nil {
				problems = append(problems, checkMachine(path+"/"+name, sub)...)
			}
		}
		for i := range s.Branches {
			problems = append(problems, checkMachine(fmt.Sprintf("%s/%s[%d]", path, name, i), &s.Branches[i])...)
		}
	}
	reached := map[string]bool{m.StartAt: true}
	queue := []string{m.StartAt}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		for _, n := range next[name] {
			if !reached[n] && m.States[n] != nil {
				reached[n] = true
				queue = append(queue, n)
			}
		}
	}
	for name := range m.States {
		if !reached[name] {
			problems = append(problems, fmt.Sprintf("%s: %q cannot be reached", path, name))
		}
	}
	slices.Sort(problems)
	return problems
}

func parseMachine(t *testing.T, asl string) *machine {
	t.Helper()
	var m machine
	if err := json.Unmarshal([]byte(asl), &m); err != nil {
		t.Fatalf("not valid JSON: %v", err)
	}
	return &m
}

// The checks find what they look for.
func TestCheckMachine(t *testing.T) {
	tests := []struct {
		name string
		asl  string
		want string // a fragment of the only problem; "" for none
	}{
		{"fine", `{"StartAt":"A","States":{"A":{"Type":"Task","Next":"B","Catch":[{"Next":"F"}]},"B":{"Type":"Succeed"},"F":{"Type":"Fail"}}}`, ""},
		{"no start", `{"StartAt":"X","States":{"A":{"Type":"Succeed"}}}`, `StartAt "X"`},
		{"unknown next", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"}}}`, `goes to "B"`},
		{"unknown catch", `{"StartAt":"A","States":{"A":{"Type":"Task","End":true,"Catch":[{"Next":"Z"}]}}}`, `goes to "Z"`},
		{"unknown choice", `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Next":"Q"}],"Default":"B"},"B":{"Type":"Succeed"}}}`, `goes to "Q"`},
		{"unreachable", `{"StartAt":"A","States":{"A":{"Type":"Succeed"},"B":{"Type":"Succeed"}}}`, `"B" cannot be reached`},
		{"reached only through catch", `{"StartAt":"A","States":{"A":{"Type":"Task","End":true,"Catch":[{"Next":"B"}]},"B":{"Type":"Succeed"}}}`, ""},
		{"neither next nor end", `{"StartAt":"A","States":{"A":{"Type":"Task"}}}`, "either Next or End"},
		{"map inside", `{"StartAt":"M","States":{"M":{"Type":"Map","Next":"Out","ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Task","Next":"Out"}}}},"Out":{"Type":"Succeed"}}}`, `M: "I" goes to "Out"`},
		{"map inner unreachable", `{"StartAt":"M","States":{"M":{"Type":"Map","End":true,"ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Task","End":true},"J":{"Type":"Succeed"}}}}}}`, `M: "J" cannot be reached`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			problems := checkMachine("$", parseMachine(t, tc.asl))
			if tc.want == "" {
				if len(problems) > 0 {
					t.Errorf("problems: %q", problems)
				}
				return
			}
			if len(problems) != 1 || !strings.Contains(problems[0], tc.want) {
				t.Errorf("problems = %q, want one with %q", problems, tc.want)
			}
		})
	}
}

func TestRequestWorkflow(t *testing.T) {
	asl, err := Definition("request.asl.json")
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid([]byte(asl)) {
		t.Fatal("request.asl.json is not valid JSON")
	}
	names := Placeholders(asl)
	if len(names) == 0 {
		t.Fatal("no placeholders: the function ARNs would be fixed in the file")
	}
	for _, name := range names {
		if !strings.HasSuffix(name, "FunctionArn") && name != resources.ObjectExecutionTypePlaceholder && name != resources.ExportsBucketPlaceholder {
			t.Errorf("placeholder %q is neither a function ARN nor one of resources' placeholders", name)
		}
	}
	m := parseMachine(t, asl)
	for _, p := range checkMachine("$", m) {
		t.Error(p)
	}
	// The Map states run their processors: checked above, but make sure
	// the parse saw them, or the nested check would check nothing.
	maps := 0
	for _, s := range m.States {
		if s.Type == "Map" {
			maps++
			if s.ItemProcessor == nil || len(s.ItemProcessor.States) == 0 {
				t.Errorf("a Map state without ItemProcessor states")
			}
		}
	}
	if maps == 0 {
		t.Error("no Map state found: the ASL shape changed, update this test")
	}
}

// TestDistributedMaps: every Distributed Map lists objects of S3 (its items
// carry object keys only), runs children of the deployment's execution type,
// keeps their outputs out of this execution (in the exports bucket, under the
// prefix the stack lets it write) and batches nothing (the local
// interpreter refuses ItemBatcher).
func TestDistributedMaps(t *testing.T) {
	asl, err := Definition("request.asl.json")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		States map[string]map[string]any `json:"States"`
	}
	if err := json.Unmarshal([]byte(asl), &m); err != nil {
		t.Fatal(err)
	}
	n := 0
	for name, s := range m.States {
		b, _ := json.Marshal(s["ItemProcessor"])
		if !strings.Contains(string(b), `"Mode":"DISTRIBUTED"`) {
			continue
		}
		n++
		all, _ := json.Marshal(s)
		for _, want := range []string{`"Resource":"arn:aws:states:::s3:listObjectsV2"`, `"ExecutionType":"${ObjectExecutionType}"`,
			`"ResultWriter":{`, `"Bucket":"${ExportsBucketName}"`, `"Prefix":"` + strings.TrimSuffix(resources.MapRunsPrefix, "/") + `"`, `"key.$":"$$.Map.Item.Value.Key"`, `"ResultPath":null`, `"MaxConcurrency":`} {
			if !strings.Contains(string(all), want) {
				t.Errorf("%s lacks %s", name, want)
			}
		}
		if _, ok := s["ItemBatcher"]; ok {
			t.Errorf("%s batches items", name)
		}
	}
	if n != 2 {
		t.Fatalf("%d Distributed Maps, want 2 (collect and erase)", n)
	}
}

// TestLambdaTasksRetryTimeouts: every Lambda task of both workflows retries
// an invocation that ran out of time (Sandbox.Timedout), as it retries
// Lambda's passing errors. Every step is safe to run again (the erasure
// journal, conditional writes, executions named by the request): without
// the retry one timeout fails the request for an operator, and before
// verification for good.
func TestLambdaTasksRetryTimeouts(t *testing.T) {
	type task struct {
		Type     string `json:"Type"`
		Resource string `json:"Resource"`
		Retry    []struct {
			ErrorEquals []string `json:"ErrorEquals"`
		} `json:"Retry"`
		ItemProcessor *struct {
			States map[string]json.RawMessage `json:"States"`
		} `json:"ItemProcessor"`
	}
	var walk func(path string, states map[string]json.RawMessage) int
	walk = func(path string, states map[string]json.RawMessage) int {
		n := 0
		for name, raw := range states {
			var s task
			if err := json.Unmarshal(raw, &s); err != nil {
				t.Fatal(err)
			}
			if s.ItemProcessor != nil {
				n += walk(path+"/"+name, s.ItemProcessor.States)
			}
			if s.Type != "Task" || !strings.HasPrefix(s.Resource, "arn:aws:states:::lambda:invoke") {
				continue
			}
			n++
			retried := false
			for _, r := range s.Retry {
				retried = retried || (slices.Contains(r.ErrorEquals, "Sandbox.Timedout") && slices.Contains(r.ErrorEquals, "Lambda.ServiceException"))
			}
			if !retried {
				t.Errorf("%s/%s does not retry a timed-out invocation", path, name)
			}
		}
		return n
	}
	for _, file := range []string{"request.asl.json", "deadline-watch.asl.json"} {
		asl, err := Definition(file)
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			States map[string]json.RawMessage `json:"States"`
		}
		if err := json.Unmarshal([]byte(asl), &m); err != nil {
			t.Fatal(err)
		}
		if walk(file, m.States) == 0 {
			t.Errorf("%s: no Lambda task found: the check would prove nothing", file)
		}
	}
}

// catches lists, per state, the error names of its Catch clauses in order
// and where each goes.
type catches struct {
	States map[string]struct {
		Type     string `json:"Type"`
		Resource string `json:"Resource"`
		Catch    []struct {
			ErrorEquals []string `json:"ErrorEquals"`
			Next        string   `json:"Next"`
		} `json:"Catch"`
	} `json:"States"`
}

func parseCatches(t *testing.T, file string) catches {
	t.Helper()
	asl, err := Definition(file)
	if err != nil {
		t.Fatal(err)
	}
	var c catches
	if err := json.Unmarshal([]byte(asl), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCancelEndsTheWorkflowSucceeded: an operator's cancel is an ordinary
// end, which no alarm may count. Every task and map state catches
// RequestCancelled (a wait failed by the cancel, or a step that found the
// request cancelled) before anything else, into a Succeed state.
func TestCancelEndsTheWorkflowSucceeded(t *testing.T) {
	c := parseCatches(t, "request.asl.json")
	const target = "Request cancelled"
	if c.States[target].Type != "Succeed" {
		t.Fatalf("%q is a %q state, want Succeed", target, c.States[target].Type)
	}
	for name, s := range c.States {
		if s.Type != "Task" && s.Type != "Map" {
			continue
		}
		if len(s.Catch) == 0 || !slices.Equal(s.Catch[0].ErrorEquals, []string{"RequestCancelled"}) || s.Catch[0].Next != target {
			t.Errorf("%q does not catch RequestCancelled first into %q", name, target)
		}
	}
}

// TestCloseEndsTheWatchSucceeded: every wait of the deadline watch is a task
// token the request's close fails with RequestClosed, caught into a Succeed
// state; a plain Wait is only the fallback when the token could not be kept.
func TestCloseEndsTheWatchSucceeded(t *testing.T) {
	c := parseCatches(t, "deadline-watch.asl.json")
	waits := 0
	for name, s := range c.States {
		if s.Type == "Wait" && !strings.HasSuffix(name, ", without a token") {
			t.Errorf("%q is a plain Wait, which a close cannot end", name)
		}
		if !strings.HasSuffix(s.Resource, ".waitForTaskToken") {
			continue
		}
		waits++
		closed := false
		for _, k := range s.Catch {
			if slices.Contains(k.ErrorEquals, "RequestClosed") {
				closed = c.States[k.Next].Type == "Succeed"
			}
		}
		if !closed {
			t.Errorf("%q does not end in a Succeed state on RequestClosed", name)
		}
	}
	if waits != 3 {
		t.Errorf("%d waits on task tokens, want 3 (until the question, the notice point, the due date)", waits)
	}
}
