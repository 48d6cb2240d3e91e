package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/service/cloudformation"

	"github.com/privacy-pipeline/dsr/internal/app"
	"github.com/privacy-pipeline/dsr/internal/app/full"
	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/cfnstack"
	"github.com/privacy-pipeline/dsr/internal/devstack"
	"github.com/privacy-pipeline/dsr/internal/erasure"
	"github.com/privacy-pipeline/dsr/internal/operator"
	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// reasons collects repeated --reason flags.
type reasons []string

func (r *reasons) String() string     { return strings.Join(*r, "; ") }
func (r *reasons) Set(v string) error { *r = append(*r, v); return nil }

// target is what every operating command shares: the request id, who acts,
// and where the pipeline runs.
type target struct {
	id    string
	by    string
	local bool
	stack string
	fs    *flag.FlagSet
}

func newTarget(name string) *target {
	t := &target{fs: flag.NewFlagSet(name, flag.ContinueOnError)}
	t.fs.SetOutput(io.Discard)
	t.fs.StringVar(&t.by, "by", currentUser(), "who acts, for the audit log")
	t.fs.BoolVar(&t.local, "local", false, "act on the local stack (make dev) instead of the environment's AWS account")
	t.fs.StringVar(&t.stack, "stack", os.Getenv("PRIVACY_STACK"), "read the pipeline's names from this CloudFormation stack's outputs")
	return t
}

// parse reads flags, which may come before or after the request id.
func (t *target) parse(args []string) error {
	return t.parseOne(args, "request id", func(id string) error {
		if !request.ValidID(id) {
			return fmt.Errorf("%w: %q is not a request id (dsr-YYYYMMDD-...)", errUsage, id)
		}
		return nil
	})
}

// parseOne reads flags, which may come before or after the one positional
// argument, and checks that argument.
func (t *target) parseOne(args []string, what string, check func(string) error) error {
	var positional []string
	for len(args) > 0 {
		if err := t.fs.Parse(args); err != nil {
			return fmt.Errorf("%w: %s: %v", errUsage, t.fs.Name(), err)
		}
		args = t.fs.Args()
		if len(args) > 0 {
			positional = append(positional, args[0])
			args = args[1:]
		}
	}
	if len(positional) != 1 {
		return fmt.Errorf("%w: %s needs one %s", errUsage, t.fs.Name(), what)
	}
	t.id = positional[0]
	if err := check(t.id); err != nil {
		return err
	}
	if strings.TrimSpace(t.by) == "" {
		return fmt.Errorf("%w: say who acts with --by", errUsage)
	}
	return nil
}

// connect wires the pipeline from the environment, as the Lambda functions
// do, or for the local stack.
func (t *target) connect(ctx context.Context) (*app.App, error) {
	if t.local {
		awsCfg, err := devstack.LocalAWS(ctx, envOr("AWS_REGION", "us-east-1"), devstack.DefaultMotoURL)
		if err != nil {
			return nil, err
		}
		return full.New(devstack.LocalConfig(envOr("AWS_REGION", "us-east-1"), devstack.DefaultAPIURL), awsCfg, app.NewLogger(io.Discard))
	}
	awsCfg, err := app.LoadAWS(ctx)
	if err != nil {
		return nil, err
	}
	getenv := os.Getenv
	if t.stack != "" {
		getenv, err = cfnstack.Env(ctx, cloudformation.NewFromConfig(awsCfg), t.stack, os.Getenv)
		if errors.Is(err, cfnstack.ErrNoStack) || errors.Is(err, cfnstack.ErrNotPipeline) {
			return nil, fmt.Errorf("%w: --stack %v (AWS_REGION and AWS_PROFILE choose where it looks)", errUsage, err)
		}
		if err != nil {
			return nil, err
		}
	}
	cfg, err := app.ConfigFromEnv(getenv)
	if err != nil {
		return nil, fmt.Errorf("%w (use --stack NAME to read the names from the stack's outputs, or --local for the local stack)", err)
	}
	return full.New(cfg, awsCfg, app.NewLogger(io.Discard))
}

func currentUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// act connects and runs one operator action, explaining its errors.
func (t *target) act(do func(ctx context.Context, a *app.App) error) error {
	ctx := context.Background()
	a, err := t.connect(ctx)
	if err != nil {
		return err
	}
	if err := do(ctx, a); err != nil {
		return explain(err)
	}
	return nil
}

// explain turns the pipeline's errors into what an operator reads.
func explain(err error) error {
	var e *apperr.Error
	if !errors.As(err, &e) {
		return err
	}
	msg := e.Msg
	for _, f := range e.Fields {
		msg += " " + f.Field + ": " + f.Detail
	}
	if e.Kind == apperr.Invalid {
		return fmt.Errorf("%w: %s", errUsage, msg)
	}
	return errors.New(msg)
}

