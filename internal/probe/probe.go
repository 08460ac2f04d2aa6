package probe

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
)

// Sample is one reading of a probe. Unknown values are NaN.
type Sample struct {
	T       time.Duration      // since the start of the session
	CPU     float64            // cumulative CPU seconds used by the target
	RSS     float64            // resident memory, bytes
	Cores   float64            // CPUs available to the target (NaN: unknown)
	Metrics map[string]float64 // values of the metrics asked for (--probe-metric)
	// BusiestThread is the CPU (in cores) of the target's busiest thread
	// since the previous sample: 1 is a thread that never left the CPU.
	// NaN when unknown (only pid probes read threads).
	BusiestThread float64
	// CPUWait is the cumulative time, in seconds, the target's threads
	// spent ready to run but waiting for a CPU (the kernel's run-queue
	// delay): the CPU it wanted and did not get, because other threads or
	// processes held the cores. NaN when unknown. pid probes sum it over
	// threads (a thread that ended between two samples loses its last
	// interval); cgroup probes read the time at least one task waited
	// (cpu.pressure), a lower bound of that sum.
	CPUWait float64
	// HostBusy is the cumulative time, in CPU-seconds, all the machine's
	// CPUs spent busy (whoever ran), and HostCores how many it has: the
	// target's neighbours, surge included. Local probes (pid, cgroup)
	// read them; NaN when unknown.
	HostBusy, HostCores float64
}

// unknown is a sample that knows nothing yet: every value NaN.
func unknown() Sample {
	return Sample{CPU: math.NaN(), RSS: math.NaN(), Cores: math.NaN(), BusiestThread: math.NaN(), CPUWait: math.NaN(),
		HostBusy: math.NaN(), HostCores: math.NaN()}
}

// Probe reads the target once per call. Sample may be called from one
// goroutine at a time.
type Probe interface {
	// Name is the spec the probe was built from, e.g. "prom=http://…".
	Name() string
	// Sample reads the target now.
	Sample(ctx context.Context) (Sample, error)
}

// Parse builds a probe from a spec: prom=URL, pid=N or cgroup=PATH.
// metrics are extra metric names to read (prom probes only): NAME, or
// NAME{label="value",…} to select series; matching series are summed.
func Parse(spec string, metrics []string) (Probe, error) {
	kind, arg, ok := strings.Cut(spec, "=")
	if !ok || arg == "" {
		return nil, fmt.Errorf("probe %q: want prom=URL, pid=N or cgroup=PATH", spec)
	}
	switch kind {
	case "prom":
		return newProm(spec, arg, metrics)
	case "pid":
		if len(metrics) > 0 {
			return nil, fmt.Errorf("probe %q: --probe-metric needs a prom= probe", spec)
		}
		return newPID(spec, arg)
	case "cgroup":
		if len(metrics) > 0 {
			return nil, fmt.Errorf("probe %q: --probe-metric needs a prom= probe", spec)
		}
		return newCgroup(spec, arg)
	}
	return nil, fmt.Errorf("probe %q: unknown kind %q (want prom, pid or cgroup)", spec, kind)
}

// Series is what a session recorded for one probe.
type Series struct {
	Name    string
	Samples []Sample
	// Err is the last error reading the probe, if any sample failed.
	Err error
	// Failures counts the samples that could not be read.
	Failures int
}

// maxSamples bounds the samples kept per probe; a session samples once
// per interval and runs no longer than the run it watches.
const maxSamples = 4096

// Session samples a set of probes at a fixed interval, each from its own
// goroutine so that a slow target endpoint never delays the others.
type Session struct {
	probes []Probe
	start  time.Time
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	series []*Series
}

// Start samples every probe at once and then every interval until Stop.
func Start(ctx context.Context, probes []Probe, interval time.Duration) *Session {
	ctx, cancel := context.WithCancel(ctx)
	s := &Session{probes: probes, start: time.Now(), cancel: cancel}
	for _, p := range probes {
		sr := &Series{Name: p.Name()}
		s.series = append(s.series, sr)
		s.wg.Add(1)
		go s.loop(ctx, p, sr, interval)
	}
	return s
}

func (s *Session) loop(ctx context.Context, p Probe, sr *Series, interval time.Duration) {
	defer s.wg.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		s.sample(ctx, p, sr, interval)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sample reads one probe and records the sample; it returns the sample's
// time.
func (s *Session) sample(ctx context.Context, p Probe, sr *Series, timeout time.Duration) time.Duration {
	sctx, cancel := context.WithTimeout(ctx, max(timeout, time.Second))
	defer cancel()
	smp, err := p.Sample(sctx)
	smp.T = time.Since(s.start)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if ctx.Err() == nil {
			sr.Err = err
			sr.Failures++
		}
		return smp.T
	}
	if len(sr.Samples) < maxSamples {
		sr.Samples = append(sr.Samples, smp)
	}
	return smp.T
}

