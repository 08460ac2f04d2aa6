package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The cases of issue 10: targets whose bottleneck find named wrongly on
// real servers, each reproduced by the lab.

// labProc is a lab started for a test: its base URL and pid, and those of
// its backend when it has one.
type labProc struct {
	url, backend string
	pid          int
}

// startLabProc is startLabEnv that also reads the pid, and the backend's
// line when args include --backend.
func startLabProc(t *testing.T, env []string, args ...string) labProc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	cmd := exec.CommandContext(ctx, surgeBin, append([]string{"lab", "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGINT)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("surge lab did not stop within 15 s of Ctrl-C")
		}
		cancel()
	})
	br := bufio.NewReader(stdout)
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("surge lab printed no address: %v", err)
	}
	p := labProc{pid: cmd.Process.Pid}
	var ok bool
	if p.url, ok = strings.CutPrefix(strings.TrimSpace(line), "listening on "); !ok || !strings.HasPrefix(p.url, "http://127.0.0.1:") {
		t.Fatalf("surge lab's first line %q, want 'listening on http://127.0.0.1:PORT'", line)
	}
	for _, a := range args {
		if a == "--backend" {
			line, err := br.ReadString('\n')
			var pid int
			if err != nil {
				t.Fatalf("no backend line: %v", err)
			}
			if _, err := fmt.Sscanf(strings.TrimSpace(line), "backend on %s pid %d", &p.backend, &pid); err != nil {
				t.Fatalf("backend line %q: %v", line, err)
			}
		}
	}
	go io.Copy(io.Discard, br)
	return p
}

func evidence(r findResult) string { return strings.Join(r.Bottleneck.Evidence, "\n") }

// Case 1: a prom probe without go_sched_gomaxprocs_threads; the cores
// given with cores=.
func TestFindCPUCoresGivenToProm(t *testing.T) {
	lab := startLabProc(t, []string{"GOMAXPROCS=1"}, "--no-go-metrics")
	r, _ := find(t, "-u", "64", "--probe", "prom="+lab.url+"/metrics,cores=1", lab.url+"/cpu?ms=10")
	if r.Bottleneck.Class != "cpu" || !strings.Contains(r.Bottleneck.Summary, "of 1 core") {
		t.Fatalf("bottleneck %s (%s): want cpu of 1 core", r.Bottleneck.Class, r.Bottleneck.Summary)
	}
}

// Case 2: a single-threaded server on a multi-core host, pid probe.
func TestFindSingleThreaded(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("pid probes read /proc")
	}
	lab := startLabProc(t, nil)
	r, _ := find(t, "-u", "64", "--probe", fmt.Sprintf("pid=%d", lab.pid), lab.url+"/single?ms=5")
	if r.Bottleneck.Class != "cpu" || !strings.Contains(evidence(r), "busiest thread") {
		t.Fatalf("bottleneck %s (%s): want cpu, with the busiest thread quoted", r.Bottleneck.Class, r.Bottleneck.Summary)
	}
	if !within(r.Capacity.RPS, 200, 0.2) {
		t.Fatalf("capacity %.1f req/s, want 200 ± 20%% (one core, 5 ms each)", r.Capacity.RPS)
	}
}

// Case 2b: an interpreter lock in a server with a thread per request: one
// core busy, spread over threads so that none of them looks busy. The CPU
// flat at one core of two, or the CPU each request takes (about its whole
// service time), names cpu; not the busiest thread.
func TestFindInterpreterLock(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("pid probes read /proc")
	}
	lab := startLabProc(t, nil)
	r, _ := find(t, "-u", "64", "--probe", fmt.Sprintf("pid=%d", lab.pid), lab.url+"/gil?ms=5")
	if r.Bottleneck.Class != "cpu" || !strings.Contains(r.Bottleneck.Summary, "interpreter lock") || strings.Contains(evidence(r), "one thread ran at") {
		t.Fatalf("bottleneck %s (%s; %s): want cpu, one core behind a lock, no busy thread", r.Bottleneck.Class, r.Bottleneck.Summary, evidence(r))
	}
	if !within(r.Capacity.RPS, 200, 0.2) {
		t.Fatalf("capacity %.1f req/s, want 200 ± 20%% (one core, 5 ms each)", r.Capacity.RPS)
	}
}

// Case 3: a cgroup without a CPU quota (the root of the cgroup v2 tree,
// where there is one): cores from the cpuset or the host.
func TestFindCPUInACgroupWithoutQuota(t *testing.T) {
	dir := ""
	for _, d := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		if _, err := os.Stat(filepath.Join(d, "cpu.stat")); err == nil {
			if _, err := os.Stat(filepath.Join(d, "cpu.max")); err != nil {
				dir = d
				break
			}
		}
	}
	if dir == "" {
		t.Skip("no cgroup v2 directory without cpu.max here")
	}
	lab := startLabProc(t, nil)
	r, _ := find(t, "-u", "64", "--probe", "cgroup="+dir, lab.url+"/cpu?ms=10")
	if r.Bottleneck.Class != "cpu" {
		t.Fatalf("bottleneck %s (%s): want cpu", r.Bottleneck.Class, r.Bottleneck.Summary)
	}
}

