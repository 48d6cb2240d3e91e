package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/privacy-pipeline/dsr/internal/app"
	"github.com/privacy-pipeline/dsr/internal/manualtask"
	"github.com/privacy-pipeline/dsr/internal/operator"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// tasks lists the tasks of manual sources: a request's, or the open ones of
// every request in progress.
func tasks(args []string, stdout io.Writer) error {
	t := newTarget("tasks")
	asJSON := t.fs.Bool("json", false, "print JSON")
	var positional []string
	for rest := args; len(rest) > 0; {
		if err := t.fs.Parse(rest); err != nil {
			return fmt.Errorf("%w: tasks: %v", errUsage, err)
		}
		rest = t.fs.Args()
		if len(rest) > 0 {
			positional, rest = append(positional, rest[0]), rest[1:]
		}
	}
	switch {
	case len(positional) > 1:
		return fmt.Errorf("%w: tasks takes at most one request id", errUsage)
	case len(positional) == 1 && !request.ValidID(positional[0]):
		return fmt.Errorf("%w: %q is not a request id (dsr-YYYYMMDD-...)", errUsage, positional[0])
	}
	return t.act(func(ctx context.Context, a *app.App) error {
		var ts []manualtask.Task
		if len(positional) == 1 {
			var err error
			if ts, err = a.ManualTasks().Tasks(ctx, positional[0]); err != nil {
				return err
			}
		} else {
			rows, err := a.Reports().List(ctx, operator.Filter{Status: request.InProgress})
			if err != nil {
				return err
			}
			for _, row := range rows {
				rts, err := a.ManualTasks().Tasks(ctx, row.ID)
				if err != nil {
					return err
				}
				for _, rt := range rts {
					if rt.IsOpen() {
						ts = append(ts, rt)
					}
				}
			}
		}
		if *asJSON {
			out := make([]taskView, len(ts))
			for i, x := range ts {
				out[i] = viewOf(x)
			}
			return writeJSON(stdout, map[string]any{"tasks": out})
		}
		return printTasks(stdout, ts, len(positional) == 1)
	})
}

// taskView is a task as privacyctl shows it: without its link's hash.
type taskView struct {
	ID string `json:"id"`
	manualtask.Task
	TokenHash string `json:"token_hash,omitempty"`
}

func viewOf(t manualtask.Task) taskView {
	t.TokenHash = ""
	return taskView{ID: t.ID(), Task: t}
}

func printTasks(stdout io.Writer, ts []manualtask.Task, oneRequest bool) error {
	if len(ts) == 0 {
		if oneRequest {
			fmt.Fprintln(stdout, "The request has no tasks in manual sources.")
		} else {
			fmt.Fprintln(stdout, "No task of a manual source is open.")
		}
		return nil
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "TASK\tTYPE\tOWNER\tDUE\tSTATUS")
	open := 0
	for _, t := range ts {
		status := string(t.Status)
		if t.IsOpen() {
			open++
		} else {
			status += ": " + t.What() + ", by " + t.By + " at " + t.At.Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", t.ID(), t.Type, t.Owner, t.Due.Format(time.DateOnly), status)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if open > 0 {
		fmt.Fprintf(stdout, "\n%d open task(s). When an owner cannot answer through the link:\n  privacyctl task done TASK_ID [--file F] [--note TEXT]\n  privacyctl task none TASK_ID [--note TEXT]\n", open)
	}
	return nil
}

// task answers a task of a manual source for its owner: done (with the
// export, for access) or none (the system holds nothing of the subject).
func task(args []string, stdout io.Writer) error {
	if len(args) == 0 || (args[0] != "done" && args[0] != "none") {
		return fmt.Errorf("%w: privacyctl task done TASK_ID [--file F] [--note TEXT] | task none TASK_ID [--note TEXT]", errUsage)
	}
	status := manualtask.Status(args[0])
	t := newTarget("task " + args[0])
	file := t.fs.String("file", "", "the export of the subject's data (CSV, JSON or PDF), for an access task")
	note := t.fs.String("note", "", "what was done or found, kept with the task (a keyed hash of it in the receipt)")
	var id string
	err := t.parseOne(args[1:], "task id (REQUEST_ID/SOURCE_ID)", func(s string) error {
		rid, _, err := manualtask.ParseID(s)
		if err != nil || !request.ValidID(rid) {
			return fmt.Errorf("%w: %q is not a task id (REQUEST_ID/SOURCE_ID; privacyctl tasks lists them)", errUsage, s)
		}
		id = s
		return nil
	})
	if err != nil {
		return err
	}
	if *file != "" && status != manualtask.Done {
		return fmt.Errorf("%w: only task done takes --file", errUsage)
	}
	var body []byte
	if *file != "" {
		info, err := os.Stat(*file)
		if err != nil {
			return fmt.Errorf("%w: --file: %v", errUsage, err)
		}
		if info.Size() > manualtask.MaxExport {
			return fmt.Errorf("%w: --file is larger than %d MiB", errUsage, manualtask.MaxExport>>20)
		}
		if body, err = os.ReadFile(*file); err != nil {
			return fmt.Errorf("%w: --file: %v", errUsage, err)
		}
	}
	return t.act(func(ctx context.Context, a *app.App) error {
		done, err := a.TaskAnswers().Answer(ctx, id, manualtask.Answer{Status: status, By: "operator:" + t.by, Note: strings.TrimSpace(*note), File: body})
		if err != nil {
			return err
		}
		ts, err := a.ManualTasks().Tasks(ctx, done.RequestID)
		if err != nil {
			return err
		}
		if n := manualtask.OpenCount(ts); n > 0 {
			fmt.Fprintf(stdout, "Task %s: %s. %d task(s) of %s still open.\n", done.ID(), done.What(), n, done.RequestID)
			return nil
		}
		fmt.Fprintf(stdout, "Task %s: %s. No task of %s is open: the request goes on.\n", done.ID(), done.What(), done.RequestID)
		return nil
	})
}
