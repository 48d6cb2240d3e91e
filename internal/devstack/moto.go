package devstack

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

//go:embed moto_launcher.py
var motoLauncher []byte

// motoProcess is a moto_server started through the launcher that patches the
// moto bugs the local stack depends on.
type motoProcess struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{}
}

// startMoto runs moto on port, telling its Step Functions interpreter to call
// service integrations (Lambda above all) at integrationPort.
func startMoto(ctx context.Context, dir string, port, integrationPort int, logTo io.Writer) (*motoProcess, error) {
	python, err := exec.LookPath("python3")
	if err != nil {
		return nil, fmt.Errorf("python3 is needed for the local stack: %w", err)
	}
	if err := exec.Command(python, "-c", "import moto.server, flask").Run(); err != nil {
		return nil, fmt.Errorf("moto is not installed for %s; install it with: pip install 'moto[server]==5.2.1'", python)
	}
	script := filepath.Join(dir, "moto_launcher.py")
	if err := os.WriteFile(script, motoLauncher, 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(python, script, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Env = append(os.Environ(), "TZ=UTC", "MOTO_PORT="+strconv.Itoa(integrationPort), "PYTHONUNBUFFERED=1")
	cmd.Stdout, cmd.Stderr = logTo, logTo
	// Its own process group, so Ctrl-C in a terminal reaches us first and we
	// stop moto in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting moto: %w", err)
	}
	m := &motoProcess{cmd: cmd, url: fmt.Sprintf("http://127.0.0.1:%d", port), done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(m.done) }()
	if err := m.waitReady(ctx, 60*time.Second); err != nil {
		m.stop()
		return nil, err
	}
	return m, nil
}

func (m *motoProcess) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-m.done:
			return fmt.Errorf("moto exited during start-up (is port %s free?)", m.url)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := http.Get(m.url + "/moto-api/data.json")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("moto did not answer within %s", limit)
}

// configure switches on moto's Step Functions interpreter; it must happen
// before any state machine is created.
func (m *motoProcess) configure() error {
	resp, err := http.Post(m.url+"/moto-api/config", "application/json",
		bytes.NewReader([]byte(`{"stepfunctions":{"execute_state_machine":true}}`)))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("moto config: HTTP %d", resp.StatusCode)
	}
	return nil
}

func (m *motoProcess) stop() {
	if m.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-m.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
		<-m.done
	}
}
