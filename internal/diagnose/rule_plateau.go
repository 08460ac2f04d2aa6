package diagnose

import (
	"fmt"
	"math"

	"github.com/surgeload/surge/internal/result"
)

// plateau explains a latency failure by where throughput stopped growing:
// CPU saturated (all cores, one thread, one core behind a lock) or taken
// by other processes, or an internal concurrency limit (1: serialized).
func (d *data) plateau() result.Bottleneck {
	peak := d.peak()
	low := d.steps[0]
	top := d.steps[len(d.steps)-1]
	r0 := low.R.Summary.Latency.Mean / 1000 // seconds
	// A response that stalled between its first byte and its last (see
	// ackStall) was out of the server's hands meanwhile: the time it was
	// in service ends at its first byte.
	stall, stalled := ackStall(low)
	if stalled {
		r0 -= stall / 1000
	}
	// A request that waited for a CPU at the lowest load (a busy host)
	// was in service no longer for it: Little's law takes the service
	// time without that wait, which the plateau may not have paid alike.
	q0 := d.waitPerRequest(low)
	if q0 >= r0 {
		q0 = 0 // not one request's wait: the figures disagree
	}
	if r, ok := d.busiest(low); ok && q0 > 0 && low.R.Summary.RPS > 0 {
		// The wait is summed over every thread of the target; what is
		// left of the latency is no less than the request's own CPU.
		q0 = min(q0, max(0, r0-r.used/low.R.Summary.RPS))
	}
	limit := goodput(peak.R) * (r0 - q0)
	ev := []string{}
	retro, retroLine := d.retrograde()
	switch {
	case retro:
		ev = append(ev, retroLine)
	case d.flatAtTop():
		ev = append(ev, fmt.Sprintf("throughput flat at ~%s req/s from %s up (to %s)", rate(goodput(peak.R)), d.level(d.plateauFrom().Level), d.level(top.Level)))
	default:
		ev = append(ev, fmt.Sprintf("throughput reached %s req/s at %s", rate(goodput(peak.R)), d.level(peak.Level)))
	}
	ev = append(ev, fmt.Sprintf("latency grew with load: p95 %s at %s → %s at %s (×%.1f)",
		ms(low.R.Summary.Latency.P95), d.level(low.Level), ms(top.R.Summary.Latency.P95), d.level(top.Level), ratio(top.R.Summary.Latency.P95, low.R.Summary.Latency.P95)))
	switch {
	case stalled:
		ev = append(ev, fmt.Sprintf("Little's law: %s req/s × %s (mean time to the first byte at %s; the last came %s later, a stall the server was not serving through) ≈ %.1f requests in service at once",
			rate(goodput(peak.R)), ms(1000*(r0-q0)), d.level(low.Level), ms(stall), limit))
	case q0 >= 0.1*r0:
		ev = append(ev, fmt.Sprintf("Little's law: %s req/s × %s (mean latency at %s, %s, less %s waiting for a CPU) ≈ %.1f requests in service at once",
			rate(goodput(peak.R)), ms(1000*(r0-q0)), d.level(low.Level), ms(low.R.Summary.Latency.Mean), ms(1000*q0), limit))
	default:
		ev = append(ev, fmt.Sprintf("Little's law: %s req/s × %s (mean latency at %s) ≈ %.1f requests in service at once",
			rate(goodput(peak.R)), ms(low.R.Summary.Latency.Mean), d.level(low.Level), limit))
	}
	ev = append(ev, d.cpuLine(peak, "at the plateau"))
	if line, ok := d.sharedHost(peak); ok {
		ev = append(ev, line)
	} else if line, ok := d.busyHost(low, peak); ok {
		ev = append(ev, line)
	}
	retroNote := ""
	if retro {
		retroNote = " Throughput even falls as load grows (retrograde scaling): look for contention or per-request setup such as a new connection per request."
	}

	if r, ok := d.busiest(peak); ok {
		// The target's CPU time per request over the service time at the
		// lowest load, less the time it waited for a CPU: near 1, the
		// request in service is on a core whenever it is not waiting for
		// one. (A lock held around a sleep keeps it low, however long the
		// wake-ups wait on a busy machine.)
		share := math.NaN()
		if g := goodput(peak.R); g > 0 && r0 > q0 {
			share = r.used / g / (r0 - q0)
		}
		switch {
		case r.known() && r.util >= saturatedCPU:
			return result.Bottleneck{
				Class: CPU,
				Summary: fmt.Sprintf("The target's CPU is saturated (%s%s) at ~%s req/s: make each request cheaper (profile the hot path, add an index, cache) or give it more CPU.%s",
					r.text(), probeNote(r, len(d.readings(peak))), rate(goodput(peak.R)), retroNote),
				Evidence: ev,
			}
		case r.known() && !math.IsNaN(r.wait) && r.used+r.wait >= r.cores && r.host >= busyHostShare:
			// Work for every core, the machine full, the target on few of
			// them: others hold the rest (NaN host: not this case).
			ev = append(ev, fmt.Sprintf("the target's threads were ready to run for %.2f cores' worth of time but ran on %.2f: they waited %.2f for a CPU",
				r.used+r.wait, r.used, r.wait))
			return result.Bottleneck{
				Class: CPU,
				Summary: fmt.Sprintf("The target is starved of CPU at ~%s req/s: its threads had work for %.0f%% of its %s but ran on %.0f%% of them, waiting for the rest while other processes on its host held the cores (or a CPU quota, such as a container's cpu.max, held it back); give it cores of its own (move what competes, such as surge itself, or raise the quota), or make each request cheaper.%s",
					rate(goodput(peak.R)), 100*(r.used+r.wait)/r.cores, coresText(r.cores), 100*r.util, retroNote),
				Evidence: ev,
			}
		case !math.IsNaN(r.thread) && r.thread >= singleThread && d.stoppedGrowing() && d.oneThreadAtTop():
			ev = append(ev, fmt.Sprintf("one thread ran at %.0f%% of a core while throughput stayed flat: the work goes through a single thread", 100*r.thread))
			return result.Bottleneck{
				Class: CPU,
				Summary: fmt.Sprintf("One thread of the target is saturated (%.0f%% of a core, %s in all) at ~%s req/s: a single-threaded server (one event loop, an interpreter lock, one worker) uses one core whatever the host has; run more workers or processes, or make each request cheaper.%s",
					100*r.thread, r.text(), rate(goodput(peak.R)), retroNote),
				Evidence: ev,
			}
		case r.known() && !r.inferred && d.oneCoreFlat(r.probe) && r.cores >= 2:
			ev = append(ev, fmt.Sprintf("the target's CPU sat flat at 1 core of %s across the plateau: the shape of a single-threaded process", coresText(r.cores)))
			return result.Bottleneck{
				Class: CPU,
				Summary: fmt.Sprintf("The target uses exactly one of its %s at ~%s req/s: a single-threaded server (one event loop, an interpreter lock, one worker) saturates one core; run more workers or processes, or make each request cheaper.%s",
					coresText(r.cores), rate(goodput(peak.R)), retroNote),
				Evidence: ev,
			}
		case limit < serializedBelow && share >= cpuBoundShare && d.stoppedGrowing():
			// One at a time, each on the CPU throughout: one core is the
			// limit, though no thread of it shows (an interpreter lock hands
			// the core from thread to thread: a Python server with a thread
			// per connection spreads one core over all of them).
			waited := ""
			if q0 >= 0.1*r0 {
				waited = fmt.Sprintf(" and waited %s for a core at %s", ms(1000*q0), d.level(low.Level))
			}
			ev = append(ev, fmt.Sprintf("each request took ≈ %s of the target's CPU (%.2f cores ÷ %s req/s)%s, %.0f%% of its service time at %s (%s, less that wait): the request in service was on a core nearly all the time it was not waiting for one",
				ms(1000*r.used/goodput(peak.R)), r.used, rate(goodput(peak.R)), waited, 100*min(share, 1), d.level(low.Level), ms(low.R.Summary.Latency.Mean)))
			return result.Bottleneck{
				Class: CPU,
				Summary: fmt.Sprintf("One core is the limit at ~%s req/s: requests are served one at a time and each keeps a core busy for its whole service time (an interpreter lock such as Python's GIL, a single-threaded server, or a lock held around CPU work); run more processes or workers, take the work out of the lock, or make each request cheaper.%s",
					rate(goodput(peak.R)), retroNote),
				Evidence: ev,
			}
		}
	}
	ev = append(ev, d.cpuFlatEvidence()...)
	if limit < serializedBelow {
		return result.Bottleneck{
			Class:            Serialized,
			ConcurrencyLimit: round1(limit),
			Summary: fmt.Sprintf("Requests are served one at a time (internal concurrency ≈ %.1f): a global lock or a blocked event loop caps throughput at ~%s req/s whatever the load; find what serializes them.%s",
				limit, rate(goodput(peak.R)), retroNote),
			Evidence: ev,
		}
	}
	if _, _, known := d.cpuUtil(peak); !known {
		if host := float64(peak.R.Client.Cores); host > 0 && math.Abs(limit-host) <= 0.15*host {
			return result.Bottleneck{
				Class:            ConcurrencyLimit,
				ConcurrencyLimit: round1(limit),
				Summary: fmt.Sprintf("Throughput stops at ~%s req/s with about %.0f requests in service at once, the number of this host's cores: the target is CPU-bound, or has a limit of %.0f; a probe with the target's CPU would tell which.%s",
					rate(goodput(peak.R)), limit, limit, retroNote),
				Evidence: ev,
			}
		}
	}
	return result.Bottleneck{
		Class:            ConcurrencyLimit,
		ConcurrencyLimit: round1(limit),
		Summary: fmt.Sprintf("Throughput stops at ~%s req/s because only about %.0f requests are served at once (a pool or worker limit of ~%.0f); requests beyond it queue. Raise that limit, or hold each slot for less time.%s",
			rate(goodput(peak.R)), limit, limit, retroNote),
		Evidence: ev,
	}
}

