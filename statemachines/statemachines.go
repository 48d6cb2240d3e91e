// Package statemachines holds the Amazon States Language definitions of the
// pipeline's workflows. The files keep ${Placeholders} for what differs
// between deployments (function ARNs); the CDK stack and the local stack fill
// them from the same list.
package statemachines

import (
	"embed"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

//go:embed *.asl.json
var files embed.FS

var placeholderPattern = regexp.MustCompile(`\$\{([A-Za-z0-9]+)\}`)

// Definition returns the raw ASL of the named file.
func Definition(file string) (string, error) {
	b, err := files.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("state machine %s: %w", file, err)
	}
	return string(b), nil
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
