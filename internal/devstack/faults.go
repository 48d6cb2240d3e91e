package devstack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"

	"github.com/privacy-pipeline/dsr/internal/secret"
)

// Faults makes the local stack fail the way AWS fails now and then, so that
// a run can show what the pipeline does about it. It sits in two places:
//
//   - between the pipeline's AWS SDK clients and moto (the HTTP client of
//     the stack's aws.Config), where a share Rate of the calls made in a
//     function's context fail: DynamoDB throttling
//     (ProvisionedThroughputExceededException), S3 SlowDown (503), other
//     services' throttling, 500s, and calls that hang until the client gives
//     up after Hang, either before the call reached the service or after it
//     was carried out and only its answer was lost;
//   - in the Lambda host and in front of the HTTP API, where a share
//     KillRate of the invocations end as a function that ran out of time
//     does (Sandbox.Timedout; a 503 from the API): before the handler runs,
//     part-way (right after one of its AWS calls reached the service,
//     chosen at random; nothing after it happens), or after the handler
//     finished, all its changes made.
//
// Calls made outside a function's context (provisioning, demo data, tests,
// operators, a harness checking the outcome) are never touched.
//
// The seed fixes the sequence of draws; which call gets which draw depends
// on how the concurrent workflows interleave, so two runs with one seed
// fail alike in kind and number, not call for call.
type Faults struct {
	// Rate is the share of the functions' AWS calls that fail, 0 to 1.
	Rate float64
	// KillRate is the share of Lambda invocations killed, 0 to 1.
	KillRate float64
	// Seed seeds the draws.
	Seed uint64
	// Hang is how long a call that times out hangs before its client gives
	// up (default DefaultHang).
	Hang time.Duration

	once sync.Once
	mu   sync.Mutex
	rng  *rand.Rand
	n    FaultCounts
	// answers are the answers to DynamoDB transactions whose answer was
	// lost, by client request token: DynamoDB answers a transaction sent
	// again with the same token (as the SDK does when it retries) with the
	// first one's success and writes nothing twice, which moto does not.
	answers map[string]recordedAnswer
}

// DefaultHang is how long a call that times out hangs: long past the
// milliseconds moto answers in, short enough to keep runs brisk.
const DefaultHang = 400 * time.Millisecond

// FaultCounts says what a Faults did.
type FaultCounts struct {
	// Calls are the AWS calls (each attempt of the SDK counts) made in the
	// pipeline's functions.
	Calls int
	// Throttled, ServerErrors, Timeouts and LostAnswers are the calls
	// failed each way; a lost answer's call was carried out.
	Throttled, ServerErrors, Timeouts, LostAnswers int
	// Replayed are transactions answered from a lost answer (see Faults).
	Replayed int
	// Invocations are the Lambda invocations; those killed, by when.
	Invocations                             int
	KilledBefore, KilledMidway, KilledAfter int
}

// FailedCalls is the number of calls that failed.
func (c FaultCounts) FailedCalls() int {
	return c.Throttled + c.ServerErrors + c.Timeouts + c.LostAnswers
}

// Killed is the number of invocations killed.
func (c FaultCounts) Killed() int { return c.KilledBefore + c.KilledMidway + c.KilledAfter }

// Counts returns what the faults did so far.
func (f *Faults) Counts() FaultCounts {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

type callFault int

const (
	noFault callFault = iota
	throttled
	serverError
	hungUp     // the call never reached the service
	lostAnswer // the call was carried out; its answer never came
)

func (f *Faults) init() {
	f.once.Do(func() {
		f.rng = rand.New(rand.NewPCG(f.Seed, 0x6368616f73)) // a second word of seed, fixed
		f.answers = map[string]recordedAnswer{}
		if f.Hang <= 0 {
			f.Hang = DefaultHang
		}
	})
}

// drawCall decides the fate of one AWS call and counts it.
func (f *Faults) drawCall() callFault {
	f.init()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n.Calls++
	if f.rng.Float64() >= f.Rate {
		return noFault
	}
	// The four ways are equally likely.
	switch k := callFault(1 + f.rng.IntN(4)); k {
	case throttled:
		f.n.Throttled++
		return k
	case serverError:
		f.n.ServerErrors++
		return k
	case hungUp:
		f.n.Timeouts++
		return k
	default:
		f.n.LostAnswers++
		return lostAnswer
	}
}

// killPlan is when an invocation is killed.
type killPlan struct {
	before bool
	// afterCall kills it right after its n-th AWS call reached the service
	// (1 or more); with fewer calls, after the handler finished.
	afterCall int
	// after kills it once the handler finished.
	after bool
}

// The call after which an invocation is killed part-way is drawn up to
// these: about as many as a workflow step, or a call of the API, makes (a
// step that makes fewer is killed after it finished).
const (
	maxKillCall    = 12
	maxAPIKillCall = 5
)

// drawInvocation decides the fate of one invocation and counts it; kills
// part-way are counted by the invocation when they happen.
func (f *Faults) drawInvocation(maxCall int) killPlan {
	f.init()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n.Invocations++
	if f.rng.Float64() >= f.KillRate {
		return killPlan{}
	}
	// A quarter before the handler runs, a quarter after, half part-way:
	// changes half made are what exactly-once counting must survive.
	switch r := f.rng.IntN(4); r {
	case 0:
		f.n.KilledBefore++
		return killPlan{before: true}
	case 1:
		f.n.KilledAfter++
		return killPlan{after: true}
	default:
		return killPlan{afterCall: 1 + f.rng.IntN(maxCall)}
	}
}

func (f *Faults) countKill(midway bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if midway {
		f.n.KilledMidway++
	} else {
		f.n.KilledAfter++
	}
}

func (f *Faults) countReplay() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n.Replayed++
}

