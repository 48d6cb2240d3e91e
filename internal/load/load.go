// Package load drives the local HTTP API at a fixed rate and measures it:
// submissions are sent at fixed times whatever the answers before them
// (open loop), so a slow answer delays no later request and the latencies,
// measured from the time each request was due, are honest. Afterwards it
// checks that every accepted request is stored and has a workflow, waiting
// for the sweeper to start any the API left unstarted. `make load` runs it
// (cmd/load).
package load

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/devstack"
	"github.com/privacy-pipeline/dsr/internal/dynamo"
	"github.com/privacy-pipeline/dsr/internal/ratelimit"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/resources"
	"github.com/privacy-pipeline/dsr/internal/sfnflow"
)

// Config is one run.
type Config struct {
	// URL is the API of a running local stack (make dev); empty starts one.
	URL string
	// MotoURL is that stack's AWS endpoint, where the requests are looked
	// up afterwards; Region its region.
	MotoURL, Region string
	// RPS is the rate submissions are sent at, for Duration.
	RPS      float64
	Duration time.Duration
	// Settle bounds the wait for the sweeper to start requests the API
	// stored without a workflow.
	Settle time.Duration
	// Logs receives the logs of a stack the run starts.
	Logs io.Writer
}

// Report is what a run measured.
type Report struct {
	Config Config
	// Sent requests; Answered got an HTTP answer, Accepted a 202,
	// Limited a 429; Errors are the rest (other statuses, no answer).
	Sent, Answered, Accepted, Limited, Errors int
	// RPS is the answers per second, from the first send to the last answer.
	RPS float64
	// P50, P99 and Max are latencies from the time each request was due to
	// its whole answer.
	P50, P99, Max time.Duration
	// Lost are accepted requests not stored, or stored without a workflow
	// after the sweeper's time.
	Lost int
	// Unanswered are requests the run's submissions stored without a 202
	// (a 503 when the workflow could not be started in time, or no answer
	// before the client gave up); NotStarted those of them still without a
	// workflow after the sweeper's time.
	Unanswered, NotStarted int
	// Statuses counts the answers by HTTP status.
	Statuses map[int]int
}

// Lines are the report's figures, "name value unit".
func (r *Report) Lines() []string {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }
	f := func(name string, v any, unit string) string { return fmt.Sprintf("%s %v %s", name, v, unit) }
	return []string{
		f("load_target_rps", r.Config.RPS, "req/s"),
		f("load_duration", r.Config.Duration.Seconds(), "s"),
		f("load_sent", r.Sent, "requests"),
		f("load_rps", fmt.Sprintf("%.1f", r.RPS), "req/s"),
		f("load_p50_ms", ms(r.P50), "ms"),
		f("load_p99_ms", ms(r.P99), "ms"),
		f("load_max_ms", ms(r.Max), "ms"),
		f("load_accepted", r.Accepted, "requests"),
		f("load_errors", r.Errors, "requests"),
		f("load_rate_limited", r.Limited, "requests"),
		f("requests_lost", r.Lost, "requests"),
		f("requests_unanswered", r.Unanswered, "requests"),
		f("requests_unanswered_not_started", r.NotStarted, "requests"),
	}
}

// OK reports whether no request was lost: every one accepted, and every
// one stored without an answer, has a workflow. Errors and 429s are
// measurements, not losses.
func (r *Report) OK() bool { return r.Lost == 0 && r.NotStarted == 0 }

// result is one submission's answer.
type result struct {
	status  int // 0: no answer
	id      string
	latency time.Duration
	end     time.Time
}

// checker looks requests up in a stack's tables and workflows.
type checker struct {
	store *dynamo.Store
	sfn   *sfn.Client
	smARN string
}

// Run drives the API and checks the requests it accepted.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.RPS <= 0 || cfg.Duration <= 0 {
		return nil, errors.New("the rate and the duration must be above zero")
	}
	var chk *checker
	if cfg.URL == "" {
		stack, err := devstack.Start(ctx, devstack.Options{
			Logs: cfg.Logs,
			// The limits guard people's mailboxes from strangers'
			// submissions; here they would be all that is measured.
			ClientLimit: &ratelimit.Off, IdentityLimit: &ratelimit.Off,
			// The sweeper runs as its schedule would, on requests half a
			// minute old, so a run need not wait five minutes for it.
			SweepEvery: 5 * time.Second, SweepMinAge: 30 * time.Second,
		})
		if err != nil {
			return nil, fmt.Errorf("local stack: %w", err)
		}
		defer stack.Close()
		cfg.URL, cfg.Region = stack.APIURL, stack.Region
		chk = &checker{store: stack.App.Store(), sfn: sfn.NewFromConfig(stack.AWS), smARN: stack.App.Config().StateMachineARN}
	} else {
		if err := loopback(cfg.URL); err != nil {
			return nil, err
		}
		awsCfg, err := devstack.LocalAWS(ctx, cfg.Region, cfg.MotoURL)
		if err != nil {
			return nil, err
		}
		local := devstack.LocalConfig(cfg.Region, cfg.URL)
		chk = &checker{store: dynamo.NewStore(dynamodb.NewFromConfig(awsCfg), local.RequestsTable, local.AuditTable),
			sfn: sfn.NewFromConfig(awsCfg), smARN: devstack.StateMachineARN(cfg.Region, resources.RequestWorkflow)}
	}
	since := time.Now().Add(-time.Second)
	results, prefix, first := drive(ctx, cfg)
	rep := summarize(cfg, results, first)
	accepted := map[string]bool{}
	var ids []string
	for _, r := range results {
		if r.id != "" {
			accepted[r.id] = true
			ids = append(ids, r.id)
		}
	}
	// Requests stored though their submission got no 202 are found by
	// their addresses, which only this run uses.
	var unanswered []string
	stored, err := chk.store.List(ctx, request.Query{Since: since})
	if err != nil {
		return nil, err
	}
	for _, r := range stored {
		if strings.HasPrefix(r.Email, "load."+prefix+".") && !accepted[r.ID] {
			unanswered = append(unanswered, r.ID)
		}
	}
	rep.Unanswered = len(unanswered)
	notStarted := chk.notStarted(ctx, append(ids, unanswered...), cfg.Settle)
	for _, id := range notStarted {
		if accepted[id] {
			rep.Lost++
		} else {
			rep.NotStarted++
		}
	}
	return rep, nil
}