func extend(args []string, stdout io.Writer) error {
	t := newTarget("extend")
	var why reasons
	t.fs.Var(&why, "reason", "why the request needs longer (repeat for several); sent to the subject")
	if err := t.parse(args); err != nil {
		return err
	}
	if len(why) == 0 {
		return fmt.Errorf("%w: extend needs --reason: the law requires the subject be told why", errUsage)
	}
	return t.act(func(ctx context.Context, a *app.App) error {
		if err := a.Operator().Extend(ctx, t.id, t.by, why); err != nil {
			return err
		}
		r, err := a.Store().Get(ctx, t.id)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Extended %s: now due %s; the subject was told why.\n", t.id, r.Deadlines.Due)
		return nil
	})
}

// keepDate records that a request needs no extension.
func keepDate(args []string, stdout io.Writer) error {
	t := newTarget("keep-date")
	if err := t.parse(args); err != nil {
		return err
	}
	return t.act(func(ctx context.Context, a *app.App) error {
		if err := a.Operator().KeepDate(ctx, t.id, t.by); err != nil {
			return err
		}
		r, err := a.Store().Get(ctx, t.id)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "The date of %s stands: due %s, no extension.\n", t.id, r.Deadlines.Due)
		return nil
	})
}

func approve(args []string, stdout io.Writer) error {
	t := newTarget("approve")
	var why reasons
	t.fs.Var(&why, "reason", "for an appeal: why it is granted (repeat for several); sent to the subject")
	values := request.Corrections{}
	t.fs.Func("correct", "for a correction letter: FIELD=VALUE, a new value as the letter gives it (repeat for several)", func(s string) error {
		field, value, ok := strings.Cut(s, "=")
		if !ok || strings.TrimSpace(field) == "" {
			return errors.New("each --correct is FIELD=VALUE")
		}
		field = strings.TrimSpace(field)
		if _, twice := values[field]; twice {
			return fmt.Errorf("%s is given twice", field)
		}
		values[field] = value
		return nil
	})
	if err := t.parse(args); err != nil {
		return err
	}
	if len(values) > 0 && len(why) > 0 {
		return fmt.Errorf("%w: approve takes --reason (an appeal) or --correct (a correction letter), not both", errUsage)
	}
	return t.act(func(ctx context.Context, a *app.App) error {
		if len(values) > 0 {
			if err := a.Operator().ApproveCorrections(ctx, t.id, t.by, values); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "Approved %s with the new values of %s: it goes on to correct the profile.\n", t.id, strings.Join(values.Fields(), ", "))
			return nil
		}
		if err := a.Operator().Approve(ctx, t.id, t.by, why); err != nil {
			return err
		}
		if len(why) > 0 {
			fmt.Fprintf(stdout, "Granted appeal %s: the appealed request is carried out again; the subject is told why.\n", t.id)
			return nil
		}
		fmt.Fprintf(stdout, "Approved %s: it goes on to delivery.\n", t.id)
		return nil
	})
}

func deny(args []string, stdout io.Writer) error {
	t := newTarget("deny")
	var why reasons
	t.fs.Var(&why, "reason", "why the request is refused (repeat for several); sent to the subject")
	provision := t.fs.String("provision", "", "the provision of law the refusal rests on, where the law wants it named (Quebec: \"section 39\")")
	controller := t.fs.String("not-controller", "", "refuse because we do not control the data: the controller's name (with --controller-contact)")
	contact := t.fs.String("controller-contact", "", "how the subject reaches that controller: a web address or an email address")
	if err := t.parse(args); err != nil {
		return err
	}
	if len(why) == 0 && *controller == "" {
		return fmt.Errorf("%w: deny needs --reason (or --not-controller): the subject must be told why", errUsage)
	}
	return t.act(func(ctx context.Context, a *app.App) error {
		d := operator.Denial{Reasons: why, Provision: *provision, Controller: *controller, ControllerContact: *contact}
		if err := a.Operator().DenyWith(ctx, t.id, t.by, d); err != nil {
			return err
		}
		if *controller != "" {
			fmt.Fprintf(stdout, "Denied %s: the subject is told we are not the controller, and who is.\n", t.id)
			return nil
		}
		fmt.Fprintf(stdout, "Denied %s: the subject is told the reasons and what they can do next.\n", t.id)
		return nil
	})
}

