package e2e

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// findResult is the part of find's result the tests read.
type findResult struct {
	Capacity struct {
		Users      int      `json:"users"`
		Rate       float64  `json:"rate"`
		RPS        float64  `json:"rps"`
		GoodputRPS *float64 `json:"goodput_rps"`
		MetAtMin   bool     `json:"met_at_min"`
		Confirmed  bool     `json:"confirmed"`
	} `json:"capacity"`
	Steps []struct {
		Users  int     `json:"users"`
		Rate   float64 `json:"rate"`
		Phase  string  `json:"phase"`
		SLOOK  bool    `json:"slo_ok"`
		RPS    float64 `json:"rps"`
		Client struct {
			SchedLag struct {
				P99 float64 `json:"p99"`
			} `json:"sched_lag_ms"`
		} `json:"client"`
	} `json:"steps"`
	Bottleneck struct {
		Class            string   `json:"class"`
		ConcurrencyLimit float64  `json:"concurrency_limit"`
		Summary          string   `json:"summary"`
		Evidence         []string `json:"evidence"`
		Secondary        []string `json:"secondary"`
	} `json:"bottleneck"`
	Timeline []map[string]float64 `json:"timeline"`
}

// quick are the find settings of these tests: short steps, since the lab's
// endpoints are steady within a second.
var quick = []string{"find", "-q", "--step-duration", "1500ms", "--warmup", "500ms", "--hold", "3s"}

func find(t *testing.T, args ...string) (findResult, outcome) {
	t.Helper()
	if testing.Short() {
		t.Skip("capacity searches take tens of seconds")
	}
	path := filepath.Join(t.TempDir(), "find.json")
	start := time.Now()
	o := surge(t, append(append(append([]string{}, quick...), "--json", path), args...)...)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("find wrote no result (exit %d): %s", o.code, o.stderr)
	}
	var r findResult
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s in %s: capacity %+v, %s (limit %.1f): %s\nevidence: %s", args[len(args)-1], time.Since(start).Round(time.Second),
		r.Capacity, r.Bottleneck.Class, r.Bottleneck.ConcurrencyLimit, r.Bottleneck.Summary, strings.Join(r.Bottleneck.Evidence, " | "))
	return r, o
}

func within(got, want, tol float64) bool { return math.Abs(got-want) <= tol*want }

func TestFindConcurrencyLimit(t *testing.T) {
	lab := startLab(t)
	// A pool of 4 slots held 20 ms: 200 req/s, concurrency 4.
	r, o := find(t, "-u", "64", "--probe", "prom="+lab+"/metrics", lab+"/pool?n=4&ms=20")
	if o.code != 0 {
		t.Fatalf("exit %d: %s", o.code, o.stderr)
	}
	if r.Bottleneck.Class != "concurrency-limit" || !within(r.Bottleneck.ConcurrencyLimit, 4, 0.2) {
		t.Fatalf("bottleneck %s, limit %.1f: want concurrency-limit, 4 ± 20%%", r.Bottleneck.Class, r.Bottleneck.ConcurrencyLimit)
	}
	if !within(r.Capacity.RPS, 200, 0.15) {
		t.Fatalf("capacity %.1f req/s, want 200 ± 15%%", r.Capacity.RPS)
	}
	// p95 < 100 ms with users × 20 ms / 4 of latency: about 20 users.
	if r.Capacity.Users < 14 || r.Capacity.Users > 23 {
		t.Fatalf("capacity %d users, want ~20 (p95 = users × 5 ms)", r.Capacity.Users)
	}
	if !strings.Contains(strings.Join(r.Bottleneck.Evidence, " "), "a CPU-based autoscaler would not react") {
		t.Fatalf("evidence %q should note that CPU stayed flat", r.Bottleneck.Evidence)
	}
	if len(r.Timeline) < len(r.Steps) {
		t.Fatalf("timeline of %d points for %d steps", len(r.Timeline), len(r.Steps))
	}
}

func TestFindSerialized(t *testing.T) {
	lab := startLab(t)
	r, _ := find(t, "-u", "64", "--probe", "prom="+lab+"/metrics", lab+"/lock?ms=10")
	if r.Bottleneck.Class != "serialized" || !within(r.Bottleneck.ConcurrencyLimit, 1, 0.2) {
		t.Fatalf("bottleneck %s, limit %.1f: want serialized ≈ 1", r.Bottleneck.Class, r.Bottleneck.ConcurrencyLimit)
	}
	if !within(r.Capacity.RPS, 100, 0.15) {
		t.Fatalf("capacity %.1f req/s, want 100 ± 15%%", r.Capacity.RPS)
	}
}

func TestFindCPU(t *testing.T) {
	lab := startLabEnv(t, []string{"GOMAXPROCS=1"})
	// 10 ms of CPU per request on one core: 100 req/s, CPU saturated.
	r, _ := find(t, "-u", "64", "--probe", "prom="+lab+"/metrics", lab+"/cpu?ms=10")
	if r.Bottleneck.Class != "cpu" {
		t.Fatalf("bottleneck %s: want cpu", r.Bottleneck.Class)
	}
	if !within(r.Capacity.RPS, 100, 0.15) {
		t.Fatalf("capacity %.1f req/s, want 100 ± 15%%", r.Capacity.RPS)
	}
}