// invocation is one Lambda invocation that is to be killed part-way.
type invocation struct {
	killAfter int32
	calls     atomic.Int32
	cancel    context.CancelFunc
	killed    atomic.Bool
}

type invocationKey struct{}

// lastCall counts a call of the invocation and reports whether the
// invocation is killed once it is made.
func (inv *invocation) lastCall() bool {
	return inv.killAfter > 0 && inv.calls.Add(1) == inv.killAfter
}

// kill stops the invocation: every call after this one fails at once, as
// nothing runs in a sandbox that timed out.
func (inv *invocation) kill() {
	inv.killed.Store(true)
	inv.cancel()
}

// HTTPClient wraps the HTTP client of the pipeline's AWS SDK clients.
func (f *Faults) HTTPClient(next aws.HTTPClient) aws.HTTPClient {
	if next == nil {
		next = awshttp.NewBuildableClient()
	}
	f.init()
	return &faultyClient{next: next, f: f}
}

type faultyClient struct {
	next aws.HTTPClient
	f    *Faults
}

// errInjectedTimeout is what a client that gave up waiting reports: a
// timeout, which the SDK retries like any failed connection. It names no
// key: URLs of S3 calls hold object keys.
type errInjectedTimeout struct{}

func (errInjectedTimeout) Error() string {
	return "injected fault: no answer before the client's deadline"
}
func (errInjectedTimeout) Timeout() bool   { return true }
func (errInjectedTimeout) Temporary() bool { return true }

func (c *faultyClient) Do(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if _, ok := ctx.Value(functionKey{}).(string); !ok {
		return c.next.Do(req)
	}
	if inv, ok := ctx.Value(invocationKey{}).(*invocation); ok {
		if inv.killed.Load() {
			// Nothing runs in a dead sandbox, not even what was started on
			// a context of its own.
			return nil, context.Canceled
		}
		if inv.lastCall() {
			// The call reaches the service; the sandbox dies before the answer.
			if resp, err := c.next.Do(req); err == nil {
				drain(resp)
			}
			inv.kill()
			return nil, context.Canceled
		}
	}
	service := awsmiddleware.GetServiceID(ctx)
	token, err := c.transactionToken(req, service)
	if err != nil {
		return nil, err
	}
	switch c.f.drawCall() {
	case throttled:
		return errorAnswer(req, service, true), nil
	case serverError:
		return errorAnswer(req, service, false), nil
	case hungUp:
		return nil, c.hang(req)
	case lostAnswer:
		resp, err := c.next.Do(req)
		if err != nil {
			return nil, err
		}
		if token != "" && resp.StatusCode == http.StatusOK {
			c.f.remember(token, resp)
		} else {
			drain(resp)
		}
		return nil, c.hang(req)
	}
	if a, ok := c.f.answer(token); ok {
		c.f.countReplay()
		return a.response(req), nil
	}
	return c.next.Do(req)
}

