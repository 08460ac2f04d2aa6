package diagnose_test

import (
	"strings"
	"testing"

	"github.com/surgeload/surge/internal/diagnose"
	"github.com/surgeload/surge/internal/result"
)

// journeyLevel is one level of a search over the shop journey: login and
// items answer in about a millisecond at any load; orders go through a
// pool of 8 slots held 5 ms (1,600 orders/s), so past that the journeys'
// rate is flat and only the order step queues.
func journeyLevel(users int, ok bool) diagnose.Step {
	rate := min(float64(users)/0.0075, 1600) // a journey: ~1 + 1 + 5.5 ms unloaded
	orderP95 := 5.5
	if float64(users)/0.0075 > 1600 {
		orderP95 = float64(users)/1600*1000 - 2 // Little's law: the rest of the journey's time is the queue
	}
	sum := func(p95, errs float64) result.Summary {
		return result.Summary{Requests: int64(rate * 10), RPS: rate,
			Latency: result.Latency{Mean: p95 * 0.8, P50: p95 * 0.7, P95: p95, P99: p95 * 1.1},
			Errors:  result.Errors{Rate: errs}, StatusCodes: map[string]int64{"200": int64(rate * 10)}}
	}
	r := &result.Result{
		StepNames: []string{"login", "items", "order"},
		ByStep:    map[string]result.Summary{"login": sum(1.1, 0), "items": sum(0.9, 0), "order": sum(orderP95, 0)},
		Client:    result.Client{CPUPercent: 20, Cores: 2},
		DurationS: 5,
	}
	total := sum(orderP95*0.9, 0)
	total.RPS = 3 * rate
	r.Summary = total
	r.Thresholds = []result.Threshold{{Expr: "p95<100ms", OK: ok, Unit: "ms"}}
	return diagnose.Step{Level: float64(users), Phase: "grow", OK: ok, R: r}
}

func TestStepVerdictNamesTheStepThatDegradesFirst(t *testing.T) {
	in := diagnose.Input{Model: "users", MetAtMin: true, Capacity: 128, SLO: []string{"p95<100ms"}}
	for _, u := range []int{1, 4, 8, 16, 32, 64, 128, 256} {
		in.Steps = append(in.Steps, journeyLevel(u, u <= 128))
	}
	v, ok := diagnose.StepVerdict(in)
	if !ok {
		t.Fatal("no step verdict")
	}
	if v.Step != "order" || v.Class != diagnose.ConcurrencyLimit {
		t.Fatalf("step %q class %q (%s), want order, concurrency-limit", v.Step, v.Class, v.Summary)
	}
	if v.ConcurrencyLimit < 7 || v.ConcurrencyLimit > 10 {
		t.Errorf("limit %.1f, want ≈ 8 (the pool)", v.ConcurrencyLimit)
	}
	if !strings.Contains(v.Evidence[0], `step "order" p95 ×`) || !strings.Contains(v.Evidence[0], `"login" ×1.0`) {
		t.Errorf("evidence %q", v.Evidence[0])
	}
	// A journey whose steps all stay flat has no step verdict.
	flat := diagnose.Input{Model: "users", MetAtMin: true, ReachedMax: true}
	for _, u := range []int{1, 2, 4} {
		flat.Steps = append(flat.Steps, journeyLevel(u, true))
	}
	if _, ok := diagnose.StepVerdict(flat); ok {
		t.Error("a step verdict for a journey that never degraded")
	}
}
