package e2e

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/clock"
	"github.com/privacy-pipeline/dsr/internal/devstack"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/resources"
	"github.com/privacy-pipeline/dsr/internal/sfnflow"
)

// vanished is a workflow service the process never reached: it ended
// between storing the request and starting its workflow.
type vanished struct{}

func (vanished) Start(context.Context, sfnflow.Input) error { return nil }
func (vanished) Resume(context.Context, string) error       { return nil }

// unreachable is a workflow service that fails every call.
type unreachable struct{}

func (unreachable) Start(context.Context, sfnflow.Input) error {
	return apperr.E(apperr.Unavailable, "The workflow service is unavailable.")
}
func (unreachable) Resume(context.Context, string) error {
	return apperr.E(apperr.Unavailable, "The workflow service is unavailable.")
}

// TestSweeperStartsLostRequests: two requests are stored without a workflow,
// one silently (the process ended before the start) and one whose start
// failed (flagged for an operator). The sweeper, run as its schedule would
// run it once they are old enough, starts both with the portal's input, and
// they complete as any request does; the flag is cleared. A second sweep
// starts nothing again, and requests whose workflows run are left alone.
func TestSweeperStartsLostRequests(t *testing.T) {
	// Sequential: no other test is then between storing a request and
	// starting it, which a sweep (ten minutes on) could overtake; and the
	// access request waits for its confirmation only some fifteen seconds
	// at this time scale, less than a parallel test may wait for its turn.
	ctx := context.Background()
	const accessEmail, optOutEmail = "lost.access@example.com", "lost.optout@example.com"
	portal := *stack.App.Portal()
	portal.Workflow = vanished{}
	lost, err := portal.Submit(ctx, request.Submission{Type: "access", Email: accessEmail, Jurisdiction: "EU"})
	if err != nil {
		t.Fatal(err)
	}
	portal.Workflow = unreachable{}
	if _, err := portal.Submit(ctx, request.Submission{Type: "opt_out", Email: optOutEmail, Jurisdiction: "US-CA"}); !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("a failed start answered %v", err)
	}
	received, err := stack.App.Store().List(ctx, request.Query{Statuses: []request.Status{request.Received}})
	if err != nil {
		t.Fatal(err)
	}
	var flagged string
	for _, r := range received {
		if r.Email == optOutEmail {
			flagged = r.ID
		}
	}
	if flagged == "" || !storedRequest(t, flagged).NeedsOperator {
		t.Fatal("the request whose start failed is not stored and flagged")
	}
	for _, id := range []string{lost.ID, flagged} {
		if hasExecution(t, id) {
			t.Fatalf("%s has an execution before the sweep", id)
		}
	}

	// The schedule's sweeper, ten minutes on: both are old enough now.
	sweeper := stack.App.Sweeper()
	sweeper.Clock = clock.NewFake(time.Now().Add(10 * time.Minute))
	res, err := sweeper.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(res.Started, lost.ID) || !slices.Contains(res.Started, flagged) || len(res.NotStarted) != 0 {
		t.Fatalf("sweep %+v", res)
	}
	again, err := sweeper.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(again.Started, lost.ID) || slices.Contains(again.Started, flagged) {
		t.Fatalf("a second sweep started them again: %+v", again)
	}

	confirm(t, accessEmail, lost.ID)
	waitCompleted(t, receipt{ID: lost.ID, Status: lost.Status, StatusURL: lost.StatusURL})
	checkHistory(t, lost.ID)
	eventually(t, "the flagged request completes", 30*time.Second, func() bool { return storedRequest(t, flagged).Status == request.Completed })
	checkHistory(t, flagged)
	if storedRequest(t, flagged).NeedsOperator {
		t.Error("the flag stays on a request that started and completed")
	}
	mailTo(t, optOutEmail, flagged, "Your privacy choice is recorded")
}

// hasExecution reports whether a request's workflow has an execution.
func hasExecution(t *testing.T, id string) bool {
	t.Helper()
	arn := sfnflow.ExecutionARN(devstack.StateMachineARN(stack.Region, resources.RequestWorkflow), id)
	_, err := sfn.NewFromConfig(stack.AWS).DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: &arn})
	var missing *types.ExecutionDoesNotExist
	if errors.As(err, &missing) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}
