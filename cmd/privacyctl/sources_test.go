package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/devstack"
	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/s3src"
)

func TestSourcesCheck(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.yaml", devstack.DemoRegistry())
	// sourceOf is the index of the source in which s first occurs.
	sourceOf := func(s string) int {
		i := bytes.Index(devstack.DemoRegistry(), []byte(s))
		return bytes.Count(devstack.DemoRegistry()[:i], []byte("\n  - id: ")) - 1
	}
	// lineOf is the line of the first occurrence of s in the demo registry.
	lineOf := func(s string) int {
		i := bytes.Index(devstack.DemoRegistry(), []byte(s))
		return bytes.Count(devstack.DemoRegistry()[:i], []byte("\n")) + 1
	}
	// The sources are the list before the recipients told (notify:).
	sources, _, _ := bytes.Cut(devstack.DemoRegistry(), []byte("\nnotify:"))
	bad := write("bad.yaml", bytes.Replace(bytes.Replace(devstack.DemoRegistry(),
		[]byte("format: jsonl"), []byte("format: xml"), 1),
		[]byte("categories: [identifiers]"), []byte("categories: [hobbies]"), 1))
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   []string
		stderr   []string
		noStdout bool
	}{
		{name: "valid", args: []string{"sources", "check", good}, code: 0,
			stdout: []string{fmt.Sprintf("%s: valid; %d sources; identities email, user_id", good, bytes.Count(sources, []byte("\n  - id: "))), "s3://demo-events/profiles/users/{user_id}/ json", "SOURCE", "users ", "dynamodb demo-users (email-index)", "dynamodb demo-app pk=USER#{user_id} get_item sk=PREFERENCES", "dynamodb demo-app pk=USER#{user_id} sk^=SESSION#",
				"email        delete", "anonymize email,author_name", "retain P6Y after issued_on",
				"s3://demo-events/newsletter/ csv+gzip", "identifiers,internet_activity", "30 days; after the account is closed"}},
		{name: "invalid", args: []string{"sources", "check", bad}, code: 1, noStdout: true,
			stderr: []string{fmt.Sprintf(`%s: line %d: $.sources[%d].s3.format: format "xml" is not supported`, bad, lineOf("format: jsonl"), sourceOf("format: jsonl")),
				fmt.Sprintf(`%s: line %d: $.sources[%d].categories[0]: category "hobbies" is not known`, bad, lineOf("categories: [identifiers]\n"), sourceOf("categories: [identifiers]\n"))}},
		{name: "missing file", args: []string{"sources", "check", filepath.Join(dir, "nope.yaml")}, code: 2, stderr: []string{"no such file"}},
		{name: "no file", args: []string{"sources", "check"}, code: 2, stderr: []string{"needs one registry file"}},
		{name: "two files", args: []string{"sources", "check", good, good}, code: 2, stderr: []string{"needs one registry file"}},
		{name: "no command", args: []string{"sources"}, code: 2, stderr: []string{"privacyctl sources check FILE"}},
		{name: "both places", args: []string{"sources", "check", good, "--aws", "--local"}, code: 2, stderr: []string{"--aws or --local, not both"}},
		{name: "unknown flag", args: []string{"sources", "check", "--live", good}, code: 2, stderr: []string{"flag provided but not defined: -live"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(tt.args, &out, &errOut); code != tt.code {
				t.Fatalf("exit %d, want %d; stderr %s", code, tt.code, errOut.String())
			}
			for _, s := range tt.stdout {
				if !strings.Contains(out.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, out.String())
				}
			}
			for _, s := range tt.stderr {
				if !strings.Contains(errOut.String(), s) {
					t.Errorf("stderr lacks %q:\n%s", s, errOut.String())
				}
			}
			if tt.noStdout && out.Len() > 0 {
				t.Errorf("stdout %q, want nothing", out.String())
			}
		})
	}
}

func TestErasureOf(t *testing.T) {
	retain := func(r registry.RetainRule) *registry.Source {
		return &registry.Source{Erasure: registry.EraseRetain, Retain: &r}
	}
	tests := []struct {
		src  *registry.Source
		want string
	}{
		{&registry.Source{Erasure: registry.EraseDelete}, "delete"},
		{&registry.Source{Erasure: registry.EraseAnonymize, Anonymize: []string{"email", "name"}}, "anonymize email,name"},
		{retain(registry.RetainRule{Until: "2031-06-30"}), "retain until 2031-06-30"},
		{retain(registry.RetainRule{Period: "P6Y", After: "issued_on"}), "retain P6Y after issued_on"},
		{retain(registry.RetainRule{Period: "P10Y", After: "issued_on", From: registry.FromEndOfYear}), "retain P10Y after the year of issued_on"},
		{retain(registry.RetainRule{Period: "P30D"}), "retain P30D"},
	}
	for _, tt := range tests {
		if got := erasureOf(tt.src); got != tt.want {
			t.Errorf("erasureOf(%+v) = %q, want %q", tt.src, got, tt.want)
		}
	}
}

type fakeChecker map[string]error // source id -> problem

func (f fakeChecker) Check(_ context.Context, src *registry.Source) error { return f[src.ID] }

// Sample warns about the loyalty source only.
func (f fakeChecker) Sample(_ context.Context, src *registry.Source) ([]string, error) {
	if src.ID == "loyalty" {
		return []string{"2 of 4 sampled records hold customer_no as a number; type: string matches text only"}, nil
	}
	return nil, nil
}

func TestCheckLive(t *testing.T) {
	reg, err := registry.Parse(devstack.DemoRegistry())
	if err != nil {
		t.Fatal(err)
	}
	broken := fakeChecker{"orders": errors.New("unavailable: ResourceNotFoundException: table demo-orders"), "events": errors.New("unavailable: NoSuchBucket"),
		"support": s3src.ErrEmpty}
	checkers := map[string]sourceChecker{"dynamodb": broken, "s3": broken}
	var out bytes.Buffer
	if n := checkLive(context.Background(), &out, reg, checkers); n != 2 {
		t.Fatalf("%d problems, want 2", n)
	}
	for _, want := range []string{"SOURCE", "LIVE CHECK", "users ", "ok", "orders ", "ResourceNotFoundException: table demo-orders", "events ", "NoSuchBucket",
		"support          ok, but no object under the source's prefix",
		"loyalty          ok\n                 warning: 2 of 4 sampled records hold customer_no as a number"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if lines := strings.Count(out.String(), "\n"); lines != len(reg.Sources)+3 {
		t.Errorf("%d lines, want a blank line, a header, one per source and one warning:\n%s", lines, out.String())
	}
}

func TestPolicyCheck(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("extensions: never\nundecided_extension: extend_with_facts\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"norway", []string{"policy", "check", "../../internal/policy/examples/norway.yaml"}, 0, "within 30 days of receipt", ""},
		{"california", []string{"policy", "check", "../../internal/policy/examples/california.yaml"}, 0, "extended only with the facts", ""},
		{"a mistake", []string{"policy", "check", bad}, 1, "", "bad.yaml: line 2: $.undecided_extension"},
		{"no file", []string{"policy", "check"}, 2, "", "privacyctl policy check FILE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(tt.args, &out, &errOut); code != tt.code || !strings.Contains(out.String(), tt.stdout) || !strings.Contains(errOut.String(), tt.stderr) {
				t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out.String(), errOut.String())
			}
		})
	}
}
