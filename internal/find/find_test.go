package find_test

import (
	"strings"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/capacity"
	"github.com/surgeload/surge/internal/expr"
	"github.com/surgeload/surge/internal/find"
	"github.com/surgeload/surge/internal/result"
)

func levelResult(rps float64, ok bool) *result.Result {
	return &result.Result{
		DurationS:  2,
		Summary:    result.Summary{RPS: rps, Requests: int64(2 * rps), StatusCodes: map[string]int64{"200": int64(2 * rps)}},
		Timeline:   []result.Point{{T: 1, RPS: rps}, {T: 2, RPS: rps}},
		Thresholds: []result.Threshold{{Expr: "p95<100ms", OK: ok, Unit: "ms"}},
	}
}

func TestAssembleJoinsTheStepsAndNamesTheCapacity(t *testing.T) {
	slo, err := expr.Parse("p95<100ms")
	if err != nil {
		t.Fatal(err)
	}
	sp := &find.Spec{Target: "http://127.0.0.1:1/", Method: "GET", SLOs: []*expr.Expr{slo}, Model: "users"}
	confirmed := levelResult(190, true)
	confirmed.Summary.Errors.Rate = 0.05
	oc := capacity.Outcome{
		Steps: []capacity.Step{
			{Level: 10, Phase: capacity.Grow, OK: true, Result: levelResult(100, true)},
			{Level: 20, Phase: capacity.Grow, OK: false, Result: levelResult(200, false)},
			{Level: 15, Phase: capacity.Confirm, OK: true, Result: confirmed},
		},
		Capacity: 15, Confirmed: confirmed, MetAtMin: true,
	}
	r := find.Assemble(sp, oc, time.Now())
	if r.Capacity.Users != 15 || r.Capacity.RPS != 190 || !r.Capacity.Confirmed {
		t.Fatalf("capacity %+v, want 15 users at 190 req/s, confirmed", r.Capacity)
	}
	if g := r.Capacity.GoodputRPS; g == nil || *g != 180.5 {
		t.Fatalf("goodput %v, want 180.5 req/s (95 %% of 190)", g)
	}
	if len(r.Steps) != 3 || r.Steps[1].Users != 20 || r.Steps[1].SLOOK {
		t.Fatalf("steps %+v", r.Steps)
	}
	if n := len(r.Timeline); n != 6 || r.Timeline[5].T != 6 {
		t.Fatalf("timeline of %d points ending at %v, want 6 ending at t=6 (the steps back to back)", n, r.Timeline[n-1].T)
	}
	if r.Bottleneck == nil || r.Bottleneck.Class == "" {
		t.Fatalf("no diagnosis")
	}
}

func TestPlanFollowsTheModel(t *testing.T) {
	sp := &find.Spec{Model: "rate", MaxInflight: 7, Grace: time.Second}
	p := sp.Plan(250, 3*time.Second)
	if p.Arrivals == nil || p.Users != nil || p.MaxInflight != 7 || p.Duration != 3*time.Second {
		t.Fatalf("open-model plan %+v", p)
	}
	sp = &find.Spec{Model: "users", Think: time.Millisecond, ThinkMax: 2 * time.Millisecond}
	p = sp.Plan(12, time.Second)
	if p.Users == nil || p.Users.Max() != 12 || p.Think != time.Millisecond || p.ThinkMax != 2*time.Millisecond {
		t.Fatalf("closed-model plan %+v", p)
	}
}

func rss(level, from, to float64, ok bool) capacity.Step {
	r := levelResult(100, ok)
	delta := to - from
	r.Probes = result.Probes{"prom=http://127.0.0.1:1/metrics": {Window: &result.ProbeWindow{RSSBytes: &to, RSSDeltaBytes: &delta}}}
	return capacity.Step{Level: level, Phase: capacity.Grow, OK: ok, Result: r}
}

// The search stops once the target's memory grew past the bound since the
// first level, and the verdict is memory.
func TestMemoryGrowthHaltsTheSearch(t *testing.T) {
	sp := &find.Spec{Target: "http://127.0.0.1:1/", Method: "GET", Model: "users", MaxTargetGrowth: 100 << 20}
	steps := []capacity.Step{rss(1, 50<<20, 60<<20, true), rss(2, 60<<20, 120<<20, true), rss(4, 120<<20, 200<<20, true)}
	oc := capacity.Outcome{Steps: steps, Capacity: 4, MetAtMin: true, Halted: true}
	r := find.Assemble(sp, oc, time.Now())
	if r.Bottleneck.Class != "memory" || !strings.Contains(r.Bottleneck.Summary, "stopped growing the load at 4 users") {
		t.Fatalf("bottleneck %+v: want memory, stopped at 4 users", r.Bottleneck)
	}
	if !strings.Contains(strings.Join(r.Bottleneck.Evidence, " "), "from 50 MiB to 200 MiB (+150 MiB)") {
		t.Fatalf("evidence %q", r.Bottleneck.Evidence)
	}
}
