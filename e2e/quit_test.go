package e2e

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func TestSecondInterruptLeavesValidJSON(t *testing.T) {
	var hits atomic.Int64
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		select { // never answers
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	defer srv.Close()
	defer close(stop)
	for _, args := range [][]string{
		{"run", "-q", "-u", "4", "-d", "60s", srv.URL + "/"},
		{"run", "-q", "-r", "50", "-d", "60s", "--timeout", "30s", srv.URL + "/"},
		{"find", "-q", "--max", "8", srv.URL + "/"},
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, "r.json")
		before := hits.Load()
		cmd := exec.Command(surgeBin, append([]string{"--json", path}, args...)...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for hits.Load() == before && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		cmd.Process.Signal(syscall.SIGINT)
		cmd.Process.Signal(syscall.SIGINT)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("surge %q did not quit after two Ctrl-C", args)
		}
		if code := cmd.ProcessState.ExitCode(); code != 1 && code != 130 {
			t.Errorf("surge %q: exit %d after two Ctrl-C, want 1 or 130", args, code)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("surge %q: no result after two Ctrl-C: %v", args, err)
		}
		r, err := decode(b)
		if err != nil || !r.Partial || r.Version != 1 {
			t.Fatalf("surge %q: result after two Ctrl-C is not a valid partial result (%v):\n%s", args, err, b)
		}
		if left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(left) > 0 {
			t.Errorf("surge %q left %v behind", args, left)
		}
	}
}
