package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudformation"

	"github.com/privacy-pipeline/dsr/internal/app"
	"github.com/privacy-pipeline/dsr/internal/app/full"
	"github.com/privacy-pipeline/dsr/internal/cfnstack"
	"github.com/privacy-pipeline/dsr/internal/devstack"
)

// TestDeployedAccessRequest runs an access request end to end on a stack
// already deployed, LocalStack (AWS_ENDPOINT_URL set) or an AWS account,
// found by its outputs (E2E_STACK=NAME): submitted through its HTTP API,
// verified by an operator (a test cannot read a real inbox), carried out
// by its workflow and followed on its status link until completed. The
// subject is E2E_SUBJECT (default: the demo company's), who should have
// data in the stack's sources.
func TestDeployedAccessRequest(t *testing.T) {
	name := os.Getenv("E2E_STACK")
	if name == "" {
		t.Skip("E2E_STACK is not set: set it to a deployed stack's name (with credentials, and AWS_ENDPOINT_URL for LocalStack) to run this against it")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	awsCfg, err := app.LoadAWS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	getenv, err := cfnstack.Env(ctx, cloudformation.NewFromConfig(awsCfg), name, os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := app.ConfigFromEnv(getenv)
	if err != nil {
		t.Fatal(err)
	}
	a, err := full.New(cfg, awsCfg, app.NewLogger(os.Stderr))
	if err != nil {
		t.Fatal(err)
	}
	subject := os.Getenv("E2E_SUBJECT")
	if subject == "" {
		subject = devstack.DemoSubject
	}
	body, _ := json.Marshal(map[string]string{"type": "access", "email": subject, "jurisdiction": "EU"})
	resp, err := http.Post(strings.TrimSuffix(cfg.BaseURL, "/")+"/v1/requests", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	var receipt struct {
		ID        string `json:"id"`
		StatusURL string `json:"status_url"`
	}
	err = json.NewDecoder(resp.Body).Decode(&receipt)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("submit: HTTP %d, %v", resp.StatusCode, err)
	}
	t.Logf("request %s", receipt.ID)
	deadline := time.Now().Add(5 * time.Minute)
	poll := func(what string, done func() bool) {
		t.Helper()
		for !done() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %s did not come in time", receipt.ID, what)
			}
			time.Sleep(2 * time.Second)
		}
	}
	poll("the wait for verification", func() bool {
		r, err := a.Store().Get(ctx, receipt.ID)
		return err == nil && r.Verification.TaskToken != ""
	})
	if err := a.Operator().Verify(ctx, receipt.ID, "e2e", "end-to-end test of a deployed stack"); err != nil {
		t.Fatal(err)
	}
	poll("completion", func() bool {
		resp, err := http.Get(receipt.StatusURL)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var st struct {
			Status string `json:"status"`
		}
		if json.NewDecoder(resp.Body).Decode(&st) != nil {
			return false
		}
		if st.Status == "failed" || st.Status == "denied" || st.Status == "expired" {
			t.Fatalf("%s closed %s", receipt.ID, st.Status)
		}
		return st.Status == "completed"
	})
}