// show prints a request's state, deadlines and audit timeline; --json for scripts.
func show(args []string, stdout io.Writer) error {
	t := newTarget("show")
	asJSON := t.fs.Bool("json", false, "print JSON")
	if err := t.parse(args); err != nil {
		return err
	}
	return t.act(func(ctx context.Context, a *app.App) error {
		r, err := a.Store().Get(ctx, t.id)
		if err != nil {
			return err
		}
		events, err := a.Store().Events(ctx, t.id)
		if err != nil {
			return err
		}
		// The console page of the request's execution (its latest redrive);
		// an emulator has no console.
		link := a.ExecutionConsoleURL(r.Execution())
		return printRequest(stdout, r, events, link, *asJSON)
	})
}

func printRequest(stdout io.Writer, r *request.Request, events []request.Event, executionURL string, asJSON bool) error {
	if asJSON {
		return writeJSON(stdout, map[string]any{
			"id": r.ID, "type": r.Type, "status": r.Status, "jurisdiction": r.Jurisdiction,
			"received_at": r.ReceivedAt, "deadlines": r.Deadlines, "extended": r.Extended, "overdue": r.Overdue,
			"needs_operator": r.NeedsOperator, "waiting_for_review": r.Review.TaskToken != "", "verification_locked": r.Verification.Locked,
			"verification_level": r.Verification.Level, "by_agent": r.Agent.Email != "", "agent_permission": r.Agent.PermissionKey, "agent_permission_type": r.Agent.PermissionType, "power_of_attorney": r.Agent.PowerOfAttorney,
			"dry_run": r.DryRun, "on_hold": r.OnHold, "hold_reasons": r.Hold.Reasons, "waiting_on_hold": r.Hold.TaskToken != "",
			"appeal_of": r.Appeal.Of, "appealed_by": r.Appeal.AppealedBy, "follow_up": r.Appeal.FollowUp, "follows_appeal": r.Appeal.FollowsAppeal,
			"execution_url": executionURL, "events": events,
		})
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "Request\t%s (%s, %s)\n", r.ID, r.Type, r.Jurisdiction)
	fmt.Fprintf(w, "Status\t%s%s\n", r.Status, flags(r))
	if r.OnHold {
		fmt.Fprintf(w, "Legal hold\t%s\n", strings.Join(r.Hold.Reasons, "; "))
	}
	for _, link := range []struct{ what, id string }{
		{"Appeal of", r.Appeal.Of}, {"Appealed by", r.Appeal.AppealedBy}, {"Carried out as", r.Appeal.FollowUp}, {"Follows appeal", r.Appeal.FollowsAppeal},
	} {
		if link.id != "" {
			fmt.Fprintf(w, "%s\t%s\n", link.what, link.id)
		}
	}
	if executionURL != "" {
		fmt.Fprintf(w, "Execution\t%s\n", executionURL)
	}
	fmt.Fprintf(w, "Received\t%s\n", r.ReceivedAt.Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, "Due\t%s (%s)\n", r.Deadlines.Due, strings.Join(r.Deadlines.Citations, "; "))
	if r.Deadlines.ExtendedDue != nil && !r.Extended {
		fmt.Fprintf(w, "Extension\tpossible until %s, notice by %s\n", r.Deadlines.ExtendedDue, r.Deadlines.ExtensionNoticeBy)
	}
	fmt.Fprintln(w, "\nWhen\tWho\tWhat\tStatus\tNote")
	for _, e := range events {
		change := ""
		if e.From != e.To {
			change = string(e.From) + " -> " + string(e.To)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", e.At.Format("2006-01-02 15:04:05"), e.Actor, e.Action, change, e.Note)
	}
	return w.Flush()
}

func flags(r *request.Request) string {
	var f []string
	if r.Extended {
		f = append(f, "extended")
	}
	if r.Overdue {
		f = append(f, "OVERDUE")
	}
	if r.NeedsOperator {
		f = append(f, "needs operator")
	}
	if r.Review.TaskToken != "" {
		f = append(f, "waiting for review")
	}
	if r.DryRun {
		f = append(f, "dry run")
	}
	switch {
	case r.OnHold && r.Hold.TaskToken != "":
		f = append(f, "ON LEGAL HOLD: erasure waits")
	case r.OnHold:
		f = append(f, "ON LEGAL HOLD")
	}
	if r.Verification.Locked && r.Status == request.PendingVerification {
		f = append(f, "verification locked: privacyctl verify")
	}
	if r.Agent.Email != "" {
		switch {
		case r.Agent.PowerOfAttorney:
			// The key names no type: the operator needs it to open the file.
			f = append(f, "by an agent with a power of attorney to review: "+r.Agent.PermissionKey+" ("+r.Agent.PermissionType+")")
		case r.Agent.PermissionKey == "":
			f = append(f, "by an agent, permission not yet sent")
		default:
			f = append(f, "by an agent")
		}
	}
	if len(f) == 0 {
		return ""
	}
	return " [" + strings.Join(f, ", ") + "]"
}

func verify(args []string, stdout io.Writer) error {
	t := newTarget("verify")
	how := t.fs.String("method", "", "how the identity was verified (a call back, a signed letter, ...); kept in the audit log")
	if err := t.parse(args); err != nil {
		return err
	}
	if strings.TrimSpace(*how) == "" {
		return fmt.Errorf("%w: verify needs --method: say how the identity was verified", errUsage)
	}
	return t.act(func(ctx context.Context, a *app.App) error {
		if err := a.Operator().Verify(ctx, t.id, t.by, *how); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Verified %s by %s: the workflow goes on.\n", t.id, *how)
		return nil
	})
}

func cancel(args []string, stdout io.Writer) error {
	t := newTarget("cancel")
	if err := t.parse(args); err != nil {
		return err
	}
	return t.act(func(ctx context.Context, a *app.App) error {
		if err := a.Operator().Cancel(ctx, t.id, t.by); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Cancelled %s: its workflow and deadline watch stopped; the subject was told.\n", t.id)
		return nil
	})
}

func redrive(args []string, stdout io.Writer) error {
	t := newTarget("redrive")
	if err := t.parse(args); err != nil {
		return err
	}
	return t.act(func(ctx context.Context, a *app.App) error {
		resume, err := a.Operator().Redrive(ctx, t.id, t.by)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Redriven %s: it resumes at %q.\n", t.id, resume)
		return nil
	})
}

func hold(args []string, stdout io.Writer) error {
	t := newTarget("hold")
	reason := t.fs.String("reason", "", "why the data must be kept (the litigation, the authority's order); kept with the request")
	if err := t.parse(args); err != nil {
		return err
	}
	if strings.TrimSpace(*reason) == "" {
		return fmt.Errorf("%w: hold needs --reason: say why the data must be kept", errUsage)
	}
	return t.act(func(ctx context.Context, a *app.App) error {
		if err := a.Operator().Hold(ctx, t.id, t.by, *reason); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Held %s: erasure waits until privacyctl release (or deny); the deadline watch keeps running.\n", t.id)
		return nil
	})
}

func release(args []string, stdout io.Writer) error {
	t := newTarget("release")
	if err := t.parse(args); err != nil {
		return err
	}
	return t.act(func(ctx context.Context, a *app.App) error {
		if err := a.Operator().Release(ctx, t.id, t.by); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Released %s: erasure goes on.\n", t.id)
		return nil
	})
}

// erase shows what erasing a verified delete request would do; erasure
// itself runs only in the request's workflow.
func erase(args []string, stdout io.Writer) error {
	t := newTarget("erase")
	dryRun := t.fs.Bool("dry-run", false, "show what erasure would do, changing nothing")
	asJSON := t.fs.Bool("json", false, "print JSON")
	if err := t.parse(args); err != nil {
		return err
	}
	if !*dryRun {
		return fmt.Errorf("%w: erase runs only with --dry-run: erasure itself runs in the request's workflow, after verification and review", errUsage)
	}
	return t.act(func(ctx context.Context, a *app.App) error {
		plan, err := a.PlanErasure(ctx, t.id)
		if err != nil {
			return err
		}
		return printPlan(stdout, t.id, plan, *asJSON)
	})
}

func printPlan(stdout io.Writer, id string, plan []erasure.Outcome, asJSON bool) error {
	if asJSON {
		return writeJSON(stdout, map[string]any{"request_id": id, "dry_run": true, "sources": plan})
	}
	fmt.Fprintf(stdout, "Dry run for %s: nothing was changed. Erasure would:\n\n", id)
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SOURCE\tMODE\tWOULD\tKEYS\tVERSIONS\tFINDINGS")
	for _, o := range plan {
		keys, versions := o.TouchedCounts()
		var would string
		switch {
		case o.Records == 0:
			would = "nothing: no records of the subject"
		case o.Mode == registry.EraseRetain && o.Retention != nil:
			would = fmt.Sprintf("keep %d record(s): %s (%s), until %s", o.Retained, o.Retention.Reason, o.Retention.Citation, o.Retention.Until)
		case o.Mode == registry.EraseAnonymize:
			would = fmt.Sprintf("anonymize %d record(s): remove %s", o.Anonymized, strings.Join(o.Fields, ", "))
		default:
			would = fmt.Sprintf("delete %d record(s)", o.Deleted)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%d\t%d\n", o.SourceID, o.Mode, would, keys, versions, len(o.Findings))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	var fs []erasure.Finding
	for _, o := range plan {
		fs = append(fs, o.Findings...)
	}
	if len(fs) > 0 {
		fmt.Fprintf(stdout, "\nErasure would leave these places for an operator (a delete request waits on them):\n\n")
		return printFindings(stdout, id, fs)
	}
	return nil
}
