package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/devstack"
	"github.com/privacy-pipeline/dsr/internal/resources"
)

// TestSAMFindsEveryFunction: every function carries the metadata SAM CLI
// reads (its construct path, which names it; its code's directory in
// cdk.out), and the local stack's environment resolves every variable the
// template computes.
func TestSAMFindsEveryFunction(t *testing.T) {
	_, raw := synth(t)
	b, err := json.Marshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	fns, err := devstack.TemplateFunctions(b, devstack.Env("us-east-1", devstack.DefaultAPIURL, devstack.DefaultMotoURL, devstack.DefaultTimeScale))
	if err != nil {
		t.Fatal(err)
	}
	if len(fns) != len(resources.Functions) {
		t.Fatalf("%d functions found by their construct path, want %d", len(fns), len(resources.Functions))
	}
	res := raw["Resources"].(map[string]any)
	for _, f := range fns {
		meta, _ := res[f.LogicalID].(map[string]any)["Metadata"].(map[string]any)
		if meta["aws:asset:path"] == nil || meta["aws:asset:property"] != "Code" {
			t.Errorf("%s: no asset metadata for SAM (%v)", f.Name, meta)
		}
		if f.Env["AWS_ENDPOINT_URL"] != devstack.DefaultMotoURL || f.Env["S3_FORCE_PATH_STYLE"] != "true" || f.Env[resources.Requests.EnvVar] == "" && f.Name != "deadline-report" {
			t.Errorf("%s: not pointed at the local stack: %v", f.Name, f.Env)
		}
	}
}

// TestREADMESAMCommands: every `sam local invoke` in the README names a
// function as SAM CLI resolves it in the synthesized template (the
// construct id before /Resource in aws:cdk:path, or the logical id) and an
// event file that exists.
func TestREADMESAMCommands(t *testing.T) {
	_, raw := synth(t)
	b, _ := json.Marshal(raw)
	fns, err := devstack.TemplateFunctions(b, devstack.Env("us-east-1", devstack.DefaultAPIURL, devstack.DefaultMotoURL, devstack.DefaultTimeScale))
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, f := range fns {
		known[f.SAMID], known[f.LogicalID] = true, true
	}
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := regexp.MustCompile(`sam local invoke((?: -[-a-z]+ \S+)*) ([A-Za-z][A-Za-z0-9/]*)((?: -[-a-z]+ \S+)*)`)
	event := regexp.MustCompile(`-e (\S+)`)
	found := cmd.FindAllStringSubmatch(string(readme), -1)
	if len(found) < 2 {
		t.Fatalf("%d sam local invoke commands in the README: the check would prove nothing", len(found))
	}
	for _, m := range found {
		if !known[m[2]] {
			t.Errorf("%q: SAM knows no function %q in the template", m[0], m[2])
		}
		for _, e := range event.FindAllStringSubmatch(m[1]+m[3], -1) {
			if _, err := os.Stat(filepath.Join("..", e[1])); err != nil {
				t.Errorf("%q: %v", m[0], err)
			}
		}
	}
}
