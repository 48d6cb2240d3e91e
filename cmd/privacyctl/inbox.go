package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/privacy-pipeline/dsr/internal/app"
	"github.com/privacy-pipeline/dsr/internal/inbound"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// inbox lists the mail waiting for an operator, or acts on one:
// show, request, discard.
func inbox(args []string, stdout io.Writer) error {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		switch args[0] {
		case "show":
			return inboxShow(args[1:], stdout)
		case "request":
			return inboxRequest(args[1:], stdout)
		case "discard":
			return inboxDiscard(args[1:], stdout)
		}
		return fmt.Errorf("%w: unknown inbox command %q (list with no command; show, request, discard)", errUsage, args[0])
	}
	t, asJSON := reportFlags("inbox")
	if err := t.parseNoID(args); err != nil {
		return err
	}
	return t.act(func(ctx context.Context, a *app.App) error {
		items, err := a.Inbox().List(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(stdout, items)
		}
		if len(items) == 0 {
			fmt.Fprintln(stdout, "No mail waits for an operator.")
			return nil
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "MAIL ID\tRECEIVED\tREASON\tWHY\tLANGUAGE\tGUESS\tVERDICTS")
		for _, it := range items {
			reason := it.Reason
			if it.Quarantined {
				reason += " (quarantined)"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", it.ID, it.ReceivedAt.Format("2006-01-02 15:04"), reason,
				dash(it.Why), dash(it.Language), dash(it.Guess), it.Verdicts)
		}
		if err := w.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "\nRead one with: privacyctl inbox show MAIL_ID")
		return nil
	})
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func mailTarget(name string) *target { return newTarget("inbox " + name) }

func (t *target) parseMail(args []string) error {
	return t.parseOne(args, "mail id", func(id string) error {
		if !inbound.ValidMailID(id) {
			return fmt.Errorf("%w: %q is not a mail id (see privacyctl inbox)", errUsage, id)
		}
		return nil
	})
}

// inboxShow prints a waiting mail for the operator to judge, and its audit log.
func inboxShow(args []string, stdout io.Writer) error {
	t := mailTarget("show")
	if err := t.parseMail(args); err != nil {
		return err
	}
	return t.act(func(ctx context.Context, a *app.App) error {
		it, msg, readErr := a.Inbox().Read(ctx, t.id)
		if it.ID == "" {
			return readErr
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintf(w, "Mail\t%s\n", it.ID)
		reason := it.Reason
		if it.Quarantined {
			reason += " (quarantined: do not open attachments)"
		}
		fmt.Fprintf(w, "Waits because\t%s\n", reason)
		if it.Why != "" || it.Guess != "" {
			fmt.Fprintf(w, "The rules read\t%s (likeliest: %s)\n", dash(it.Why), dash(it.Guess))
		}
		fmt.Fprintf(w, "Received\t%s\n", it.ReceivedAt.Format("2006-01-02 15:04 MST"))
		fmt.Fprintf(w, "Verdicts\t%s\n", it.Verdicts)
		fmt.Fprintf(w, "Raw message\t%s\n", it.Key)
		if msg != nil {
			if msg.Senders > 1 {
				// Shown so the operator can judge; none of them is answered.
				fmt.Fprintf(w, "From\t%d authors: %s (none answered)\n", msg.Senders, printable(strings.Join(msg.Authors, ", ")))
			} else {
				fmt.Fprintf(w, "From\t%s\n", dash(printable(msg.From)))
			}
			if len(msg.ReplyTo) > 0 {
				fmt.Fprintf(w, "Reply-To\t%s (never written to)\n", printable(strings.Join(msg.ReplyTo, ", ")))
			}
			fmt.Fprintf(w, "Subject\t%s\n", printable(msg.Subject))
			if !msg.Date.IsZero() {
				fmt.Fprintf(w, "Date\t%s\n", msg.Date.Format("2006-01-02 15:04 MST"))
			}
			if msg.Attachments > 0 {
				fmt.Fprintf(w, "Attachments\t%d (not shown)\n", msg.Attachments)
			}
		}
		if err := w.Flush(); err != nil {
			return err
		}
		if msg != nil {
			fmt.Fprintf(stdout, "\n%s\n", printable(msg.Text))
			if msg.Truncated {
				fmt.Fprintln(stdout, "[... cut at the text limit]")
			}
		} else {
			fmt.Fprintf(stdout, "\n%v\n", explain(readErr))
		}
		events, err := a.Store().Events(ctx, inbound.AuditID(it.ID))
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, "\nHistory:")
		for _, e := range events {
			fmt.Fprintf(stdout, "  %s  %s  %s  %s\n", e.At.Format("2006-01-02 15:04:05"), e.Actor, e.Action, e.Note)
		}
		fmt.Fprintf(stdout, "\nAct with: privacyctl inbox request %[1]s --type TYPE   or   privacyctl inbox discard %[1]s --reason REASON\n", it.ID)
		return nil
	})
}

