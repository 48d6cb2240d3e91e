package devstack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/privacy-pipeline/dsr/internal/links"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/resources"
	"github.com/privacy-pipeline/dsr/internal/sfnflow"
)

// RunRequest submits a request of type typ for email through the HTTP API,
// has an operator verify it (no mail round trip), and waits until it closes.
// It returns the request id and the status it closed in.
func (s *Stack) RunRequest(ctx context.Context, typ request.Type, email string) (string, request.Status, error) {
	body, err := json.Marshal(map[string]string{"type": string(typ), "email": email, "jurisdiction": "EU"})
	if err != nil {
		return "", "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, links.Base(s.APIURL).Submit(), strings.NewReader(string(body)))
	if err != nil {
		return "", "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	var receipt struct {
		ID string `json:"id"`
	}
	if resp.StatusCode != http.StatusAccepted {
		return "", "", fmt.Errorf("submit: HTTP %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&receipt); err != nil {
		return "", "", fmt.Errorf("submit: %w", err)
	}
	id := receipt.ID
	if _, err := s.waitFor(ctx, id, func(r *request.Request) bool { return r.Verification.TaskToken != "" }); err != nil {
		return id, "", fmt.Errorf("%s: waiting for verification: %w", id, err)
	}
	if err := s.App.Operator().Verify(ctx, id, "devstack", "local run"); err != nil {
		return id, "", err
	}
	r, err := s.waitFor(ctx, id, func(r *request.Request) bool { return r.Status.Closed() })
	if err != nil {
		return id, "", fmt.Errorf("%s: waiting for it to close: %w", id, err)
	}
	return id, r.Status, nil
}

// waitFor polls the stored request until done is true or ctx ends.
func (s *Stack) waitFor(ctx context.Context, id string, done func(*request.Request) bool) (*request.Request, error) {
	for {
		r, err := s.App.Store().Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if done(r) {
			return r, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// StateTransitions counts the states a request's executions entered (what
// Step Functions standard workflows are billed by): its request workflow
// and its deadline watch, each as far as it has run.
func (s *Stack) StateTransitions(ctx context.Context, requestID string) (int, error) {
	client := sfn.NewFromConfig(s.AWS)
	n := 0
	for _, sm := range []resources.StateMachine{resources.RequestWorkflow, resources.DeadlineWatch} {
		in := &sfn.GetExecutionHistoryInput{
			ExecutionArn: aws.String(sfnflow.ExecutionARN(StateMachineARN(s.Region, sm), requestID)),
			MaxResults:   1000,
		}
		for {
			out, err := client.GetExecutionHistory(ctx, in)
			if err != nil {
				return 0, fmt.Errorf("history of %s: %w", sm.ID, err)
			}
			for _, e := range out.Events {
				if strings.HasSuffix(string(e.Type), "StateEntered") {
					n++
				}
			}
			if out.NextToken == nil {
				break
			}
			in.NextToken = out.NextToken
		}
	}
	return n, nil
}
