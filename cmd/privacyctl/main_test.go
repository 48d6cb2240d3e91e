package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/request"
)

func TestDeadline(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  map[string]any // fields of the JSON output
		wantErr  string
	}{
		{"EU access", []string{"deadline", "--jurisdiction", "EU", "--type", "access", "--received", "2026-01-31T10:00:00Z"}, 0,
			map[string]any{"jurisdiction": "EU", "type": "access", "received": "2026-01-31T10:00:00Z", "ack_due": nil,
				"due": "2026-03-02", "extension_notice_by": "2026-03-02", "extended_due": "2026-04-30", "extension_allowed": true}, ""},
		{"CA opt-out has no extension", []string{"deadline", "--jurisdiction", "us-ca", "--type", "opt_out", "--received", "2026-11-20T17:00:00Z"}, 0,
			map[string]any{"due": "2026-12-14", "extension_notice_by": nil, "extended_due": nil, "extension_allowed": false}, ""},
		// UK Art 12A: the month begins with the latest of receipt (Mar 2),
		// the identity information (Mar 10) and the fee (Mar 12): Apr 11.
		{"UK clock from the fee", []string{"deadline", "--jurisdiction", "UK", "--type", "access", "--received", "2026-03-02T12:00:00Z",
			"--identity-received", "2026-03-10T12:00:00Z", "--fee-paid", "2026-03-12T12:00:00Z"}, 0,
			map[string]any{"clock_start": "2026-03-12", "due": "2026-04-11"}, ""},
		{"bad fee time", []string{"deadline", "--jurisdiction", "UK", "--type", "access", "--received", "2026-03-02T12:00:00Z", "--fee-paid", "12 March"}, 2, nil, "--fee-paid \"12 March\" is not an RFC 3339 time"},
		{"unknown jurisdiction", []string{"deadline", "--jurisdiction", "XX", "--type", "access", "--received", "2026-01-31T10:00:00Z"}, 2, nil, "unknown jurisdiction \"XX\""},
		{"unknown type", []string{"deadline", "--jurisdiction", "EU", "--type", "sell", "--received", "2026-01-31T10:00:00Z"}, 2, nil, "unknown type \"sell\""},
		{"bad time", []string{"deadline", "--jurisdiction", "EU", "--type", "access", "--received", "31/01/2026"}, 2, nil, "not an RFC 3339 time"},
		{"missing flags", []string{"deadline", "--jurisdiction", "EU"}, 2, nil, "needs --jurisdiction, --type and --received"},
		{"unknown flag", []string{"deadline", "--colour", "red"}, 2, nil, "flag provided but not defined"},
		{"unknown command", []string{"frobnicate"}, 2, nil, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(tt.args, &out, &errOut)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr %s", code, tt.wantCode, errOut.String())
			}
			if tt.wantErr != "" && !strings.Contains(errOut.String(), tt.wantErr) {
				t.Fatalf("stderr %q lacks %q", errOut.String(), tt.wantErr)
			}
			if tt.wantOut == nil {
				if out.Len() != 0 {
					t.Fatalf("output on error: %s", out.String())
				}
				return
			}
			var got map[string]any
			if err := json.Unmarshal(out.Bytes(), &got); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, out.String())
			}
			for k, want := range tt.wantOut {
				v, ok := got[k]
				if !ok || v != want {
					t.Errorf("%s = %v (present %v), want %v", k, v, ok, want)
				}
			}
			if cites, _ := got["citations"].([]any); len(cites) == 0 {
				t.Error("no citations")
			}
		})
	}
}

func TestHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"help"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "privacyctl deadline") {
		t.Fatalf("help: exit %d, %q", code, out.String())
	}
}

