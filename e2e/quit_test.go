package e2e

import (
	"encoding/json"
	"io"
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

func TestJSONOutputKeepsWhatThePathIs(t *testing.T) {
	c := newCounter(t)
	dir := t.TempDir()
	// A symlink: the file it points to gets the result; the link stays.
	real := filepath.Join(dir, "real.json")
	os.WriteFile(real, []byte("old"), 0o640)
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	// A FIFO (like /dev/stdout or a device): written in place, never
	// replaced by a regular file.
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFO:", err)
	}
	got := make(chan []byte, 1)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			got <- nil
			return
		}
		b, _ := io.ReadAll(f)
		f.Close()
		got <- b
	}()
	for _, path := range []string{link, fifo, filepath.Join(dir, "new.json")} {
		if o := surge(t, "run", "-q", "-u", "1", "-n", "3", "--json", path, c.url("/")); o.code != 0 {
			t.Fatalf("--json %s: exit %d %q", path, o.code, o.stderr)
		}
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symlink was replaced: %v %v", fi.Mode(), err)
	}
	if fi, err := os.Lstat(real); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("the file behind the link: mode %v, %v; want its mode kept", fi.Mode(), err)
	}
	if b, _ := os.ReadFile(real); !json.Valid(b) {
		t.Errorf("the file behind the link holds %q", b)
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the FIFO was replaced: %v %v", fi.Mode(), err)
	}
	select {
	case b := <-got:
		if !json.Valid(b) {
			t.Errorf("the FIFO's reader got %q", b)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("nothing was written to the FIFO")
		os.WriteFile(fifo, nil, 0) // let the reader go
	}
	if fi, err := os.Stat(filepath.Join(dir, "new.json")); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("a new result file: %v %v, want mode 0644", fi, err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}
