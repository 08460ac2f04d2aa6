// Package diagnose names what limits a target, from the steps of a
// capacity search: one bottleneck class of PRODUCT.md (cpu, serialized,
// concurrency-limit, throttled, errors, latency-floor, incorrect-responses,
// memory, client, none), a sentence a person can act on, and the evidence
// behind it. It is a pure function of measured results: it runs no load
// and reads nothing but its input.
package diagnose

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"

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
}

// Thresholds of the rules, named so the rules read as sentences.
const (
	saturatedCPU      = 0.80 // target CPU share that counts as saturated
	generatorCPU      = 85.0 // surge CPU percent that counts as saturated
	generatorLag      = 10.0 // surge timer lag p99 (ms) that counts as overloaded
	flatThroughput    = 0.85 // share of the peak that still counts as "flat"
	floorFlatness     = 1.5  // latency ratio between two loads below which latency is flat
	serializedBelow   = 1.5  // internal concurrency below which requests are served one at a time
	throttledShare    = 0.5  // share of errors that are 429/503 for a quota
	memoryGrowthBytes = 50 << 20
	memoryGrowthShare = 0.5
)

// Diagnose names the bottleneck.
func Diagnose(in Input) result.Bottleneck {
	d := newData(in)
	if len(d.steps) == 0 {
		return result.Bottleneck{Class: None, Summary: "no load level completed, so there is nothing to diagnose", Evidence: []string{}}
	}
	v := d.classify()
	if v.Class != Memory && d.memoryGrew() && v.Class != Client {
		if v.Class == None {
			v = d.memory()
		} else {
			v.Secondary = append(v.Secondary, Memory)
			v.Evidence = append(v.Evidence, d.memoryEvidence())
		}
	}
	if v.Evidence == nil {
		v.Evidence = []string{}
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

// --- the rules -------------------------------------------------------------

func (d *data) client() (result.Bottleneck, bool) {
	// The level that decided the answer: the first failure, or the top.
	s := d.steps[len(d.steps)-1]
	if f := d.firstFailure(); f != nil {
		s = *f
	}
	c := s.R.Client
	if c.CPUPercent <= generatorCPU && c.SchedLag.P99 <= generatorLag {
		return result.Bottleneck{}, false
	}
	ev := []string{}
	if c.CPUPercent > generatorCPU {
		ev = append(ev, fmt.Sprintf("surge used %.0f%% of its %d cores at %s", c.CPUPercent, c.Cores, d.level(s.Level)))
	}
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

func (d *data) none() result.Bottleneck {
	top := d.steps[len(d.steps)-1]
	v := result.Bottleneck{
		Class:   None,
		Summary: fmt.Sprintf("Every SLO held up to %s (%s req/s), the largest load tried: raise --max to find the limit.", d.level(top.Level), rate(top.R.Summary.RPS)),
		Evidence: []string{
			fmt.Sprintf("at %s: p95 %s, errors %s, %s req/s", d.level(top.Level), ms(top.R.Summary.Latency.P95), pct(top.R.Summary.Errors.Rate), rate(top.R.Summary.RPS)),
		},
	}
	if e, ok := d.cpuAt(top); ok {
		v.Evidence = append(v.Evidence, e)
	}
	return v
}

func (d *data) failedAtMin() result.Bottleneck {
	low := d.steps[0]
	if failed(low.R, "%") {
		switch {
		case d.in.Checks && checkFailures(low.R) > 0:
			return d.incorrect(low)
		case throttledShareOf(low.R) >= throttledShare:
			return d.throttled(low)
		}
		return d.errorsFirst(low)
	}
	if len(d.steps) > 1 && failed(low.R, "ms") {
		next := d.steps[1]
		a, b := low.R.Summary.Latency.P95, next.R.Summary.Latency.P95
		if a > 0 && b/a < floorFlatness {
			return result.Bottleneck{
				Class: LatencyFloor,
				Summary: fmt.Sprintf("Latency is already %s (p95) at the lowest load and does not depend on it: no capacity can meet %s; a slow dependency, a remote call or the network sets the floor.",
					ms(a), sloList(d.in.SLO)),
				Evidence: []string{
					fmt.Sprintf("p95 %s at %s and %s at %s: high and flat, not load-dependent", ms(a), d.level(low.Level), ms(b), d.level(next.Level)),
					fmt.Sprintf("throughput followed the load: %s → %s req/s", rate(low.R.Summary.RPS), rate(next.R.Summary.RPS)),
					fmt.Sprintf("mean latency %s with almost no spread (p50 %s, p99 %s)", ms(low.R.Summary.Latency.Mean), ms(low.R.Summary.Latency.P50), ms(low.R.Summary.Latency.P99)),
				},
			}
		}
	}
	v := d.plateau()
	v.Evidence = append(v.Evidence, fmt.Sprintf("the SLO failed even at the lowest load tried (%s): the capacity is below it; try a lower --min", d.level(low.Level)))
	return v
}

func (d *data) incorrect(f Step) result.Bottleneck {
	low := d.steps[0]
	ev := []string{
		fmt.Sprintf("responses failing their checks: %s at %s, %s at %s",
			pct(checkShare(low.R)), d.level(low.Level), pct(checkShare(f.R)), d.level(f.Level)),
		fmt.Sprintf("the status codes look fine (%s): only the content is wrong", codes(f.R.Summary.StatusCodes)),
	}
	summary := fmt.Sprintf("Responses go wrong only under concurrency (%s failed their checks at %s, none at %s): a race condition serves one request another's data; look for shared mutable state.",
		pct(checkShare(f.R)), d.level(f.Level), d.level(low.Level))
	if checkFailures(low.R) > 0 {
		summary = fmt.Sprintf("Responses fail their checks even at the lowest load (%s at %s): the answers are wrong, whatever the load.", pct(checkShare(low.R)), d.level(low.Level))
	}
	return result.Bottleneck{Class: IncorrectResponses, Summary: summary, Evidence: ev}
}

func (d *data) throttled(f Step) result.Bottleneck {
	n429, n503 := status(f.R, "429"), status(f.R, "503")
	limit := d.capacityRPS()
	ev := []string{
		fmt.Sprintf("at %s: %s of responses were 429 Too Many Requests or 503 (%d and %d)", d.level(f.Level), pct(float64(n429+n503)/float64(max(1, f.R.Summary.Requests))), n429, n503),
	}
	if first := d.firstWith(func(s Step) bool { return status(s.R, "429")+status(s.R, "503") > 0 }); first != nil {
		ev = append(ev, fmt.Sprintf("they first appeared at %s and rose with the load", d.level(first.Level)))
	}
	if limit > 0 {
		ev = append(ev, fmt.Sprintf("successful throughput tops out at ~%s req/s", rate(limit)))
	}
	ev = append(ev, d.cpuFlatEvidence()...)
	return result.Bottleneck{
		Class:    Throttled,
		Summary:  fmt.Sprintf("A quota throttles the target at ~%s req/s: above it, requests are refused with 429/503; raise the quota, or spread the load under it (honour Retry-After).", rate(limit)),
		Evidence: ev,
	}
}

func (d *data) errorsFirst(f Step) result.Bottleneck {
	low := d.steps[0]
	ev := []string{
		fmt.Sprintf("errors: %s at %s, %s at %s (%s)", pct(low.R.Summary.Errors.Rate), d.level(low.Level), pct(f.R.Summary.Errors.Rate), d.level(f.Level), classes(f.R.Summary.Errors.ByClass)),
		fmt.Sprintf("latency stayed where it was: p50 %s at %s, %s at %s", ms(low.R.Summary.Latency.P50), d.level(low.Level), ms(f.R.Summary.Latency.P50), d.level(f.Level)),
	}
	ev = append(ev, d.cpuFlatEvidence()...)
	summary := fmt.Sprintf("The target starts failing above ~%s (%s errors at %s) before its latency grows: it sheds load with errors instead of queueing; find the limit it enforces (in-flight cap, worker crash, pool exhaustion).",
		d.level(d.in.Capacity), pct(f.R.Summary.Errors.Rate), d.level(f.Level))
	if !d.in.MetAtMin {
		summary = fmt.Sprintf("The target fails even at the lowest load (%s errors at %s, %s): it is broken or overloaded before surge adds anything.",
			pct(low.R.Summary.Errors.Rate), d.level(low.Level), classes(low.R.Summary.Errors.ByClass))
	}
	return result.Bottleneck{Class: Errors, Summary: summary, Evidence: ev}
}

// plateau explains a latency failure by where throughput stopped growing:
// CPU saturated, or an internal concurrency limit (1: serialized).
func (d *data) plateau() result.Bottleneck {
	peak := d.peak()
	low := d.steps[0]
	top := d.steps[len(d.steps)-1]
	r0 := low.R.Summary.Latency.Mean / 1000 // seconds
	limit := goodput(peak.R) * r0
	ev := []string{}
	if from := d.plateauFrom(); from != nil && top.Level >= 1.5*from.Level {
		ev = append(ev, fmt.Sprintf("throughput flat at ~%s req/s from %s up (to %s)", rate(goodput(peak.R)), d.level(from.Level), d.level(top.Level)))
	} else {
		ev = append(ev, fmt.Sprintf("throughput reached %s req/s at %s", rate(goodput(peak.R)), d.level(peak.Level)))
	}
	ev = append(ev, fmt.Sprintf("latency grew with load: p95 %s at %s → %s at %s (×%.1f)",
		ms(low.R.Summary.Latency.P95), d.level(low.Level), ms(top.R.Summary.Latency.P95), d.level(top.Level), ratio(top.R.Summary.Latency.P95, low.R.Summary.Latency.P95)))
	ev = append(ev, fmt.Sprintf("Little's law: %s req/s × %s (mean latency at %s) ≈ %.1f requests in service at once",
		rate(goodput(peak.R)), ms(low.R.Summary.Latency.Mean), d.level(low.Level), limit))

	if util, cores, ok := d.cpuUtil(peak); ok && util >= saturatedCPU {
		ev = append(ev, fmt.Sprintf("target CPU %.0f%% of %s at the plateau", 100*util, coresText(cores)))
		return result.Bottleneck{
			Class: CPU,
			Summary: fmt.Sprintf("The target's CPU is saturated (%.0f%% of %s) at ~%s req/s: make each request cheaper (profile the hot path, add an index, cache) or give it more CPU.",
				100*util, coresText(cores), rate(goodput(peak.R))),
			Evidence: ev,
		}
	}
	ev = append(ev, d.cpuFlatEvidence()...)
	if !d.probed() {
		ev = append(ev, "target CPU unknown: add --probe prom=URL (or pid=N, cgroup=PATH) to tell a CPU limit from a concurrency limit")
	}
	if limit < serializedBelow {
		return result.Bottleneck{
			Class:            Serialized,
			ConcurrencyLimit: round1(limit),
			Summary: fmt.Sprintf("Requests are served one at a time (internal concurrency ≈ %.1f): a global lock or a blocked event loop caps throughput at ~%s req/s whatever the load; find what serializes them.",
				limit, rate(goodput(peak.R))),
			Evidence: ev,
		}
	}
	return result.Bottleneck{
		Class:            ConcurrencyLimit,
		ConcurrencyLimit: round1(limit),
		Summary: fmt.Sprintf("Throughput stops at ~%s req/s because only about %.0f requests are served at once (a pool or worker limit of ~%.0f); requests beyond it queue. Raise that limit, or hold each slot for less time.",
			rate(goodput(peak.R)), limit, limit),
		Evidence: ev,
	}
}

func (d *data) memory() result.Bottleneck {
	first, last, ok := d.rssSpan()
	per := ""
	if ok {
		var reqs int64
		for _, s := range d.ordered {
			reqs += s.R.Summary.Requests
		}
		if reqs > 0 {
			per = fmt.Sprintf(", ~%s per request", bytes((last-first)/float64(reqs)))
		}
	}
	return result.Bottleneck{
		Class: Memory,
		Summary: fmt.Sprintf("The target's memory grows steadily with the requests it serves (+%s over the run%s) and is not given back: a leak or an unbounded cache; it will run out of memory under sustained load.",
			bytes(last-first), per),
		Evidence: []string{d.memoryEvidence(), fmt.Sprintf("the SLOs themselves held up to %s", d.level(d.steps[len(d.steps)-1].Level))},
	}
}

// --- features --------------------------------------------------------------

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

// window returns the first probe window of a step that knows CPU.
func window(r *result.Result) *result.ProbeWindow {
	for _, name := range sortedKeys(r.Probes) {
		if w := r.Probes[name].Window; w != nil && w.CPUCores != nil {
			return w
		}
	}
	return nil
}

func (d *data) probed() bool {
	for _, s := range d.steps {
		if window(s.R) != nil {
			return true
		}
	}
	return false
}

// cpuUtil is the target's CPU share at a step, when a probe knows it.
func (d *data) cpuUtil(s Step) (util, cores float64, ok bool) {
	w := window(s.R)
	if w == nil || w.CPUUtil == nil || w.Cores == nil {
		return 0, 0, false
	}
	return *w.CPUUtil, *w.Cores, true
}

func (d *data) cpuAt(s Step) (string, bool) {
	w := window(s.R)
	if w == nil {
		return "", false
	}
	if w.CPUUtil != nil && w.Cores != nil {
		return fmt.Sprintf("target CPU %.0f%% of %s", 100**w.CPUUtil, coresText(*w.Cores)), true
	}
	return fmt.Sprintf("target CPU %.2f cores", *w.CPUCores), true
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
	low, top := d.steps[0], d.steps[len(d.steps)-1]
	return []string{fmt.Sprintf("target CPU stayed between %.0f%% and %.0f%% of %s while p95 went ×%.1f: a CPU-based autoscaler would not react",
		100*lo, 100*hi, coresText(cores), ratio(top.R.Summary.Latency.P95, low.R.Summary.Latency.P95))}
}

// rssSpan returns the target's RSS at the first and last step that know it.
func (d *data) rssSpan() (first, last float64, ok bool) {
	var vals []float64
	for _, s := range d.ordered {
		if w := window(s.R); w != nil && w.RSSBytes != nil {
			vals = append(vals, *w.RSSBytes)
		}
	}
	if len(vals) < 3 {
		return 0, 0, false
	}
	return vals[0], vals[len(vals)-1], true
}

// memoryGrew reports steady growth of the target's RSS over the run.
func (d *data) memoryGrew() bool {
	var vals []float64
	for _, s := range d.ordered {
		if w := window(s.R); w != nil && w.RSSBytes != nil {
			vals = append(vals, *w.RSSBytes)
		}
	}
	if len(vals) < 3 {
		return false
	}
	up := 0
	for i := 1; i < len(vals); i++ {
		if vals[i] > vals[i-1] {
			up++
		}
	}
	growth := vals[len(vals)-1] - vals[0]
	return growth >= memoryGrowthBytes && growth >= memoryGrowthShare*vals[0] && float64(up) >= 0.75*float64(len(vals)-1)
}

func (d *data) memoryEvidence() string {
	first, last, _ := d.rssSpan()
	return fmt.Sprintf("target RSS grew from %s to %s over %d steps, higher after almost every step", bytes(first), bytes(last), len(d.ordered))
}

// --- result helpers ----------------------------------------------------------

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

func checkFailures(r *result.Result) int64 { return r.Summary.Errors.ByClass["check"] }

func checkShare(r *result.Result) float64 {
	if r.Summary.Requests == 0 {
		return 0
	}
	return float64(checkFailures(r)) / float64(r.Summary.Requests)
}

func status(r *result.Result, code string) int64 { return r.Summary.StatusCodes[code] }

func throttledShareOf(r *result.Result) float64 {
	if r.Summary.Errors.Count == 0 {
		return 0
	}
	return float64(status(r, "429")+status(r, "503")) / float64(r.Summary.Errors.Count)
}

// --- formatting ----------------------------------------------------------

func (d *data) level(x float64) string {
	if d.in.Model == "rate" {
		return rate(x) + " req/s"
	}
	if x == 1 {
		return "1 user"
	}
	return strconv.FormatFloat(x, 'f', 0, 64) + " users"
}

func rate(v float64) string {
	if v < 100 {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	s := strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func ms(v float64) string {
	switch {
	case v >= 1000:
		return strconv.FormatFloat(v/1000, 'f', 2, 64) + "s"
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64) + "ms"
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64) + "ms"
	}
	return strconv.FormatFloat(v, 'f', 2, 64) + "ms"
}

func pct(f float64) string {
	p := 100 * f
	switch {
	case p == 0:
		return "0%"
	case p < 0.1:
		return "<0.1%"
	}
	return strconv.FormatFloat(p, 'f', 1, 64) + "%"
}

func bytes(b float64) string {
	switch {
	case math.Abs(b) >= 1<<30:
		return strconv.FormatFloat(b/(1<<30), 'f', 1, 64) + " GiB"
	case math.Abs(b) >= 1<<20:
		return strconv.FormatFloat(b/(1<<20), 'f', 0, 64) + " MiB"
	case math.Abs(b) >= 1<<10:
		return strconv.FormatFloat(b/(1<<10), 'f', 0, 64) + " KiB"
	}
	return strconv.FormatFloat(b, 'f', 0, 64) + " B"
}

func ratio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// coresText formats a CPU count: "1 core", "2 cores", "1.5 cores".
func coresText(v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if v == 1 {
		return s + " core"
	}
	return s + " cores"
}

func sloList(slo []string) string {
	if len(slo) == 0 {
		return "the SLO"
	}
	s := slo[0]
	for _, x := range slo[1:] {
		s += ", " + x
	}
	return s
}

func classes(m map[string]int64) string {
	keys := sortedKeys(m)
	slices.SortStableFunc(keys, func(a, b string) int { return cmp.Compare(m[b], m[a]) })
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s %d", k, m[k])
	}
	if s == "" {
		return "no errors"
	}
	return s
}

func codes(m map[string]int64) string {
	keys := sortedKeys(m)
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s ×%d", k, m[k])
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