func TestFindThrottled(t *testing.T) {
	lab := startLab(t)
	r, _ := find(t, "-r", "800", "--min", "25", lab+"/quota?rps=100")
	if r.Bottleneck.Class != "throttled" {
		t.Fatalf("bottleneck %s: want throttled", r.Bottleneck.Class)
	}
	if !within(r.Capacity.Rate, 100, 0.15) {
		t.Fatalf("capacity %.1f req/s, want 100 ± 15%%", r.Capacity.Rate)
	}
}

func TestFindErrors(t *testing.T) {
	lab := startLab(t)
	// More than 20 requests in flight get a 500 at once.
	r, _ := find(t, "-u", "128", lab+"/overload?limit=20&ms=10")
	if r.Bottleneck.Class != "errors" {
		t.Fatalf("bottleneck %s: want errors", r.Bottleneck.Class)
	}
	if !within(float64(r.Capacity.Users), 20, 0.15) {
		t.Fatalf("capacity %d users, want 20 ± 15%%", r.Capacity.Users)
	}
}

func TestFindLatencyFloor(t *testing.T) {
	lab := startLab(t)
	r, o := find(t, "-u", "64", lab+"/slow?ms=200")
	if o.code != 3 || r.Capacity.MetAtMin {
		t.Fatalf("exit %d, met at min %v: want 3 and false (the SLO fails at the lowest load)", o.code, r.Capacity.MetAtMin)
	}
	if r.Bottleneck.Class != "latency-floor" {
		t.Fatalf("bottleneck %s: want latency-floor", r.Bottleneck.Class)
	}
}

func TestFindIncorrectResponses(t *testing.T) {
	lab := startLab(t)
	r, _ := find(t, "-u", "32", "--check", `body~"id":"{{id}}"`, lab+"/race?id={{id}}&ms=2")
	if r.Bottleneck.Class != "incorrect-responses" {
		t.Fatalf("bottleneck %s: want incorrect-responses", r.Bottleneck.Class)
	}
	if r.Capacity.Users != 1 {
		t.Fatalf("capacity %d users, want 1 (two overlapping requests already go wrong)", r.Capacity.Users)
	}
}

func TestFindMemory(t *testing.T) {
	lab := startLab(t, "--leak-max", "1024")
	r, _ := find(t, "-u", "4", "--probe", "prom="+lab+"/metrics", lab+"/leak?kb=16")
	if r.Bottleneck.Class != "memory" {
		t.Fatalf("bottleneck %s: want memory", r.Bottleneck.Class)
	}
}

func TestFindNone(t *testing.T) {
	lab := startLab(t)
	r, o := find(t, "-u", "4", lab+"/fast")
	if o.code != 0 || r.Bottleneck.Class != "none" || r.Capacity.Users != 4 || !r.Capacity.Confirmed {
		t.Fatalf("exit %d, class %s, capacity %+v: want none at 4 users, confirmed", o.code, r.Bottleneck.Class, r.Capacity)
	}
}

func TestFindBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"find", "--model", "both", "http://127.0.0.1:1/"}, `--model "both": want users or rate`},
		{[]string{"find", "--probe", "ssh=x", "http://127.0.0.1:1/"}, `unknown kind "ssh"`},
		{[]string{"find", "--probe-metric", "x", "http://127.0.0.1:1/"}, "--probe-metric needs a --probe prom=URL"},
		{[]string{"find", "--warmup", "5s", "-d", "2s", "http://127.0.0.1:1/"}, "--warmup must be"},
		{[]string{"find", "--min", "2.5", "http://127.0.0.1:1/"}, "whole numbers"},
		{[]string{"find", "--slo", "p95<", "http://127.0.0.1:1/"}, "missing bound"},
		{[]string{"find", "--check", "status=200", "http://127.0.0.1:1/"}, "--check"},
		{[]string{"find", "-u", "5", "-r", "5", "http://127.0.0.1:1/"}, "exclude each other"},
	} {
		o := surge(t, tc.args...)
		if o.code != 2 || !strings.Contains(o.stderr, tc.msg) || strings.Count(strings.TrimSpace(o.stderr), "\n") != 0 {
			t.Errorf("surge %v: exit %d stderr %q, want 2 and one line with %q", tc.args, o.code, o.stderr, tc.msg)
		}
	}
}

func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo takes about a minute")
	}
	start := time.Now()
	o := surge(t, "demo", "-q")
	took := time.Since(start)
	if o.code != 0 {
		t.Fatalf("demo exited %d: %s", o.code, o.stderr)
	}
	if took > 90*time.Second {
		t.Fatalf("demo took %v, want ≤ 90 s", took)
	}
	if !strings.Contains(o.stdout, "✓ surge named the bottleneck") {
		t.Fatalf("demo verdict did not match the lab's truth:\n%s", o.stdout)
	}
}
