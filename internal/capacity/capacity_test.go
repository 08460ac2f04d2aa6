package capacity_test

import (
	"context"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/capacity"
	"github.com/surgeload/surge/internal/result"
)

// fake passes every level up to limit; holds (confirmations) pass up to
// holdLimit.
func fake(limit, holdLimit float64, calls *[]string) capacity.RunFunc {
	return func(_ context.Context, level float64, phase string, d time.Duration) (*result.Result, error) {
		*calls = append(*calls, phase)
		ok := level <= limit
		if phase == capacity.Confirm {
			ok = level <= holdLimit
		}
		return &result.Result{Thresholds: []result.Threshold{{Expr: "p95<100ms", OK: ok}}}, nil
	}
}

func cfg(integer bool, min, max float64) capacity.Config {
	return capacity.Config{Integer: integer, Min: min, Max: max, Step: time.Second, Hold: 2 * time.Second, Precision: 0.05}
}

func TestFindsTheLimitWithinPrecision(t *testing.T) {
	for _, limit := range []float64{1, 2, 3, 7, 20, 37, 100, 190, 999} {
		var calls []string
		out, err := capacity.Search(context.Background(), cfg(true, 1, 1000), fake(limit, limit, &calls), nil)
		if err != nil {
			t.Fatal(err)
		}
		if !out.MetAtMin || out.ReachedMax {
			t.Fatalf("limit %v: met at min %v, reached max %v", limit, out.MetAtMin, out.ReachedMax)
		}
		// The answer holds and is within 5 % (or one user) of the limit.
		if out.Capacity > limit || (limit-out.Capacity)/limit > 0.05 && limit-out.Capacity > 1 {
			t.Fatalf("limit %v: capacity %v", limit, out.Capacity)
		}
		if calls[len(calls)-1] != capacity.Confirm || out.Confirmed == nil {
			t.Fatalf("limit %v: search did not end with a confirmation: %v", limit, calls)
		}
		if len(calls) > 20 {
			t.Fatalf("limit %v: %d steps", limit, len(calls))
		}
	}
}

func TestRateLevels(t *testing.T) {
	var calls []string
	out, _ := capacity.Search(context.Background(), cfg(false, 10, 100000), fake(1234, 1234, &calls), nil)
	if out.Capacity > 1234 || out.Capacity < 1234*0.95 {
		t.Fatalf("capacity %v for a limit of 1234 req/s", out.Capacity)
	}
}

func TestEveryLevelHolds(t *testing.T) {
	var calls []string
	out, _ := capacity.Search(context.Background(), cfg(true, 1, 100), fake(1e9, 1e9, &calls), nil)
	if !out.ReachedMax || out.Capacity != 100 {
		t.Fatalf("capacity %v reached max %v, want 100 and true", out.Capacity, out.ReachedMax)
	}
	// 1, 2, 4, …, 64, 100, then the confirmation.
	if len(calls) != 9 {
		t.Fatalf("steps %v", calls)
	}
}

func TestFailsAtTheLowestLoad(t *testing.T) {
	var calls []string
	out, _ := capacity.Search(context.Background(), cfg(true, 1, 100), fake(0, 0, &calls), nil)
	if out.MetAtMin || out.Capacity != 0 {
		t.Fatalf("met at min %v capacity %v", out.MetAtMin, out.Capacity)
	}
	// The lowest level, then one more to see whether load matters.
	if len(out.Steps) != 2 || out.Steps[1].Phase != capacity.Probe || out.Steps[1].Level != 2 {
		t.Fatalf("steps %+v", out.Steps)
	}
}

func TestFailedHoldStepsDown(t *testing.T) {
	// Short steps pass up to 100, but only 95 holds for long.
	var calls []string
	out, _ := capacity.Search(context.Background(), cfg(true, 1, 1000), fake(100, 95, &calls), nil)
	if out.Capacity > 95 || out.Capacity < 85 || out.Confirmed == nil {
		t.Fatalf("capacity %v confirmed %v, want a confirmed level ≤ 95 within 10%%: steps %v", out.Capacity, out.Confirmed != nil, calls)
	}
	// Nothing holds for long: the capacity is reported unconfirmed.
	calls = nil
	out, _ = capacity.Search(context.Background(), cfg(true, 1, 1000), fake(100, 10, &calls), nil)
	if out.Confirmed != nil || out.Capacity != 100 {
		t.Fatalf("capacity %v confirmed %v, want 100 unconfirmed: %v", out.Capacity, out.Confirmed != nil, calls)
	}
	if n := countPhase(calls, capacity.Confirm); n != 3 {
		t.Fatalf("%d holds, want 3", n)
	}
}

func countPhase(calls []string, phase string) int {
	n := 0
	for _, c := range calls {
		if c == phase {
			n++
		}
	}
	return n
}

func TestInterruptStopsTheSearch(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	run := func(_ context.Context, level float64, phase string, d time.Duration) (*result.Result, error) {
		n++
		if n == 3 {
			cancel()
			return &result.Result{Partial: true}, nil
		}
		return &result.Result{Thresholds: []result.Threshold{{OK: true}}}, nil
	}
	out, err := capacity.Search(ctx, cfg(true, 1, 1000), run, nil)
	if err != nil || !out.Interrupted || len(out.Steps) != 2 {
		t.Fatalf("err %v interrupted %v steps %d", err, out.Interrupted, len(out.Steps))
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []capacity.Config{
		{Min: 0, Max: 10, Step: time.Second, Hold: time.Second, Precision: 0.05},
		{Min: 10, Max: 5, Step: time.Second, Hold: time.Second, Precision: 0.05},
		{Min: 1, Max: 5, Step: 0, Hold: time.Second, Precision: 0.05},
		{Min: 1, Max: 5, Step: time.Second, Hold: time.Second, Precision: 1.5},
	} {
		if c.Validate() == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

// Halt ends the search after the step it names; the capacity is the
// highest level that held, unconfirmed.
func TestHaltEndsTheSearch(t *testing.T) {
	var calls []string
	c := cfg(true, 1, 1000)
	c.Halt = func(st capacity.Step) bool { return st.Level >= 16 }
	out, err := capacity.Search(context.Background(), c, fake(100, 100, &calls), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !out.Halted || out.Interrupted || out.Capacity != 16 || !out.MetAtMin || out.Confirmed != nil || out.ReachedMax {
		t.Fatalf("outcome %+v: want halted at 16, met at min, unconfirmed", out)
	}
	if len(calls) != 5 { // 1, 2, 4, 8, 16
		t.Fatalf("%d levels run (%v), want 5", len(calls), calls)
	}
}
