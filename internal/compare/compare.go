// Package compare sets two surge results side by side (before and after)
// and decides, for each figure, whether the difference is real or noise,
// from the data each result recorded: its latency histogram, its per-second
// timeline and its counts. It is pure: it reads results and computes.
package compare

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/surgeload/surge/internal/hist"
	"github.com/surgeload/surge/internal/result"
)

// Alpha is the significance level of every test: a difference is called
// real when noise alone would produce it less than 1 time in 100.
const Alpha = 0.01

// Bootstrap rounds for throughput.
const bootstrapRounds = 4000

// Verdicts.
const (
	Better    = "better"
	Worse     = "worse"
	NoChange  = "no real change"
	NotTested = "not tested"
)

// Methods name the test behind a verdict.
const (
	MethodRank      = "rank test"       // Mann–Whitney U on the two histograms
	MethodQuantile  = "quantile CI"     // distribution-free intervals of the percentile
	MethodBootstrap = "bootstrap"       // over the per-second timeline
	MethodProp      = "proportion test" // two-proportion z-test
	MethodSearch    = "search brackets" // find's tried levels
	MethodNone      = "—"               // shown, not tested
)

// Comparison is the outcome of comparing result A (before) with B (after).
type Comparison struct {
	Version int     `json:"version"`
	Alpha   float64 `json:"alpha"`
	A       Side    `json:"a"`
	B       Side    `json:"b"`
	Rows    []Row   `json:"rows"`
	// Bottleneck is find's diagnosis on each side, when both are find
	// results.
	Bottleneck *[2]string `json:"bottleneck,omitempty"`
	// Notes explain what could not be tested and why.
	Notes []string `json:"notes"`
}

// Side describes one of the two results.
type Side struct {
	Name      string    `json:"name"` // file name, as given
	Kind      string    `json:"kind"` // "run" or "find"
	Target    string    `json:"target"`
	Model     string    `json:"model"`
	Started   time.Time `json:"started"`
	DurationS float64   `json:"duration_s"`
	Requests  int64     `json:"requests"`
}

// Row is one figure of the comparison.
type Row struct {
	Section string  `json:"section"` // throughput, latency, errors, status, capacity, "step NAME", iterations
	Name    string  `json:"name"`    // rps, p95, errors, timeout, 503, …
	Unit    string  `json:"unit"`    // req/s, ms, %, users
	A       float64 `json:"a"`
	B       float64 `json:"b"`
	// Change is B relative to A in percent ("%"), or in percentage points
	// ("pp") for rates; nil when A is 0 and the change is relative.
	Change     *float64 `json:"change"`
	ChangeUnit string   `json:"change_unit"`
	Higher     string   `json:"higher_is"` // "better" or "worse"
	// Real is true when the test says the difference is not noise.
	Real    bool     `json:"real"`
	Verdict string   `json:"verdict"`
	Method  string   `json:"method"`
	P       *float64 `json:"p,omitempty"` // p-value, for the tests that give one
}

// Input is one result to compare, with the name it is shown under.
type Input struct {
	Name string
	R    *result.Result
}

// Compare compares a (before) with b (after). It fails only when a
// histogram is present but cannot be decoded.
func Compare(a, b Input) (*Comparison, error) {
	c := &Comparison{Version: 1, Alpha: Alpha, A: side(a), B: side(b), Notes: []string{}}
	ha, err := decode(a)
	if err != nil {
		return nil, err
	}
	hb, err := decode(b)
	if err != nil {
		return nil, err
	}
	sa, sb := a.R.Summary, b.R.Summary

	c.throughput(a.R, b.R)
	c.latency(a.R, b.R, ha, hb, a.Name, b.Name)
	c.errors(sa, sb, "errors", "status")
	if a.R.Capacity != nil && b.R.Capacity != nil {
		c.capacity(a.R, b.R)
		if ca, cb := float64(a.R.Capacity.Users)+a.R.Capacity.Rate, float64(b.R.Capacity.Users)+b.R.Capacity.Rate; ca != cb {
			c.note("find results: throughput and latency are each search's confirming hold, at its own capacity, so at different loads; to compare latency at one load, compare two runs")
		}
	}
	if a.R.Bottleneck != nil && b.R.Bottleneck != nil {
		c.Bottleneck = &[2]string{a.R.Bottleneck.Class, b.R.Bottleneck.Class}
	}
	c.steps(a.R, b.R)
	if a.R.Iterations != nil && b.R.Iterations != nil {
		ia, ib := a.R.Iterations, b.R.Iterations
		c.add(rel("iterations", "rate", "/s", ia.Rate, ib.Rate, true), NotTested, MethodNone, nil)
		c.add(rel("iterations", "journey p95", "ms", ia.Latency.P95, ib.Latency.P95, false), NotTested, MethodNone, nil)
		c.proportion("iterations", "failed", ia.Failed, ia.Count, ib.Failed, ib.Count, false)
	}
	return c, nil
}

