// Package find runs `surge find`: a capacity search under SLOs (package
// capacity) whose levels are load tests (package runner), assembled into
// one result with the diagnosis of the bottleneck (package diagnose). The
// cli parses flags into a Spec; `surge find` and `surge demo` both call
// Search. It prints nothing: the caller reports each step as it ends.
package find

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/surgeload/surge/internal/capacity"
	"github.com/surgeload/surge/internal/client"
	"github.com/surgeload/surge/internal/diagnose"
	"github.com/surgeload/surge/internal/expr"
	"github.com/surgeload/surge/internal/load"
	"github.com/surgeload/surge/internal/probe"
	"github.com/surgeload/surge/internal/result"
	"github.com/surgeload/surge/internal/runner"
	"github.com/surgeload/surge/internal/scenario"
)

// Spec is a validated capacity search: everything needed to run it.
type Spec struct {
	// Journeys is what every user runs: a scenario's flows, or a URL's
	// one step.
	Journeys *scenario.Plan
	// Target and Method name it in the result (Method "" for a scenario).
	Target, Method string
	Client         client.Config
	// SLOs every level must meet; StepSLOs are those on one step of the
	// journeys (step.order.p95<300ms).
	SLOs     []*expr.Expr
	StepSLOs []runner.StepThreshold
	Probes   []probe.Probe
	Search   capacity.Config
	// Model is "users" (closed) or "rate" (open).
	Model string
	// Think and ThinkMax are the closed model's think time range.
	Think, ThinkMax time.Duration
	// MaxInflight bounds the open model's requests in flight.
	MaxInflight int
	// Warmup is left out of each level's figures.
	Warmup time.Duration
	// Grace is how long requests in flight at the end of a level may finish.
	Grace time.Duration
	// Checks is true when responses are checked (so wrong answers show).
	Checks bool
	// EndEarly ends a growth level after its first measured interval when
	// that interval already decides it (see clearVerdict); bisection and
	// confirmation levels, near the edge, always run in full.
	EndEarly bool
	// MaxTargetGrowth stops the search when a probe sees the target's
	// resident memory grow by more than this many bytes since the first
	// level; 0: no bound.
	MaxTargetGrowth float64
	// OnStep, when set, is called after each level with the level's
	// ordinal (from 1) and what it measured.
	OnStep func(n int, st capacity.Step)
}

// Plan is the load plan of one level lasting d.
func (sp *Spec) Plan(level float64, d time.Duration) load.Plan {
	p := load.Plan{Duration: d, Grace: sp.Grace}
	if sp.Model == "users" {
		p.Users = load.RampUsers{N: int(level)}
		p.Think, p.ThinkMax = sp.Think, sp.ThinkMax
	} else {
		p.Arrivals = load.ConstantRate{Rate: level}
		p.MaxInflight = sp.MaxInflight
	}
	return p
}

// SLOText lists the SLOs of a search, comma-separated.
func (sp *Spec) SLOText() string {
	s := ""
	for i, e := range sp.SLOs {
		if i > 0 {
			s += ", "
		}
		s += e.String()
	}
	return s
}

// Search runs the capacity search and returns find's result: the envelope
// of the confirmed level (or of the last step), plus capacity, steps and
// bottleneck. An interrupted search returns a partial result. It returns
// an error only when a level could not be run at all.
func Search(ctx context.Context, sp Spec) (*result.Result, error) {
	started := time.Now()
	n := 0
	run := func(ctx context.Context, level float64, phase string, d time.Duration) (*result.Result, error) {
		o := runner.Options{
			Journeys: sp.Journeys, Target: sp.Target, Method: sp.Method, Client: sp.Client, Plan: sp.Plan(level, d),
			Thresholds: sp.SLOs, StepThresholds: sp.StepSLOs, Warmup: sp.Warmup, Probes: sp.Probes,
		}
		if sp.EndEarly && (phase == capacity.Grow || phase == capacity.Probe) {
			o.EndEarly = func(p runner.Progress) bool { return clearVerdict(sp.SLOs, p.Point, len(sp.StepSLOs) == 0) }
		}
		return runner.Run(ctx, o)
	}
	progress := func(st capacity.Step) {
		n++
		if sp.OnStep != nil {
			sp.OnStep(n, st)
		}
	}
	cfg := sp.Search
	if sp.MaxTargetGrowth > 0 {
		var steps []capacity.Step
		cfg.Halt = func(st capacity.Step) bool {
			steps = append(steps, st)
			return memoryHalt(sp.MaxTargetGrowth, steps) != nil
		}
	}
	oc, err := capacity.Search(ctx, cfg, run, progress)
	if err != nil {
		return nil, err
	}
	return Assemble(&sp, oc, started), nil
}

