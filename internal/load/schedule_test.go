package load_test

import (
	"testing"
	"time"

	"github.com/surgeload/surge/internal/load"
)

func TestConstantRateDue(t *testing.T) {
	c := load.ConstantRate{Rate: 2000}
	for _, tc := range []struct {
		i    uint64
		want time.Duration
	}{{0, 0}, {1, 500 * time.Microsecond}, {2000, time.Second}, {9999, 4999500 * time.Microsecond}} {
		got, ok := c.Due(tc.i)
		if !ok || got != tc.want {
			t.Errorf("Due(%d) = %v,%v want %v", tc.i, got, ok, tc.want)
		}
	}
}

func TestConstantRateRampCountsArrivals(t *testing.T) {
	// Ramp 0→100/s over 10 s, then 100/s: 500 arrivals during the ramp,
	// then 100 per second.
	c := load.ConstantRate{Rate: 100, Ramp: 10 * time.Second}
	count := func(end time.Duration) int {
		n := 0
		for i := uint64(0); ; i++ {
			at, _ := c.Due(i)
			if at >= end {
				return n
			}
			n++
		}
	}
	if got := count(10 * time.Second); got != 500 {
		t.Errorf("arrivals during the ramp = %d, want 500", got)
	}
	if got := count(15 * time.Second); got != 1000 {
		t.Errorf("arrivals by 15 s = %d, want 1000", got)
	}
	if got := count(5 * time.Second); got != 125 {
		t.Errorf("arrivals by 5 s = %d, want 125 (100·5²/(2·10))", got)
	}
	// Due times never go backwards.
	prev := time.Duration(-1)
	for i := uint64(0); i < 2000; i++ {
		at, _ := c.Due(i)
		if at < prev {
			t.Fatalf("Due(%d) = %v < Due(%d) = %v", i, at, i-1, prev)
		}
		prev = at
	}
	if r := c.RateAt(5 * time.Second); r != 50 {
		t.Errorf("RateAt(5s) = %v, want 50", r)
	}
}

func TestRampUsers(t *testing.T) {
	r := load.RampUsers{N: 100, Ramp: 10 * time.Second}
	for _, tc := range []struct {
		at   time.Duration
		want int
	}{{0, 1}, {time.Second, 10}, {5 * time.Second, 50}, {9999 * time.Millisecond, 100}, {time.Minute, 100}} {
		if got := r.At(tc.at); got != tc.want {
			t.Errorf("At(%v) = %d, want %d", tc.at, got, tc.want)
		}
	}
	if got := (load.RampUsers{N: 7}).At(0); got != 7 {
		t.Errorf("no ramp: At(0) = %d, want 7", got)
	}
}
