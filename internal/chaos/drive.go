package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/erasure"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// outcome is how driving one subject's request went. It holds ids, states
// and counts only.
type outcome struct {
	p  *person
	id string
	// answers counts the HTTP statuses the submission got.
	answers map[int]int
	// redrives are the operator's redrives, failedAt the steps they
	// resumed from failures at.
	redrives int
	failedAt []string
	// resolved counts the findings resolved by hand; unexpected those the
	// seeded data did not call for.
	resolved, unexpected int
	// flag says why the request was left for an operator; "" if it was not.
	flag string
}

// operator is the name the harness acts under, as an operator would.
const operator = "chaos"

// poll is how often a driver looks at its request.
const poll = 300 * time.Millisecond

// drive makes the subject's request and carries it through as the subject
// and an operator would: it confirms the mailed link, approves the review,
// redrives a failed request a bounded number of times and erases by hand
// what the findings name. It returns when the request closes, is left for
// an operator, or ctx ends.
func (r *runner) drive(ctx context.Context, p *person) *outcome {
	o := &outcome{p: p, answers: map[int]int{}}
	id, err := r.submit(ctx, p, o)
	if err != nil {
		o.flag = "not accepted: " + err.Error()
		return o
	}
	o.id = id
	tried := map[string]bool{}
	lastResume := time.Time{}
	for ctx.Err() == nil {
		req, err := r.stack.App.Store().Get(ctx, id)
		if err != nil {
			sleep(ctx, poll)
			continue
		}
		switch {
		case req.Status.Closed():
			return o
		case req.Status == request.Failed:
			if stop := r.redrive(ctx, o, req); stop {
				return o
			}
		case req.Status == request.PendingVerification:
			r.confirm(ctx, req, tried)
		case req.Review.TaskToken != "":
			// A stale token (the waiting step ran again) is refused; the
			// next look finds the new one.
			_ = r.stack.App.Operator().Approve(ctx, id, operator, nil)
		case req.Type == request.Delete && req.Status == request.InProgress:
			if r.resolveFindings(ctx, o, req) && time.Since(lastResume) > 5*time.Second {
				// Every finding is resolved: a workflow still waiting on
				// them (its resumption failed) is resumed, as privacyctl
				// resolve ID does.
				lastResume = time.Now()
				_ = r.stack.App.Operator().Resolve(ctx, id, nil, "", operator, "")
			}
		}
		sleep(ctx, poll)
	}
	return o
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// submit posts the subject's request to the API as a client that is not
// sure its submission arrived: again with the same Idempotency-Key after a
// 5xx, a 429 or no answer.
func (r *runner) submit(ctx context.Context, p *person, o *outcome) (string, error) {
	body := map[string]any{"type": string(p.req), "email": p.email, "jurisdiction": "EU"}
	if p.req == request.OptOut {
		body["jurisdiction"] = "US-CA" // where an opt-out is taken without verification
	}
	if p.corrections != nil {
		body["corrections"] = p.corrections
	}
	b, err := json.Marshal(body)
	if err != nil {
		return "", err
	}
	key := fmt.Sprintf("chaos-%016x-%04d", r.cfg.Seed, p.n)
	wait := 200 * time.Millisecond
	deadline := time.Now().Add(3 * time.Minute)
	for attempt := 1; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.stack.APIURL+"/v1/requests", bytes.NewReader(b))
		if err != nil {
			return "", err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		resp, err := r.http.Do(req)
		if err == nil {
			o.answers[resp.StatusCode]++
			var receipt struct {
				ID string `json:"id"`
			}
			derr := json.NewDecoder(resp.Body).Decode(&receipt)
			resp.Body.Close()
			retryAfter, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
			switch {
			case resp.StatusCode == http.StatusAccepted && derr == nil && request.ValidID(receipt.ID):
				return receipt.ID, nil
			case resp.StatusCode == http.StatusConflict && retryAfter > 0:
				// The key is held by an attempt whose function died: it is
				// free again after its lease, as the answer says.
				sleep(ctx, time.Duration(retryAfter)*time.Second)
				continue
			case resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests:
				return "", fmt.Errorf("HTTP %d", resp.StatusCode)
			}
		}
		if attempt >= maxSubmits || time.Now().After(deadline) || ctx.Err() != nil {
			return "", fmt.Errorf("no 202 after %d attempts", attempt)
		}
		sleep(ctx, wait)
		wait = min(2*wait, 3*time.Second)
	}
}

// maxSubmits bounds a client's attempts at one submission.
const maxSubmits = 10

