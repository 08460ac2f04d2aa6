package report_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/compare"
	"github.com/surgeload/surge/internal/hist"
	"github.com/surgeload/surge/internal/report"
	"github.com/surgeload/surge/internal/result"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func golden(t *testing.T, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", t.Name()+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/report -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("output differs from %s (run with -update after checking):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func f(v float64) *float64 { return &v }

func sampleRun() *result.Result {
	return &result.Result{
		Version: 1, Target: "http://127.0.0.1:8080/users", Method: "GET", Model: "users", Users: 50,
		Started: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC), DurationS: 30.004,
		Summary: result.Summary{
			Requests: 123456, RPS: 4115.2,
			Latency:     result.Latency{Mean: 12.1, Min: 0.4, P50: 10.2, P90: 18.3, P95: 24.9, P99: 61.2, P999: 250, Max: 1204},
			Errors:      result.Errors{Count: 12, Rate: 0.0001, ByClass: map[string]int64{"timeout": 10, "http_5xx": 2}},
			StatusCodes: map[string]int64{"200": 123444, "503": 2},
			BytesIn:     48_000_000, BytesOut: 9_100_000, Sent: 123466, Unfinished: 10, Connections: 50,
			Protocols: map[string]int64{"HTTP/1.1": 123446},
		},
		Thresholds: []result.Threshold{
			{Expr: "p95<100ms", OK: true, Value: f(24.9), Unit: "ms"},
			{Expr: "errors<0.001%", OK: false, Value: f(0.01), Unit: "%"},
			{Expr: "rps>5000", OK: false, Value: f(4115.2), Unit: "req/s"},
		},
		Client: result.Client{CPUPercent: 91, Cores: 2, SchedLag: result.Lag{P99: 12.5},
			Warnings: []string{"surge used 91% of its 2 cores: the load generator is saturated"}},
	}
}

func TestSummary(t *testing.T) {
	var b bytes.Buffer
	if err := report.Summary(&b, sampleRun()); err != nil {
		t.Fatal(err)
	}
	golden(t, b.Bytes())
}

func TestFind(t *testing.T) {
	r := sampleRun()
	r.Capacity = &result.Capacity{Users: 176, RPS: 1852.4, SLO: []string{"p95<100ms", "errors<1%"}, MetAtMin: true, Confirmed: true}
	step := func(users int, rps, p95 float64, ok bool, phase string) result.Step {
		return result.Step{Users: users, RPS: rps, Phase: phase, SLOOK: ok,
			Latency: result.Latency{P50: p95 * 0.9, P95: p95, P99: p95 * 1.05},
			Probes:  map[string]*result.ProbeWindow{"prom=x": {CPUUtil: f(0.05)}}}
	}
	r.Steps = []result.Step{step(1, 94.3, 11, true, "grow"), step(256, 1850, 144, false, "grow"), step(176, 1852.4, 99.8, true, "confirm")}
	r.Bottleneck = &result.Bottleneck{Class: "concurrency-limit", ConcurrencyLimit: 19.8,
		Summary:  "Throughput stops at ~1,859 req/s because only about 20 requests are served at once.",
		Evidence: []string{"throughput flat at ~1,859 req/s from 32 users up", "Little's law: 1,859 req/s × 10.7ms ≈ 19.8"}}
	r.Client.Warnings = nil
	var b bytes.Buffer
	if err := report.Find(&b, r); err != nil {
		t.Fatal(err)
	}
	golden(t, b.Bytes())
}

