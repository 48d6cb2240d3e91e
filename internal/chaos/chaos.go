// Package chaos runs the pipeline on the local stack under injected faults
// and load, and checks that nothing is lost or miscounted: every accepted
// request is stored, has a workflow and ends completed or flagged for an
// operator with the reason; every erasure receipt and access package counts
// exactly what the seeded data holds of its subject (counted from the data
// as it was written, not from what the pipeline says); and no byte of
// anyone else's data changes. `make chaos` runs it (cmd/chaos).
package chaos

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/privacy-pipeline/dsr/internal/devstack"
	"github.com/privacy-pipeline/dsr/internal/ratelimit"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/resources"
	"github.com/privacy-pipeline/dsr/internal/sfnflow"
)

// Config is one run.
type Config struct {
	// Requests is the number of requests, one per subject.
	Requests int
	// Rate is the share of the pipeline's AWS calls that fail.
	Rate float64
	// KillRate is the share of Lambda invocations killed.
	KillRate float64
	// Seed fixes the data, the mix of requests and the faults' draws.
	Seed uint64
	// Timeout bounds the whole run.
	Timeout time.Duration
	// Parallel is how many requests are driven at once.
	Parallel int
	// MaxRedrives is how often an operator redrives one failed request.
	MaxRedrives int
	// MinFailedShare is the least share of AWS calls that must have failed
	// for the run to count.
	MinFailedShare float64
	// Logs receives the stack's logs besides the check for personal data.
	Logs io.Writer
	// Progress receives a line now and then while the run goes on.
	Progress io.Writer
	// Trace keeps the audit trail of every request a problem names or
	// that was flagged (Report.Trails).
	Trace bool
}

// timeScale makes a statutory day last 24 s: the verification and review
// waits (weeks) outlast a run of minutes, faults and redrives included.
const timeScale = 3600

// Report is what a run found. Problems lists what failed a check, by
// request id, source id and object key; never by anything personal.
type Report struct {
	Config   Config
	Runtime  time.Duration
	Faults   devstack.FaultCounts
	Requests int
	// Accepted got a 202; Completed closed completed; Flagged wait for an
	// operator with the reason (Reasons); Lost were accepted but are not
	// stored or have no workflow; Stuck are open without a running
	// workflow or a known wait; Unfinished still ran when time was up;
	// OtherwiseClosed closed otherwise (denied, expired, cancelled).
	Accepted, Completed, Flagged, Lost, Stuck, Unfinished, OtherwiseClosed int
	// Unanswered are stored requests whose submission got no 202 (the
	// client retried after a 5xx); each must have a workflow too.
	Unanswered, UnansweredWithout int
	Redrives                      int
	FindingsResolved              int
	FindingsUnexpected            int
	FindingsMissed                int
	ReceiptsChecked               int
	ReceiptMismatches             int
	PackagesChecked               int
	PackageMismatches             int
	SuppressionsMissing           int
	// OtherDataChanged counts records of people whose data was to stay
	// that changed or went; ErasedDataLeft records of completed deletions
	// still there.
	OtherDataChanged, ErasedDataLeft int
	// PersonalInLogs counts seeded personal values found in the stack's
	// logs or in execution data.
	PersonalInLogs int
	// UngrantedActions counts what a function did in the pipeline's tables
	// that its grants (resources.Functions, and so IAM in the cloud) do not
	// allow: moto enforces no IAM, and faults take paths tests may not.
	UngrantedActions int
	Reasons          map[string]int
	Problems         []string
	// Trails are audit trails by request id (Config.Trace): actions,
	// statuses and notes, which hold ids and counts only.
	Trails map[string][]string
}

// FailedShare is the share of the pipeline's AWS calls that failed.
func (r *Report) FailedShare() float64 {
	if r.Faults.Calls == 0 {
		return 0
	}
	return float64(r.Faults.FailedCalls()) / float64(r.Faults.Calls)
}

// OK reports whether the run proved what it set out to.
func (r *Report) OK() bool {
	return r.Lost == 0 && r.Stuck == 0 && r.Unfinished == 0 && r.OtherwiseClosed == 0 && r.UnansweredWithout == 0 &&
		r.ReceiptMismatches == 0 && r.PackageMismatches == 0 && r.SuppressionsMissing == 0 &&
		r.FindingsUnexpected == 0 && r.FindingsMissed == 0 &&
		r.OtherDataChanged == 0 && r.ErasedDataLeft == 0 && r.PersonalInLogs == 0 && r.UngrantedActions == 0 &&
		r.FailedShare() >= r.Config.MinFailedShare && r.Accepted == r.Requests
}

