package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"-scan-mb", "1", "-pool-mb", "1", "-object-mb", "1", "-big-mb", "1", "-match-every", "100", "-workflow=false"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	line := regexp.MustCompile(`^[a-z0-9_]+ [0-9]+(\.[0-9]+)? (MB|MB/s|percent|letters)$`)
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) < 8 {
		t.Fatalf("%d figures:\n%s", len(lines), stdout.String())
	}
	for _, l := range lines {
		if !line.MatchString(l) {
			t.Errorf("line %q is not \"name value unit\"", l)
		}
	}
	if !strings.Contains(stdout.String(), "\nclassification_accuracy ") && !strings.HasPrefix(stdout.String(), "classification_accuracy ") {
		t.Errorf("no classification accuracy in:\n%s", stdout.String())
	}
	if !strings.HasPrefix(stderr.String(), "# ") {
		t.Errorf("stderr %q does not describe the machine", stderr.String())
	}
}

func TestRunBadFlag(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-nope"}, &stdout, &stderr); code != 2 || stdout.Len() > 0 {
		t.Errorf("exit %d, stdout %q", code, stdout.String())
	}
}
