package diagnose_test

import (
	"math"
	"strings"
	"testing"

	"github.com/surgeload/surge/internal/diagnose"
	"github.com/surgeload/surge/internal/result"
)

// obs is one synthetic step.
type obs struct {
	level    float64
	rps      float64
	mean     float64 // ms
	p95      float64 // ms
	errRate  float64
	byClass  map[string]int64
	codes    map[string]int64
	cpuUtil  float64 // NaN: no probe
	rss      float64 // bytes, NaN: no probe
	genCPU   float64 // surge's CPU percent
	duration float64
}

// build turns observations into steps, judging them against p95<100ms and
// errors<1% as find would.
func build(os []obs) []diagnose.Step {
	var steps []diagnose.Step
	for _, o := range os {
		r := &result.Result{DurationS: o.duration}
		if r.DurationS == 0 {
			r.DurationS = 3
		}
		r.Summary.RPS = o.rps
		r.Summary.Requests = int64(o.rps * 3)
		p95 := o.p95
		if p95 == 0 {
			p95 = o.mean * 1.1
		}
		r.Summary.Latency = result.Latency{Mean: o.mean, P50: o.mean, P95: p95, P99: p95 * 1.1}
		r.Summary.Errors = result.Errors{Rate: o.errRate, Count: int64(o.errRate * float64(r.Summary.Requests)), ByClass: o.byClass}
		r.Summary.StatusCodes = o.codes
		if r.Summary.StatusCodes == nil {
			r.Summary.StatusCodes = map[string]int64{"200": r.Summary.Requests}
		}
		lat, errs := p95, 100*o.errRate
		r.Thresholds = []result.Threshold{
			{Expr: "p95<100ms", OK: lat < 100, Value: &lat, Unit: "ms"},
			{Expr: "errors<1%", OK: errs < 1, Value: &errs, Unit: "%"},
		}
		r.Client = result.Client{CPUPercent: o.genCPU, Cores: 2}
		if !math.IsNaN(o.cpuUtil) || !math.IsNaN(o.rss) {
			w := &result.ProbeWindow{}
			if !math.IsNaN(o.cpuUtil) {
				cores, util := 2.0, o.cpuUtil
				used := util * cores
				w.CPUCores, w.CPUUtil, w.Cores = &used, &util, &cores
			} else {
				zero := 0.0
				w.CPUCores = &zero
			}
			if !math.IsNaN(o.rss) {
				rss := o.rss
				w.RSSBytes = &rss
			}
			r.Probes = result.Probes{"prom=http://127.0.0.1:1/metrics": {Window: w}}
		}
		steps = append(steps, diagnose.Step{Level: o.level, OK: r.Thresholds[0].OK && r.Thresholds[1].OK, R: r})
	}
	return steps
}

// queue models a target serving c requests at once, each taking s ms, in a
// closed loop of n users: throughput min(n, c)/s, latency max(s, n·s/c).
func queue(levels []float64, c, s, cpu float64) []obs {
	var out []obs
	for _, n := range levels {
		rps := math.Min(n, c) * 1000 / s
		mean := math.Max(s, n*s/c)
		out = append(out, obs{level: n, rps: rps, mean: mean, cpuUtil: cpu, rss: math.NaN()})
	}
	return out
}

func input(steps []diagnose.Step, capacity float64, metAtMin, reachedMax bool) diagnose.Input {
	return diagnose.Input{Model: "users", Steps: steps, Capacity: capacity, MetAtMin: metAtMin, ReachedMax: reachedMax, SLO: []string{"p95<100ms", "errors<1%"}}
}

var grow = []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 192, 160, 176, 184, 180}

func TestConcurrencyLimit(t *testing.T) {
	v := diagnose.Diagnose(input(build(queue(grow, 20, 10, 0.05)), 180, true, false))
	if v.Class != diagnose.ConcurrencyLimit || math.Abs(v.ConcurrencyLimit-20) > 1 {
		t.Fatalf("%+v: want concurrency-limit ≈ 20", v)
	}
	want := []string{"throughput flat at ~2,000 req/s from 32 users up", "Little's law", "a CPU-based autoscaler would not react"}
	for _, w := range want {
		if !strings.Contains(strings.Join(v.Evidence, "\n"), w) {
			t.Errorf("evidence %q lacks %q", v.Evidence, w)
		}
	}
}