// Lines are the report's figures, "name value unit".
func (r *Report) Lines() []string {
	f := func(name string, v any, unit string) string { return fmt.Sprintf("%s %v %s", name, v, unit) }
	return []string{
		f("chaos_seed", r.Config.Seed, "seed"),
		f("chaos_rate", r.Config.Rate, "ratio"),
		f("chaos_kill_rate", r.Config.KillRate, "ratio"),
		f("requests_total", r.Requests, "requests"),
		f("requests_accepted", r.Accepted, "requests"),
		f("requests_completed", r.Completed, "requests"),
		f("requests_flagged", r.Flagged, "requests"),
		f("requests_lost", r.Lost, "requests"),
		f("requests_stuck", r.Stuck, "requests"),
		f("requests_unfinished", r.Unfinished, "requests"),
		f("requests_closed_otherwise", r.OtherwiseClosed, "requests"),
		f("requests_unanswered", r.Unanswered, "requests"),
		f("requests_unanswered_without_workflow", r.UnansweredWithout, "requests"),
		f("redrives", r.Redrives, "redrives"),
		f("findings_resolved", r.FindingsResolved, "findings"),
		f("findings_unexpected", r.FindingsUnexpected, "findings"),
		f("findings_missed", r.FindingsMissed, "findings"),
		f("receipts_checked", r.ReceiptsChecked, "receipts"),
		f("receipt_mismatches", r.ReceiptMismatches, "sources"),
		f("packages_checked", r.PackagesChecked, "packages"),
		f("package_mismatches", r.PackageMismatches, "sources"),
		f("suppressions_missing", r.SuppressionsMissing, "requests"),
		f("other_data_changed", r.OtherDataChanged, "records"),
		f("erased_data_left", r.ErasedDataLeft, "records"),
		f("personal_data_in_logs", r.PersonalInLogs, "values"),
		f("ungranted_table_actions", r.UngrantedActions, "actions"),
		f("aws_calls", r.Faults.Calls, "calls"),
		f("aws_calls_failed", r.Faults.FailedCalls(), "calls"),
		f("aws_calls_failed_share", fmt.Sprintf("%.3f", r.FailedShare()), "ratio"),
		f("faults_throttled", r.Faults.Throttled, "calls"),
		f("faults_server_errors", r.Faults.ServerErrors, "calls"),
		f("faults_timeouts", r.Faults.Timeouts, "calls"),
		f("faults_lost_answers", r.Faults.LostAnswers, "calls"),
		f("invocations", r.Faults.Invocations, "invocations"),
		f("invocations_killed_before", r.Faults.KilledBefore, "invocations"),
		f("invocations_killed_midway", r.Faults.KilledMidway, "invocations"),
		f("invocations_killed_after", r.Faults.KilledAfter, "invocations"),
		f("faults_injected", r.Faults.FailedCalls()+r.Faults.Killed(), "faults"),
		f("runtime", fmt.Sprintf("%.1f", r.Runtime.Seconds()), "s"),
	}
}