// hang waits as a client does for an answer that does not come, then gives
// up; a caller that stops waiting first ends it sooner.
func (c *faultyClient) hang(req *http.Request) error {
	t := time.NewTimer(c.f.Hang)
	defer t.Stop()
	select {
	case <-t.C:
		return &url.Error{Op: req.Method, URL: req.URL.Scheme + "://" + req.URL.Host, Err: errInjectedTimeout{}}
	case <-req.Context().Done():
		return req.Context().Err()
	}
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// transactionToken returns the client request token of a DynamoDB
// transaction, reading the body and putting it back; "" for other calls.
func (c *faultyClient) transactionToken(req *http.Request, service string) (string, error) {
	if service != "DynamoDB" || req.Header.Get("X-Amz-Target") != "DynamoDB_20120810.TransactWriteItems" || req.Body == nil {
		return "", nil
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return "", err
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	var in struct{ ClientRequestToken string }
	_ = json.Unmarshal(body, &in)
	return in.ClientRequestToken, nil
}

// recordedAnswer is a successful answer kept for a retry to get.
type recordedAnswer struct {
	header http.Header
	body   []byte
}

func (f *Faults) remember(token string, resp *http.Response) {
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return // as if lost before it was read: the retry finds its own way
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers[token] = recordedAnswer{header: resp.Header.Clone(), body: body}
}

func (f *Faults) answer(token string) (recordedAnswer, bool) {
	if token == "" {
		return recordedAnswer{}, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.answers[token]
	return a, ok
}

func (a recordedAnswer) response(req *http.Request) *http.Response {
	return &http.Response{
		StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: a.header.Clone(), Body: io.NopCloser(bytes.NewReader(a.body)), ContentLength: int64(len(a.body)), Request: req,
	}
}

// errorAnswer is the answer of a service that throttles the call or fails
// inside, in the service's protocol, so the SDK reads it as it would read
// AWS's: DynamoDB's and the other JSON services' error type, S3's XML.
func errorAnswer(req *http.Request, service string, throttle bool) *http.Response {
	status, code := http.StatusInternalServerError, "InternalFailure"
	switch {
	case service == "DynamoDB" && throttle:
		status, code = http.StatusBadRequest, "ProvisionedThroughputExceededException"
	case service == "DynamoDB":
		code = "InternalServerError"
	case service == "S3" && throttle:
		status, code = http.StatusServiceUnavailable, "SlowDown"
	case service == "S3":
		code = "InternalError"
	case service == "SESv2" && throttle:
		status, code = http.StatusTooManyRequests, "TooManyRequestsException"
	case throttle:
		status, code = http.StatusBadRequest, "ThrottlingException"
	}
	id := secret.NewToken()[:32]
	h := http.Header{}
	h.Set("X-Amzn-RequestId", id)
	var body string
	if service == "S3" {
		h.Set("Content-Type", "application/xml")
		h.Set("X-Amz-Request-Id", id)
		if req.Method != http.MethodHead {
			body = fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>Injected fault.</Message><RequestId>%s</RequestId></Error>`, code, id)
		}
	} else {
		h.Set("Content-Type", "application/x-amz-json-1.0")
		h.Set("X-Amzn-ErrorType", code)
		body = fmt.Sprintf(`{"__type":%q,"message":"Injected fault."}`, code)
		if service == "DynamoDB" {
			// DynamoDB signs every answer's body so, errors included; the SDK
			// checks it.
			h.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(body))), 10))
		}
	}
	return &http.Response{
		StatusCode: status, Status: fmt.Sprintf("%d %s", status, http.StatusText(status)), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: req,
	}
}

// invoke runs a handler as the Lambda host does, unless the draw kills the
// invocation: then killed is true, and the handler ran not at all, in part
// or whole.
func (f *Faults) invoke(ctx context.Context, fn any, payload []byte) (out []byte, killed bool, err error) {
	plan := f.drawInvocation(maxKillCall)
	switch {
	case plan.before:
		return nil, true, nil
	case plan.after:
		_, _ = invoke(ctx, fn, payload)
		return nil, true, nil
	case plan.afterCall == 0:
		out, err = invoke(ctx, fn, payload)
		return out, false, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	inv := &invocation{killAfter: int32(plan.afterCall), cancel: cancel}
	// The handler returns soon after a kill: every call it makes then fails.
	_, _ = invoke(context.WithValue(ctx, invocationKey{}, inv), fn, payload)
	f.countKill(inv.killed.Load())
	return nil, true, nil
}

// ServeAPI serves the HTTP API as API Gateway serves its function: an
// invocation killed before, part-way or after its handler (see invoke) is
// answered 503, whatever the handler did; the caller never sees its answer.
func (f *Faults) ServeAPI(w http.ResponseWriter, r *http.Request, api http.Handler) {
	plan := f.drawInvocation(maxAPIKillCall)
	switch {
	case plan.before:
	case plan.after:
		api.ServeHTTP(discard{}, r)
	case plan.afterCall > 0:
		ctx, cancel := context.WithCancel(r.Context())
		inv := &invocation{killAfter: int32(plan.afterCall), cancel: cancel}
		api.ServeHTTP(discard{}, r.WithContext(context.WithValue(ctx, invocationKey{}, inv)))
		cancel()
		f.countKill(inv.killed.Load())
	default:
		api.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = io.WriteString(w, `{"message":"Service Unavailable"}`)
}

// discard is an answer nobody receives.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}