func side(in Input) Side {
	kind := "run"
	if in.R.Capacity != nil {
		kind = "find"
	}
	return Side{Name: in.Name, Kind: kind, Target: in.R.Target, Model: in.R.Model, Started: in.R.Started,
		DurationS: in.R.DurationS, Requests: in.R.Summary.Requests}
}

func decode(in Input) (*hist.Histogram, error) {
	if in.R.Histogram == "" {
		return nil, nil
	}
	h, err := hist.Decode(in.R.Histogram)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in.Name, err)
	}
	return h, nil
}

// rel builds a row whose change is relative.
func rel(section, name, unit string, a, b float64, higherBetter bool) Row {
	r := Row{Section: section, Name: name, Unit: unit, A: a, B: b, ChangeUnit: "%", Higher: "worse"}
	if higherBetter {
		r.Higher = "better"
	}
	if a != 0 {
		ch := result.Round((b-a)/a*100, 2)
		r.Change = &ch
	} else if b == 0 {
		zero := 0.0
		r.Change = &zero
	}
	return r
}

// add appends r with a verdict: real decides whether B differs from A,
// and the direction of the difference decides better or worse.
func (c *Comparison) add(r Row, verdict, method string, p *float64) {
	r.Method = method
	r.P = p
	switch verdict {
	case NotTested:
		r.Verdict = NotTested
	case "real":
		r.Real = true
		r.Verdict = direction(r)
	default:
		r.Verdict = NoChange
	}
	c.Rows = append(c.Rows, r)
}

func direction(r Row) string {
	up := r.B > r.A
	if up == (r.Higher == "better") {
		return Better
	}
	return Worse
}

func realIf(ok bool) string {
	if ok {
		return "real"
	}
	return NoChange
}

func pval(p float64) *float64 {
	v := p
	if v < 1e-12 {
		v = 0
	} else {
		v, _ = strconv.ParseFloat(strconv.FormatFloat(v, 'g', 3, 64), 64)
	}
	return &v
}

// measured returns the per-second throughput a run measured, leaving out
// its warm-up; for find results, only the seconds of the last step (the
// confirming hold), since the timeline runs through every level.
func measured(r *result.Result) []float64 {
	var xs []float64
	for _, p := range measuredPoints(r) {
		xs = append(xs, p.RPS)
	}
	return xs
}

func measuredPoints(r *result.Result) []result.Point {
	from := r.WarmupS
	if len(r.Steps) > 0 {
		total := 0.0
		for _, s := range r.Steps {
			total += s.DurationS
		}
		from += total - r.Steps[len(r.Steps)-1].DurationS
	}
	var ps []result.Point
	for _, p := range r.Timeline {
		if p.T > from+1e-9 {
			ps = append(ps, p)
		}
	}
	return ps
}

func (c *Comparison) throughput(a, b *result.Result) {
	r := rel("throughput", "rps", "req/s", a.Summary.RPS, b.Summary.RPS, true)
	xa, xb := measured(a), measured(b)
	if len(xa) < 3 || len(xb) < 3 {
		c.note("throughput not tested: a timeline of at least 3 seconds is needed on both sides")
		c.add(r, NotTested, MethodNone, nil)
		return
	}
	lo, hi := BootstrapMeanDiff(xa, xb, Alpha, bootstrapRounds)
	c.add(r, realIf(lo > 0 || hi < 0), MethodBootstrap, nil)
}

var percentiles = []struct {
	name string
	q    float64
	get  func(result.Latency) float64
}{
	{"p50", 0.50, func(l result.Latency) float64 { return l.P50 }},
	{"p90", 0.90, func(l result.Latency) float64 { return l.P90 }},
	{"p95", 0.95, func(l result.Latency) float64 { return l.P95 }},
	{"p99", 0.99, func(l result.Latency) float64 { return l.P99 }},
	{"p999", 0.999, func(l result.Latency) float64 { return l.P999 }},
}

func ms(d time.Duration) float64 { return result.Ms(d) }

// secondsOf returns, for the measured seconds of r, the quantile field
// get of each second that had requests, and its request count.
func secondsOf(r *result.Result, get func(result.Point) float64) (vals, counts []float64) {
	for _, p := range measuredPoints(r) {
		if p.Requests > 0 && get(p) > 0 {
			vals = append(vals, get(p))
			counts = append(counts, float64(p.Requests))
		}
	}
	return vals, counts
}