func TestSerialized(t *testing.T) {
	v := diagnose.Diagnose(input(build(queue([]float64{1, 2, 4, 8, 16, 12, 10, 9}, 1, 10, 0.02)), 9, true, false))
	if v.Class != diagnose.Serialized || math.Abs(v.ConcurrencyLimit-1) > 0.2 {
		t.Fatalf("%+v: want serialized ≈ 1", v)
	}
}

func TestCPU(t *testing.T) {
	v := diagnose.Diagnose(input(build(queue([]float64{1, 2, 4, 8, 16, 32, 24, 20}, 2, 10, 0.97)), 20, true, false))
	if v.Class != diagnose.CPU || !strings.Contains(v.Summary, "97% of 2 cores") {
		t.Fatalf("%+v: want cpu at 97%% of 2 cores", v)
	}
}

func TestPlateauWithoutProbeSaysSo(t *testing.T) {
	v := diagnose.Diagnose(input(build(queue([]float64{1, 2, 4, 8, 16, 32, 24, 20}, 2, 10, math.NaN())), 20, true, false))
	if v.Class != diagnose.ConcurrencyLimit || !strings.Contains(strings.Join(v.Evidence, " "), "target CPU unknown") {
		t.Fatalf("%+v: without a probe, a CPU limit looks like a concurrency limit of 2, and the evidence must say a probe is needed", v)
	}
}

func TestThrottled(t *testing.T) {
	var os []obs
	for _, r := range []float64{10, 20, 40, 80, 160, 120, 100, 110, 105} {
		o := obs{level: r, rps: r, mean: 1, cpuUtil: 0.03, rss: math.NaN()}
		if r > 102 {
			share := (r - 100) / r
			n := int64(share * r * 3)
			o.errRate = share
			o.byClass = map[string]int64{"http_4xx": n}
			o.codes = map[string]int64{"200": int64(300), "429": n}
		}
		os = append(os, o)
	}
	in := input(build(os), 100, true, false)
	in.Model = "rate"
	v := diagnose.Diagnose(in)
	if v.Class != diagnose.Throttled || !strings.Contains(v.Summary, "~100 req/s") {
		t.Fatalf("%+v: want throttled at ~100 req/s", v)
	}
}

func TestErrorsBeforeLatency(t *testing.T) {
	var os []obs
	for _, n := range []float64{1, 2, 4, 8, 16, 32, 64, 48, 56, 52, 50} {
		o := obs{level: n, rps: n * 100, mean: 10, cpuUtil: 0.1, rss: math.NaN()}
		if n > 50 {
			o.errRate = (n - 50) / n
			o.byClass = map[string]int64{"http_5xx": int64(o.errRate * o.rps * 3)}
		}
		os = append(os, o)
	}
	v := diagnose.Diagnose(input(build(os), 50, true, false))
	if v.Class != diagnose.Errors || !strings.Contains(v.Summary, "above ~50 users") {
		t.Fatalf("%+v: want errors above ~50 users", v)
	}
}

func TestLatencyFloor(t *testing.T) {
	os := []obs{{level: 1, rps: 5, mean: 200, cpuUtil: 0.01, rss: math.NaN()}, {level: 2, rps: 10, mean: 201, cpuUtil: 0.01, rss: math.NaN()}}
	v := diagnose.Diagnose(input(build(os), 0, false, false))
	if v.Class != diagnose.LatencyFloor {
		t.Fatalf("%+v: want latency-floor", v)
	}
}

func TestIncorrectResponses(t *testing.T) {
	os := []obs{
		{level: 1, rps: 400, mean: 2.5, cpuUtil: math.NaN(), rss: math.NaN()},
		{level: 2, rps: 800, mean: 2.5, errRate: 0.4, byClass: map[string]int64{"check": 960}, cpuUtil: math.NaN(), rss: math.NaN()},
	}
	in := input(build(os), 1, true, false)
	in.Checks = true
	v := diagnose.Diagnose(in)
	if v.Class != diagnose.IncorrectResponses || !strings.Contains(v.Summary, "only under concurrency") {
		t.Fatalf("%+v: want incorrect-responses", v)
	}
}

