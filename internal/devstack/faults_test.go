package devstack

import (
	"context"
	"errors"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// fakeAWS answers every DynamoDB call with an empty success and every S3
// GetObject with a body, counting what reaches it.
type fakeAWS struct {
	calls atomic.Int32
}

func (f *fakeAWS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.calls.Add(1)
	_, _ = io.Copy(io.Discard, r.Body)
	body := "{}"
	if r.Header.Get("X-Amz-Target") == "" { // S3
		body = "hello"
	} else {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(body))), 10))
	}
	w.Header().Set("X-Amzn-RequestId", "r")
	_, _ = io.WriteString(w, body)
}

func clientsOn(t *testing.T, f *Faults, attempts int) (*dynamodb.Client, *s3.Client, *fakeAWS) {
	t.Helper()
	up := &fakeAWS{}
	srv := httptest.NewServer(up)
	t.Cleanup(srv.Close)
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), HTTPClient: f.HTTPClient(nil),
		// Retries at once and without a quota: the tests count, not wait.
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts, o.RateLimiter = attempts, ratelimit.None
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			})
		}}
	return dynamodb.NewFromConfig(cfg), s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }), up
}

var inFunction = withFunction(context.Background(), "erase-source")

var getItem = &dynamodb.GetItemInput{TableName: aws.String("t"), Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "x"}}}

// Calls outside the pipeline's functions (the stack, tests, operators) are
// never failed, whatever the rate.
func TestFaultsSpareCallsOutsideFunctions(t *testing.T) {
	f := &Faults{Rate: 0.999, KillRate: 0.999, Seed: 1}
	ddb, _, up := clientsOn(t, f, 1)
	for range 20 {
		if _, err := ddb.GetItem(context.Background(), getItem); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.Counts(); n.Calls != 0 || up.calls.Load() != 20 {
		t.Fatalf("counts %+v, %d calls reached the service", n, up.calls.Load())
	}
}

// Each way a call fails reads, through the SDK, as the service's own
// failure: DynamoDB's throttling and server error types, S3's SlowDown and
// InternalError codes, and a timeout after the hang; a lost answer's call
// reached the service.
func TestFaultsFailAsAWSDoes(t *testing.T) {
	f := &Faults{Rate: 0.999, Seed: 3, Hang: 5 * time.Millisecond}
	ddb, s3c, up := clientsOn(t, f, 1)
	seen := map[string]int{}
	for range 200 {
		before := up.calls.Load()
		start := time.Now()
		_, err := ddb.GetItem(inFunction, getItem)
		var pte *types.ProvisionedThroughputExceededException
		var ise *types.InternalServerError
		var api smithy.APIError
		reached := up.calls.Load() > before
		switch {
		case errors.As(err, &pte):
			seen["throttled"]++
		case errors.As(err, &ise):
			seen["server error"]++
		case err != nil && !errors.As(err, &api) && strings.Contains(err.Error(), "deadline") && time.Since(start) >= f.Hang:
			if reached {
				seen["lost answer"]++
			} else {
				seen["timeout"]++
			}
		case err == nil:
			seen["none"]++
		default:
			t.Fatalf("unexpected error %v", err)
		}
		if (errors.As(err, &pte) || errors.As(err, &ise)) && reached {
			t.Fatal("a refused call reached the service")
		}
	}
	for _, k := range []string{"throttled", "server error", "timeout", "lost answer"} {
		if seen[k] < 20 {
			t.Errorf("%d of 200 DynamoDB calls %s, want about 50: %v", seen[k], k, seen)
		}
	}
	n := f.Counts()
	if n.Calls != 200 || n.FailedCalls() != 200-seen["none"] || n.Throttled != seen["throttled"] || n.LostAnswers != seen["lost answer"] {
		t.Errorf("counts %+v, seen %v", n, seen)
	}

	codes := map[string]int{}
	for range 100 {
		_, err := s3c.GetObject(inFunction, &s3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String("k")})
		var api smithy.APIError
		if errors.As(err, &api) {
			codes[api.ErrorCode()]++
		}
	}
	if codes["SlowDown"] < 10 || codes["InternalError"] < 10 {
		t.Errorf("S3 error codes %v, want SlowDown and InternalError", codes)
	}
}

// The share of calls that fail follows the rate, and one seed draws the
// same faults.
func TestFaultsRateAndSeed(t *testing.T) {
	draw := func(seed uint64) []callFault {
		f := &Faults{Rate: 0.2, Seed: seed}
		out := make([]callFault, 5000)
		for i := range out {
			out[i] = f.drawCall()
		}
		return out
	}
	a, b, c := draw(9), draw(9), draw(10)
	failed, same, other := 0, true, false
	for i := range a {
		if a[i] != noFault {
			failed++
		}
		same = same && a[i] == b[i]
		other = other || a[i] != c[i]
	}
	if failed < 900 || failed > 1100 {
		t.Errorf("%d of 5000 calls failed at rate 0.2", failed)
	}
	if !same || !other {
		t.Errorf("same seed, same draws: %v; another seed, other draws: %v", same, other)
	}
}

