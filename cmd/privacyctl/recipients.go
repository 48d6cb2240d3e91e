package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/privacy-pipeline/dsr/internal/app"
	"github.com/privacy-pipeline/dsr/internal/recipient"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// recipients lists what the recipients the registry names for a request's
// type were told of it: told (by the workflow, or by an operator), still
// being tried, or unreached.
func recipients(args []string, stdout io.Writer) error {
	t := newTarget("recipients")
	asJSON := t.fs.Bool("json", false, "print JSON")
	if err := t.parse(args); err != nil {
		return err
	}
	return t.act(func(ctx context.Context, a *app.App) error {
		r, err := a.Store().Get(ctx, t.id)
		if err != nil {
			return err
		}
		var ds []recipient.Delivery
		var notYet []string
		if reg := a.Registry(); reg != nil {
			for _, n := range reg.NotifiedOf(string(r.Type)) {
				d, ok, err := a.Deliveries().Delivery(ctx, r.ID, n.ID)
				if err != nil {
					return err
				}
				if ok {
					ds = append(ds, d)
				} else {
					notYet = append(notYet, n.ID)
				}
			}
		}
		if *asJSON {
			return writeJSON(stdout, map[string]any{"deliveries": ds, "not_tried": notYet})
		}
		if len(ds) == 0 && len(notYet) == 0 {
			fmt.Fprintf(stdout, "The registry names no recipient told of %s requests.\n", r.Type)
			return nil
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "RECIPIENT\tNAME\tCHANNEL\tSTATUS\tTRIES\tAT")
		unreached := 0
		for _, d := range ds {
			status := string(d.Status)
			switch {
			case d.By != "":
				status += " by " + d.By
			case d.Reason != "":
				status += " (" + d.Reason + ")"
			}
			if d.Status == recipient.Unreached {
				unreached++
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\n", d.RecipientID, d.Name, d.Channel, status, d.Tries, d.At.Format(time.RFC3339))
		}
		for _, id := range notYet {
			fmt.Fprintf(w, "%s\t\t\tnot tried (yet, or the request has none of its identities)\t0\t\n", id)
		}
		if err := w.Flush(); err != nil {
			return err
		}
		if unreached > 0 {
			fmt.Fprintf(stdout, "\n%d recipient(s) could not be reached. Tell them yourself, then record it:\n  privacyctl recipient told %s/RECIPIENT\n", unreached, r.ID)
		}
		return nil
	})
}

// recipientCmd records that an operator told an unreached recipient.
func recipientCmd(args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "told" {
		return fmt.Errorf("%w: privacyctl recipient told REQUEST_ID/RECIPIENT", errUsage)
	}
	t := newTarget("recipient told")
	var requestID, recipientID string
	err := t.parseOne(args[1:], "REQUEST_ID/RECIPIENT", func(s string) error {
		rid, nid, ok := strings.Cut(s, "/")
		if !ok || !request.ValidID(rid) || nid == "" {
			return fmt.Errorf("%w: %q is not REQUEST_ID/RECIPIENT (privacyctl recipients ID lists them)", errUsage, s)
		}
		requestID, recipientID = rid, nid
		return nil
	})
	if err != nil {
		return err
	}
	return t.act(func(ctx context.Context, a *app.App) error {
		d, err := a.Operator().RecipientTold(ctx, requestID, recipientID, t.by)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Recipient %s (%s) of %s: told, by %s. The receipt, sealed before, still says it was not reached then; the audit log says the rest.\n", d.RecipientID, d.Name, requestID, d.By)
		return nil
	})
}
