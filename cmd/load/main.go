// Command load sends data-subject requests to the local HTTP API at a fixed
// rate for a bounded time, open loop (see internal/load), then checks that
// every accepted request is stored and has a workflow. It starts a local
// stack of its own, with the API's rate limits off, or drives a running
// `make dev` (--url, loopback only; its limits then apply and 429s are
// counted apart). It prints one figure per line, "name value unit", and
// exits 1 when a request was lost: accepted but not stored, or stored
// (answered or not) without a workflow once the sweeper had its time.
//
//	go run ./cmd/load                          # what `make load` runs: 20 req/s for 20 s
//	go run ./cmd/load --url http://127.0.0.1:8080 --rps 5 --duration 10s
package main

import (
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/privacy-pipeline/dsr/internal/devstack"
	"github.com/privacy-pipeline/dsr/internal/load"
	"github.com/privacy-pipeline/dsr/internal/runstack"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	var cfg load.Config
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Float64Var(&cfg.RPS, "rps", 20, "submissions sent per second")
	fs.DurationVar(&cfg.Duration, "duration", 20*time.Second, "how long they are sent")
	fs.StringVar(&cfg.URL, "url", "", "API of a running local stack (make dev), loopback only; default: start one")
	fs.StringVar(&cfg.MotoURL, "moto", devstack.DefaultMotoURL, "with --url: the stack's AWS endpoint, to look the requests up")
	fs.StringVar(&cfg.Region, "region", "us-east-1", "with --url: the stack's region")
	fs.DurationVar(&cfg.Settle, "settle", 7*time.Minute, "longest wait for the sweeper to start requests stored without a workflow")
	logFile := fs.String("log", "", "file for the logs of the stack it starts (default: none kept)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	logs, closeLogs, err := runstack.Logs(*logFile)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer closeLogs()
	cfg.Logs = logs
	ctx, stop := runstack.Start(stderr)
	defer stop()
	rep, err := load.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "load:", err)
		return 1
	}
	for _, l := range rep.Lines() {
		fmt.Fprintln(stdout, l)
	}
	for _, status := range slices.Sorted(maps.Keys(rep.Statuses)) {
		fmt.Fprintf(stderr, "# HTTP %d: %d\n", status, rep.Statuses[status])
	}
	if rep.Limited > 0 {
		fmt.Fprintf(stderr, "# %d submissions met the API's rate limits (per client, per address): run without --url, or start make dev with -rate-limit-client off\n", rep.Limited)
	}
	if !rep.OK() {
		fmt.Fprintln(stderr, "FAIL: requests were lost: stored without a workflow, or accepted and not stored")
		return 1
	}
	return 0
}
