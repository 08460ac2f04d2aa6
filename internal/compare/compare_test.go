package compare_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/compare"
	"github.com/surgeload/surge/internal/hist"
	"github.com/surgeload/surge/internal/result"
)

// world draws synthetic runs: n request latencies from a log-normal
// distribution (median 20 ms × slow, σ 0.5), seconds of throughput around
// rps (sd 4 %), and errors with probability errRate. Everything comes from
// a seeded generator, so the tests are deterministic.
type world struct {
	rng *rand.Rand
	// drift is the σ of a per-second factor on every latency of that
	// second (and on its throughput): a target that drifts, whose requests
	// are not independent.
	drift float64
}

func newWorld(seed uint64) *world { return &world{rng: rand.New(rand.NewPCG(seed, 42))} }

func (w *world) run(n int, slow, rps, errRate float64) *result.Result {
	const seconds = 30
	h := hist.New()
	var errs int64
	var tl []result.Point
	sum := 0.0
	for s := 1; s <= seconds; s++ {
		factor := math.Exp(w.drift * w.rng.NormFloat64())
		sec := make([]float64, 0, n/seconds)
		for range n / seconds {
			v := 20 * slow * factor * math.Exp(0.5*w.rng.NormFloat64())
			h.Record(time.Duration(v * float64(time.Millisecond)))
			sec = append(sec, v)
			if w.rng.Float64() < errRate {
				errs++
			}
		}
		// The second's own percentiles, as the timeline records them.
		slices.Sort(sec)
		at := func(q float64) float64 { return sec[int(q*float64(len(sec)-1))] }
		x := rps * (1 + 0.04*w.rng.NormFloat64()) / factor
		sum += x
		tl = append(tl, result.Point{T: float64(s), RPS: x, Requests: int64(len(sec)), P50: at(0.5), P95: at(0.95), P99: at(0.99)})
	}
	enc, err := h.Encode()
	if err != nil {
		panic(err)
	}
	n = int(h.Count())
	lat := result.Latency{Mean: result.Ms(h.Mean()), P50: result.Ms(h.Quantile(0.5)), P95: result.Ms(h.Quantile(0.95)),
		P99: result.Ms(h.Quantile(0.99)), Max: result.Ms(h.Max())}
	return &result.Result{
		Version: 1, Model: "users", Target: "http://127.0.0.1/x", DurationS: seconds, Histogram: enc, Timeline: tl,
		Summary: result.Summary{Requests: int64(n), RPS: sum / seconds, Latency: lat,
			Errors:      result.Errors{Count: errs, Rate: float64(errs) / float64(n), ByClass: map[string]int64{"http_5xx": errs}},
			StatusCodes: map[string]int64{"200": int64(n) - errs, "503": errs}},
	}
}

