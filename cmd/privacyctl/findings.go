package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/privacy-pipeline/dsr/internal/app"
	"github.com/privacy-pipeline/dsr/internal/erasure"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// findings lists the places in the sources that may hold a request's
// subject but could not be handled.
func findings(args []string, stdout io.Writer) error {
	t := newTarget("findings")
	asJSON := t.fs.Bool("json", false, "print JSON")
	if err := t.parse(args); err != nil {
		return err
	}
	return t.act(func(ctx context.Context, a *app.App) error {
		fs, err := a.Operator().ListFindings(ctx, t.id)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(stdout, map[string]any{"request_id": t.id, "findings": fs, "open_blocking": erasure.OpenBlocking(fs)})
		}
		return printFindings(stdout, t.id, fs)
	})
}

func printFindings(stdout io.Writer, id string, fs []erasure.Finding) error {
	if len(fs) == 0 {
		fmt.Fprintf(stdout, "%s has no findings: every place that may hold the subject was handled.\n", id)
		return nil
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tSOURCE\tOBJECT OR ITEM\tWHERE\tWHAT\tSTATE")
	for _, f := range fs {
		where := "-"
		switch {
		case f.Line > 0:
			where = fmt.Sprintf("line %d", f.Line)
		case f.Record > 0:
			where = fmt.Sprintf("record %d", f.Record)
		case f.RowGroup > 0 && f.Row > 0:
			where = fmt.Sprintf("row group %d, row %d", f.RowGroup, f.Row)
		case f.RowGroup > 0:
			where = fmt.Sprintf("row group %d", f.RowGroup)
		}
		if f.More > 0 {
			where += fmt.Sprintf(" (+%d more)", f.More)
		}
		key := f.Key
		if f.Version != "" {
			key += " @" + f.Version
		}
		state := "open"
		switch {
		case !f.Open():
			state = f.Resolution + " by " + strings.TrimPrefix(f.ResolvedBy, "operator:")
		case !f.Blocking:
			state = "open (informs; blocks nothing)"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", f.ID, f.SourceID, key, where, findingWhat(f), state)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if n := erasure.OpenBlocking(fs); n > 0 {
		fmt.Fprintf(stdout, "\n%d open finding(s) keep the erasure from being done. Look at each place, then:\n  privacyctl resolve %s FINDING_ID... --erased-by-hand | --not-subject [--note TEXT]\n", n, id)
	}
	return nil
}

// findingWhat says in words what a finding is.
func findingWhat(f erasure.Finding) string {
	switch f.Reason {
	case erasure.FindingUnparseable:
		return "holds the subject's value but does not parse"
	case erasure.FindingUnmatched:
		return "holds the subject's value in " + f.Field + ", where the registry does not look"
	case erasure.FindingUnreadable:
		return "cannot be read: " + f.Detail
	}
	return f.Reason
}

// resolve records what an operator found at a request's findings.
func resolve(args []string, stdout io.Writer) error {
	t := newTarget("resolve")
	erased := t.fs.Bool("erased-by-hand", false, "the place held the subject's data and you erased it")
	notSubject := t.fs.Bool("not-subject", false, "the place holds nothing of the subject")
	all := t.fs.Bool("all", false, "resolve every open finding of the request the same way")
	note := t.fs.String("note", "", "what you found or did, kept with the finding (not in the receipt)")
	var positional []string
	for rest := args; len(rest) > 0; {
		if err := t.fs.Parse(rest); err != nil {
			return fmt.Errorf("%w: resolve: %v", errUsage, err)
		}
		rest = t.fs.Args()
		if len(rest) > 0 {
			positional, rest = append(positional, rest[0]), rest[1:]
		}
	}
	if len(positional) == 0 || !request.ValidID(positional[0]) {
		return fmt.Errorf("%w: resolve needs a request id (dsr-YYYYMMDD-...) and the finding ids, or --all", errUsage)
	}
	t.id, positional = positional[0], positional[1:]
	var resolution string
	switch {
	case *erased && *notSubject:
		return fmt.Errorf("%w: resolve takes --erased-by-hand or --not-subject, not both", errUsage)
	case *erased:
		resolution = erasure.ResolvedErased
	case *notSubject:
		resolution = erasure.ResolvedNotSubject
	case len(positional) > 0 || *all:
		return fmt.Errorf("%w: say what you found: --erased-by-hand or --not-subject", errUsage)
	}
	if *all && len(positional) > 0 {
		return fmt.Errorf("%w: resolve takes finding ids or --all, not both", errUsage)
	}
	return t.act(func(ctx context.Context, a *app.App) error {
		ids := positional
		if *all {
			fs, err := a.Operator().ListFindings(ctx, t.id)
			if err != nil {
				return err
			}
			for _, f := range fs {
				if f.Open() {
					ids = append(ids, f.ID)
				}
			}
		}
		if err := a.Operator().Resolve(ctx, t.id, ids, resolution, t.by, *note); err != nil {
			return err
		}
		fs, err := a.Operator().ListFindings(ctx, t.id)
		if err != nil {
			return err
		}
		if n := erasure.OpenBlocking(fs); n > 0 {
			fmt.Fprintf(stdout, "Resolved %d finding(s) of %s; %d still open.\n", len(ids), t.id, n)
			return nil
		}
		fmt.Fprintf(stdout, "Resolved %d finding(s) of %s; none is open: erasure goes on to the receipt.\n", len(ids), t.id)
		return nil
	})
}
