package selfcheck

import (
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/surgeload/surge/internal/hist"
)

// probeInterval is how often the lag probe sleeps and wakes.
const probeInterval = 10 * time.Millisecond

// Thresholds above which a report warns that the generator distorted the
// result.
const (
	// MaxCPU is the share of the available cores above which surge is
	// considered saturated.
	MaxCPU = 0.85
	// MaxSchedLag is the 99th percentile of scheduling lag above which
	// surge's own timing is unreliable.
	MaxSchedLag = 10 * time.Millisecond
)

// cores is the number of CPUs surge may use, as the Go runtime first saw
// it (GOMAXPROCS at start-up, which follows the CPU affinity and a cgroup
// CPU limit). It is read before the CLI raises GOMAXPROCS for load
// generation, so utilization is a share of real CPUs.
var cores = runtime.GOMAXPROCS(0)

// Cores returns the number of CPUs surge may use.
func Cores() int { return cores }

// Monitor measures surge's CPU use and scheduling lag between Start and
// Stop. Its methods are safe for concurrent use.
type Monitor struct {
	start    time.Time
	cpuStart time.Duration
	cpuOK    bool
	stop     chan struct{}
	done     chan struct{}

	mu  sync.Mutex
	lag *hist.Histogram
}

// Start begins measuring.
func Start() *Monitor {
	cpu, ok := cpuTime()
	m := &Monitor{
		start:    time.Now(),
		cpuStart: cpu,
		cpuOK:    ok,
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
		lag:      hist.New(),
	}
	go m.probe()
	return m
}

// probe sleeps for probeInterval again and again and records how late it
// wakes: the delay any timer in surge suffers at that moment.
func (m *Monitor) probe() {
	defer close(m.done)
	t := time.NewTimer(probeInterval)
	defer t.Stop()
	want := time.Now().Add(probeInterval)
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			// The time the goroutine actually runs again, not the time
			// the timer fired: the delay any waiting request suffers.
			now := time.Now()
			m.mu.Lock()
			m.lag.Record(now.Sub(want))
			m.mu.Unlock()
			want = time.Now().Add(probeInterval)
			t.Reset(probeInterval)
		}
	}
}

// Report is what a Monitor measured.
type Report struct {
	Wall  time.Duration // time measured
	Cores int           // CPUs available to surge (see Cores)
	// CPU is the CPU time surge used; CPUKnown is false on platforms
	// where it cannot be read.
	CPU      time.Duration
	CPUKnown bool
	// SchedLag is the distribution of how late surge's timers fired.
	SchedLagP50 time.Duration
	SchedLagP99 time.Duration
	SchedLagMax time.Duration
}

// Utilization is the share of the available cores surge kept busy (0..1).
func (r Report) Utilization() float64 {
	if r.Wall <= 0 || r.Cores == 0 || !r.CPUKnown {
		return 0
	}
	return r.CPU.Seconds() / r.Wall.Seconds() / float64(r.Cores)
}

// Warnings lists the ways the generator itself may have distorted the
// result, as sentences for people. None means the figures describe the
// target.
func (r Report) Warnings() []string {
	var w []string
	if u := r.Utilization(); u > MaxCPU {
		w = append(w, fmt.Sprintf("surge used %.0f%% of its %d cores: the load generator is saturated, so throughput and latency partly describe surge, not the target", 100*u, r.Cores))
	}
	if r.SchedLagP99 > MaxSchedLag {
		w = append(w, fmt.Sprintf("surge's timers fired up to %s late (p99): the generator is overloaded and its timing is unreliable", round(r.SchedLagP99)))
	}
	return w
}

// Snapshot returns the measurements so far without stopping.
func (m *Monitor) Snapshot() Report {
	r := Report{Wall: time.Since(m.start), Cores: cores}
	if cpu, ok := cpuTime(); ok && m.cpuOK {
		r.CPU, r.CPUKnown = cpu-m.cpuStart, true
	}
	m.mu.Lock()
	r.SchedLagP50 = m.lag.Quantile(0.5)
	r.SchedLagP99 = m.lag.Quantile(0.99)
	r.SchedLagMax = m.lag.Max()
	m.mu.Unlock()
	return r
}

// Stop ends measuring and returns the report.
func (m *Monitor) Stop() Report {
	close(m.stop)
	<-m.done
	return m.Snapshot()
}

func round(d time.Duration) time.Duration {
	switch {
	case d > time.Second:
		return d.Round(10 * time.Millisecond)
	case d > time.Millisecond:
		return d.Round(100 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}