// probeNote names the probe when there are several.
func probeNote(r reading, n int) string {
	if n < 2 {
		return ""
	}
	return ", " + r.probe
}

// peak is the step with the highest good throughput.
func (d *data) peak() Step {
	best := d.steps[0]
	for _, s := range d.steps {
		if goodput(s.R) > goodput(best.R) {
			best = s
		}
	}
	return best
}

// plateauFrom is the lowest level that reached flatThroughput of the peak.
func (d *data) plateauFrom() *Step {
	peak := goodput(d.peak().R)
	for i := range d.steps {
		if goodput(d.steps[i].R) >= flatThroughput*peak {
			return &d.steps[i]
		}
	}
	return nil
}

// flatAtTop reports whether throughput stopped growing with the load: the
// top level is at least 1.5 times the plateau's start.
func (d *data) flatAtTop() bool {
	from := d.plateauFrom()
	top := d.steps[len(d.steps)-1]
	return from != nil && top.Level >= 1.5*from.Level
}

// stoppedGrowing reports whether more load than the plateau's start
// brought no more throughput: a level above it exists.
func (d *data) stoppedGrowing() bool {
	from := d.plateauFrom()
	return from != nil && d.steps[len(d.steps)-1].Level > from.Level
}

// oneThreadAtTop reports whether the busiest thread still ran at a whole
// core at the highest load, as one thread doing all the work does; a
// server with a thread per connection has one busy thread only while a
// single user is in. True when the top step has no thread reading.
func (d *data) oneThreadAtTop() bool {
	r, ok := d.busiest(d.steps[len(d.steps)-1])
	return !ok || math.IsNaN(r.thread) || r.thread >= singleThread
}