func TestFormats(t *testing.T) {
	cases := []struct{ got, want string }{
		{report.Ms(0.4123), "0.412ms"}, {report.Ms(4.021), "4.02ms"}, {report.Ms(40.12), "40.1ms"},
		{report.Ms(402.1), "402ms"}, {report.Ms(4021), "4.02s"}, {report.Ms(0), "0ms"},
		{report.Int(1234567), "1,234,567"}, {report.Int(-1234), "-1,234"}, {report.Int(12), "12"},
		{report.Rate(12.34), "12.3"}, {report.Rate(12345.6), "12,346"},
		{report.Bytes(512), "512 B"}, {report.Bytes(12_300), "12.3 kB"}, {report.Bytes(4_560_000), "4.56 MB"},
		{report.Pct(0), "0%"}, {report.Pct(0.00001), "<0.01%"}, {report.Pct(0.015), "1.50%"}, {report.Pct(0.3), "30.0%"},
		{report.Seconds(4200 * time.Millisecond), "4.2s"}, {report.Seconds(65 * time.Second), "1m05s"},
		{report.Level("users", 1), "1 user"}, {report.Level("users", 40), "40 users"}, {report.Level("rate", 250), "250 req/s"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestProgress(t *testing.T) {
	var b bytes.Buffer
	p := report.NewProgress(&b, false, 10*time.Second)
	p.Update(2*time.Second, metricsPoint(), 1000, 3)
	p.Done()
	want := "  2.0s/10.0s       502 req/s  p50 10.2ms  p99 40.1ms  errors 3      users 5  inflight 5\n"
	if b.String() != want {
		t.Fatalf("plain progress line\n got %q\nwant %q", b.String(), want)
	}
	b.Reset()
	p = report.NewProgress(&b, true, 10*time.Second)
	p.Update(2*time.Second, metricsPoint(), 1000, 3)
	p.Done()
	if !bytes.HasPrefix(b.Bytes(), []byte("\r\033[K")) || !bytes.HasSuffix(b.Bytes(), []byte("\n")) {
		t.Fatalf("terminal progress %q should rewrite the line and end it when done", b.String())
	}
}

func TestScenarioSummary(t *testing.T) {
	r := sampleRun()
	r.Method, r.Target = "", "shop.yaml"
	r.Client.Warnings = nil
	r.StepNames = []string{"login", "items", "order"}
	step := func(n int64, rps, p50, p95 float64, errs int64, by map[string]int64) result.Summary {
		return result.Summary{Requests: n, RPS: rps, Latency: result.Latency{P50: p50, P95: p95},
			Errors: result.Errors{Count: errs, Rate: float64(errs) / float64(n), ByClass: by}}
	}
	r.ByStep = map[string]result.Summary{
		"login": step(41200, 1373, 1.2, 3.4, 0, nil),
		"items": step(41200, 1373, 0.9, 2.8, 0, nil),
		"order": step(41056, 1368, 38.5, 91.2, 144, map[string]int64{"check": 144}),
	}
	r.Iterations = &result.Iterations{Count: 41200, Completed: 41056, Failed: 144, Rate: 1373.2, Latency: result.Latency{P50: 45, P95: 101}}
	r.Stopped = "data exhausted: feeder accounts handed out all its 1000 rows (order unique)"
	var b bytes.Buffer
	if err := report.Summary(&b, r); err != nil {
		t.Fatal(err)
	}
	golden(t, b.Bytes())
}

// pair builds a before/after pair by hand: B is twice as fast, with fewer
// errors, over a 10-second timeline.
func pair(t *testing.T) (*result.Result, *result.Result) {
	t.Helper()
	mk := func(scale float64, rps float64, errs int64) *result.Result {
		h := hist.New()
		for i := 1; i <= 4000; i++ {
			h.Record(time.Duration(float64(i%400+10)*scale) * time.Millisecond / 10)
		}
		enc, err := h.Encode()
		if err != nil {
			t.Fatal(err)
		}
		r := sampleRun()
		r.Client.Warnings = nil
		r.Histogram = enc
		r.Summary.Requests = 4000
		r.Summary.RPS = rps
		r.Summary.Errors = result.Errors{Count: errs, Rate: float64(errs) / 4000, ByClass: map[string]int64{"timeout": errs}}
		r.Summary.StatusCodes = map[string]int64{"200": 4000 - errs}
		r.Timeline = nil
		for s := 1; s <= 10; s++ {
			r.Timeline = append(r.Timeline, result.Point{T: float64(s), RPS: rps + float64(s%3)*rps/50, Users: 50,
				P50: 20 * scale, P95: 38 * scale, P99: 40 * scale, Errors: errs / 10})
		}
		return r
	}
	return mk(2, 206, 210), mk(1, 823, 40)
}

func TestCompare(t *testing.T) {
	a, b := pair(t)
	c, err := compare.Compare(compare.Input{Name: "before.json", R: a}, compare.Input{Name: "after.json", R: b})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := report.Compare(&buf, c); err != nil {
		t.Fatal(err)
	}
	golden(t, buf.Bytes())
}

// Two find results of a scenario: capacity, bottleneck and each step.
func TestCompareFind(t *testing.T) {
	a, b := pair(t)
	for i, r := range []*result.Result{a, b} {
		r.Capacity = &result.Capacity{Users: 40 * (i + 1), RPS: 200 * float64(i+1), SLO: []string{"p95<100ms"}, MetAtMin: true, Confirmed: true}
		r.Steps = []result.Step{{Users: 40 * (i + 1), SLOOK: true, DurationS: 4}, {Users: 80 * (i + 1), DurationS: 4}, {Users: 40 * (i + 1), SLOOK: true, Phase: "confirm", DurationS: 10}}
		r.Bottleneck = &result.Bottleneck{Class: []string{"cpu", "concurrency-limit"}[i]}
		r.StepNames = []string{"login", "order"}
		r.ByStep = map[string]result.Summary{
			"login": {Requests: 2000, RPS: 100, Latency: result.Latency{P50: 5, P95: 9, P99: 12}, Errors: result.Errors{Count: 1}},
			"order": {Requests: 2000, RPS: 100, Latency: result.Latency{P50: 50, P95: 90 / float64(i+1), P99: 120}, Errors: result.Errors{Count: int64(100 - 90*i), ByClass: map[string]int64{"check": int64(100 - 90*i)}}},
		}
	}
	c, err := compare.Compare(compare.Input{Name: "before.json", R: a}, compare.Input{Name: "after.json", R: b})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := report.Compare(&buf, c); err != nil {
		t.Fatal(err)
	}
	golden(t, buf.Bytes())
}
