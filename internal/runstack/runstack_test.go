package runstack

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestLogs(t *testing.T) {
	w, closeLogs, err := Logs("")
	if err != nil || w != io.Discard {
		t.Fatalf("no path: %v, %v", w, err)
	}
	closeLogs()

	path := filepath.Join(t.TempDir(), "stack.log")
	if err := os.WriteFile(path, []byte("an older run\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	w, closeLogs, err = Logs(path)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(w, "this run")
	closeLogs()
	if b, _ := os.ReadFile(path); string(b) != "this run\n" {
		t.Fatalf("the log holds %q, want this run's only", b)
	}

	if _, _, err := Logs(filepath.Join(t.TempDir(), "missing", "stack.log")); err == nil {
		t.Fatal("a log in a folder that does not exist opened")
	}
}