// confirm follows the newest verification link mailed for the request, as
// the subject would; each link once, unless the answer was a 5xx.
func (r *runner) confirm(ctx context.Context, req *request.Request, tried map[string]bool) {
	tokens := r.mail.verifyTokens(req.ID)
	if len(tokens) == 0 || tried[tokens[len(tokens)-1]] {
		r.mail.wait(ctx, 2*time.Second)
		return
	}
	token := tokens[len(tokens)-1]
	form := url.Values{"token": {token}}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, r.stack.APIURL+"/v1/requests/"+req.ID+"/verify", strings.NewReader(form.Encode()))
	if err != nil {
		return
	}
	hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := r.http.Do(hr)
	if err != nil {
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests {
		// Used up (200) or refused (a link replaced by a newer one, or one
		// that worked though its answer was lost): never sent again.
		tried[token] = true
	}
}

// redrive resumes a failed request as an operator would, at most
// MaxRedrives times; it reports true when the request is left flagged.
func (r *runner) redrive(ctx context.Context, o *outcome, req *request.Request) bool {
	// The failure is recorded before the execution ends: the failed step
	// is known once it has.
	state, _, err := r.flow.FailedStep(ctx, req.Execution())
	if err != nil {
		return false
	}
	if o.redrives >= r.cfg.MaxRedrives {
		o.flag = fmt.Sprintf("failed at %q after %d redrives", state, o.redrives)
		return true
	}
	_, err = r.stack.App.Operator().Redrive(ctx, req.ID, operator)
	switch {
	case err == nil:
		o.redrives++
		o.failedAt = append(o.failedAt, state)
	case apperr.Is(err, apperr.Conflict):
		if again, gerr := r.stack.App.Store().Get(ctx, req.ID); gerr == nil && again.Status == request.Failed {
			o.flag = fmt.Sprintf("failed at %q, where a redrive cannot resume", state)
			return true
		}
	}
	return false
}

// resolveFindings resolves the request's open findings as an operator
// would: a place the seeded data damaged is erased by hand and resolved so;
// anything else is unexpected, counted, and resolved as not the subject's
// so the request can end. It reports whether the request has findings and
// none is open.
func (r *runner) resolveFindings(ctx context.Context, o *outcome, req *request.Request) bool {
	fs, err := r.stack.App.Operator().ListFindings(ctx, req.ID)
	if err != nil || len(fs) == 0 {
		return false
	}
	open := false
	for _, f := range fs {
		if !f.Blocking || !f.Open() {
			continue
		}
		open = true
		if r.expectedFinding(ctx, o.p, f) {
			if err := r.eraseByHand(ctx, o.p); err != nil {
				continue
			}
			if err := r.stack.App.Operator().Resolve(ctx, req.ID, []string{f.ID}, erasure.ResolvedErased, operator, "removed the cut-off line"); err == nil {
				o.resolved++
			}
			continue
		}
		if err := r.stack.App.Operator().Resolve(ctx, req.ID, []string{f.ID}, erasure.ResolvedNotSubject, operator, ""); err == nil {
			o.unexpected++
		}
	}
	return !open
}

// damagedText is the subject's cut-off line as it was seeded.
func damagedText(p *person) string {
	return `{"ts":"2026-12-07T11:00:00Z","user_id":"` + p.userID + `","event":"page_vi` + "\n"
}

// expectedFinding reports whether f names the place the seeded data
// damaged for p: the object, the reason, and its line as seeded or as the
// object now is (another subject's line removed by hand moves it up).
func (r *runner) expectedFinding(ctx context.Context, p *person, f erasure.Finding) bool {
	if p.damaged == "" || f.SourceID != "events" || f.Key != p.damaged || f.Reason != erasure.FindingUnparseable {
		return false
	}
	if f.Line == p.damagedLine {
		return true
	}
	body, _, err := r.object(ctx, "demo-events", p.damaged)
	if err != nil {
		return false
	}
	lines := strings.SplitAfter(string(body), "\n")
	return f.Line >= 1 && f.Line <= len(lines) && lines[f.Line-1] == damagedText(p)
}

func (r *runner) object(ctx context.Context, bucket, key string) ([]byte, string, error) {
	out, err := r.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return nil, "", err
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	return b, aws.ToString(out.ETag), err
}

// eraseByHand removes the subject's cut-off line from its object, on the
// condition that nobody changed the object since it was read.
func (r *runner) eraseByHand(ctx context.Context, p *person) error {
	for {
		body, etag, err := r.object(ctx, "demo-events", p.damaged)
		if err != nil {
			return err
		}
		kept := strings.Replace(string(body), damagedText(p), "", 1)
		if kept == string(body) {
			return nil // removed already
		}
		_, err = r.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("demo-events"), Key: aws.String(p.damaged),
			Body: strings.NewReader(kept), IfMatch: aws.String(etag)})
		var api smithy.APIError
		if errors.As(err, &api) && slices.Contains([]string{"PreconditionFailed", "ConditionalRequestConflict"}, api.ErrorCode()) {
			continue
		}
		return err
	}
}