// TestOperatingCommandsRefuseBadInput: every refusal happens before any AWS
// call and exits 2 with a message that says what to do.
func TestOperatingCommandsRefuseBadInput(t *testing.T) {
	t.Setenv("USER", "alice")
	id := "dsr-20261123-4k7m2q9x8v3b5n6p"
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"extend without id", []string{"extend", "--reason", "x"}, "needs one request id"},
		{"extend two ids", []string{"extend", id, id, "--reason", "x"}, "needs one request id"},
		{"extend bad id", []string{"extend", "../x", "--reason", "x"}, "is not a request id"},
		{"extend without reason", []string{"extend", id}, "extend needs --reason"},
		{"deny without reason", []string{"deny", id}, "deny needs --reason"},
		{"approve unknown flag", []string{"approve", id, "--force"}, "flag provided but not defined"},
		{"show bad id", []string{"show", "dsr-1"}, "is not a request id"},
		{"approve correct without a value", []string{"approve", id, "--correct", "name"}, "each --correct is FIELD=VALUE"},
		{"approve correct without a field", []string{"approve", id, "--correct", " =Jane"}, "each --correct is FIELD=VALUE"},
		{"approve correct a field twice", []string{"approve", id, "--correct", "name=A", "--correct", "name=B"}, "name is given twice"},
		{"approve with reasons and values", []string{"approve", id, "--reason", "x", "--correct", "name=A"}, "not both"},
		{"letter without id", []string{"letter"}, "needs one request id"},
		{"letter bad id", []string{"letter", "../x"}, "is not a request id"},
		{"no one acts", []string{"approve", id, "--by", " "}, "say who acts"},
		{"list with an id", []string{"list", id}, "takes no arguments"},
		{"verify without method", []string{"verify", id}, "verify needs --method"},
		{"cancel without id", []string{"cancel"}, "needs one request id"},
		{"redrive bad id", []string{"redrive", "x"}, "is not a request id"},
		{"list negative days", []string{"list", "--due-within", "-3"}, "--due-within must be"},
		{"records bad date", []string{"records", "--since", "yesterday"}, "is not a date"},
		{"records bad format", []string{"records", "--format", "xml"}, "--format must be csv or json"},
		{"metrics bad year", []string{"metrics", "--year", "soon"}, "invalid value"},
		{"inbox with an argument", []string{"inbox", "--json", "x"}, "takes no arguments"},
		{"inbox unknown command", []string{"inbox", "open", "abc"}, "unknown inbox command"},
		{"inbox show without id", []string{"inbox", "show"}, "needs one mail id"},
		{"inbox show bad id", []string{"inbox", "show", "../../x"}, "is not a mail id"},
		{"inbox request without type", []string{"inbox", "request", "6n4thuhcbhpfiuf25gshf70rss364fuejrvmqko1"}, "needs --type"},
		{"inbox request unknown type", []string{"inbox", "request", "6n4thuhcbhpfiuf25gshf70rss364fuejrvmqko1", "--type", "sell"}, "needs --type"},
		{"inbox discard without reason", []string{"inbox", "discard", "6n4thuhcbhpfiuf25gshf70rss364fuejrvmqko1"}, "needs --reason"},
		{"recipients without id", []string{"recipients"}, "needs one request id"},
		{"recipient without verb", []string{"recipient", id + "/adco"}, "privacyctl recipient told REQUEST_ID/RECIPIENT"},
		{"recipient told without recipient", []string{"recipient", "told", id}, "is not REQUEST_ID/RECIPIENT"},
		{"recipient told bad id", []string{"recipient", "told", "x/adco"}, "is not REQUEST_ID/RECIPIENT"},
		{"inbox discard free text", []string{"inbox", "discard", "6n4thuhcbhpfiuf25gshf70rss364fuejrvmqko1", "--reason", "called Jane"}, "needs --reason, one of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(tt.args, &out, &errOut); code != 2 {
				t.Fatalf("exit %d, want 2; stderr %s", code, errOut.String())
			}
			if !strings.Contains(errOut.String(), tt.wantErr) {
				t.Fatalf("stderr %q lacks %q", errOut.String(), tt.wantErr)
			}
		})
	}
}

// Every command answers -h with its own part of the usage, on stdout.
func TestCommandHelp(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"list", "-h"}, "privacyctl list [--status S]"},
		{[]string{"deny", "ID", "--help"}, "--reason TEXT"},
		{[]string{"approve", "-help"}, "privacyctl approve ID"},
		{[]string{"letter", "-h"}, "privacyctl letter ID"},
		{[]string{"sources", "check", "-h"}, "privacyctl sources check FILE"},
		{[]string{"deadline", "--jurisdiction", "EU", "-h"}, "--received TIME"},
	}
	for _, tc := range tests {
		var stdout, stderr bytes.Buffer
		if code := run(tc.args, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), tc.want) || stderr.Len() > 0 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", tc.args, code, stdout.String(), stderr.String())
		}
		if strings.Contains(stdout.String(), "privacyctl records") && tc.args[0] != "records" {
			t.Errorf("%v: help of other commands too:\n%s", tc.args, stdout.String())
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"frobnicate", "-h"}, &stdout, &stderr); code != 2 {
		t.Errorf("unknown command with -h: exit %d", code)
	}
}

func TestFlags(t *testing.T) {
	tests := []struct {
		r    request.Request
		want string
	}{
		{request.Request{Status: request.InProgress}, ""},
		{request.Request{Status: request.PendingVerification, Verification: request.Verification{Locked: true}}, " [verification locked: privacyctl verify]"},
		{request.Request{Status: request.PendingVerification, Agent: request.Agent{Email: "a@firm.example"}}, " [by an agent, permission not yet sent]"},
		{request.Request{Status: request.PendingVerification, Agent: request.Agent{Email: "a@firm.example", PermissionKey: "agents/x/permission"}}, " [by an agent]"},
		{request.Request{Status: request.PendingVerification, NeedsOperator: true, Agent: request.Agent{Email: "a@firm.example", PermissionKey: "agents/x/permission", PermissionType: "application/pdf", PowerOfAttorney: true}},
			" [needs operator, by an agent with a power of attorney to review: agents/x/permission (application/pdf)]"},
	}
	for _, tt := range tests {
		if got := flags(&tt.r); got != tt.want {
			t.Errorf("flags() = %q, want %q", got, tt.want)
		}
	}
}

func TestPrintable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Grüße\n\tJürgen", "Grüße\n\tJürgen"},
		{"red\x1b[31mtext", "red\uFFFD[31mtext"},
		{"bell\x07 and \u009b", "bell\uFFFD and \uFFFD"},
		{"evil\u202egnp.exe", "evil\uFFFDgnp.exe"},
	}
	for _, tt := range tests {
		if got := printable(tt.in); got != tt.want {
			t.Errorf("printable(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