func mustCompare(t *testing.T, a, b *result.Result) *compare.Comparison {
	t.Helper()
	c, err := compare.Compare(compare.Input{Name: "a.json", R: a}, compare.Input{Name: "b.json", R: b})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func row(t *testing.T, c *compare.Comparison, section, name string) compare.Row {
	t.Helper()
	r, ok := c.Find(section, name)
	if !ok {
		t.Fatalf("no row %s/%s", section, name)
	}
	return r
}

var figures = [][2]string{{"latency", "mean"}, {"latency", "p50"}, {"latency", "p95"}, {"latency", "p99"}, {"throughput", "rps"}, {"errors", "errors"}}

// TestFalseAlarmRate draws both sides of many pairs (10 000 requests and
// 30 seconds each) from one distribution:
// at most 5 % of the pairs may be called a real change, figure by figure
// (the tests run at 1 %).
func TestFalseAlarmRate(t *testing.T) {
	w := newWorld(1)
	flagged := map[[2]string]int{}
	for range pairs {
		c := mustCompare(t, w.run(10000, 1, 1000, 0.01), w.run(10000, 1, 1000, 0.01))
		for _, f := range figures {
			if row(t, c, f[0], f[1]).Real {
				flagged[f]++
			}
		}
	}
	for _, f := range figures {
		rate := float64(flagged[f]) / pairs
		t.Logf("%s/%s: false alarms %d/%d = %.1f%%", f[0], f[1], flagged[f], pairs, 100*rate)
		if rate > 0.05 {
			t.Errorf("%s/%s: %.1f%% of identical pairs called real, want ≤ 5%%", f[0], f[1], 100*rate)
		}
	}
}

// TestFalseAlarmRateWithDrift: both sides again from one distribution, but
// each second's latencies share a random factor (σ 10 %), as when a target
// drifts. Requests are then not independent; the tests must widen their
// intervals from the timeline (Inflation) and still stay at ≤ 5 %.
func TestFalseAlarmRateWithDrift(t *testing.T) {
	w := newWorld(7)
	w.drift = 0.10
	flagged := map[[2]string]int{}
	for range pairs {
		c := mustCompare(t, w.run(10000, 1, 1000, 0.01), w.run(10000, 1, 1000, 0.01))
		for _, f := range figures {
			if row(t, c, f[0], f[1]).Real {
				flagged[f]++
			}
		}
	}
	for _, f := range figures {
		rate := float64(flagged[f]) / pairs
		t.Logf("%s/%s: false alarms with drift %d/%d = %.1f%%", f[0], f[1], flagged[f], pairs, 100*rate)
		if rate > 0.05 {
			t.Errorf("%s/%s: %.1f%% of identical drifting pairs called real, want ≤ 5%%", f[0], f[1], 100*rate)
		}
	}
}

func TestInflationNearOneForIndependentRequests(t *testing.T) {
	r := newWorld(8).run(10000, 1, 1000, 0)
	h, _ := hist.Decode(r.Histogram)
	var vals, counts []float64
	for _, p := range r.Timeline {
		vals = append(vals, p.P95)
		counts = append(counts, float64(p.Requests))
	}
	if f := compare.Inflation(h, 0.95, vals, counts); f > 2 {
		t.Errorf("inflation %.2f for independent requests, want about 1", f)
	}
}

// TestPower shifts B by a known amount: 25 % slower, 5 % less throughput,
// errors from 1 % to 2 %. At least 90 % of the pairs must be called real,
// and worse.
func TestPower(t *testing.T) {
	w := newWorld(2)
	detected := map[[2]string]int{}
	for range pairs {
		c := mustCompare(t, w.run(10000, 1, 1000, 0.01), w.run(10000, 1.25, 950, 0.02))
		for _, f := range figures {
			if r := row(t, c, f[0], f[1]); r.Real {
				if r.Verdict != compare.Worse {
					t.Fatalf("%s/%s: %+v called %s, want worse", f[0], f[1], r, r.Verdict)
				}
				detected[f]++
			}
		}
	}
	for _, f := range figures {
		rate := float64(detected[f]) / pairs
		t.Logf("%s/%s: detected %d/%d = %.1f%%", f[0], f[1], detected[f], pairs, 100*rate)
		if rate < 0.9 {
			t.Errorf("%s/%s: %.1f%% of shifted pairs detected, want ≥ 90%%", f[0], f[1], 100*rate)
		}
	}
}

// A better B is called better, with the figures of the decoded histograms.
func TestBetterAndExactPercentiles(t *testing.T) {
	w := newWorld(3)
	a, b := w.run(5000, 2, 500, 0.05), w.run(5000, 1, 1000, 0.001)
	c := mustCompare(t, a, b)
	for _, f := range figures {
		if r := row(t, c, f[0], f[1]); r.Verdict != compare.Better {
			t.Errorf("%s/%s: %s, want better (%+v)", f[0], f[1], r.Verdict, r)
		}
	}
	hb, _ := hist.Decode(b.Histogram)
	if got, want := row(t, c, "latency", "p95").B, result.Ms(hb.Quantile(0.95)); got != want {
		t.Errorf("B p95 %v, want %v from the histogram", got, want)
	}
	if s := row(t, c, "status", "200"); s.Verdict != compare.Better || s.Higher != "better" {
		t.Errorf("status 200 row %+v: want better, higher is better", s)
	}
}

func TestMannWhitneyKnownValues(t *testing.T) {
	// A = {1,2,3} ms, B = {4,5,6} ms: B slower in every pair.
	a, b := hist.New(), hist.New()
	for i := 1; i <= 3; i++ {
		a.Record(time.Duration(i) * time.Millisecond)
		b.Record(time.Duration(i+3) * time.Millisecond)
	}
	rt := compare.MannWhitney(a, b, 1)
	if rt.A12 != 1 {
		t.Errorf("A12 = %v, want 1", rt.A12)
	}
	// U = 9, mean 4.5, var = 9·7/12 = 5.25, z = (4.5−0.5)/√5.25 = 1.7457.
	if want := math.Erfc(1.7457431 / math.Sqrt2); math.Abs(rt.P-want) > 1e-6 {
		t.Errorf("p = %v, want %v", rt.P, want)
	}
	// All ties: no evidence at all.
	c, d := hist.New(), hist.New()
	c.Record(time.Millisecond)
	d.Record(time.Millisecond)
	if rt := compare.MannWhitney(c, d, 1); rt.P != 1 || rt.A12 != 0.5 {
		t.Errorf("ties: %+v, want p 1 and A12 0.5", rt)
	}
}

func TestBootstrapIsDeterministic(t *testing.T) {
	a, b := []float64{1, 2, 3, 4, 5}, []float64{2, 3, 4, 5, 6}
	lo1, hi1 := compare.BootstrapMeanDiff(a, b, 0.01, 1000)
	lo2, hi2 := compare.BootstrapMeanDiff(a, b, 0.01, 1000)
	if lo1 != lo2 || hi1 != hi2 || lo1 >= 1 || hi1 <= 1 {
		t.Fatalf("intervals [%v,%v] and [%v,%v]: want equal, around 1", lo1, hi1, lo2, hi2)
	}
}

// A result of an older surge, without histogram, timeline or newer keys,
// still compares: figures from the summary, marked not tested.
func TestOlderResultCompares(t *testing.T) {
	old := &result.Result{Version: 1, Summary: result.Summary{Requests: 1000, RPS: 100,
		Latency: result.Latency{P50: 10, P95: 30}, Errors: result.Errors{Count: 10}}}
	c := mustCompare(t, old, newWorld(4).run(1000, 1, 100, 0.01))
	r := row(t, c, "latency", "p95")
	if r.Verdict != compare.NotTested || r.A != 30 {
		t.Errorf("p95 row %+v: want A 30 from the summary, not tested", r)
	}
	if e := row(t, c, "errors", "errors"); e.Verdict == compare.NotTested {
		t.Errorf("errors row %+v: counts are enough to test", e)
	}
	if len(c.Notes) == 0 || !strings.Contains(strings.Join(c.Notes, " "), "a.json has no histogram") {
		t.Errorf("notes %q: want one about a.json's missing histogram", c.Notes)
	}
}

func TestCapacityBrackets(t *testing.T) {
	find := func(capUsers int, failAt int) *result.Result {
		r := &result.Result{Version: 1, Model: "users", Capacity: &result.Capacity{Users: capUsers, RPS: float64(capUsers) * 10, MetAtMin: true},
			Bottleneck: &result.Bottleneck{Class: "concurrency-limit"}}
		r.Steps = []result.Step{{Users: capUsers, SLOOK: true}, {Users: failAt, SLOOK: false}}
		return r
	}
	cases := []struct {
		a, b *result.Result
		want string
	}{
		{find(40, 42), find(80, 84), compare.Better},   // B held at 80 where A failed at 42
		{find(40, 42), find(41, 43), compare.NoChange}, // within A's bracket
		{find(80, 84), find(40, 42), compare.Worse},    // B failed at 42 where A held at 80
	}
	for i, tc := range cases {
		c := mustCompare(t, tc.a, tc.b)
		if r := row(t, c, "capacity", "level"); r.Verdict != tc.want {
			t.Errorf("case %d: %+v, want %s", i, r, tc.want)
		}
		if c.Bottleneck == nil || c.Bottleneck[0] != "concurrency-limit" {
			t.Errorf("case %d: bottleneck %v", i, c.Bottleneck)
		}
	}
}

func TestSteps(t *testing.T) {
	w := newWorld(5)
	a, b := w.run(1000, 1, 100, 0), w.run(1000, 1, 100, 0)
	step := func(req, errs int64, p95 float64) result.Summary {
		return result.Summary{Requests: req, RPS: float64(req) / 10, Latency: result.Latency{P95: p95},
			Errors: result.Errors{Count: errs, ByClass: map[string]int64{"check": errs}}}
	}
	a.StepNames, b.StepNames = []string{"login", "order"}, []string{"login", "order"}
	a.ByStep = map[string]result.Summary{"login": step(5000, 0, 10), "order": step(5000, 5, 40)}
	b.ByStep = map[string]result.Summary{"login": step(5000, 0, 11), "order": step(5000, 400, 90)}
	c := mustCompare(t, a, b)
	if r := row(t, c, "step order", "errors"); r.Verdict != compare.Worse {
		t.Errorf("order errors %+v: want worse", r)
	}
	if r := row(t, c, "step login", "errors"); r.Verdict != compare.NoChange {
		t.Errorf("login errors %+v: want no real change", r)
	}
	if r := row(t, c, "step order", "p95"); r.A != 40 || r.B != 90 || r.Verdict != compare.NotTested {
		t.Errorf("order p95 %+v", r)
	}
}

func TestBounds(t *testing.T) {
	w := newWorld(6)
	c := mustCompare(t, w.run(3000, 1, 1000, 0.01), w.run(3000, 1.5, 800, 0.03))
	cases := []struct {
		src   string
		broke bool
	}{
		{"p95>+10%", true}, {"p95>+80%", false}, {"rps<-5%", true}, {"rps<-30%", false},
		{"errors>+0.5pp", true}, {"errors>+5pp", false}, {"mean > +20%", true},
	}
	for _, tc := range cases {
		b, err := compare.ParseBound(tc.src)
		if err != nil {
			t.Fatalf("%s: %v", tc.src, err)
		}
		broke, _, found := b.Check(c)
		if !found || broke != tc.broke {
			t.Errorf("%s: broken %v (found %v), want %v", tc.src, broke, found, tc.broke)
		}
	}
	if b, _ := compare.ParseBound("capacity<-10%"); b.Metric != "capacity" {
		t.Error("capacity bound not parsed")
	} else if _, _, found := b.Check(c); found {
		t.Error("capacity found in a comparison of two runs")
	}
	for _, bad := range []string{"p95", "p95>10", "latency>+10%", "p95>+10pp", "rps<-x%", ">+5%"} {
		if _, err := compare.ParseBound(bad); err == nil {
			t.Errorf("ParseBound(%q) accepted", bad)
		}
	}
}

// Steps that keep their histograms have their latency tested like the
// whole run's: a step twice as slow is worse, a step drawn from the same
// distribution is not.
func TestStepLatencyIsTested(t *testing.T) {
	w := newWorld(9)
	a, b := w.run(3000, 1, 100, 0), w.run(3000, 1, 100, 0)
	same1, same2 := w.run(3000, 1, 100, 0), w.run(3000, 1, 100, 0)
	slow := w.run(3000, 2, 100, 0)
	step := func(r *result.Result) result.Summary {
		s := r.Summary
		s.Histogram = r.Histogram
		return s
	}
	a.StepNames, b.StepNames = []string{"login", "order"}, []string{"login", "order"}
	a.ByStep = map[string]result.Summary{"login": step(same1), "order": step(same2)}
	b.ByStep = map[string]result.Summary{"login": step(a), "order": step(slow)}
	c := mustCompare(t, a, b)
	if r := row(t, c, "step order", "p95"); r.Verdict != compare.Worse || r.Method != compare.MethodQuantile {
		t.Errorf("order p95 %+v: want worse, by the quantile test", r)
	}
	if r := row(t, c, "step login", "p95"); r.Verdict != compare.NoChange {
		t.Errorf("login p95 %+v: want no real change", r)
	}
}
