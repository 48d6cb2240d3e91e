package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// TestShortRun sends a few submissions to a local stack of its own (needs
// moto): every one is accepted, stored and started.
func TestShortRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a local stack")
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--rps", "3", "--duration", "2s", "--settle", "1m"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	line := regexp.MustCompile(`^[a-z0-9_]+ [0-9]+(\.[0-9]+)? [a-z/]+$`)
	out := stdout.String()
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if !line.MatchString(l) {
			t.Errorf("line %q is not \"name value unit\"", l)
		}
	}
	for _, want := range []string{"load_sent 6 requests", "load_accepted 6 requests", "load_errors 0 requests", "requests_lost 0 requests", "requests_unanswered_not_started 0 requests"} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
}

func TestRefusesARemoteAPI(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--url", "https://privacy.example.com"}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "loopback") {
		t.Errorf("exit %d: %s", code, stderr.String())
	}
}
