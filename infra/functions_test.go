package main

import (
	"slices"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/resources"
)

// TestEveryFunctionDeclaresItsGrants: each function the stack deploys says
// what else it may do, once.
func TestEveryFunctionDeclaresItsGrants(t *testing.T) {
	var declared []string
	for _, l := range lambdas {
		if slices.Contains(declared, l.Name) {
			t.Errorf("%s is declared twice", l.Name)
		}
		declared = append(declared, l.Name)
		if !slices.ContainsFunc(resources.Functions, func(f resources.Function) bool { return f.Name == l.Name }) {
			t.Errorf("%s is no function of resources", l.Name)
		}
		if l.grant == nil {
			t.Errorf("%s has no grant", l.Name)
		}
	}
	for _, f := range resources.Functions {
		if !slices.Contains(declared, f.Name) {
			t.Errorf("%s declares no grants", f.Name)
		}
	}
}
