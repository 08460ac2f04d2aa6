// Package diagnose names what limits a target, from the steps of a
// capacity search: one bottleneck class of PRODUCT.md (cpu, serialized,
// concurrency-limit, throttled, errors, latency-floor, incorrect-responses,
// memory, client, none), a sentence a person can act on, and the evidence
// behind it. It is a pure function of measured results: it runs no load
// and reads nothing but its input.
package diagnose

import (
	"cmp"
	"math"
	"slices"

	"github.com/surgeload/surge/internal/result"
)

// The bottleneck classes.
const (
	CPU                = "cpu"
	Serialized         = "serialized"
	ConcurrencyLimit   = "concurrency-limit"
	Throttled          = "throttled"
	Errors             = "errors"
	LatencyFloor       = "latency-floor"
	IncorrectResponses = "incorrect-responses"
	Memory             = "memory"
	Client             = "client"
	None               = "none"
)

// Step is one load level of a search and what it measured.
type Step struct {
	Level float64 // users or req/s
	Phase string
	OK    bool // every SLO held
	R     *result.Result
}

// Input is everything the diagnosis reads.
type Input struct {
	Model      string // "users" or "rate"
	Steps      []Step // in the order they ran
	Capacity   float64
	MetAtMin   bool
	ReachedMax bool
	SLO        []string
	// Checks is true when response checks were configured; without them
	// wrong answers cannot be seen.
	Checks bool
	// Halt is set when the search stopped growing the load because the
	// target's memory grew past the bound (find --max-target-growth).
	Halt *MemoryHalt
}

// MemoryHalt says where and why a search stopped for the target's memory.
type MemoryHalt struct {
	Probe    string  // the probe that saw it
	Level    float64 // the level after which the search stopped
	From, To float64 // the target's RSS at the start and at that level, bytes
	Bound    float64 // the growth allowed, bytes
}

// Thresholds of the rules, named so the rules read as sentences.
const (
	saturatedCPU      = 0.80 // target CPU share that counts as saturated
	generatorCPU      = 85.0 // surge CPU percent that counts as saturated
	generatorLag      = 10.0 // surge timer lag p99 (ms) that counts as overloaded
	flatThroughput    = 0.85 // share of the peak that still counts as "flat"
	floorFlatness     = 1.5  // latency ratio between two loads below which latency is flat
	serializedBelow   = 1.5  // internal concurrency below which requests are served one at a time
	throttledShare    = 0.5  // share of errors that are 429 (or 503 with Retry-After) for a quota
	singleThread      = 0.90 // busiest thread's share of a core that counts as saturated
	cpuBoundShare     = 0.75 // target CPU time (and wait for a CPU) per request over its service time that counts as CPU-bound
	notableWait       = 0.05 // cores' worth of waiting for a CPU worth quoting
	busyHostShare     = 0.90 // share of the machine's CPUs busy that counts as a busy machine
	retrogradeShare   = 0.70 // top-level throughput below this share of the peak is retrograde
	idleGenerator     = 50.0 // surge CPU percent below which timer lag is the host's, not surge's
	memoryGrowthBytes = 50 << 20
	memoryGrowthShare = 0.5
	// memorySettledShare: memory that grew less than this share of the
	// run's growth per request during the last step has levelled off.
	memorySettledShare = 0.25
	// delayedACK is how long Linux holds an ACK when it has nothing to
	// send (TCP_DELACK_MIN, the delay on loopback and LANs). A server that
	// writes a response's head and body apart with Nagle's algorithm on
	// sends the body only once the head is acknowledged: the response
	// stalls that long between its first byte and its last.
	delayedACK = 40.0 // ms
)

// Diagnose names the bottleneck.
func Diagnose(in Input) result.Bottleneck {
	d := newData(in)
	if len(d.steps) == 0 {
		return result.Bottleneck{Class: None, Summary: "no load level completed, so there is nothing to diagnose", Evidence: []string{}}
	}
	if in.Halt != nil {
		v := d.memoryHalt(*in.Halt)
		if line, ok := d.hostLag(); ok {
			v.Evidence = append(v.Evidence, line)
		}
		return v
	}
	v := d.classify()
	if v.Class != Memory && d.memoryGrew() && v.Class != Client {
		if v.Class == None {
			v = d.memory()
		} else {
			v.Secondary = append(v.Secondary, Memory)
			v.Evidence = append(v.Evidence, d.memoryEvidence())
		}
	} else if line, ok := d.memorySettledLine(); ok {
		v.Evidence = append(v.Evidence, line)
	}
	if v.Evidence == nil {
		v.Evidence = []string{}
	}
	if line, ok := d.ackStallLine(); ok {
		v.Evidence = append(v.Evidence, line)
	}
	if line, ok := d.hostLag(); ok {
		v.Evidence = append(v.Evidence, line)
	}
	return v
}

// data is the input organised for the rules.
type data struct {
	in      Input
	steps   []Step // by level, one per level (the longest run of it)
	ordered []Step // in the order they ran
}

func newData(in Input) *data {
	d := &data{in: in}
	best := map[float64]Step{}
	for _, s := range in.Steps {
		if s.R == nil {
			continue
		}
		d.ordered = append(d.ordered, s)
		if b, ok := best[s.Level]; !ok || s.R.DurationS > b.R.DurationS {
			best[s.Level] = s
		}
	}
	for _, s := range best {
		d.steps = append(d.steps, s)
	}
	slices.SortFunc(d.steps, func(a, b Step) int { return cmp.Compare(a.Level, b.Level) })
	return d
}

func (d *data) classify() result.Bottleneck {
	if v, ok := d.client(); ok {
		return v
	}
	if !d.in.MetAtMin {
		return d.failedAtMin()
	}
	if d.in.ReachedMax {
		return d.none()
	}
	f := d.firstFailure()
	if f == nil {
		return d.none()
	}
	switch {
	case d.in.Checks && checkFailures(f.R) > 0 && checkFailures(d.steps[0].R) == 0:
		return d.incorrect(*f)
	case failed(f.R, "%") && throttledShareOf(f.R) >= throttledShare:
		return d.throttled(*f)
	case failed(f.R, "%") && !d.latencyGrewBy(*f, 2):
		return d.errorsFirst(*f)
	}
	return d.plateau()
}

// firstFailure is the lowest level that failed an SLO.
func (d *data) firstFailure() *Step {
	for i := range d.steps {
		if !d.steps[i].OK {
			return &d.steps[i]
		}
	}
	return nil
}

func (d *data) latencyGrewBy(f Step, factor float64) bool {
	low := d.steps[0].R.Summary.Latency.P95
	return low > 0 && f.R.Summary.Latency.P95/low >= factor
}

// capacityRPS is the successful throughput at the capacity.
func (d *data) capacityRPS() float64 {
	best := 0.0
	for _, s := range d.steps {
		if s.Level <= d.in.Capacity || d.in.Capacity == 0 {
			best = math.Max(best, goodput(s.R))
		}
	}
	return best
}

func (d *data) firstWith(f func(Step) bool) *Step {
	for i := range d.steps {
		if f(d.steps[i]) {
			return &d.steps[i]
		}
	}
	return nil
}

func goodput(r *result.Result) float64 {
	return r.Summary.RPS * (1 - r.Summary.Errors.Rate)
}

// failed reports whether a threshold with the given unit failed.
func failed(r *result.Result, unit string) bool {
	for _, t := range r.Thresholds {
		if !t.OK && t.Unit == unit {
			return true
		}
	}
	return false
}

func status(r *result.Result, code string) int64 { return r.Summary.StatusCodes[code] }