func (r *Report) problem(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// runner holds what the drivers and the checks share.
type runner struct {
	cfg   Config
	stack *devstack.Stack
	world *world
	mail  *mailbox
	http  *http.Client
	flow  *sfnflow.Workflow
	sfn   *sfn.Client
	s3    *s3.Client
	ddb   *dynamodb.Client
}

// syncBuffer collects the stack's logs for the check.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
	w  io.Writer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w != nil {
		_, _ = s.w.Write(p)
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Run starts a local stack with the faults, seeds the data, drives every
// request and checks the outcome.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Requests < 1 || cfg.Rate < 0 || cfg.Rate >= 1 || cfg.KillRate < 0 || cfg.KillRate >= 1 {
		return nil, errors.New("requests must be at least 1, rates from 0 to below 1")
	}
	cfg.Parallel = max(cfg.Parallel, 1)
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	logs := &syncBuffer{w: cfg.Logs}
	faults := &devstack.Faults{Rate: cfg.Rate, KillRate: cfg.KillRate, Seed: cfg.Seed}
	progress := func(format string, args ...any) {
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "# %5.0fs "+format+"\n", append([]any{time.Since(start).Seconds()}, args...)...)
		}
	}
	stack, err := devstack.Start(ctx, devstack.Options{
		Logs: logs, TimeScale: timeScale, ReviewTypes: []request.Type{request.Delete},
		// The limits protect people's mailboxes; here they would only
		// refuse the run's own submissions.
		ClientLimit: &ratelimit.Off, IdentityLimit: &ratelimit.Off,
		// The sweeper runs as its schedule would, on requests half a
		// minute old: long past the portal's start timeout.
		SweepEvery: 5 * time.Second, SweepMinAge: 30 * time.Second,
		// A submission whose function died holds its key this long: a
		// client retrying waits it out (Retry-After).
		IdempotencyLease: 15 * time.Second,
		// Sources of more than eight objects (the analytics events, the
		// profile history) are worked object by object, as large ones are.
		LargeSourceMinObjects: 8,
		Faults:                faults,
	})
	if err != nil {
		return nil, fmt.Errorf("local stack: %w", err)
	}
	defer stack.Close()
	r := &runner{cfg: cfg, stack: stack, http: &http.Client{Timeout: 30 * time.Second},
		sfn: sfn.NewFromConfig(stack.AWS), ddb: dynamodb.NewFromConfig(stack.AWS),
		s3: s3.NewFromConfig(stack.AWS, func(o *s3.Options) { o.UsePathStyle = true })}
	r.flow = sfnflow.New(r.sfn, stack.App.Config().StateMachineARN)
	modes := map[string]string{}
	for _, src := range stack.App.Registry().Automated() {
		modes[src.ID] = src.Erasure
	}
	r.world = newWorld(cfg.Seed, cfg.Requests, modes)
	if err := r.world.seed(ctx, r.ddb, r.s3); err != nil {
		return nil, err
	}
	before, err := r.snapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("snapshot before: %w", err)
	}
	progress("stack up, %d people seeded; driving %d requests", len(r.world.people), cfg.Requests)

	r.mail = newMailbox(stack.Mail)
	pollCtx, stopPoll := context.WithCancel(ctx)
	defer stopPoll()
	go r.mail.poll(pollCtx, 250*time.Millisecond)

	runStart := time.Now().Add(-time.Second)
	outcomes := make([]*outcome, len(r.world.subjects))
	sem := make(chan struct{}, cfg.Parallel)
	var wg sync.WaitGroup
	var finished int
	var mu sync.Mutex
	for i, p := range r.world.subjects {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			outcomes[i] = r.drive(ctx, p)
			mu.Lock()
			finished++
			if finished%10 == 0 || finished == len(outcomes) {
				progress("%d of %d requests driven", finished, len(outcomes))
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	stopPoll()

	// The checks run on their own clock: a run out of time still says what
	// it found.
	checkCtx, cancelCheck := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Minute)
	defer cancelCheck()
	rep := &Report{Config: cfg, Requests: cfg.Requests, Reasons: map[string]int{}}
	r.classify(checkCtx, rep, outcomes)
	r.checkUnanswered(checkCtx, rep, outcomes, runStart)
	r.checkResults(checkCtx, rep, outcomes)
	after, err := r.snapshot(checkCtx)
	if err != nil {
		return nil, fmt.Errorf("snapshot after: %w", err)
	}
	r.compare(rep, before, after, r.fatesOf(checkCtx, outcomes))
	r.checkPersonal(checkCtx, rep, logs.String(), outcomes)
	checkGrants(rep, stack.TableAccess())
	rep.Faults = faults.Counts()
	rep.Runtime = time.Since(start)
	sort.Strings(rep.Problems)
	if cfg.Trace {
		r.trace(checkCtx, rep, outcomes)
	}
	return rep, nil
}

// trace keeps the audit trail of each request a problem names or that
// was flagged.
func (r *runner) trace(ctx context.Context, rep *Report, outcomes []*outcome) {
	rep.Trails = map[string][]string{}
	for _, o := range outcomes {
		if o.id == "" {
			continue
		}
		named := o.flag != "" || o.redrives > 0 || len(o.answers) > 1 || o.answers[http.StatusAccepted] != 1
		for _, p := range rep.Problems {
			named = named || strings.Contains(p, o.id)
		}
		if !named {
			continue
		}
		events, err := r.stack.App.Store().Events(ctx, o.id)
		if err != nil {
			continue
		}
		trail := []string{fmt.Sprintf("%s request; submissions answered %v; failed at %v", o.p.req, o.answers, o.failedAt)}
		for _, ev := range events {
			trail = append(trail, fmt.Sprintf("%s %s %s %s->%s %s", ev.At.Format("15:04:05.000"), ev.Actor, ev.Action, ev.From, ev.To, ev.Note))
		}
		rep.Trails[o.id] = trail
	}
}

