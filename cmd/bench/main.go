// Command bench measures how the inbound rules read the corpus of request
// letters (internal/inbound/letters), the S3 scanners on generated data,
// without AWS, and the state transitions of an access and a delete request
// on the local stack, and prints one figure per line: "name value unit" (MB
// is 10^6 bytes). Peak RSS is the VmHWM of /proc/self/status, reset before
// each measurement.
//
//	go run ./cmd/bench                            # what `make bench` runs
//	go run ./cmd/bench -scan-mb 64 -workflow=false # smaller and quicker
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/privacy-pipeline/dsr/internal/bench"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	cfg := bench.Default()
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	scanMB := fs.Int64("scan-mb", cfg.ScanBytes>>20, "MiB scanned per throughput figure")
	poolMB := fs.Int64("pool-mb", cfg.PoolBytes>>20, "MiB of distinct generated data per format, held in memory")
	objectMB := fs.Int("object-mb", cfg.ObjectBytes>>20, "MiB per generated object")
	bigMB := fs.Int64("big-mb", cfg.BigObject>>20, "MiB of the object streamed for peak RSS")
	fs.IntVar(&cfg.MatchEvery, "match-every", cfg.MatchEvery, "one row in this many is the subject's")
	workflow := fs.Bool("workflow", true, "also count the state transitions of an access and a delete request on the local stack (needs moto)")
	readLetters := fs.Bool("letters", true, "also read the corpus of request letters and report how the rules read them")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg.ScanBytes, cfg.PoolBytes, cfg.ObjectBytes, cfg.BigObject = *scanMB<<20, *poolMB<<20, *objectMB<<20, *bigMB<<20
	fmt.Fprintf(stderr, "# %s, %d cores (GOMAXPROCS %d), %s\n", bench.CPUModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version())
	report := func(f bench.Figure) { fmt.Fprintln(stdout, f) }
	if *readLetters {
		if err := classification(report); err != nil {
			fmt.Fprintln(stderr, "letters:", err)
			return 1
		}
	}
	if err := bench.Run(cfg, report); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *workflow {
		if err := transitions(report); err != nil {
			fmt.Fprintln(stderr, "state transitions:", err)
			return 1
		}
	}
	return 0
}
