// Package runstack is what the commands that drive a local stack for
// minutes (make chaos, make load) share before they start: where the
// stack's logs go, the machine they ran on, and a context that Ctrl-C ends.
package runstack

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"
)

// Logs opens path for the stack's logs (created or emptied); with no path
// the logs are dropped. close closes the file.
func Logs(path string) (w io.Writer, close func(), err error) {
	if path == "" {
		return io.Discard, func() {}, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, nil, err
	}
	return f, func() { f.Close() }, nil
}

// Start names the machine on stderr, so figures can be compared, and
// returns a context that an interrupt or SIGTERM ends.
func Start(stderr io.Writer) (context.Context, context.CancelFunc) {
	fmt.Fprintf(stderr, "# %d cores (GOMAXPROCS %d), %s\n", runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version())
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}