// inflation is the design effect of r for quantile q, estimated from the
// timeline's nearest per-second percentile.
func inflation(r *result.Result, h *hist.Histogram, q float64) float64 {
	get, at := func(p result.Point) float64 { return p.P50 }, 0.5
	switch {
	case q >= 0.99:
		get, at = func(p result.Point) float64 { return p.P99 }, 0.99
	case q >= 0.9:
		get, at = func(p result.Point) float64 { return p.P95 }, 0.95
	}
	vals, counts := secondsOf(r, get)
	return Inflation(h, at, vals, counts)
}

func (c *Comparison) latency(ra, rb *result.Result, ha, hb *hist.Histogram, na, nb string) {
	sa, sb := ra.Summary, rb.Summary
	tested := ha != nil && hb != nil && ha.Count() > 0 && hb.Count() > 0
	if !tested {
		for _, x := range []struct {
			h    *hist.Histogram
			name string
		}{{ha, na}, {hb, nb}} {
			if x.h == nil {
				c.note(x.name + " has no histogram (an older result?): latency shown from its summary, not tested")
			}
		}
	}
	mean := rel("latency", "mean", "ms", sa.Latency.Mean, sb.Latency.Mean, false)
	switch {
	case !tested && mean.A == 0 && mean.B == 0:
	case tested:
		mean.A, mean.B = ms(ha.Mean()), ms(hb.Mean())
		mean = rel("latency", "mean", "ms", mean.A, mean.B, false)
		rt := MannWhitney(ha, hb, (inflation(ra, ha, 0.5)+inflation(rb, hb, 0.5))/2)
		c.add(mean, realIf(rt.P < Alpha && !negligible(rt.A12)), MethodRank, pval(rt.P))
	default:
		c.add(mean, NotTested, MethodNone, nil)
	}
	for _, pc := range percentiles {
		if !tested {
			// An older result may lack some percentiles: show what both have.
			if va, vb := pc.get(sa.Latency), pc.get(sb.Latency); va != 0 || vb != 0 {
				c.add(rel("latency", pc.name, "ms", va, vb, false), NotTested, MethodNone, nil)
			}
			continue
		}
		// The figures come from the decoded histograms, exactly.
		r := rel("latency", pc.name, "ms", ms(ha.Quantile(pc.q)), ms(hb.Quantile(pc.q)), false)
		p := QuantileTest(ha, hb, pc.q, inflation(ra, ha, pc.q), inflation(rb, hb, pc.q))
		c.add(r, realIf(p < Alpha), MethodQuantile, pval(p))
	}
	mx := rel("latency", "max", "ms", sa.Latency.Max, sb.Latency.Max, false)
	if tested {
		mx = rel("latency", "max", "ms", ms(ha.Max()), ms(hb.Max()), false)
	}
	if mx.A != 0 || mx.B != 0 {
		c.add(mx, NotTested, MethodNone, nil)
	}
}

// proportion adds a row for a count out of a total, as a rate in percent,
// tested with the two-proportion test.
func (c *Comparison) proportion(section, name string, xa, na, xb, nb int64, higherBetter bool) {
	pa, pb := 0.0, 0.0
	if na > 0 {
		pa = float64(xa) / float64(na) * 100
	}
	if nb > 0 {
		pb = float64(xb) / float64(nb) * 100
	}
	r := Row{Section: section, Name: name, Unit: "%", A: result.Round(pa, 4), B: result.Round(pb, 4), ChangeUnit: "pp", Higher: "worse"}
	if higherBetter {
		r.Higher = "better"
	}
	ch := result.Round(pb-pa, 4)
	r.Change = &ch
	if na == 0 || nb == 0 {
		c.add(r, NotTested, MethodNone, nil)
		return
	}
	p := TwoProportions(xa, na, xb, nb)
	c.add(r, realIf(p < Alpha), MethodProp, pval(p))
}

// errors adds the error rate, each error class and each status code.
func (c *Comparison) errors(sa, sb result.Summary, section, statusSection string) {
	c.proportion(section, "errors", sa.Errors.Count, sa.Requests, sb.Errors.Count, sb.Requests, false)
	for _, k := range keys(sa.Errors.ByClass, sb.Errors.ByClass) {
		c.proportion(section, k, sa.Errors.ByClass[k], sa.Requests, sb.Errors.ByClass[k], sb.Requests, false)
	}
	if statusSection == "" {
		return
	}
	ta, tb := total(sa.StatusCodes), total(sb.StatusCodes)
	for _, k := range keys(sa.StatusCodes, sb.StatusCodes) {
		code, _ := strconv.Atoi(k)
		c.proportion(statusSection, k, sa.StatusCodes[k], ta, sb.StatusCodes[k], tb, code > 0 && code < 400)
	}
}

