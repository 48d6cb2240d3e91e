// Package lambdarie runs a function's bootstrap binary under the Lambda
// runtime interface emulator, as Lambda's provided runtime (and SAM's
// containers) do, without Docker: the binary that is deployed, built with
// lambda.norpc, talks to the emulator's Runtime API exactly as it does to
// Lambda's.
package lambdarie

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Function is one function to run: its folder holds "bootstrap" and the
// files bundled beside it; Env is its whole environment.
type Function struct {
	Name string
	Dir  string
	Env  map[string]string
}

// Process is a function running under the emulator. It takes one
// invocation at a time, as one Lambda execution environment does.
type Process struct {
	fn   Function
	url  string
	cmd  *exec.Cmd
	mu   sync.Mutex
	done chan struct{}
}

// FunctionError is an error the function's handler returned (or a crash,
// or a timeout), as Lambda reports it: the Go error's type name and its
// message.
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// ErrorType is the errorType Step Functions matches Retry and Catch on.
func (e *FunctionError) ErrorType() string { return e.Type }

// Start runs fn under the emulator at rie, on ports of its own, and waits
// until it listens. The emulator starts the binary at the first invocation
// (the cold start), as Lambda does. Its output goes to logs.
func Start(ctx context.Context, rie string, fn Function, logs io.Writer) (*Process, error) {
	ports, err := FreePorts(2)
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(ports[0])
	cmd := exec.Command(rie,
		"--runtime-interface-emulator-address", addr,
		"--runtime-api-address", "127.0.0.1:"+strconv.Itoa(ports[1]),
		"--log-level", "error",
		"./bootstrap")
	cmd.Dir = fn.Dir
	// The emulator hands its own environment to the function: exactly the
	// function's, and what the process needs to start.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "AWS_LAMBDA_FUNCTION_NAME=" + fn.Name, "TZ=UTC"}
	for k, v := range fn.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the emulator for %s: %w", fn.Name, err)
	}
	p := &Process{fn: fn, url: "http://" + addr + "/2015-03-31/functions/function/invocations", cmd: cmd, done: make(chan struct{})}
	go copyLines(out, logs)
	go func() { _ = cmd.Wait(); close(p.done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return p, nil
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("the emulator for %s exited", fn.Name)
		case <-ctx.Done():
			p.Close()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.Close()
			return nil, fmt.Errorf("the emulator for %s did not listen within 10s", fn.Name)
		}
	}
}

// copyLines passes the emulator's output on a line at a time, so that its
// lines and the function's do not interleave within a line.
func copyLines(out io.Reader, logs io.Writer) {
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fmt.Fprintf(logs, "%s\n", sc.Bytes())
	}
}

// Invoke calls the function with payload and returns its answer, or a
// *FunctionError for an error it returned.
func (p *Process) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoking %s under the emulator: %w", p.fn.Name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 6<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &FunctionError{Type: "Runtime.EmulatorError", Message: fmt.Sprintf("HTTP %d: %.200s", resp.StatusCode, body)}
	}
	// A handler's error comes back as the body the runtime posted to the
	// Runtime API's error path; no answer of these functions has that
	// shape otherwise.
	var fe struct {
		Type    *string `json:"errorType"`
		Message *string `json:"errorMessage"`
	}
	if json.Unmarshal(body, &fe) == nil && fe.Type != nil && fe.Message != nil {
		return nil, &FunctionError{Type: *fe.Type, Message: *fe.Message}
	}
	if bytes.HasPrefix(body, []byte("Task timed out")) {
		return nil, &FunctionError{Type: "States.Timeout", Message: string(body)}
	}
	return body, nil
}

// Close stops the emulator and the function it runs.
func (p *Process) Close() {
	if p.cmd.Process != nil {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	}
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
}

// FreePorts finds n ports free on the loopback address.
func FreePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, errors.Join(errors.New("no free port"), err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
