package runner_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/hist"
	"github.com/surgeload/surge/internal/load"
	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/runner"
	"github.com/surgeload/surge/internal/selfcheck"
)

// Late open-model sends are counted, and warned about from 1 % of the run.
func TestLateSendsAreWarnedAbout(t *testing.T) {
	tot := metrics.Totals{Latency: hist.New(), Lag: hist.New()}
	plan := load.Plan{Arrivals: load.ConstantRate{Rate: 100}, Duration: 10 * time.Second, MaxInflight: 10}
	for _, c := range []struct {
		late uint64
		warn bool
	}{{0, false}, {5, false}, {50, true}} {
		got := runner.ClientCheck(selfcheck.Report{}, tot, load.Stats{Sent: 1000, Late: c.late}, plan)
		warned := strings.Contains(strings.Join(got.Warnings, "\n"), "sent over 10ms late")
		if got.LateSends != int64(c.late) || warned != c.warn {
			t.Errorf("%d late of 1000: late_sends %d, warned %v; want %d, %v", c.late, got.LateSends, warned, c.late, c.warn)
		}
	}
}

// Requests that never left this host (out of descriptors or local ports)
// are warned about, in the closed model too.
func TestLocalFailuresAreWarnedAbout(t *testing.T) {
	plan := load.Plan{Users: load.RampUsers{N: 10}, Duration: 10 * time.Second}
	for _, n := range []int64{0, 3} {
		tot := metrics.Totals{Latency: hist.New(), Lag: hist.New(), ByClass: map[string]int64{"local": n, "timeout": 2}}
		got := runner.ClientCheck(selfcheck.Report{}, tot, load.Stats{}, plan)
		warned := strings.Contains(strings.Join(got.Warnings, "\n"), "3 requests never reached the target")
		if warned != (n > 0) {
			t.Errorf("%d local failures: warnings %q", n, got.Warnings)
		}
	}
}

// EndEarly ends a run after the interval it approves, as a complete run.
func TestEndEarly(t *testing.T) {
	srv, _ := target(t)
	o := options(t, srv.URL, load.Plan{Users: load.RampUsers{N: 2}, Duration: 20 * time.Second, Grace: time.Second}, "p95<1s")
	o.Warmup = 200 * time.Millisecond
	var asked int
	o.EndEarly = func(p runner.Progress) bool { asked++; return p.Point.Requests > 0 }
	start := time.Now()
	r, err := runner.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 10*time.Second || r.Partial || r.Summary.Requests == 0 || asked == 0 {
		t.Fatalf("took %v, partial %v, %d requests, asked %d times: want an early, complete run", took, r.Partial, r.Summary.Requests, asked)
	}
	if len(r.Thresholds) != 1 || !r.Thresholds[0].OK {
		t.Fatalf("thresholds %+v: want evaluated on what was measured", r.Thresholds)
	}
}