// Case 4: an app and its backend, one probe each; the backend's probe is
// named so that it sorts after the app's, and still decides.
func TestFindTheBusiestOfTwoProbes(t *testing.T) {
	lab := startLabProc(t, []string{"GOMAXPROCS=1"}, "--backend")
	back := strings.Replace(lab.backend, "127.0.0.1", "localhost", 1)
	r, _ := find(t, "-u", "64", "--probe", "prom="+lab.url+"/metrics", "--probe", "prom="+back+"/metrics", lab.url+"/backend?ms=5")
	if r.Bottleneck.Class != "cpu" || !strings.Contains(r.Bottleneck.Summary, "prom="+back) {
		t.Fatalf("bottleneck %s (%s): want cpu naming %s", r.Bottleneck.Class, r.Bottleneck.Summary, back)
	}
}

// Case 5: no CPU reading and N equal to this host's cores: not "a pool".
func TestFindLimitOfHostCoresIsNotAPool(t *testing.T) {
	lab := startLabProc(t, nil)
	n := runtime.NumCPU()
	r, _ := find(t, "-u", "64", fmt.Sprintf("%s/pool?n=%d&ms=20", lab.url, n))
	if r.Bottleneck.Class != "concurrency-limit" || !strings.Contains(r.Bottleneck.Summary, fmt.Sprintf("CPU-bound, or has a limit of %d", n)) {
		t.Fatalf("bottleneck %s (%s): want 'CPU-bound, or has a limit of %d'", r.Bottleneck.Class, r.Bottleneck.Summary, n)
	}
}

// Case 6: 503 without Retry-After sheds load (errors); with it, a quota.
func TestFind503WithAndWithoutRetryAfter(t *testing.T) {
	lab := startLabProc(t, nil)
	r, _ := find(t, "-u", "64", lab.url+"/overload?limit=8&ms=10&code=503")
	if r.Bottleneck.Class != "errors" {
		t.Fatalf("503 without Retry-After: %s, want errors", r.Bottleneck.Class)
	}
	r, _ = find(t, "-u", "64", lab.url+"/overload?limit=8&ms=10&code=503&retry=1")
	if r.Bottleneck.Class != "throttled" {
		t.Fatalf("503 with Retry-After: %s, want throttled", r.Bottleneck.Class)
	}
}

// Case 7: a latency --slo alone keeps errors<1%, and capacity reports
// goodput.
func TestFindLatencySLOKeepsTheErrorSLO(t *testing.T) {
	lab := startLabProc(t, nil)
	r, o := find(t, "-u", "64", "--slo", "p95<1s", lab.url+"/overload?limit=8&ms=10&code=503")
	if o.code != 0 || r.Bottleneck.Class != "errors" || r.Capacity.Users > 12 {
		t.Fatalf("exit %d, %s at %d users: want errors at ~8 users (errors<1%% kept)", o.code, r.Bottleneck.Class, r.Capacity.Users)
	}
	if r.Capacity.GoodputRPS == nil || *r.Capacity.GoodputRPS > r.Capacity.RPS || *r.Capacity.GoodputRPS < 0.95*r.Capacity.RPS {
		t.Fatalf("goodput %v of %.1f req/s: want it given, ≤ rps and within 5%% of it under errors<1%%", r.Capacity.GoodputRPS, r.Capacity.RPS)
	}
}

// Case 8: throughput that falls as load grows.
func TestFindRetrograde(t *testing.T) {
	lab := startLabProc(t, nil)
	r, _ := find(t, "-u", "64", lab.url+"/retro?ms=5")
	if r.Bottleneck.Class != "serialized" || !strings.Contains(evidence(r), "fell as load grew") {
		for _, s := range r.Steps {
			t.Logf("%d users %s: %.1f req/s, timers %.1f ms late", s.Users, s.Phase, s.RPS, s.Client.SchedLag.P99)
		}
		t.Fatalf("bottleneck %s, evidence %q: want serialized, with throughput falling as load grew", r.Bottleneck.Class, r.Bottleneck.Evidence)
	}
}

// Safety: the search stops once the target's memory grew past the bound.
func TestFindStopsOnTargetMemoryGrowth(t *testing.T) {
	lab := startLabProc(t, nil, "--leak-max", "1024")
	r, _ := find(t, "-u", "64", "--max-target-growth", "48MiB", "--probe", "prom="+lab.url+"/metrics", lab.url+"/leak?kb=64")
	if r.Bottleneck.Class != "memory" || !strings.Contains(r.Bottleneck.Summary, "stopped growing the load") {
		t.Fatalf("bottleneck %s (%s): want memory, the search stopped", r.Bottleneck.Class, r.Bottleneck.Summary)
	}
	if last := r.Steps[len(r.Steps)-1]; last.Users >= 64 {
		t.Fatalf("the search went on to %d users", last.Users)
	}
}
