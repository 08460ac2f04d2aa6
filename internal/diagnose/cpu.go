package diagnose

import (
	"fmt"
	"math"
	"strings"

	"github.com/surgeload/surge/internal/result"
)

// reading is what one probe says about the target's CPU at one step.
type reading struct {
	probe string
	used  float64 // cores in use
	// cores available, and used/cores; 0 when unknown.
	cores, util float64
	// inferred is true when cores came from the shape of the CPU curve
	// (flat at a whole number of cores), not from the probe.
	inferred bool
	// thread is the busiest thread's CPU in cores, NaN when unknown.
	thread float64
	// wait is the time the target's threads waited for a CPU, per second
	// (cores), NaN when unknown.
	wait float64
	// host is the share of the machine's CPUs busy, whoever ran; NaN when
	// unknown.
	host float64
}

// known reports whether the reading has a share of the cores.
func (r reading) known() bool { return r.cores > 0 }

// text quotes the reading: "92% of 2 cores (cgroup=/sys/…/pg)".
func (r reading) text() string {
	s := fmt.Sprintf("%.2f cores", r.used)
	if r.known() {
		s = fmt.Sprintf("%.0f%% of %s", 100*r.util, coresText(r.cores))
		if r.inferred {
			s += " (cores inferred: CPU flat at a whole number of cores)"
		}
	}
	return s
}

// firstWindow returns the first probe window of a step that knows CPU or
// memory, by probe name.
func firstWindow(r *result.Result) *result.ProbeWindow {
	for _, name := range sortedKeys(r.Probes) {
		if w := r.Probes[name].Window; w != nil && (w.CPUCores != nil || w.RSSBytes != nil) {
			return w
		}
	}
	return nil
}

// readings returns every probe's CPU reading at a step, by probe name.
func (d *data) readings(s Step) []reading {
	var out []reading
	for _, name := range sortedKeys(s.R.Probes) {
		w := s.R.Probes[name].Window
		if w == nil || w.CPUCores == nil {
			continue
		}
		r := reading{probe: name, used: *w.CPUCores, thread: math.NaN(), wait: math.NaN(), host: math.NaN()}
		if w.Cores != nil && *w.Cores > 0 {
			r.cores = *w.Cores
		} else if k := d.shapeCores(name); k > 0 {
			r.cores, r.inferred = k, true
		}
		if r.cores > 0 {
			r.util = r.used / r.cores
		}
		if w.BusiestThreadCores != nil {
			r.thread = *w.BusiestThreadCores
		}
		if w.CPUWaitCores != nil {
			r.wait = *w.CPUWaitCores
		}
		if w.HostCPUUtil != nil {
			r.host = *w.HostCPUUtil
		}
		out = append(out, r)
	}
	return out
}

// busiest is the reading of the busiest probe at a step: the highest share
// of its cores, or the most cores used when no share is known.
func (d *data) busiest(s Step) (reading, bool) {
	rs := d.readings(s)
	if len(rs) == 0 {
		return reading{}, false
	}
	best := rs[0]
	for _, r := range rs[1:] {
		switch {
		case r.known() && (!best.known() || r.util > best.util):
			best = r
		case !r.known() && !best.known() && r.used > best.used:
			best = r
		}
	}
	return best, true
}

// shapeCores infers a probe's cores from the shape of its CPU curve when
// the probe does not know them: CPU that rose with the load and then sat
// flat (±5 %) at about a whole number k of cores across the plateau. "About":
// from 0.9k to 1.15k, since a process limited to k cores of work still
// spends a little beside them (garbage collection, I/O threads). 0 when
// the shape says nothing.
func (d *data) shapeCores(name string) float64 {
	from := d.plateauFrom()
	if from == nil {
		return 0
	}
	var flat []float64
	first := math.NaN()
	for _, s := range d.steps {
		ps, ok := s.R.Probes[name]
		if !ok || ps.Window == nil || ps.Window.CPUCores == nil {
			continue
		}
		c := *ps.Window.CPUCores
		if math.IsNaN(first) {
			first = c
		}
		if s.Level >= from.Level {
			flat = append(flat, c)
		}
	}
	if len(flat) < 2 {
		return 0
	}
	lo, hi, sum := math.Inf(1), math.Inf(-1), 0.0
	for _, c := range flat {
		lo, hi, sum = math.Min(lo, c), math.Max(hi, c), sum+c
	}
	mean := sum / float64(len(flat))
	k := math.Round(mean)
	if k < 1 || hi > 1.05*mean || lo < 0.95*mean || mean < 0.9*k || mean > 1.15*k {
		return 0
	}
	// Below the plateau, CPU must have risen to it: a flat background is
	// not a limit. (When the lowest load already reached the plateau there
	// is nothing below it to compare.)
	if from.Level > d.steps[0].Level && first > 0.7*mean {
		return 0
	}
	return k
}

func (d *data) probed() bool {
	for _, s := range d.steps {
		if _, ok := d.busiest(s); ok {
			return true
		}
	}
	return false
}

// cpuUtil is the target's CPU share at a step (the busiest probe), when
// known.
func (d *data) cpuUtil(s Step) (util, cores float64, ok bool) {
	r, ok := d.busiest(s)
	if !ok || !r.known() {
		return 0, 0, false
	}
	return r.util, r.cores, true
}

