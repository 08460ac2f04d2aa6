package probe_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/surgeload/surge/internal/probe"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// metricsServer serves Prometheus text whose CPU counter grows by 0.5 s
// per scrape.
func metricsServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var scrapes atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := scrapes.Add(1)
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprintf(w, `# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total %g
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes %d
# TYPE go_sched_gomaxprocs_threads gauge
go_sched_gomaxprocs_threads 4
# TYPE lab_pool_waiters gauge
lab_pool_waiters{n="20"} 7
lab_pool_waiters{n="3"} 2
# TYPE requests_total counter
requests_total{code="200"} %d
requests_total{code="500"} 5
`, 0.5*float64(n), 1000000*n, 100*n)
	}))
	t.Cleanup(srv.Close)
	return srv, &scrapes
}

func TestPromProbe(t *testing.T) {
	srv, _ := metricsServer(t)
	p, err := probe.Parse("prom="+srv.URL, []string{"lab_pool_waiters", `lab_pool_waiters{n="20"}`, "requests_total", "missing_metric"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := p.Sample(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if a.CPU != 0.5 || a.RSS != 1e6 || a.Cores != 4 {
		t.Fatalf("sample %+v: want cpu 0.5, rss 1e6, cores 4", a)
	}
	if a.Metrics["lab_pool_waiters"] != 9 || a.Metrics[`lab_pool_waiters{n="20"}`] != 7 || a.Metrics["requests_total"] != 105 {
		t.Fatalf("metrics %v", a.Metrics)
	}
	if !math.IsNaN(a.Metrics["missing_metric"]) {
		t.Fatalf("a missing metric should read NaN, got %v", a.Metrics["missing_metric"])
	}
	if p.Name() != "prom="+srv.URL {
		t.Fatalf("name %q", p.Name())
	}
}

func TestSummarize(t *testing.T) {
	sr := probe.Series{Samples: []probe.Sample{
		{T: 0, CPU: 10, RSS: 100, Cores: 2, Metrics: map[string]float64{"x": 1}},
		{T: time.Second, CPU: 11, RSS: 150, Cores: 2, Metrics: map[string]float64{"x": 3}},
		{T: 2 * time.Second, CPU: 13, RSS: 200, Cores: 2, Metrics: map[string]float64{"x": 5}},
		{T: 3 * time.Second, CPU: 16, RSS: 180, Cores: 2, Metrics: map[string]float64{"x": 9}},
	}}
	w, err := probe.Summarize(sr, time.Second, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// From 1 s to 3 s: 5 CPU seconds in 2 s = 2.5 cores... on 2 cores.
	if w.CPUCores != 2.5 || w.CPUUtil != 1.25 || w.RSS != 180 || w.RSSDelta != 30 || w.Samples != 3 {
		t.Fatalf("window %+v", w)
	}
	if w.Metrics["x"] != 9 || w.Rates["x"] != 3 {
		t.Fatalf("metrics %v rates %v", w.Metrics, w.Rates)
	}
	if _, err := probe.Summarize(sr, 5*time.Second, 9*time.Second); !errors.Is(err, probe.ErrTooFewSamples) {
		t.Fatalf("empty window: %v", err)
	}
}

func TestSessionSamplesEveryInterval(t *testing.T) {
	srv, scrapes := metricsServer(t)
	p, _ := probe.Parse("prom="+srv.URL, nil)
	s := probe.Start(context.Background(), []probe.Probe{p}, 50*time.Millisecond)
	deadline := time.Now().Add(5 * time.Second)
	for scrapes.Load() < 4 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	series := s.Stop()
	if len(series) != 1 || len(series[0].Samples) < 4 || series[0].Err != nil {
		t.Fatalf("series %+v", series)
	}
	for i := 1; i < len(series[0].Samples); i++ {
		if series[0].Samples[i].T <= series[0].Samples[i-1].T {
			t.Fatal("sample times must increase")
		}
	}
}

func TestSessionRecordsFailures(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "nope", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	p, _ := probe.Parse("prom="+srv.URL, nil)
	s := probe.Start(context.Background(), []probe.Probe{p}, 20*time.Millisecond)
	time.Sleep(100 * time.Millisecond)
	series := s.Stop()
	if series[0].Failures == 0 || series[0].Err == nil || !strings.Contains(series[0].Err.Error(), "503") {
		t.Fatalf("series %+v: want failures with a 503 error", series[0])
	}
}

func TestPIDProbeSeesOwnProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("pid probes need /proc")
	}
	p, err := probe.Parse(fmt.Sprintf("pid=%d", os.Getpid()), nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := p.Sample(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	end := time.Now().Add(150 * time.Millisecond)
	for time.Now().Before(end) {
	}
	b, _ := p.Sample(context.Background())
	if b.CPU-a.CPU < 0.05 || b.RSS <= 0 || b.Cores < 1 {
		t.Fatalf("before %+v after %+v: want ≥ 50 ms more CPU, some RSS, ≥ 1 core", a, b)
	}
}

func TestCgroupProbe(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "cpu.stat"), []byte("usage_usec 2500000\nuser_usec 2000000\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "memory.current"), []byte("52428800\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "cpu.max"), []byte("150000 100000\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "cpu.pressure"), []byte("some avg10=1.50 avg60=0.80 avg300=0.20 total=750000\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"), 0o644)
	p, err := probe.Parse("cgroup="+dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := p.Sample(context.Background())
	if err != nil || s.CPU != 2.5 || s.RSS != 50<<20 || s.Cores != 1.5 || s.CPUWait != 0.75 {
		t.Fatalf("sample %+v err %v: want cpu 2.5 s, rss 50 MiB, 1.5 cores, 0.75 s waited", s, err)
	}
	// Without cpu.pressure (PSI off), the wait is unknown, not zero.
	os.Remove(filepath.Join(dir, "cpu.pressure"))
	if s, _ = p.Sample(context.Background()); !math.IsNaN(s.CPUWait) {
		t.Fatalf("no cpu.pressure: wait %v, want NaN", s.CPUWait)
	}
}

func TestParseRejects(t *testing.T) {
	for _, c := range []struct {
		spec    string
		metrics []string
		msg     string
	}{
		{"prom", nil, "want prom=URL, pid=N or cgroup=PATH"},
		{"http://127.0.0.1/metrics", nil, "want prom=URL"},
		{"prom=ftp://127.0.0.1/metrics", nil, "want prom=http://host:port/metrics"},
		{"prom=http://127.0.0.1:1/metrics", []string{"bad name!"}, "want NAME or NAME{"},
		{"prom=http://127.0.0.1:1/metrics", []string{`x{n=20}`}, "bad label matcher"},
		{"pid=abc", nil, "want pid=N"},
		{"pid=1", []string{"x"}, "--probe-metric needs a prom= probe"},
		{"cgroup=/no/such/dir", nil, "not a cgroup v2 directory"},
		{"ssh=host", nil, `unknown kind "ssh"`},
	} {
		_, err := probe.Parse(c.spec, c.metrics)
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("Parse(%q, %q) = %v, want an error containing %q", c.spec, c.metrics, err, c.msg)
		}
	}
}

// cores= overrides what the target says (or does not say) about its CPUs.
func TestPromProbeCoresOption(t *testing.T) {
	srv, _ := metricsServer(t)
	p, err := probe.Parse("prom="+srv.URL+",cores=1.5", nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := p.Sample(context.Background())
	if err != nil || s.Cores != 1.5 || s.CPU != 0.5 {
		t.Fatalf("sample %+v err %v: want 1.5 cores from the option, the CPU from the scrape", s, err)
	}
	for _, bad := range []string{",cores=0", ",cores=x", ",cores=-2"} {
		if _, err := probe.Parse("prom="+srv.URL+bad, nil); err == nil || !strings.Contains(err.Error(), "cores= wants a positive number") {
			t.Errorf("prom=URL%s: %v, want a clear error", bad, err)
		}
	}
}

// A cgroup without a quota has the cores of its cpuset, else of the host.
func TestCgroupCoresWithoutQuota(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "cpu.stat"), []byte("usage_usec 1000000\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "cpu.max"), []byte("max 100000\n"), 0o644)
	p, err := probe.Parse("cgroup="+dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := p.Sample(context.Background())
	if s.Cores != float64(runtime.NumCPU()) {
		t.Fatalf("no quota, no cpuset: %v cores, want the host's %d", s.Cores, runtime.NumCPU())
	}
	os.WriteFile(filepath.Join(dir, "cpuset.cpus.effective"), []byte("0-2,5\n"), 0o644)
	s, _ = p.Sample(context.Background())
	if s.Cores != 4 {
		t.Fatalf("cpuset 0-2,5: %v cores, want 4", s.Cores)
	}
}

// The pid probe reads the busiest thread: a goroutine locked to its thread
// and spinning keeps one thread near a whole core.
func TestPIDProbeReadsTheBusiestThread(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("pid probes need /proc")
	}
	p, err := probe.Parse(fmt.Sprintf("pid=%d", os.Getpid()), nil)
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		for {
			select {
			case <-stop:
				return
			default:
			}
		}
	}()
	defer func() { close(stop); <-done }()
	a, _ := p.Sample(context.Background())
	if !math.IsNaN(a.BusiestThread) {
		t.Fatalf("first sample: busiest thread %v, want NaN (nothing to compare with)", a.BusiestThread)
	}
	var b probe.Sample
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(300 * time.Millisecond)
		if b, _ = p.Sample(context.Background()); b.BusiestThread > 0.5 {
			break
		}
	}
	// A shared machine may take part of that core: more than half of it
	// still tells a spinning thread from idle ones.
	if !(b.BusiestThread > 0.5 && b.BusiestThread <= 1.1) {
		t.Fatalf("busiest thread %v cores, want a spinning thread near 1", b.BusiestThread)
	}
}

func TestSummarizeWeighsTheBusiestThread(t *testing.T) {
	nan := math.NaN()
	sr := probe.Series{Samples: []probe.Sample{
		{T: 0, CPU: 0, Cores: 2, BusiestThread: nan, CPUWait: nan},
		{T: time.Second, CPU: 1, Cores: 2, BusiestThread: 1, CPUWait: nan},
		{T: 4 * time.Second, CPU: 2, Cores: 2, BusiestThread: 0.2, CPUWait: nan},
	}}
	w, err := probe.Summarize(sr, 0, 4*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// 1 core for 1 s, then 0.2 for 3 s: 1.6/4 = 0.4.
	if math.Abs(w.BusiestThread-0.4) > 1e-9 {
		t.Fatalf("busiest thread %v, want 0.4", w.BusiestThread)
	}
	if !math.IsNaN(w.CPUWait) {
		t.Fatalf("no sample knew the wait: %v, want NaN", w.CPUWait)
	}
	sr.Samples[0].CPUWait, sr.Samples[2].CPUWait = 10, 12
	sr.Samples[0].HostBusy, sr.Samples[2].HostBusy, sr.Samples[2].HostCores = 100, 106, 2
	if w, _ = probe.Summarize(sr, 0, 4*time.Second); w.CPUWait != 0.5 || w.HostCPUUtil != 0.75 {
		t.Fatalf("2 s waited and 6 CPU-seconds busy of 2 CPUs in 4 s: wait %v cores, machine %v, want 0.5 and 0.75", w.CPUWait, w.HostCPUUtil)
	}
}
