package load

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Stage is one stage of a load profile: the load changes linearly to To
// over Over (To equal to the previous value holds it).
type Stage struct {
	To   float64
	Over time.Duration
}

// Profile is a load that changes piecewise linearly, from 0, through its
// stages, then holds the last stage's value: users in the closed model
// (Users), arrivals per second in the open model (Arrivals). It is how
// ramps, steps and spikes are written. Implementations are pure.
type Profile struct {
	Stages []Stage
}

// Duration is the length of the stages.
func (p Profile) Duration() time.Duration {
	var d time.Duration
	for _, s := range p.Stages {
		d += s.Over
	}
	return d
}

// value returns the load at elapsed.
func (p Profile) value(elapsed time.Duration) float64 {
	from := 0.0
	for _, s := range p.Stages {
		if elapsed < s.Over {
			return from + (s.To-from)*float64(elapsed)/float64(s.Over)
		}
		elapsed -= s.Over
		from = s.To
	}
	return from
}

// At implements Users: the users wanted at elapsed, rounded up, so a
// stage that starts from 0 has its first user at once.
func (p Profile) At(elapsed time.Duration) int {
	if elapsed < 0 {
		elapsed = 0
	}
	v := p.value(elapsed)
	if len(p.Stages) > 0 && elapsed == 0 && p.Stages[0].Over > 0 && p.Stages[0].To > 0 {
		return 1
	}
	return int(math.Ceil(v - 1e-9))
}

// Max implements Users.
func (p Profile) Max() int {
	m := 0.0
	for _, s := range p.Stages {
		m = max(m, s.To)
	}
	return int(math.Ceil(m - 1e-9))
}

// RateAt implements Arrivals.
func (p Profile) RateAt(elapsed time.Duration) float64 { return p.value(max(elapsed, 0)) }

// Due implements Arrivals: arrival i is due when the arrivals the rate
// has brought since the start (the area under it) reach i.
func (p Profile) Due(i uint64) (time.Duration, bool) {
	rem := float64(i)
	from := 0.0
	var t0 time.Duration
	for _, s := range p.Stages {
		secs := s.Over.Seconds()
		area := (from + s.To) / 2 * secs
		if rem < area {
			// rate(t) = from + (to-from)·t/secs; its integral from 0 to t
			// is from·t + (to-from)·t²/(2·secs) = rem.
			a, b := (s.To-from)/(2*secs), from
			var t float64
			if math.Abs(a) < 1e-12 {
				t = rem / b
			} else {
				t = (-b + math.Sqrt(max(b*b+4*a*rem, 0))) / (2 * a)
			}
			return t0 + time.Duration(t*float64(time.Second)), true
		}
		rem -= area
		t0 += s.Over
		from = s.To
	}
	if from <= 0 {
		return 0, false
	}
	return t0 + time.Duration(rem/from*float64(time.Second)), true
}

// String describes the profile.
func (p Profile) String() string {
	parts := make([]string, len(p.Stages))
	for i, s := range p.Stages {
		parts[i] = fmt.Sprintf("%g over %s", s.To, s.Over)
	}
	return strings.Join(parts, ", then ")
}