// loopback refuses an API that is not on this machine: the tool is for the
// local stack, never a deployed one.
func loopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("--url %q is not an http URL", raw)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("--url must be a loopback address (127.0.0.1, ::1, localhost), not %q", host)
	}
	return nil
}

// types are the request types sent, in turn.
var types = []request.Type{request.Access, request.Delete, request.OptOut, request.Correct}

// drive sends RPS submissions a second for Duration, each at its own time,
// without waiting for earlier answers.
func drive(ctx context.Context, cfg Config) ([]result, string, time.Time) {
	n := max(1, int(cfg.Duration.Seconds()*cfg.RPS))
	interval := time.Duration(float64(time.Second) / cfg.RPS)
	run := make([]byte, 4)
	_, _ = rand.Read(run)
	prefix := hex.EncodeToString(run) // unique addresses across runs on one stack
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute}}
	results := make([]result, n)
	var wg sync.WaitGroup
	first := time.Now()
	for i := range n {
		due := first.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return results[:i], prefix, first
			}
		}
		wg.Go(func() { results[i] = submit(ctx, client, cfg.URL, prefix, i, due) })
	}
	wg.Wait()
	return results, prefix, first
}

func submit(ctx context.Context, client *http.Client, api, prefix string, i int, due time.Time) result {
	typ := types[i%len(types)]
	body := map[string]any{"type": string(typ), "email": fmt.Sprintf("load.%s.%06d@example.org", prefix, i), "jurisdiction": "EU"}
	switch typ {
	case request.OptOut:
		body["jurisdiction"] = "US-CA"
	case request.Correct:
		body["corrections"] = map[string]string{"postal_code": fmt.Sprintf("LD%05d", i)}
	}
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, api+"/v1/requests", strings.NewReader(string(b)))
	if err != nil {
		return result{latency: time.Since(due), end: time.Now()}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return result{latency: time.Since(due), end: time.Now()}
	}
	defer resp.Body.Close()
	var answer struct {
		ID string `json:"id"`
	}
	raw, _ := io.ReadAll(resp.Body)
	end := time.Now()
	res := result{status: resp.StatusCode, latency: end.Sub(due), end: end}
	if resp.StatusCode == http.StatusAccepted && json.Unmarshal(raw, &answer) == nil && request.ValidID(answer.ID) {
		res.id = answer.ID
	}
	return res
}

func summarize(cfg Config, results []result, first time.Time) *Report {
	rep := &Report{Config: cfg, Sent: len(results), Statuses: map[int]int{}}
	var lat []time.Duration
	var last time.Time
	for _, r := range results {
		if r.status != 0 {
			rep.Answered++
			rep.Statuses[r.status]++
			lat = append(lat, r.latency)
			if r.end.After(last) {
				last = r.end
			}
		}
		switch {
		case r.status == http.StatusAccepted && r.id != "":
			rep.Accepted++
		case r.status == http.StatusTooManyRequests:
			rep.Limited++
		default:
			rep.Errors++
		}
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
		rep.P50, rep.P99, rep.Max = pct(0.50), pct(0.99), lat[len(lat)-1]
		rep.RPS = float64(rep.Answered) / last.Sub(first).Seconds()
	}
	return rep
}

// notStarted returns the requests that are not stored or have no workflow,
// waiting up to settle for the sweeper to start those the API stored
// without one.
func (c *checker) notStarted(ctx context.Context, ids []string, settle time.Duration) []string {
	pending := ids
	deadline := time.Now().Add(settle)
	for {
		var still []string
		for _, id := range pending {
			if ok, err := c.started(ctx, id); !ok || err != nil {
				still = append(still, id)
			}
		}
		pending = still
		if len(pending) == 0 || time.Now().After(deadline) || ctx.Err() != nil {
			return pending
		}
		select {
		case <-time.After(2 * time.Second):
		case <-ctx.Done():
		}
	}
}

// started reports whether a request is stored and its workflow has an
// execution.
func (c *checker) started(ctx context.Context, id string) (bool, error) {
	r, err := c.store.Get(ctx, id)
	if apperr.Is(err, apperr.NotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	arn := sfnflow.ExecutionARN(c.smARN, r.Execution())
	_, err = c.sfn.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: &arn})
	var missing *sfntypes.ExecutionDoesNotExist
	if errors.As(err, &missing) {
		return false, nil
	}
	return err == nil, err
}