// classify puts every subject's request in one of the report's classes.
func (r *runner) classify(ctx context.Context, rep *Report, outcomes []*outcome) {
	for _, o := range outcomes {
		rep.Redrives += o.redrives
		rep.FindingsResolved += o.resolved
		rep.FindingsUnexpected += o.unexpected
		if o.id == "" {
			rep.problem("%s: %s", o.p, o.flag)
			continue
		}
		rep.Accepted++
		req, err := r.stack.App.Store().Get(ctx, o.id)
		if err != nil {
			rep.Lost++
			rep.problem("%s: accepted but not stored (%v)", o.id, err)
			continue
		}
		status, err := r.executionStatus(ctx, req.Execution())
		if err != nil {
			rep.Lost++
			rep.problem("%s: stored without a workflow (%v)", o.id, err)
			continue
		}
		switch {
		case req.Status == request.Completed:
			rep.Completed++
		case req.Status.Closed():
			rep.OtherwiseClosed++
			rep.problem("%s: closed %s", o.id, req.Status)
		case req.Status == request.Failed && req.NeedsOperator:
			rep.Flagged++
			rep.Reasons[cmp.Or(o.flag, "failed, waiting for an operator's redrive")]++
		case status == "RUNNING" && waitsForOperator(req):
			rep.Flagged++
			rep.Reasons["waits for an operator: "+string(req.Status)]++
		case status == "RUNNING":
			rep.Unfinished++
			rep.problem("%s: still %s when time was up, its workflow running", o.id, req.Status)
		default:
			rep.Stuck++
			rep.problem("%s: %s (needs operator %v) with its workflow %s", o.id, req.Status, req.NeedsOperator, status)
		}
	}
}

// waitsForOperator reports whether an open request waits on an operator's
// decision the harness did not take.
func waitsForOperator(r *request.Request) bool {
	return r.NeedsOperator || r.Review.TaskToken != "" || r.OnHold || r.Verification.Locked
}

func (r *runner) executionStatus(ctx context.Context, name string) (string, error) {
	arn := sfnflow.ExecutionARN(r.stack.App.Config().StateMachineARN, name)
	out, err := r.sfn.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: &arn})
	if err != nil {
		return "", err
	}
	return string(out.Status), nil
}

// checkUnanswered finds the requests stored during the run whose client got
// no 202 (it retried after a 5xx, and the retry made another): each must
// still get a workflow, from the portal or from the sweeper. It waits for
// the sweeper to catch up.
func (r *runner) checkUnanswered(ctx context.Context, rep *Report, outcomes []*outcome, since time.Time) {
	accepted := map[string]bool{}
	for _, o := range outcomes {
		accepted[o.id] = true
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		all, err := r.stack.App.Store().List(ctx, request.Query{Since: since})
		if err != nil {
			rep.problem("listing the requests: %v", err)
			return
		}
		var without []string
		rep.Unanswered = 0
		for _, req := range all {
			if accepted[req.ID] {
				continue
			}
			rep.Unanswered++
			if _, err := r.executionStatus(ctx, req.Execution()); err != nil {
				without = append(without, req.ID)
			}
		}
		if len(without) == 0 || time.Now().After(deadline) {
			rep.UnansweredWithout = len(without)
			for _, id := range without {
				rep.problem("%s: stored, unanswered, and no workflow after the sweeper's time", id)
			}
			return
		}
		sleep(ctx, 2*time.Second)
	}
}

// sourcesOf lists the ids of the sources the pipeline works itself, in
// order (the seeded subjects are unknown to the manual ones).
func (r *runner) sourcesOf() []string {
	var ids []string
	for _, src := range r.stack.App.Registry().Automated() {
		ids = append(ids, src.ID)
	}
	return ids
}

func hasAny(s string, values []string) (string, bool) {
	for _, v := range values {
		if strings.Contains(s, v) {
			return v, true
		}
	}
	return "", false
}

// checkGrants compares what each function did in the pipeline's tables with
// what its grants allow.
func checkGrants(rep *Report, access map[string]map[string][]string) {
	if len(access["api"]) == 0 || len(access["erase-source"]) == 0 {
		rep.UngrantedActions++
		rep.problem("no table access of the api or of erasure was recorded: the grant check would prove nothing")
	}
	granted := map[string]map[string][]string{}
	for _, f := range resources.Functions {
		granted[f.Name] = map[string][]string{}
		for _, a := range f.Tables {
			granted[f.Name][a.Table.ID] = append(granted[f.Name][a.Table.ID], a.Actions...)
		}
	}
	for fn, tables := range access {
		for table, actions := range tables {
			for _, a := range actions {
				if !slices.Contains(granted[fn][table], a) {
					rep.UngrantedActions++
					rep.problem("function %s did %s on table %s, which its grants do not allow", fn, a, table)
				}
			}
		}
	}
}
