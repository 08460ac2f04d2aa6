package load_test

import (
	"math"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/load"
)

func TestProfileUsers(t *testing.T) {
	p := load.Profile{Stages: []load.Stage{{To: 10, Over: 10 * time.Second}, {To: 10, Over: 5 * time.Second}, {To: 40, Over: 0}, {To: 0, Over: 4 * time.Second}}}
	for _, c := range []struct {
		at   time.Duration
		want int
	}{{0, 1}, {time.Second, 1}, {5 * time.Second, 5}, {10 * time.Second, 10}, {14 * time.Second, 10}, {15 * time.Second, 40}, {17 * time.Second, 20}, {time.Minute, 0}} {
		if got := p.At(c.at); got != c.want {
			t.Errorf("At(%s) = %d, want %d", c.at, got, c.want)
		}
	}
	if p.Max() != 40 || p.Duration() != 19*time.Second {
		t.Errorf("Max %d Duration %s", p.Max(), p.Duration())
	}
}

// count returns how many arrivals are due before end.
func count(a load.Arrivals, from, end time.Duration) int {
	n := 0
	for i := uint64(0); ; i++ {
		at, ok := a.Due(i)
		if !ok || at >= end {
			return n
		}
		if at >= from {
			n++
		}
	}
}

func TestProfileArrivalsFollowTheRate(t *testing.T) {
	// A spike as in seed 002: 500 journeys/s for 1 min, then a 10 s ramp
	// to 700/s held 30 s: 30 000 + 6 000 + 21 000 arrivals.
	p := load.Profile{Stages: []load.Stage{
		{To: 500, Over: 0}, {To: 500, Over: time.Minute}, {To: 700, Over: 10 * time.Second}, {To: 700, Over: 30 * time.Second},
	}}
	for _, c := range []struct {
		from, to time.Duration
		want     int
	}{
		{0, time.Minute, 30000},
		{time.Minute, 70 * time.Second, 6000},
		{70 * time.Second, 100 * time.Second, 21000},
		{100 * time.Second, 101 * time.Second, 700}, // holds the last rate
	} {
		if got := count(p, c.from, c.to); math.Abs(float64(got-c.want)) > 1 {
			t.Errorf("arrivals in [%s, %s) = %d, want %d", c.from, c.to, got, c.want)
		}
	}
	// Due is increasing.
	prev := time.Duration(-1)
	for i := uint64(0); i < 60000; i++ {
		at, ok := p.Due(i)
		if !ok || at < prev {
			t.Fatalf("Due(%d) = %s after %s", i, at, prev)
		}
		prev = at
	}
	// A profile that ends at 0 runs out of arrivals.
	down := load.Profile{Stages: []load.Stage{{To: 10, Over: 2 * time.Second}, {To: 0, Over: 2 * time.Second}}}
	if n := count(down, 0, time.Hour); n != 20 {
		t.Errorf("up and down: %d arrivals, want 20", n)
	}
}
