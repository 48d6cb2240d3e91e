package main

import (
	"encoding/json"
	"slices"
	"strings"
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

// TestPublicFunctionsOnlyPutObjects: the API, which the public reaches,
// may put the uploads it takes (agents' permissions, manual sources'
// exports) and nothing else of an object's: no retention, legal hold,
// tags or multipart uploads, which CDK's GrantPut would add.
func TestPublicFunctionsOnlyPutObjects(t *testing.T) {
	_, raw := synth(t)
	var puts []string
	for _, policy := range resourcesOfType(raw, "AWS::IAM::Policy") {
		if roleOf(policy) != "ApiFunction" {
			continue
		}
		for _, st := range policy["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			s, _ := json.Marshal(st)
			for _, forbidden := range []string{"s3:PutObjectLegalHold", "s3:PutObjectRetention", "s3:PutObjectTagging", "s3:PutObjectVersionTagging", "s3:Abort"} {
				if strings.Contains(string(s), forbidden) {
					t.Errorf("the API may %s: %s", forbidden, s)
				}
			}
			if strings.Contains(string(s), `"s3:PutObject"`) {
				puts = append(puts, string(s))
			}
		}
	}
	if len(puts) != 1 || !strings.Contains(puts[0], resources.PermissionsPrefix+"*") || !strings.Contains(puts[0], resources.ManualExportsPrefix+"*") {
		t.Errorf("the API's PutObject grants %q, want one on the agents' permissions and the owners' exports", puts)
	}
}
