package main

import (
	"context"
	"fmt"
	"time"

	"github.com/privacy-pipeline/dsr/internal/bench"
	"github.com/privacy-pipeline/dsr/internal/devstack"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// transitions runs an access and then a delete request for the demo subject
// on a local stack and reports the states their executions entered:
// state_transitions_access and state_transitions_delete.
func transitions(report func(bench.Figure)) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	stack, err := devstack.Start(ctx, devstack.Options{})
	if err != nil {
		return err
	}
	defer stack.Close()
	for _, typ := range []request.Type{request.Access, request.Delete} {
		id, status, err := stack.RunRequest(ctx, typ, devstack.DemoSubject)
		if err != nil {
			return err
		}
		if status != request.Completed {
			return fmt.Errorf("%s closed %s, not completed", id, status)
		}
		n, err := stack.StateTransitions(ctx, id)
		if err != nil {
			return err
		}
		report(bench.Figure{Name: "state_transitions_" + string(typ), Value: float64(n), Unit: "transitions"})
	}
	return nil
}