// oneCoreFlat reports whether a probe's CPU sat at about one core (0.9 to
// 1.15, as shapeCores) at every level of the plateau (two at least).
func (d *data) oneCoreFlat(name string) bool {
	from := d.plateauFrom()
	if from == nil || !d.flatAtTop() {
		return false
	}
	n := 0
	for _, s := range d.steps {
		ps, ok := s.R.Probes[name]
		if !ok || ps.Window == nil || ps.Window.CPUCores == nil {
			continue
		}
		c := *ps.Window.CPUCores
		if s.Level < from.Level {
			continue
		}
		if c < 0.9 || c > 1.15 {
			return false
		}
		n++
	}
	return n >= 2
}

// retrograde reports throughput that falls as load grows: the top level
// well below the peak, and two levels at least between them already below
// it too, so that one low step (noise) is not a trend; nor is one high
// step, when its level measured again (find's bisection and confirmation
// repeat levels) fell well short of it. A level whose
// timers ran late by a good part of its latency (over 10 ms and over a
// quarter of its median: a busy host slows everything) counts for nothing.
func (d *data) retrograde() (bool, string) {
	peak := d.peak()
	top := d.steps[len(d.steps)-1]
	busy := func(s Step) bool {
		return s.R.Client.SchedLag.P99 > max(generatorLag, s.R.Summary.Latency.P50/4)
	}
	if top.Level <= peak.Level || goodput(top.R) > retrogradeShare*goodput(peak.R) || busy(top) {
		return false, ""
	}
	for _, s := range d.ordered {
		if s.Level == peak.Level && goodput(s.R) < retrogradeShare*goodput(peak.R) {
			return false, "" // the peak's level, measured again, did not reach it: noise
		}
	}
	between := 0
	for _, s := range d.steps {
		if s.Level > peak.Level && s.Level < top.Level && !busy(s) && goodput(s.R) < 0.9*goodput(peak.R) {
			between++
		}
	}
	if between < 2 {
		return false, ""
	}
	return true, fmt.Sprintf("throughput fell as load grew: %s req/s at %s, %s req/s at %s (retrograde scaling: contention, or setup paid per request such as a new connection)",
		rate(goodput(peak.R)), d.level(peak.Level), rate(goodput(top.R)), d.level(top.Level))
}
