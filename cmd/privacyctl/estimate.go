package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/privacy-pipeline/dsr/internal/estimate"
	"github.com/privacy-pipeline/dsr/internal/registry"
)

// estimateCmd prints what one erasure across a registry's sources is
// expected to cost and take in AWS, with every figure it assumes.
func estimateCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("estimate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	a := estimate.Defaults
	fs.Float64Var(&a.Touched, "touched", a.Touched, "share of an S3 source's objects that hold the subject")
	fs.IntVar(&a.ItemsPerSubject, "items", a.ItemsPerSubject, "items a DynamoDB source holds per subject")
	fs.Float64Var(&a.ParquetRead, "parquet-read", a.ParquetRead, "share of a Parquet file a scan reads (footer and match columns)")
	var file string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		file, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: estimate: %v", errUsage, err)
	}
	if file == "" && fs.NArg() == 1 {
		file = fs.Arg(0)
	} else if fs.NArg() > 0 {
		file = ""
	}
	if file == "" {
		return fmt.Errorf("%w: estimate needs one registry file: privacyctl estimate FILE [--touched 0.01] [--items 10] [--parquet-read 0.15]", errUsage)
	}
	if a.Touched <= 0 || a.Touched > 1 || a.ParquetRead <= 0 || a.ParquetRead > 1 || a.ItemsPerSubject < 0 {
		return fmt.Errorf("%w: --touched and --parquet-read are shares between 0 and 1, --items a count", errUsage)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	reg, err := registry.Parse(b)
	if err != nil {
		fmt.Fprintf(stderr, "%s:\n%v\n", file, err)
		return errInvalid
	}
	e := estimate.Erasure(reg, estimate.Stack, a, estimate.USEast1)
	printEstimate(stdout, e, a)
	return nil
}

func printEstimate(w io.Writer, e estimate.Estimate, a estimate.Assumptions) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tKIND\tSIZE\tREAD\tWRITTEN\tTIME\tCOST (USD)\tNOTE")
	for _, s := range e.Sources {
		size := "-"
		if s.Bytes > 0 {
			size = megabytes(float64(s.Bytes) / 1e6)
		}
		cost, took := dollars(s.Cost), roundTime(s.Time)
		if s.Unsized {
			cost, took = "?", "?"
		}
		if s.WaitsForOwner {
			took = "its owner's"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.Kind, size, megabytes(s.Read), megabytes(s.Written), took, cost, s.Note)
	}
	tw.Flush()
	p, d := estimate.USEast1, estimate.Stack
	fmt.Fprintf(w, "\nOne erasure: about %s (besides any wait for the owners of manual sources) and $%.4f (the workflow's own steps $%.4f included), in %s at %s prices.\n",
		roundTime(e.Time), e.Cost, e.Overhead, p.Region, p.AsOf)
	fmt.Fprintf(w, "Assumed: %.1f%% of an S3 source's objects hold the subject (--touched); %d items per subject in a DynamoDB source (--items); a Parquet scan reads %.0f%% of a file (--parquet-read).\n",
		a.Touched*100, a.ItemsPerSubject, a.ParquetRead*100)
	fmt.Fprintf(w, "The stack: %.0f MB functions (%.0f%% of a core), a %v timeout, sources over %d objects worked %d objects at a time, %d sources at a time, at most %.0f MB/s from S3 per invocation.\n",
		d.FunctionMB, d.FunctionMB/1769*100, d.Timeout, d.LargeMinObjects, d.MapConcurrency, d.SourceConcurrency, d.StreamMBps)
	fmt.Fprintln(w, "Rates per core are make bench's (internal/estimate.Rates); sources whose size the registry does not list (size: {bytes, objects}) are left out.")
}

func megabytes(mb float64) string {
	switch {
	case mb == 0:
		return "0"
	case mb >= 1e6:
		return fmt.Sprintf("%.1f TB", mb/1e6)
	case mb >= 1e3:
		return fmt.Sprintf("%.1f GB", mb/1e3)
	}
	return fmt.Sprintf("%.1f MB", mb)
}

func roundTime(d time.Duration) string {
	if d < time.Minute {
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

func dollars(d float64) string {
	if d > 0 && d < 0.0001 {
		return "<0.0001"
	}
	return fmt.Sprintf("%.4f", d)
}
