package diagnose

import (
	"fmt"

	"github.com/surgeload/surge/internal/result"
)

// decisive is the level that decided the answer: the first failure, or
// the top.
func (d *data) decisive() Step {
	s := d.steps[len(d.steps)-1]
	if f := d.firstFailure(); f != nil {
		s = *f
	}
	return s
}

// client fires when surge itself was saturated: its CPU, or its timers
// late while its CPU was busy too. Late timers on an idle surge are the
// host's doing (other processes): hostLag warns about them instead.
func (d *data) client() (result.Bottleneck, bool) {
	s := d.decisive()
	if v, ok := d.localFailures(s); ok {
		return v, true
	}
	c := s.R.Client
	busy := c.CPUPercent > generatorCPU
	lagged := c.SchedLag.P99 > generatorLag && c.CPUPercent >= idleGenerator
	if !busy && !lagged {
		return result.Bottleneck{}, false
	}
	ev := []string{}
	ev = append(ev, fmt.Sprintf("surge used %.0f%% of its %d cores at %s", c.CPUPercent, c.Cores, d.level(s.Level)))
	if c.SchedLag.P99 > generatorLag {
		ev = append(ev, fmt.Sprintf("surge's timers fired up to %s late (p99) at %s", ms(c.SchedLag.P99), d.level(s.Level)))
	}
	ev = append(ev, fmt.Sprintf("throughput %s req/s, p95 %s at that level: figures of the generator, not of the target", rate(s.R.Summary.RPS), ms(s.R.Summary.Latency.P95)))
	return result.Bottleneck{
		Class:    Client,
		Summary:  fmt.Sprintf("surge itself was saturated at %s, so these numbers describe the load generator, not the target: run surge on more cores or from several machines, or lower --max.", d.level(s.Level)),
		Evidence: ev,
	}, true
}

// localFailures fires when the deciding level failed its error SLO and
// most of its failures never reached the target: surge's host could not
// open connections (out of descriptors or local ports, or an address it
// cannot use).
func (d *data) localFailures(s Step) (result.Bottleneck, bool) {
	e := s.R.Summary.Errors
	local := e.ByClass["local"]
	if local == 0 || 2*local < e.Count || !failed(s.R, "%") {
		return result.Bottleneck{}, false // a few: noise beside what decided
	}
	return result.Bottleneck{
		Class: Client,
		Summary: fmt.Sprintf("surge's host could not open connections at %s (out of file descriptors or local ports, or an address it cannot use, such as ::1 without IPv6), so these failures are the generator's, not the target's: raise ulimit -n, widen net.ipv4.ip_local_port_range, keep connections alive, or check the address, then run again.",
			d.level(s.Level)),
		Evidence: []string{
			fmt.Sprintf("%d of %d failed requests at %s never reached the target (class local)", local, e.Count, d.level(s.Level)),
			fmt.Sprintf("errors at %s: %s", d.level(s.Level), classes(e.ByClass)),
		},
	}, true
}

// hostLag warns when surge's timers ran late although surge was not busy:
// something else on this host took the CPU, so latencies may carry noise.
func (d *data) hostLag() (string, bool) {
	s := d.decisive()
	c := s.R.Client
	if c.SchedLag.P99 <= generatorLag || c.CPUPercent >= idleGenerator {
		return "", false
	}
	return fmt.Sprintf("warning: surge's timers fired up to %s late (p99) at %s while surge used only %.0f%% CPU: this host is busy with other work, so latencies carry some of its noise",
		ms(c.SchedLag.P99), d.level(s.Level), c.CPUPercent), true
}