// cpuLine quotes the target's CPU at a step, or says it is unknown and
// which probe would tell. Several probes are all quoted, busiest first.
func (d *data) cpuLine(s Step, where string) string {
	rs := d.readings(s)
	if len(rs) == 0 {
		if d.anyProbe() {
			return fmt.Sprintf("target CPU unknown %s: the probes given report no CPU; --probe pid=N or cgroup=PATH would tell", where)
		}
		return fmt.Sprintf("target CPU unknown %s: add --probe prom=URL (or pid=N, cgroup=PATH) to tell a CPU limit from a concurrency limit", where)
	}
	b, _ := d.busiest(s)
	line := fmt.Sprintf("target CPU %s %s", b.text(), where)
	if len(rs) > 1 {
		line += fmt.Sprintf(" (busiest probe %s", b.probe)
		var others []string
		for _, r := range rs {
			if r.probe != b.probe {
				others = append(others, fmt.Sprintf("%s %s", r.probe, r.text()))
			}
		}
		line += "; " + strings.Join(others, ", ") + ")"
	}
	if !b.known() {
		line += ": its core count is unknown; give it with --probe prom=URL,cores=N, or use pid=N or cgroup=PATH"
	}
	if !math.IsNaN(b.thread) {
		line += fmt.Sprintf("; busiest thread %.0f%% of a core", 100*b.thread)
	}
	if b.wait >= notableWait {
		line += fmt.Sprintf("; its threads waited %.2f cores' worth of time for a CPU", b.wait)
	}
	return line
}

// waitPerRequest is the time each request of a step spent waiting for a
// CPU (seconds): the target's threads' wait over its throughput. 0 when
// unknown.
func (d *data) waitPerRequest(s Step) float64 {
	r, ok := d.busiest(s)
	if !ok || math.IsNaN(r.wait) || s.R.Summary.RPS <= 0 {
		return 0
	}
	return r.wait / s.R.Summary.RPS
}

// anyProbe reports whether any probe answered at all.
func (d *data) anyProbe() bool {
	for _, s := range d.steps {
		if len(s.R.Probes) > 0 {
			return true
		}
	}
	return false
}

// cpuFlatEvidence says when the target's CPU stayed low and flat while
// latency rose: the case a CPU-based autoscaler never sees.
func (d *data) cpuFlatEvidence() []string {
	lo, hi := math.Inf(1), math.Inf(-1)
	n := 0
	var cores float64
	for _, s := range d.steps {
		if u, c, ok := d.cpuUtil(s); ok {
			lo, hi, cores = math.Min(lo, u), math.Max(hi, u), c
			n++
		}
	}
	if n < 2 || hi >= 0.5 {
		return nil
	}
	for _, s := range d.steps {
		if r, ok := d.busiest(s); ok && !math.IsNaN(r.thread) && r.thread >= 0.5 {
			return nil // one thread is busy: the CPU is not idle
		}
	}
	low, top := d.steps[0], d.steps[len(d.steps)-1]
	return []string{fmt.Sprintf("target CPU stayed between %.0f%% and %.0f%% of %s while p95 went ×%.1f: a CPU-based autoscaler would not react",
		100*lo, 100*hi, coresText(cores), ratio(top.R.Summary.Latency.P95, low.R.Summary.Latency.P95))}
}

// sharedHost says when surge and the target (on this machine) together
// used nearly all its cores: each slowed the other.
func (d *data) sharedHost(s Step) (string, bool) {
	r, ok := d.busiest(s)
	c := s.R.Client
	if !ok || c.Cores == 0 || !loopback(s.R.Target) {
		return "", false
	}
	surge := c.CPUPercent / 100 * float64(c.Cores)
	if surge+r.used < 0.9*float64(c.Cores) || c.CPUPercent < 30 {
		return "", false
	}
	return fmt.Sprintf("surge (%.1f cores) and the target (%.1f cores) share this %s host and together use nearly all of it: each slows the other; run surge from another machine for figures of the target alone",
		surge, r.used, coresText(float64(c.Cores))), true
}

// busyHost says when other processes kept the machine of the target (and
// of surge: local probes see both) busy at the lowest load or at the peak:
// its CPUs nearly all in use while the target and surge used far less.
// Requests then also waited for a CPU, where the probe may not see it (a
// thread that ends with its request takes its wait with it).
func (d *data) busyHost(steps ...Step) (string, bool) {
	for _, s := range steps {
		r, ok := d.busiest(s)
		c := s.R.Client
		if !ok || math.IsNaN(r.host) || r.host < busyHostShare || c.Cores == 0 {
			continue
		}
		cores := float64(c.Cores)
		surge := c.CPUPercent / 100 * cores
		if r.used+surge > 0.75*cores {
			continue // the two of them: sharedHost's case
		}
		return fmt.Sprintf("this machine's CPUs were %.0f%% busy at %s while the target used %.2f cores and surge %.2f of %s: other processes took the rest, so requests also waited for a CPU; figures from a quiet machine would differ",
			100*r.host, d.level(s.Level), r.used, surge, coresText(cores)), true
	}
	return "", false
}

func loopback(target string) bool {
	for _, h := range []string{"//127.", "//localhost", "//[::1]"} {
		if strings.Contains(target, h) {
			return true
		}
	}
	return false
}
