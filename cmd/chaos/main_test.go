package main

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestSmallRun runs a small chaos run on a local stack (needs moto): twelve
// requests with one AWS call in seven failing. It must pass every check and
// print its figures; the full run is `make chaos`.
func TestSmallRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a local stack")
	}
	var stdout, stderr bytes.Buffer
	code := run([]string{"--requests", "12", "--rate", "0.15", "--seed", "7", "--timeout", "4m"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	line := regexp.MustCompile(`^[a-z0-9_]+ [0-9]+(\.[0-9]+)? [a-z]+$`)
	figures := map[string]float64{}
	for _, l := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		if !line.MatchString(l) {
			t.Errorf("line %q is not \"name value unit\"", l)
			continue
		}
		f := strings.Fields(l)
		figures[f[0]], _ = strconv.ParseFloat(f[1], 64)
	}
	for name, want := range map[string]float64{"requests_total": 12, "requests_lost": 0, "receipt_mismatches": 0, "chaos_seed": 7, "chaos_rate": 0.15} {
		if got, ok := figures[name]; !ok || got != want {
			t.Errorf("%s = %v (printed: %v), want %v", name, got, ok, want)
		}
	}
	if figures["requests_completed"]+figures["requests_flagged"] != 12 || figures["faults_injected"] == 0 || figures["aws_calls_failed_share"] < 0.10 {
		t.Errorf("figures %v", figures)
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"--nope"}, {"--requests", "x"}} {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 2 || stdout.Len() > 0 {
			t.Errorf("%v: exit %d, stdout %q", args, code, stdout.String())
		}
	}
}
