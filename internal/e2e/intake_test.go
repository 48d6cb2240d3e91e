package e2e

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/ratelimit"
)

// The e2e stack's rate limits: high enough for every other test's traffic
// from 127.0.0.1 and for the addresses they share, low enough to reach. The
// windows are the longest allowed (31 days), so a test cannot straddle two.
var (
	e2eClientLimit   = ratelimit.Rule{Limit: 150, Window: 744 * time.Hour}
	e2eIdentityLimit = ratelimit.Rule{Limit: 6, Window: 744 * time.Hour}
)

// clientFrom is an HTTP client whose connections come from another loopback
// address, so it counts as another client of the API.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 16}}
}

type answer struct {
	status int
	header http.Header
	body   string
}

func postJSON(t *testing.T, c *http.Client, body string, header map[string]string) answer {
	t.Helper()
	req, err := http.NewRequest("POST", stack.APIURL+"/v1/requests", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

// TestIdempotencyKey: a retried submission with the same key and body gets
// the same receipt and makes no second request; another body with the key is
// refused.
func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	const key = "e2e-3f6c1a2b-9d8e-4f70-a1b2-c3d4e5f60718"
	body := `{"type":"access","email":"retrying.client@example.com","jurisdiction":"EU"}`
	first := postJSON(t, http.DefaultClient, body, map[string]string{"Idempotency-Key": key})
	second := postJSON(t, http.DefaultClient, body, map[string]string{"Idempotency-Key": key})
	if first.status != 202 || second.status != 202 || first.body != second.body {
		t.Fatalf("answers differ:\n%d %s\n%d %s", first.status, first.body, second.status, second.body)
	}
	if second.header.Get("Idempotent-Replayed") != "true" || second.header.Get("Location") != first.header.Get("Location") {
		t.Fatalf("replay headers %v", second.header)
	}
	var r receipt
	if err := json.Unmarshal([]byte(first.body), &r); err != nil {
		t.Fatal(err)
	}
	other := postJSON(t, http.DefaultClient, strings.Replace(body, "EU", "UK", 1), map[string]string{"Idempotency-Key": key})
	if other.status != 409 || other.header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("another body: HTTP %d %s", other.status, other.body)
	}
	// One request, one acknowledgement.
	mailTo(t, "retrying.client@example.com", r.ID, "We received your privacy request")
	mails, err := stack.Mail()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range mails {
		if len(m.To) == 1 && m.To[0] == "retrying.client@example.com" && strings.Contains(m.Subject, "We received") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d acknowledgements, want 1", n)
	}
}

// TestClientRateLimit: one client address sends more POSTs than its limit;
// exactly the limit gets through, the rest get 429 with Retry-After, and
// other clients are not affected. (The requests go one after another: moto's
// UpdateItem is not atomic under concurrent calls, as DynamoDB's ADD is.)
func TestClientRateLimit(t *testing.T) {
	t.Parallel()
	c := clientFrom("127.0.0.77")
	passed, limited := 0, 0
	retryAfter := ""
	for range e2eClientLimit.Limit + 3 {
		// An empty object is refused after the limit is counted: cheap.
		switch a := postJSON(t, c, `{}`, nil); a.status {
		case 400:
			passed++
		case 429:
			limited++
			retryAfter = a.header.Get("Retry-After")
		default:
			t.Fatalf("HTTP %d %s", a.status, a.body)
		}
	}
	if passed != e2eClientLimit.Limit || limited != 3 {
		t.Fatalf("%d passed and %d were limited; want %d and 3", passed, limited, e2eClientLimit.Limit)
	}
	if s, err := strconv.Atoi(retryAfter); err != nil || s < 1 || s > int(e2eClientLimit.Window.Seconds()) {
		t.Fatalf("Retry-After %q", retryAfter)
	}
	if a := postJSON(t, clientFrom("127.0.0.78"), `{}`, nil); a.status != 400 {
		t.Fatalf("another client: HTTP %d", a.status)
	}
}

// TestIdentityRateLimit: submissions for one address beyond its limit are
// refused with 429 and Retry-After, whichever client sends them.
func TestIdentityRateLimit(t *testing.T) {
	t.Parallel()
	body := `{"type":"access","email":"Much.Requested@example.com","jurisdiction":"EU"}`
	for i := range e2eIdentityLimit.Limit {
		if a := postJSON(t, clientFrom("127.0.0.80"), body, nil); a.status != 202 {
			t.Fatalf("submission %d: HTTP %d %s", i+1, a.status, a.body)
		}
	}
	a := postJSON(t, clientFrom("127.0.0.81"), strings.ToLower(body), nil)
	if a.status != 429 || a.header.Get("Retry-After") == "" || a.header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("over the limit: HTTP %d, Retry-After %q: %s", a.status, a.header.Get("Retry-After"), a.body)
	}
}