// letter prints the mail a request came by, for an operator to read what it
// asks (a correction letter whose new values the rules could not read).
func letter(args []string, stdout io.Writer) error {
	t := newTarget("letter")
	if err := t.parse(args); err != nil {
		return err
	}
	return t.act(func(ctx context.Context, a *app.App) error {
		r, err := a.Store().Get(ctx, t.id)
		if err != nil {
			return err
		}
		if r.Mail.Key == "" {
			return fmt.Errorf("%w: request %s did not come by mail", errInvalid, t.id)
		}
		msg, err := a.Inbox().Letter(ctx, r.Mail.Key)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintf(w, "Request\t%s (%s)\n", r.ID, r.Type)
		fmt.Fprintf(w, "From\t%s\n", dash(printable(msg.From)))
		fmt.Fprintf(w, "Subject\t%s\n", printable(msg.Subject))
		if !msg.Date.IsZero() {
			fmt.Fprintf(w, "Date\t%s\n", msg.Date.Format("2006-01-02 15:04 MST"))
		}
		if err := w.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\n%s\n", printable(msg.Text))
		return nil
	})
}

// printable keeps a stranger's text from steering the operator's terminal:
// control characters other than line breaks and tabs are shown as U+FFFD.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' || (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069') {
			return '\uFFFD'
		}
		return r
	}, s)
}

// inboxRequest makes a waiting mail a request of the given type.
func inboxRequest(args []string, stdout io.Writer) error {
	t := mailTarget("request")
	typ := t.fs.String("type", "", "the request type the mail asks for: "+typeList())
	jurisdiction := t.fs.String("jurisdiction", "", "the law that applies (default: what the mail names, else INBOUND_JURISDICTION)")
	if err := t.parseMail(args); err != nil {
		return err
	}
	if !slices.Contains(request.AllTypes, request.Type(*typ)) {
		return fmt.Errorf("%w: inbox request needs --type, one of: %s", errUsage, typeList())
	}
	return t.act(func(ctx context.Context, a *app.App) error {
		id, err := a.Inbox().MakeRequest(ctx, t.id, request.Type(*typ), strings.ToUpper(strings.TrimSpace(*jurisdiction)), t.by)
		if id != "" {
			fmt.Fprintf(stdout, "Made request %s from mail %s: the sender (From) gets the acknowledgement and the verification link.\n", id, t.id)
		}
		return err
	})
}

func typeList() string {
	s := make([]string, len(request.AllTypes))
	for i, t := range request.AllTypes {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// inboxDiscard drops a waiting mail for a fixed reason.
func inboxDiscard(args []string, stdout io.Writer) error {
	t := mailTarget("discard")
	reason := t.fs.String("reason", "", "why: "+strings.Join(inbound.DiscardReasons, ", "))
	if err := t.parseMail(args); err != nil {
		return err
	}
	if !slices.Contains(inbound.DiscardReasons, *reason) {
		return fmt.Errorf("%w: inbox discard needs --reason, one of: %s", errUsage, strings.Join(inbound.DiscardReasons, ", "))
	}
	return t.act(func(ctx context.Context, a *app.App) error {
		if err := a.Inbox().Discard(ctx, t.id, *reason, t.by); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Discarded mail %s (%s); its message expires from the raw-mail bucket.\n", t.id, *reason)
		return nil
	})
}