// Assemble builds find's result from a search's outcome.
func Assemble(sp *Spec, oc capacity.Outcome, started time.Time) *result.Result {
	var env *result.Result
	switch {
	case oc.Confirmed != nil:
		env = oc.Confirmed
	case len(oc.Steps) > 0:
		env = oc.Steps[len(oc.Steps)-1].Result
	default:
		env = &result.Result{Version: result.Version, Target: sp.Target, Method: sp.Method, Probes: result.Probes{}, Thresholds: []result.Threshold{}}
	}
	res := *env
	res.Started = started.UTC().Truncate(time.Millisecond)
	res.Model = sp.Model
	res.Partial = oc.Interrupted
	res.DurationS = result.Round(time.Since(started).Seconds(), 3)

	slo := make([]string, len(sp.SLOs))
	for i, e := range sp.SLOs {
		slo[i] = e.String()
	}
	c := &result.Capacity{SLO: slo, MetAtMin: oc.MetAtMin, Confirmed: oc.Confirmed != nil}
	if oc.MetAtMin {
		if sp.Model == "users" {
			c.Users = int(oc.Capacity)
		} else {
			c.Rate = oc.Capacity
		}
		at := oc.Confirmed
		if at == nil {
			for _, st := range oc.Steps {
				if st.Level == oc.Capacity && st.OK {
					at = st.Result
				}
			}
		}
		if at != nil {
			c.RPS = at.Summary.RPS
			good := result.Round(at.Summary.RPS*(1-at.Summary.Errors.Rate), 1)
			c.GoodputRPS = &good
		}
	}
	res.Capacity = c

	// The timeline runs through every step, one after the other.
	res.Timeline = nil
	offset := 0.0
	var dsteps []diagnose.Step
	for _, st := range oc.Steps {
		r := st.Result
		for _, p := range r.Timeline {
			p.T = result.Round(p.T+offset, 3)
			res.Timeline = append(res.Timeline, p)
		}
		offset += r.DurationS
		s := result.Step{
			Phase: st.Phase, DurationS: r.DurationS, Requests: r.Summary.Requests, RPS: r.Summary.RPS, Latency: r.Summary.Latency,
			Errors: r.Summary.Errors, StatusCodes: r.Summary.StatusCodes, RetryAfter: r.Summary.RetryAfter, SLOOK: st.OK, SLO: r.Thresholds,
			Client: r.Client, Probes: map[string]*result.ProbeWindow{}, ByStep: r.ByStep,
		}
		if sp.Model == "users" {
			s.Users = int(st.Level)
		} else {
			s.Rate = st.Level
		}
		for name, ps := range r.Probes {
			s.Probes[name] = ps.Window
		}
		res.Steps = append(res.Steps, s)
		dsteps = append(dsteps, diagnose.Step{Level: st.Level, Phase: st.Phase, OK: st.OK, R: r})
	}
	in := diagnose.Input{
		Model: sp.Model, Steps: dsteps, Capacity: oc.Capacity, MetAtMin: oc.MetAtMin,
		ReachedMax: oc.ReachedMax, SLO: slo, Checks: sp.Checks,
	}
	if oc.Halted {
		in.Halt = memoryHalt(sp.MaxTargetGrowth, oc.Steps)
	}
	v := diagnose.Diagnose(in)
	if sv, ok := diagnose.StepVerdict(in); ok && v.Class != diagnose.Client && in.Halt == nil {
		v = sv
	}
	res.Bottleneck = &v
	return &res
}

// memoryHalt reports the first probe whose target RSS grew by more than
// bound since its first reading in steps (the start of the first level's
// window), at the last step; nil when none did.
func memoryHalt(bound float64, steps []capacity.Step) *diagnose.MemoryHalt {
	if bound <= 0 || len(steps) == 0 {
		return nil
	}
	base := map[string]float64{}
	for _, st := range steps {
		for name, ps := range st.Result.Probes {
			if w := ps.Window; w != nil && w.RSSBytes != nil {
				if _, ok := base[name]; !ok {
					b := *w.RSSBytes
					if w.RSSDeltaBytes != nil {
						b -= *w.RSSDeltaBytes
					}
					base[name] = b
				}
			}
		}
	}
	last := steps[len(steps)-1]
	for _, name := range slices.Sorted(maps.Keys(last.Result.Probes)) {
		w := last.Result.Probes[name].Window
		if w == nil || w.RSSBytes == nil {
			continue
		}
		if b, ok := base[name]; ok && *w.RSSBytes-b > bound {
			return &diagnose.MemoryHalt{Probe: name, Level: last.Level, From: b, To: *w.RSSBytes, Bound: bound}
		}
	}
	return nil
}