func keys(a, b map[string]int64) []string {
	var ks []string
	for k := range a {
		ks = append(ks, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			ks = append(ks, k)
		}
	}
	slices.Sort(ks)
	return ks
}

func total(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// bracket returns the capacity of a find result and the lowest level tried
// above it that failed (+Inf when none did).
func bracket(r *result.Result) (capLevel, failed float64) {
	capLevel = float64(r.Capacity.Users) + r.Capacity.Rate
	failed = math.Inf(1)
	for _, s := range r.Steps {
		lv := float64(s.Users) + s.Rate
		if !s.SLOOK && lv > capLevel && lv < failed {
			failed = lv
		}
	}
	if !r.Capacity.MetAtMin {
		capLevel = 0
	}
	return capLevel, failed
}

// capacity compares two find results. The search brackets each capacity
// between the level that held and the next level that failed; a
// difference is real when B held at a level where A failed, or failed
// at a level where A held.
func (c *Comparison) capacity(a, b *result.Result) {
	ca, fa := bracket(a)
	cb, fb := bracket(b)
	verdict := realIf(cb >= fa || ca >= fb)
	if a.Model != b.Model {
		verdict = NotTested
		c.note("capacity not tested: A searched the " + a.Model + " model and B the " + b.Model + " model")
	}
	unit := "users"
	if a.Model == "rate" {
		unit = "req/s"
	}
	c.add(rel("capacity", "level", unit, ca, cb, true), verdict, MethodSearch, nil)
	c.add(rel("capacity", "rps", "req/s", a.Capacity.RPS, b.Capacity.RPS, true), verdict, MethodSearch, nil)
}

// steps compares each scenario step present on both sides.
func (c *Comparison) steps(a, b *result.Result) {
	if len(a.ByStep) == 0 || len(b.ByStep) == 0 {
		return
	}
	names := slices.Clone(b.StepNames)
	for _, n := range a.StepNames {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	for n := range b.ByStep {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	for n := range a.ByStep {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	// Order of the file, then any stray names sorted.
	known := len(b.StepNames)
	slices.SortStableFunc(names[known:], cmp.Compare[string])
	tested, untested := false, false
	for _, n := range names {
		sa, okA := a.ByStep[n]
		sb, okB := b.ByStep[n]
		if !okA || !okB {
			missing := "A"
			if okA {
				missing = "B"
			}
			c.note("step " + n + " is missing from " + missing)
			continue
		}
		sec := "step " + n
		c.add(rel(sec, "rps", "req/s", sa.RPS, sb.RPS, true), NotTested, MethodNone, nil)
		ha, hb := stepHistogram(sa), stepHistogram(sb)
		for _, pc := range []int{0, 2, 3} {
			p := percentiles[pc]
			if ha == nil || hb == nil || ha.Count() == 0 || hb.Count() == 0 {
				c.add(rel(sec, p.name, "ms", p.get(sa.Latency), p.get(sb.Latency), false), NotTested, MethodNone, nil)
				untested = true
				continue
			}
			// As for the whole run: exact figures from the step's
			// histograms, widened by the run's own drift (its timeline).
			r := rel(sec, p.name, "ms", ms(ha.Quantile(p.q)), ms(hb.Quantile(p.q)), false)
			pv := QuantileTest(ha, hb, p.q, inflation(a, ha, p.q), inflation(b, hb, p.q))
			c.add(r, realIf(pv < Alpha), MethodQuantile, pval(pv))
		}
		c.errors(sa, sb, sec, "")
		tested = true
	}
	switch {
	case tested && untested:
		c.note("steps: error rates are tested; step latency is tested where both results keep a histogram per step (older ones do not); step throughput is shown, not tested")
	case tested:
		c.note("steps: latency and error rates are tested; step throughput is shown, not tested (it follows the journeys')")
	}
}

// stepHistogram decodes a step's latency histogram; nil when the result
// has none (an older result) or it does not decode.
func stepHistogram(s result.Summary) *hist.Histogram {
	if s.Histogram == "" {
		return nil
	}
	h, err := hist.Decode(s.Histogram)
	if err != nil {
		return nil
	}
	return h
}

func (c *Comparison) note(s string) {
	if !slices.Contains(c.Notes, s) {
		c.Notes = append(c.Notes, s)
	}
}

// Find returns the row of section and name.
func (c *Comparison) Find(section, name string) (Row, bool) {
	for _, r := range c.Rows {
		if r.Section == section && r.Name == name {
			return r, true
		}
	}
	return Row{}, false
}
