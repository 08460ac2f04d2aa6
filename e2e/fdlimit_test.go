package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// surgeLimited runs surge with RLIMIT_NOFILE lowered to n (soft and hard)
// through the shell's ulimit.
func surgeLimited(t *testing.T, n string, args ...string) outcome {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh to lower the descriptor limit with")
	}
	cmd := exec.Command(sh, append([]string{"-c", `ulimit -n "$0" && exec "$@"`, n, surgeBin}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	o := outcome{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		o.code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestDescriptorBudget(t *testing.T) {
	a := newAcceptCounter(t)
	for _, args := range [][]string{
		{"run", "-u", "1000", "-d", "1s", a.url("/")},
		{"run", "-r", "100", "--max-inflight", "1000", "-d", "1s", a.url("/")},
		{"find", "-u", "1000", a.url("/")},
	} {
		o := surgeLimited(t, "256", args...)
		oneUsageLine(t, args, o, "ulimit -n")
	}
	if n := a.n.Load(); n != 0 {
		t.Fatalf("runs refused for lack of descriptors opened %d connections", n)
	}
	// What fits runs; the open model's default cap on requests in flight
	// is lowered to fit.
	c := newCounter(t)
	for _, args := range [][]string{
		{"run", "-q", "-u", "100", "-d", "500ms", c.url("/")},
		{"run", "-q", "-r", "100", "-d", "500ms", c.url("/")},
	} {
		path := filepath.Join(t.TempDir(), "r.json")
		o := surgeLimited(t, "256", append([]string{"--json", path}, args...)...)
		if o.code != 0 || strings.TrimSpace(o.stderr) != "" {
			t.Errorf("surge %q under ulimit -n 256: exit %d stderr %q", args, o.code, o.stderr)
		}
	}
	if c.hits.Load() == 0 {
		t.Fatal("the runs that fit sent nothing")
	}
}

func TestRefusedDialsBackOff(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	o := surge(t, "run", "-q", "-u", "4", "-d", "1s", "--json", path, "http://"+closedPort(t)+"/")
	if o.code != 0 {
		t.Fatalf("exit %d: %q", o.code, o.stderr)
	}
	b, _ := os.ReadFile(path)
	var r struct {
		Summary struct {
			Requests    int64 `json:"requests"`
			Connections int64 `json:"connections"`
			DialErrors  int64 `json:"dial_errors"`
		} `json:"summary"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	s := r.Summary
	// Backing off 10, 20, 40 … ms, each of 4 users tries about 7 times in
	// 1 s (without backoff: tens of thousands).
	if s.Connections != 0 || s.DialErrors == 0 || s.Requests == 0 || s.Requests > 4*12 {
		t.Fatalf("refused target for 1 s at 4 users: %+v: want 0 connections, a few dial errors and requests", s)
	}
}
