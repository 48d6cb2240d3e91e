// Command chaos runs mixed data-subject requests on a local stack whose AWS
// calls and Lambda invocations fail now and then (see internal/chaos), and
// checks that no request is lost, no receipt or package miscounts and no
// one else's data changes. It prints one figure per line, "name value unit",
// and exits 1 when a check fails or too few calls failed to prove anything.
//
//	go run ./cmd/chaos                                  # what `make chaos` runs
//	go run ./cmd/chaos --requests 12 --rate 0.15 --seed 7
package main

import (
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/privacy-pipeline/dsr/internal/chaos"
	"github.com/privacy-pipeline/dsr/internal/runstack"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	cfg := chaos.Config{MinFailedShare: 0.10, Progress: stderr}
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&cfg.Requests, "requests", 50, "requests to make, one per subject, mixed access, delete, correct and opt_out")
	fs.Float64Var(&cfg.Rate, "rate", 0.12, "share of the pipeline's AWS calls that fail (throttling, 500s, timeouts, lost answers)")
	killRate := fs.Float64("kill-rate", -1, "share of Lambda invocations killed (Sandbox.Timedout); default half the rate")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "seed of the data, the mix of requests and the faults")
	fs.DurationVar(&cfg.Timeout, "timeout", 10*time.Minute, "bound on the whole run")
	fs.IntVar(&cfg.Parallel, "parallel", 16, "requests driven at once")
	fs.IntVar(&cfg.MaxRedrives, "max-redrives", 4, "redrives an operator gives one failed request")
	logFile := fs.String("log", "", "file for the stack's logs (default: none kept)")
	fs.BoolVar(&cfg.Trace, "trace", false, "print the audit trail of every request that was flagged or failed a check")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg.KillRate = *killRate
	if cfg.KillRate < 0 {
		cfg.KillRate = cfg.Rate / 2
	}
	logs, closeLogs, err := runstack.Logs(*logFile)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer closeLogs()
	if *logFile != "" {
		cfg.Logs = logs
	}
	ctx, stop := runstack.Start(stderr)
	defer stop()
	rep, err := chaos.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "chaos:", err)
		return 1
	}
	for _, l := range rep.Lines() {
		fmt.Fprintln(stdout, l)
	}
	for _, reason := range slices.Sorted(maps.Keys(rep.Reasons)) {
		fmt.Fprintf(stderr, "# flagged %d: %s\n", rep.Reasons[reason], reason)
	}
	for _, id := range slices.Sorted(maps.Keys(rep.Trails)) {
		fmt.Fprintf(stderr, "# trail of %s:\n", id)
		for _, l := range rep.Trails[id] {
			fmt.Fprintf(stderr, "#   %s\n", l)
		}
	}
	for _, p := range rep.Problems {
		fmt.Fprintln(stderr, "FAIL:", p)
	}
	if !rep.OK() {
		if rep.FailedShare() < cfg.MinFailedShare {
			fmt.Fprintf(stderr, "FAIL: only %.3f of the AWS calls failed; the run must fail at least %.2f to prove anything\n", rep.FailedShare(), cfg.MinFailedShare)
		}
		return 1
	}
	return 0
}
