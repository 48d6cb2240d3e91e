package webhook

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/privacy-pipeline/dsr/internal/clock"
)

// Endpoint is where a call goes and the secret that signs it.
type Endpoint struct {
	URL string
	// Secret names where the shared secret is kept (see Secrets).
	Secret string
	// Timeout bounds one attempt, answer included (zero: DefaultTimeout).
	Timeout time.Duration
}

// Secrets returns the secret a reference names (such as "ssm:/name" or
// "secretsmanager:name"; see SecretStore).
type Secrets interface {
	Secret(ctx context.Context, ref string) ([]byte, error)
}

// Defaults of a Client.
const (
	DefaultTimeout  = 10 * time.Second
	DefaultAttempts = 3
	DefaultBackoff  = time.Second
	// MaxReply is the largest answer read: an export of records fits
	// (4 MiB, as owners' uploads), with room for the JSON around it.
	MaxReply = 5 << 20
)

// Client makes signed calls and checks the signed answers. It follows no
// redirect: a signed message goes only where the registry says.
type Client struct {
	HTTP    *http.Client
	Secrets Secrets
	Clock   clock.Clock
	// Attempts is how many times a call is made before it fails for good
	// (zero: DefaultAttempts); Backoff the wait after the first failure,
	// doubled after each (zero: DefaultBackoff).
	Attempts int
	Backoff  time.Duration
	// Sleep waits between attempts; nil is a timer that ctx cancels.
	Sleep func(ctx context.Context, d time.Duration) error
}

// NewClient returns a Client with an HTTP client of its own.
func NewClient(secrets Secrets, clk clock.Clock) *Client {
	return &Client{Secrets: secrets, Clock: clk, HTTP: &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Reply is a signed answer whose signature checked out.
type Reply struct {
	Status int
	Body   []byte
}

// Failure is a call that failed for good: after Attempts tries, the last
// of which failed for Reason. Reason names a class of failure (a timeout,
// a status code, a bad signature, a malformed answer), never the content
// of a message.
type Failure struct {
	Attempts int
	Reason   string
	err      error
}

func (f *Failure) Error() string {
	return fmt.Sprintf("webhook call failed after %d attempts: %s", f.Attempts, f.Reason)
}

func (f *Failure) Unwrap() error { return f.err }

// Malformed is what a check returns for an answer it cannot accept; the
// call is made again, and Failure names Reason.
type Malformed struct{ Reason string }

func (m *Malformed) Error() string { return "malformed answer: " + m.Reason }

// Call POSTs body, signed, to ep and returns the answer once check accepts
// it. An attempt fails when the endpoint cannot be reached, does not answer
// within ep.Timeout, answers with a status other than 2xx, with no valid
// signature, or with a body check refuses; failed attempts are made again
// with exponential backoff. The secret is read once per call.
func (c *Client) Call(ctx context.Context, ep Endpoint, body []byte, check func(Reply) error) (Reply, error) {
	secret, err := c.Secrets.Secret(ctx, ep.Secret)
	if err != nil {
		return Reply{}, err
	}
	attempts := cmp.Or(c.Attempts, DefaultAttempts)
	wait := cmp.Or(c.Backoff, DefaultBackoff)
	var last error
	for i := range attempts {
		if i > 0 {
			if err := c.sleep(ctx, wait); err != nil {
				return Reply{}, &Failure{Attempts: i, Reason: reason(last), err: last}
			}
			wait *= 2
		}
		var r Reply
		if r, last = c.attempt(ctx, ep, secret, body); last == nil && check != nil {
			last = check(r)
		}
		if last == nil {
			return r, nil
		}
		if ctx.Err() != nil {
			return Reply{}, &Failure{Attempts: i + 1, Reason: reason(last), err: last}
		}
	}
	return Reply{}, &Failure{Attempts: attempts, Reason: reason(last), err: last}
}

// statusError is an answer outside 2xx.
type statusError struct{ code int }

func (e statusError) Error() string { return "status " + strconv.Itoa(e.code) }

var errTooLarge = errors.New("the answer is larger than the limit")

func (c *Client) attempt(ctx context.Context, ep Endpoint, secret, body []byte) (Reply, error) {
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(ep.Timeout, DefaultTimeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		return Reply{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "privacy-pipeline-webhook/1")
	req.Header.Set(SignatureHeader, Sign(secret, c.Clock.Now(), body))
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return Reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxReply+1))
	if err != nil {
		return Reply{}, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return Reply{}, statusError{resp.StatusCode}
	}
	if len(b) > MaxReply {
		return Reply{}, errTooLarge
	}
	if err := Verify(secret, resp.Header.Get(SignatureHeader), b, c.Clock.Now()); err != nil {
		return Reply{}, err
	}
	return Reply{Status: resp.StatusCode, Body: b}, nil
}

// reason names the class of a failed attempt.
func reason(err error) string {
	var se statusError
	var m *Malformed
	var ne net.Error
	switch {
	case errors.As(err, &se):
		return se.Error()
	case errors.As(err, &m):
		return m.Error()
	case errors.Is(err, ErrNoSignature), errors.Is(err, ErrBadSignature), errors.Is(err, ErrStale):
		return err.Error()
	case errors.Is(err, errTooLarge):
		return errTooLarge.Error()
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "no answer within the timeout"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	}
	return "the endpoint could not be reached"
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func cmpOr[T comparable](v, fallback T) T {
	var zero T
	if v == zero {
		return fallback
	}
	return v
}
