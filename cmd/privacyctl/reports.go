package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/privacy-pipeline/dsr/internal/app"
	"github.com/privacy-pipeline/dsr/internal/operator"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// reportFlags are the flags of the commands that read many requests.
func reportFlags(name string) (*target, *bool) {
	t := newTarget(name)
	asJSON := t.fs.Bool("json", false, "print JSON")
	return t, asJSON
}

// parseNoID reads the flags of a command that takes no request id.
func (t *target) parseNoID(args []string) error {
	if err := t.fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %s: %v", errUsage, t.fs.Name(), err)
	}
	if t.fs.NArg() > 0 {
		return fmt.Errorf("%w: %s takes no arguments, got %q", errUsage, t.fs.Name(), t.fs.Arg(0))
	}
	return nil
}

func list(args []string, stdout io.Writer) error {
	t, asJSON := reportFlags("list")
	var f operator.Filter
	status := t.fs.String("status", "", "only requests in this status (default: every open request)")
	t.fs.StringVar(&f.Jurisdiction, "jurisdiction", "", "only this jurisdiction")
	t.fs.BoolVar(&f.Overdue, "overdue", false, "only overdue requests")
	t.fs.BoolVar(&f.NeedsDecision, "needs-decision", false, "only requests whose deadline watch asks whether to extend")
	t.fs.IntVar(&f.DueWithin, "due-within", 0, "only requests due within this many days")
	if err := t.parseNoID(args); err != nil {
		return err
	}
	f.Status = request.Status(*status)
	if f.DueWithin < 0 {
		return fmt.Errorf("%w: --due-within must be a number of days", errUsage)
	}
	return t.act(func(ctx context.Context, a *app.App) error {
		rows, err := a.Reports().List(ctx, f)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(stdout, rows)
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tTYPE\tJURISDICTION\tSTATUS\tDUE\tDAYS LEFT\tWAITS FOR")
		for _, r := range rows {
			due := r.Due
			if r.Extended {
				due += " (extended)"
			}
			if r.Overdue {
				due += " OVERDUE"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", r.ID, r.Type, r.Jurisdiction, r.Status, due, r.DaysLeft, r.WaitsFor)
		}
		fmt.Fprintf(w, "\n%d request(s)\n", len(rows))
		return w.Flush()
	})
}

func records(args []string, stdout io.Writer) error {
	t := newTarget("records")
	since := t.fs.String("since", "", "first day of the record, YYYY-MM-DD (default: 24 months ago, as CCPA Regs §7101 requires)")
	format := t.fs.String("format", "csv", "csv or json")
	if err := t.parseNoID(args); err != nil {
		return err
	}
	from := time.Now().UTC().AddDate(-2, 0, 0)
	if *since != "" {
		var err error
		if from, err = time.Parse(time.DateOnly, *since); err != nil {
			return fmt.Errorf("%w: --since %q is not a date like 2026-01-31", errUsage, *since)
		}
	}
	if *format != "csv" && *format != "json" {
		return fmt.Errorf("%w: --format must be csv or json", errUsage)
	}
	return t.act(func(ctx context.Context, a *app.App) error {
		recs, err := a.Reports().Records(ctx, from)
		if err != nil {
			return err
		}
		if *format == "json" {
			return writeJSON(stdout, recs)
		}
		w := csv.NewWriter(stdout)
		_ = w.Write([]string{"request_id", "request_date", "nature", "jurisdiction", "manner", "response_date", "response", "denial_basis"})
		for _, r := range recs {
			_ = w.Write([]string{r.RequestID, r.RequestDate, r.Nature, r.Jurisdiction, r.Manner, r.ResponseDate, r.Response, r.DenialBasis})
		}
		w.Flush()
		return w.Error()
	})
}

func metrics(args []string, stdout io.Writer) error {
	t, asJSON := reportFlags("metrics")
	year := t.fs.Int("year", time.Now().Year()-1, "the calendar year (default: last year, as CCPA Regs §7102 publishes by July 1)")
	if err := t.parseNoID(args); err != nil {
		return err
	}
	return t.act(func(ctx context.Context, a *app.App) error {
		ms, err := a.Reports().Metrics(ctx, *year)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(stdout, ms)
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintf(w, "Requests received in %d\n\nTYPE\tRECEIVED\tCOMPLIED\tDENIED\tOPEN\tMEDIAN DAYS\n", *year)
		for _, m := range ms {
			median := "-"
			if m.MedianDays != nil {
				median = strconv.FormatFloat(*m.MedianDays, 'f', 1, 64)
			}
			fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%s\n", m.Type, m.Received, m.Complied, m.Denied, m.Open, median)
		}
		return w.Flush()
	})
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