func TestMemory(t *testing.T) {
	var os []obs
	for i, n := range []float64{1, 2, 4, 8, 16} {
		os = append(os, obs{level: n, rps: n * 500, mean: 2, cpuUtil: 0.2, rss: float64(30+100*i) * (1 << 20)})
	}
	v := diagnose.Diagnose(input(build(os), 16, true, true))
	if v.Class != diagnose.Memory || !strings.Contains(v.Summary, "+400 MiB") {
		t.Fatalf("%+v: want memory +400 MiB", v)
	}
	// The same growth beside another bottleneck is listed as secondary.
	q := queue(grow, 20, 10, 0.05)
	for i := range q {
		q[i].rss = float64(30+50*i) * (1 << 20)
	}
	v = diagnose.Diagnose(input(build(q), 180, true, false))
	if v.Class != diagnose.ConcurrencyLimit || len(v.Secondary) != 1 || v.Secondary[0] != diagnose.Memory {
		t.Fatalf("%+v: want concurrency-limit with memory as secondary", v)
	}
}

func TestClient(t *testing.T) {
	os := queue([]float64{1, 2, 4, 8, 16, 32, 64, 128}, 1000, 1, 0.3)
	for i := range os {
		os[i].genCPU = 20
	}
	os[len(os)-1].genCPU = 97
	os[len(os)-1].p95 = 150
	v := diagnose.Diagnose(input(build(os), 64, true, false))
	if v.Class != diagnose.Client || !strings.Contains(v.Evidence[0], "97% of its 2 cores at 128 users") {
		t.Fatalf("%+v: want client", v)
	}
}

// Failures that never reached the target (surge's host out of local
// ports) are the generator's: client, not errors. The same failures as
// resets are the target's.
func TestClientOutOfLocalPorts(t *testing.T) {
	steps := func(class string) []diagnose.Step {
		os := queue([]float64{1, 2, 4, 8, 16, 32}, 1000, 1, 0.2)
		last := &os[len(os)-1]
		last.errRate, last.byClass = 0.2, map[string]int64{class: int64(0.2 * last.rps * 3)}
		return build(os)
	}
	v := diagnose.Diagnose(input(steps("local"), 16, true, false))
	if v.Class != diagnose.Client || !strings.Contains(v.Summary, "could not open connections at 32 users") ||
		!strings.Contains(strings.Join(v.Evidence, "\n"), "never reached the target") {
		t.Fatalf("%+v: want client, out of local ports", v)
	}
	if v := diagnose.Diagnose(input(steps("reset"), 16, true, false)); v.Class != diagnose.Errors {
		t.Fatalf("%+v: want errors", v)
	}
	// A few local failures at a level that failed on latency alone decide
	// nothing.
	few := queue([]float64{1, 2, 4, 8, 16, 32}, 8, 10, 0.02)
	last := &few[len(few)-1]
	last.errRate, last.byClass = 0.0002, map[string]int64{"local": 1}
	if v := diagnose.Diagnose(input(build(few), 8, true, false)); v.Class == diagnose.Client {
		t.Fatalf("one local failure in thousands: %+v", v)
	}
}

// One high step (a busy host let the target run for a moment) is not a
// peak that throughput fell from, when its level measured again did not
// reach it; a peak that held is.
func TestRetrogradeNeedsAPeakThatHeld(t *testing.T) {
	steps := func(again float64) []diagnose.Step {
		var os []obs
		for _, l := range []float64{1, 2, 4, 8, 16, 12, 10, 9, 9} {
			os = append(os, obs{level: l, rps: 100, mean: 10 * l, cpuUtil: 0.02, rss: math.NaN()})
		}
		os[7].rps = again                  // 9 users, bisecting
		os[8].rps, os[8].duration = 172, 6 // 9 users, confirming: the longer hold stands for the level
		os[8].mean, os[8].p95 = 50, 90
		return build(os)
	}
	if v := diagnose.Diagnose(input(steps(105), 9, true, false)); strings.Contains(v.Summary, "retrograde") {
		t.Fatalf("a peak not reproduced: %s", v.Summary)
	}
	if v := diagnose.Diagnose(input(steps(170), 9, true, false)); !strings.Contains(v.Summary, "retrograde") {
		t.Fatalf("a peak measured twice, then a fall: %s", v.Summary)
	}
}

func TestNone(t *testing.T) {
	v := diagnose.Diagnose(input(build(queue([]float64{1, 2, 4, 8}, 100, 1, 0.1)), 8, true, true))
	if v.Class != diagnose.None || !strings.Contains(v.Summary, "up to 8 users") {
		t.Fatalf("%+v: want none up to 8 users", v)
	}
	if v := diagnose.Diagnose(diagnose.Input{}); v.Class != diagnose.None || v.Evidence == nil {
		t.Fatalf("no steps: %+v", v)
	}
}