// A transaction whose answer was lost gets the first answer when the SDK
// sends it again with the same client request token, as DynamoDB answers
// it, and is not carried out twice.
func TestFaultsReplayTransactions(t *testing.T) {
	f := &Faults{Rate: 0.5, Seed: 5, Hang: time.Millisecond}
	ddb, _, up := clientsOn(t, f, 10)
	for range 50 {
		before := up.calls.Load()
		_, err := ddb.TransactWriteItems(inFunction, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: aws.String("t"), Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "x"}}}},
		}})
		if err != nil {
			continue // retries ran out: a failure, not a double write
		}
		if got := up.calls.Load() - before; got != 1 {
			t.Fatalf("a transaction reached the service %d times", got)
		}
	}
	if f.Counts().Replayed == 0 || f.Counts().LostAnswers == 0 {
		t.Fatalf("counts %+v: no lost answer was replayed, the check proved nothing", f.Counts())
	}
}

// Killed invocations answer Sandbox.Timedout: before the handler ran, after
// it ran whole, or part-way, right after one of its AWS calls reached the
// service and before the next.
func TestFaultsKillInvocations(t *testing.T) {
	f := &Faults{KillRate: 0.999, Seed: 11}
	ddb, _, up := clientsOn(t, f, 1)
	var ran, finished atomic.Int32
	h, err := newLambdaHost(upstream(t).URL, map[string]any{
		"dsr-work": func(ctx context.Context) error {
			ran.Add(1)
			for range 3 {
				if _, err := ddb.GetItem(ctx, getItem); err != nil {
					return err
				}
			}
			finished.Add(1)
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.faults = f
	const n = 200
	for range n {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/2015-03-31/functions/dsr-work/invocations", strings.NewReader(`{}`)))
		if rec.Header().Get("X-Amz-Function-Error") != "Unhandled" || !strings.Contains(rec.Body.String(), `"errorType":"Sandbox.Timedout"`) {
			t.Fatalf("answer %d %q", rec.Code, rec.Body.String())
		}
	}
	c := f.Counts()
	if c.Invocations != n || c.Killed() != n || c.KilledBefore == 0 || c.KilledMidway == 0 || c.KilledAfter == 0 {
		t.Fatalf("counts %+v", c)
	}
	if got := int(ran.Load()); got != n-c.KilledBefore {
		t.Errorf("the handler ran %d times; %d invocations were not killed before it", got, n-c.KilledBefore)
	}
	// Killed part-way: its calls stop at the one it dies after.
	if got := int(finished.Load()); got > c.KilledAfter || up.calls.Load() >= int32(3*(n-c.KilledBefore)) {
		t.Errorf("%d handlers finished, %d calls reached the service, with %d killed part-way", got, up.calls.Load(), c.KilledMidway)
	}
}

// The API is served as API Gateway serves its function: a killed
// invocation answers 503 whatever its handler did, which ran not at all,
// part-way or whole; what it goes on with on a context of its own (as the
// portal starts a workflow) does not reach the service after the kill.
func TestFaultsKillAPIInvocations(t *testing.T) {
	f := &Faults{KillRate: 0.999, Seed: 13}
	ddb, _, _ := clientsOn(t, f, 1)
	var ran, finished, afterKill atomic.Int32
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ran.Add(1)
		_, err1 := ddb.GetItem(r.Context(), getItem)
		_, err2 := ddb.GetItem(context.WithoutCancel(r.Context()), getItem)
		switch {
		case err1 == nil && err2 == nil:
			finished.Add(1)
		case err1 != nil && err2 == nil:
			afterKill.Add(1)
		}
		w.WriteHeader(http.StatusAccepted)
	})
	const n = 200
	for range n {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/v1/requests", nil)
		f.ServeAPI(rec, req.WithContext(withFunction(req.Context(), "api")), api)
		if rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("a killed invocation answered %d", rec.Code)
		}
	}
	c := f.Counts()
	if c.Killed() != n || c.KilledBefore == 0 || c.KilledMidway == 0 || c.KilledAfter == 0 {
		t.Fatalf("counts %+v", c)
	}
	if int(ran.Load()) != n-c.KilledBefore || int(finished.Load()) != c.KilledAfter || afterKill.Load() != 0 {
		t.Errorf("ran %d, finished %d, %d calls went on after a kill; counts %+v", ran.Load(), finished.Load(), afterKill.Load(), c)
	}
}