// Mark reads every probe now, besides the periodic samples, so that a
// window can start or end exactly here. It returns the time of the
// earliest of these samples (from) and of the latest (to).
func (s *Session) Mark(ctx context.Context) (from, to time.Duration) {
	var wg sync.WaitGroup
	times := make([]time.Duration, len(s.series))
	for i, sr := range s.series {
		wg.Add(1)
		go func() {
			defer wg.Done()
			times[i] = s.sample(ctx, s.probes[i], sr, time.Second)
		}()
	}
	wg.Wait()
	if len(times) == 0 {
		return 0, 0
	}
	return slices.Min(times), slices.Max(times)
}

// Started returns when the session started: sample times count from it.
func (s *Session) Started() time.Time { return s.start }

// Stop ends sampling and returns each probe's series, in the order the
// probes were given.
func (s *Session) Stop() []Series {
	s.cancel()
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Series, len(s.series))
	for i, sr := range s.series {
		out[i] = *sr
	}
	return out
}

// Window summarizes what a probe saw between two times.
type Window struct {
	CPUCores float64            // CPU used, in cores (CPU seconds per second)
	CPUUtil  float64            // CPUCores / Cores, 0..1; NaN when cores are unknown
	Cores    float64            // CPUs available (NaN: unknown)
	RSS      float64            // resident memory at the end, bytes
	RSSDelta float64            // change of resident memory over the window, bytes
	Metrics  map[string]float64 // metric values at the end of the window
	Rates    map[string]float64 // per-second change of each metric over the window
	// BusiestThread is the CPU (in cores) of the busiest thread over the
	// window, NaN when unknown.
	BusiestThread float64
	// CPUWait is the time the target's threads waited for a CPU, per
	// second (in cores, as CPUCores), NaN when unknown.
	CPUWait float64
	// HostCPUUtil is the share of the machine's CPUs busy over the window
	// (0..1, whoever ran), NaN when unknown.
	HostCPUUtil float64
	Samples     int // samples in the window
}

// ErrTooFewSamples is returned by Summarize when a window holds fewer than
// two samples.
var ErrTooFewSamples = errors.New("fewer than two probe samples in the window")

// Summarize computes the window [from, to] of a series.
func Summarize(sr Series, from, to time.Duration) (Window, error) {
	var in []Sample
	for _, s := range sr.Samples {
		if s.T >= from && s.T <= to {
			in = append(in, s)
		}
	}
	w := Window{Samples: len(in), CPUUtil: math.NaN(), Cores: math.NaN(), RSS: math.NaN(), RSSDelta: math.NaN(), CPUCores: math.NaN(), BusiestThread: math.NaN(), CPUWait: math.NaN(), HostCPUUtil: math.NaN()}
	if len(in) < 2 {
		return w, ErrTooFewSamples
	}
	a, b := in[0], in[len(in)-1]
	dt := (b.T - a.T).Seconds()
	if dt <= 0 {
		return w, ErrTooFewSamples
	}
	w.CPUCores = (b.CPU - a.CPU) / dt
	w.CPUWait = (b.CPUWait - a.CPUWait) / dt
	if b.HostCores > 0 {
		w.HostCPUUtil = (b.HostBusy - a.HostBusy) / dt / b.HostCores
	}
	w.Cores = b.Cores
	if w.Cores > 0 {
		w.CPUUtil = w.CPUCores / w.Cores
	}
	w.RSS = b.RSS
	w.RSSDelta = b.RSS - a.RSS
	// Each sample's busiest thread covers the time since the one before:
	// weigh them by it.
	var busy, span float64
	for i := 1; i < len(in); i++ {
		if v := in[i].BusiestThread; !math.IsNaN(v) {
			d := (in[i].T - in[i-1].T).Seconds()
			busy += v * d
			span += d
		}
	}
	if span > 0 {
		w.BusiestThread = busy / span
	}
	if len(b.Metrics) > 0 {
		w.Metrics = make(map[string]float64, len(b.Metrics))
		w.Rates = make(map[string]float64, len(b.Metrics))
		for k, v := range b.Metrics {
			w.Metrics[k] = v
			if av, ok := a.Metrics[k]; ok {
				w.Rates[k] = (v - av) / dt
			}
		}
	}
	return w, nil
}
