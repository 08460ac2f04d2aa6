package load

import (
	"fmt"
	"math"
	"time"
)

// Arrivals is an open-model schedule: when request i (0-based) is due,
// measured from the start of the run. Implementations are pure.
type Arrivals interface {
	// Due returns when request i is due; ok is false when the schedule
	// has no request i.
	Due(i uint64) (at time.Duration, ok bool)
	// RateAt returns the target arrival rate (per second) at elapsed.
	RateAt(elapsed time.Duration) float64
}

// Users is a closed-model schedule: how many virtual users should be
// active. Implementations are pure.
type Users interface {
	// At returns the number of active users wanted at elapsed.
	At(elapsed time.Duration) int
	// Max returns the largest number of users the schedule ever wants.
	Max() int
}

// ConstantRate is an arrival rate that ramps linearly from 0 to Rate over
// Ramp, then stays at Rate.
type ConstantRate struct {
	Rate float64       // arrivals per second, > 0
	Ramp time.Duration // 0 for no ramp
}

// Due implements Arrivals.
func (c ConstantRate) Due(i uint64) (time.Duration, bool) {
	if c.Rate <= 0 {
		return 0, false
	}
	n := float64(i)
	ramp := c.Ramp.Seconds()
	var t float64
	// During the ramp the rate is Rate·t/ramp, so the arrivals due by t
	// number Rate·t²/(2·ramp); request i is due when that reaches i.
	if inRamp := c.Rate * ramp / 2; ramp > 0 && n < inRamp {
		t = math.Sqrt(2 * ramp * n / c.Rate)
	} else {
		t = ramp + (n-inRamp)/c.Rate
		if ramp <= 0 {
			t = n / c.Rate
		}
	}
	return time.Duration(t * float64(time.Second)), true
}

// RateAt implements Arrivals.
func (c ConstantRate) RateAt(elapsed time.Duration) float64 {
	if c.Ramp > 0 && elapsed < c.Ramp {
		return c.Rate * elapsed.Seconds() / c.Ramp.Seconds()
	}
	return c.Rate
}

// String describes the schedule.
func (c ConstantRate) String() string {
	if c.Ramp > 0 {
		return fmt.Sprintf("%g req/s (ramp %s)", c.Rate, c.Ramp)
	}
	return fmt.Sprintf("%g req/s", c.Rate)
}

// RampUsers is a user count that ramps linearly from 1 to N over Ramp,
// then stays at N.
type RampUsers struct {
	N    int           // users, > 0
	Ramp time.Duration // 0 starts all N at once
}

// At implements Users.
func (r RampUsers) At(elapsed time.Duration) int {
	if r.Ramp <= 0 || elapsed >= r.Ramp {
		return r.N
	}
	if elapsed < 0 {
		elapsed = 0
	}
	n := int(math.Ceil(float64(r.N) * float64(elapsed) / float64(r.Ramp)))
	return max(1, min(n, r.N))
}

// Max implements Users.
func (r RampUsers) Max() int { return r.N }

// String describes the schedule.
func (r RampUsers) String() string {
	if r.Ramp > 0 {
		return fmt.Sprintf("%d users (ramp %s)", r.N, r.Ramp)
	}
	return fmt.Sprintf("%d users", r.N)
}
