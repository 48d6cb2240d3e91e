package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/privacy-pipeline/dsr/internal/app"
	"github.com/privacy-pipeline/dsr/internal/erasure"
	"github.com/privacy-pipeline/dsr/internal/resources"
)

// chainWalker walks the receipt chain in order.
type chainWalker interface {
	Walk(ctx context.Context, fn func(erasure.Link) error) error
}

// errChainBroken exits 1 after the report of where the chain breaks.
var errChainBroken = errors.New("the receipt chain does not hold together")

// receipts runs "receipts verify".
func receipts(args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		return fmt.Errorf("%w: privacyctl receipts verify [--local] [--json]", errUsage)
	}
	t, asJSON := reportFlags("receipts verify")
	if err := t.parseNoID(args[1:]); err != nil {
		return err
	}
	return t.act(func(ctx context.Context, a *app.App) error {
		var anchors anchorLister
		if store, ok := a.Anchors(); ok {
			anchors = store
		}
		return verifyChain(ctx, a.Receipts(), anchors, stdout, *asJSON)
	})
}

// anchorLister lists every anchor of the chain.
type anchorLister interface {
	All(ctx context.Context) (anchors []erasure.Anchor, strangers int, err error)
}

// verifyChain checks every receipt in order, against the anchors when
// there are (nil: no anchor bucket configured), and reports the first that
// does not hold together with the chain, or the hash of the last.
func verifyChain(ctx context.Context, chain chainWalker, anchors anchorLister, stdout io.Writer, asJSON bool) error {
	var v erasure.Verifier
	strangers := 0
	if anchors != nil {
		all, n, err := anchors.All(ctx)
		if err != nil {
			return err
		}
		v.Expect(all)
		strangers = n
	}
	err := chain.Walk(ctx, v.Next)
	if err == nil {
		err = v.Done()
	}
	var b *erasure.Break
	if err != nil && !errors.As(err, &b) {
		return err
	}
	if asJSON {
		out := map[string]any{"intact": b == nil, "verified": v.Count(), "anchors_checked": anchors != nil, "anchored": v.Anchors(), "not_anchors": strangers}
		if b != nil {
			out["broken_at"], out["problem"] = b.Seq, b.Problem
		} else if v.Count() > 0 {
			out["head_seq"], out["head_hash"] = v.Head().Seq, v.Head().Hash
		}
		if err := writeJSON(stdout, out); err != nil {
			return err
		}
	} else if b != nil {
		fmt.Fprintf(stdout, "Receipt %d: %s.\n%d receipts before it hold together.\n", b.Seq, b.Problem, v.Count())
	} else if v.Count() == 0 {
		fmt.Fprintln(stdout, "No receipts yet.")
	} else {
		fmt.Fprintf(stdout, "%d receipts; the chain holds together.\nLast: receipt %d, hash %s\n", v.Count(), v.Head().Seq, v.Head().Hash)
		if anchors != nil {
			fmt.Fprintf(stdout, "%d receipts anchored under Object Lock; each is in the chain with its anchored hash.\n", v.Anchors())
		} else {
			fmt.Fprintf(stdout, "No anchors were checked (%s is not set): keep the last hash somewhere else; receipts removed from the end would not show otherwise.\n", resources.ReceiptAnchors.EnvVar)
		}
	}
	if strangers > 0 && !asJSON {
		fmt.Fprintf(stdout, "Warning: %d objects among the anchors are not anchors: only the receipt task may write there; find out who did.\n", strangers)
	}
	if b != nil {
		return errChainBroken
	}
	return nil
}

// receipt prints the erasure receipt of one request.
func receipt(args []string, stdout io.Writer) error {
	t := newTarget("receipt")
	asJSON := t.fs.Bool("json", false, "print the receipt as stored (JSON)")
	if err := t.parse(args); err != nil {
		return err
	}
	return t.act(func(ctx context.Context, a *app.App) error {
		l, ok, err := a.Receipts().ReceiptOf(ctx, t.id)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%s has no erasure receipt (only completed delete requests have one)", t.id)
		}
		return printReceipt(stdout, l, *asJSON)
	})
}

func printReceipt(stdout io.Writer, l erasure.Link, asJSON bool) error {
	if asJSON {
		_, err := fmt.Fprintf(stdout, "%s\n", l.Body)
		return err
	}
	r, err := l.Open()
	if err != nil {
		return err
	}
	kind := "Erasure receipt"
	if r.DryRun {
		kind = "Dry-run receipt (nothing was changed)"
	}
	fmt.Fprintf(stdout, "%s %d for %s, issued %s\nHash %s\nAfter %s\n\n", kind, r.Seq, r.RequestID, r.IssuedAt.Format("2006-01-02 15:04:05 MST"), l.Hash, r.PrevHash)
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SOURCE\tMODE\tRECORDS\tDELETED\tANONYMIZED\tRETAINED\tKEYS\tVERSIONS REMOVED\tWHY KEPT")
	for _, o := range r.Sources {
		keys, versions := o.TouchedCounts()
		why := ""
		if o.Retention != nil {
			why = fmt.Sprintf("%s (%s) until %s", o.Retention.Reason, o.Retention.Citation, o.Retention.Until)
		}
		if a := o.Attestation; a != nil {
			// A manual source: what its owner attested, by whom and when.
			why = fmt.Sprintf("%s: %s, attested by %s at %s", a.TaskID, a.What, a.By, a.At.Format(time.RFC3339))
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", o.SourceID, o.Mode, o.Records, o.Deleted, o.Anonymized, o.Retained, keys, versions, why)
	}
	if err := w.Flush(); err != nil || len(r.Recipients) == 0 {
		return err
	}
	// Then whom the erasure was passed on to: told, or not reached and why.
	fmt.Fprintln(stdout)
	w = tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "RECIPIENT\tNAME\tBY\tSTATUS\tTRIES\tAT\tWHY NOT")
	for _, d := range r.Recipients {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", d.RecipientID, d.Name, d.Channel, d.Status, d.Tries, d.At.Format(time.RFC3339), d.Reason)
	}
	return w.Flush()
}

// migrateTables runs "migrate-tables".
func migrateTables(args []string, stdout io.Writer) error {
	t, asJSON := reportFlags("migrate-tables")
	remove := t.fs.Bool("remove", false, "delete what was copied from the requests table")
	if err := t.parseNoID(args); err != nil {
		return err
	}
	return t.act(func(ctx context.Context, a *app.App) error {
		m, err := a.MoveHistory(ctx, *remove)
		if *asJSON {
			if jerr := writeJSON(stdout, map[string]int{"audit_events": m.Audit, "erasure_records": m.Receipts,
				"already_there": m.There, "removed": m.Removed, "conflicts": m.Conflicts}); jerr != nil {
				return jerr
			}
		} else {
			fmt.Fprintf(stdout, "Copied %d audit events and %d erasure records; %d were there already; removed %d from the requests table.\n",
				m.Audit, m.Receipts, m.There, m.Removed)
			if m.Conflicts > 0 {
				fmt.Fprintf(stdout, "%d items were left where they are: their keys hold something else in the new tables "+
					"(a receipt chain begun there before the move?). Nothing was overwritten.\n", m.Conflicts)
			}
		}
		return err
	})
}
