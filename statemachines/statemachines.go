// Package statemachines holds the Amazon States Language definitions of the
// pipeline's workflows. The files keep ${Placeholders} for what differs
// between deployments (function ARNs); the CDK stack and the local stack fill
// them from the same list. What the files share with the Go code (error
// names, outcomes, the standard Retry, the states a redrive resumes at) is
// declared in Go, in internal/workflow, and checked against the files by
// this package's tests.
package statemachines

import (
	"embed"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/privacy-pipeline/dsr/internal/workflow"
)

//go:embed *.asl.json
var files embed.FS

var placeholderPattern = regexp.MustCompile(`\$\{([A-Za-z0-9]+)\}`)

// StandardRetry is what a task's Retry says in a file to have the standard
// Retry (workflow.StandardRetry), written once in Go rather than in every
// task: a string, so the file stays JSON.
const StandardRetry = `"${StandardRetry}"`

// Definition returns the ASL of the named file with the standard Retry in
// place; its deployment placeholders are left to Render (or to CDK).
func Definition(file string) (string, error) {
	b, err := Raw(file)
	if err != nil {
		return "", err
	}
	retry, err := json.Marshal(workflow.StandardRetry)
	if err != nil {
		return "", fmt.Errorf("the standard Retry: %w", err)
	}
	return strings.ReplaceAll(string(b), StandardRetry, string(retry)), nil
}

// Raw returns the named file as it is written.
func Raw(file string) ([]byte, error) {
	b, err := files.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("state machine %s: %w", file, err)
	}
	return b, nil
}

// Files are the names of the definitions.
func Files() []string {
	entries, _ := files.ReadDir(".")
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// Placeholders lists, sorted and once each, the placeholders in an ASL text.
func Placeholders(asl string) []string {
	var names []string
	for _, m := range placeholderPattern.FindAllStringSubmatch(asl, -1) {
		if !slices.Contains(names, m[1]) {
			names = append(names, m[1])
		}
	}
	slices.Sort(names)
	return names
}

// Render fills every placeholder of asl from values. A placeholder without a
// value is an error, so no definition is ever deployed half filled.
func Render(asl string, values map[string]string) (string, error) {
	var missing []string
	out := placeholderPattern.ReplaceAllStringFunc(asl, func(m string) string {
		name := m[2 : len(m)-1]
		v, ok := values[name]
		if !ok {
			if !slices.Contains(missing, name) {
				missing = append(missing, name)
			}
			return m
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("no value for placeholders %s", strings.Join(missing, ", "))
	}
	return out, nil
}
