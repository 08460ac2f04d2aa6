package cli

import (
	"context"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/surgeload/surge/internal/capacity"
	"github.com/surgeload/surge/internal/client"
	"github.com/surgeload/surge/internal/diagnose"
	"github.com/surgeload/surge/internal/expr"
	"github.com/surgeload/surge/internal/load"
	"github.com/surgeload/surge/internal/probe"
	"github.com/surgeload/surge/internal/report"
	"github.com/surgeload/surge/internal/result"
	"github.com/surgeload/surge/internal/runner"
)

const findLong = `Find the highest load URL sustains while every SLO holds, then name what
limits it (the bottleneck) with the evidence.

The search doubles the load until an SLO fails, bisects between the last
level that held and the first that failed (to ±5 %), and confirms the answer
with a longer hold. Each level runs for --step-duration; its first --warmup
is left out of the figures. Then the diagnosis names one bottleneck class:
cpu, serialized, concurrency-limit (with the limit), throttled, errors,
latency-floor, incorrect-responses, memory, client (surge itself saturated)
or none. Probes (--probe) show the target's CPU and memory; without one,
conclusions that need them say so.

SLOs default to p95<100ms and errors<1%.

Examples:
  surge find http://127.0.0.1:8080/pool
  surge find --slo 'p99<50ms' --max 2000 --probe prom=http://127.0.0.1:8080/metrics http://127.0.0.1:8080/
  surge find -r 5000 --slo 'errors<0.1%' http://127.0.0.1:8080/quota      (open model, up to 5000 req/s)
  surge find --check 'body~"id":"{{id}}"' 'http://127.0.0.1:8080/race?id={{id}}'

Exit codes: 0 a capacity was found (the SLOs hold at some load); 3 the SLOs
fail even at the lowest load; 2 bad usage or input (nothing was sent);
1 anything else (interrupted).`

// findOptions are the flags of `surge find`.
type findOptions struct {
	loadFlags
	model        string
	users        int
	rate         float64
	min, max     float64
	step         time.Duration
	warmup       time.Duration
	hold         time.Duration
	precision    float64
	probes       []string
	probeMetrics []string
}

func newFindCmd(env Env) *cobra.Command {
	var o findOptions
	cmd := &cobra.Command{
		Use:   "find [flags] URL",
		Short: "Find the capacity under SLOs, and the bottleneck",
		Long:  findLong,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("surge find takes one URL, got %d arguments (see 'surge find --help')", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			spec, err := o.spec(cmd.Flags(), args[0])
			if err != nil {
				return err
			}
			return runFind(cmd.Context(), env, spec, o.quiet, o.jsonOut)
		},
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	fs.StringVar(&o.model, "model", "users", "load model: users (closed) or rate (open)")
	fs.IntVarP(&o.users, "users", "u", 0, "closed model, searching up to N users (same as --model users --max N)")
	fs.Float64VarP(&o.rate, "rate", "r", 0, "open model, searching up to R req/s (same as --model rate --max R)")
	fs.Float64Var(&o.min, "min", 0, "lowest load tried (default 1 user, or 10 req/s)")
	fs.Float64Var(&o.max, "max", 0, "highest load tried (default 1000 users, or 100000 req/s)")
	fs.DurationVarP(&o.step, "step-duration", "d", 4*time.Second, "how long each load level runs")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "start of each level left out of its figures")
	fs.DurationVar(&o.hold, "hold", 0, "how long the confirmation runs (default twice --step-duration)")
	fs.Float64Var(&o.precision, "precision", 0.05, "relative precision of the capacity")
	fs.StringArrayVar(&o.probes, "probe", nil, "read the target's side: prom=URL (Prometheus metrics), pid=N (/proc), cgroup=PATH (repeatable)")
	fs.StringArrayVar(&o.probeMetrics, "probe-metric", nil, "also read this metric from prom probes: NAME or NAME{label=\"value\"} (repeatable)")
	o.register(fs, "an SLO every level must meet, e.g. 'p95<100ms', 'errors<1%' (repeatable; default p95<100ms and errors<1%)")
	return cmd
}

// findSpec is a validated capacity search: everything needed to run it.
type findSpec struct {
	req       *client.Request
	client    client.Config
	slos      []*expr.Expr
	probes    []probe.Probe
	search    capacity.Config
	model     string
	think     [2]time.Duration
	maxInfl   int
	warmup    time.Duration
	grace     time.Duration
	hasChecks bool
}

func (o *findOptions) spec(fs *pflag.FlagSet, target string) (*findSpec, error) {
	sp := &findSpec{}
	switch {
	case fs.Changed("users") && (o.users < 1 || o.users > maxUsers):
		return nil, usagef("-u/--users is the most users searched: from 1 to %d, got %d", maxUsers, o.users)
	case fs.Changed("rate") && (o.rate <= 0 || !finite(o.rate)):
		return nil, usagef("-r/--rate is the highest rate searched: a positive number of requests per second, got %g", o.rate)
	case !finite(o.min) || !finite(o.max):
		return nil, usagef("--min and --max must be numbers, got %g and %g", o.min, o.max)
	case !finite(o.precision):
		return nil, usagef("--precision must be between 0 and 0.5, got %g", o.precision)
	}
	switch {
	case fs.Changed("users") && fs.Changed("rate"):
		return nil, usagef("-u/--users (closed model) and -r/--rate (open model) exclude each other: pick one")
	case fs.Changed("users"):
		if fs.Changed("model") && o.model != "users" {
			return nil, usagef("-u/--users searches the closed model; it contradicts --model %s", o.model)
		}
		o.model = "users"
		if !fs.Changed("max") {
			o.max = float64(o.users)
		}
	case fs.Changed("rate"):
		if fs.Changed("model") && o.model != "rate" {
			return nil, usagef("-r/--rate searches the open model; it contradicts --model %s", o.model)
		}
		o.model = "rate"
		if !fs.Changed("max") {
			o.max = o.rate
		}
	}
	switch o.model {
	case "users":
		if !fs.Changed("min") {
			o.min = 1
		}
		if o.max == 0 {
			o.max = 1000
		}
		if o.min != math.Trunc(o.min) || o.max != math.Trunc(o.max) {
			return nil, usagef("--min and --max count users in the closed model: whole numbers, got %g and %g", o.min, o.max)
		}
		if o.max > maxUsers {
			return nil, usagef("--max counts users in the closed model: at most %d, got %g", maxUsers, o.max)
		}
	case "rate":
		if !fs.Changed("min") {
			o.min = 10
		}
		if o.max == 0 {
			o.max = 100000
		}
		if fs.Changed("think") {
			return nil, usagef("--think applies to the closed model; the open model sends on schedule")
		}
	default:
		return nil, usagef("--model %q: want users or rate", o.model)
	}
	if o.min <= 0 || o.max < o.min {
		return nil, usagef("--min (%g) must be positive and at most --max (%g)", o.min, o.max)
	}
	if o.step <= 0 {
		return nil, usagef("--step-duration must be positive, got %s", o.step)
	}
	if o.warmup < 0 || o.warmup >= o.step {
		return nil, usagef("--warmup must be at least 0 and shorter than --step-duration (%s), got %s", o.step, o.warmup)
	}
	if o.hold == 0 {
		o.hold = 2 * o.step
	}
	if o.hold <= o.warmup {
		return nil, usagef("--hold must be longer than --warmup (%s), got %s", o.warmup, o.hold)
	}
	if o.precision <= 0 || o.precision >= 0.5 {
		return nil, usagef("--precision must be between 0 and 0.5, got %g", o.precision)
	}
	if o.maxInflight < 1 {
		return nil, usagef("--max-inflight must be at least 1, got %d", o.maxInflight)
	}
	var err error
	if sp.req, err = o.request(target); err != nil {
		return nil, err
	}
	users := int(o.max)
	if o.model == "rate" {
		users = 0
	}
	if err := fitInflight(users, &o.maxInflight, fs.Changed("max-inflight")); err != nil {
		return nil, err
	}
	conns := int(o.max)
	if o.model == "rate" {
		conns = min(o.maxInflight, 1024)
	}
	if sp.client, err = o.clientConfig(conns); err != nil {
		return nil, err
	}
	srcs := o.thresholds
	if len(srcs) == 0 {
		srcs = []flagValue{{"slo", "p95<100ms"}, {"slo", "errors<1%"}}
	}
	if sp.slos, err = parseThresholds(srcs); err != nil {
		return nil, err
	}
	if len(o.probeMetrics) > 0 && len(o.probes) == 0 {
		return nil, usagef("--probe-metric needs a --probe prom=URL")
	}
	for _, spec := range o.probes {
		p, err := probe.Parse(spec, o.probeMetrics)
		if err != nil {
			return nil, dashed(err)
		}
		sp.probes = append(sp.probes, p)
	}
	if o.model == "users" {
		lo, hi, err := o.thinkRange()
		if err != nil {
			return nil, err
		}
		sp.think = [2]time.Duration{lo, hi}
	}
	sp.search = capacity.Config{Integer: o.model == "users", Min: o.min, Max: o.max, Step: o.step, Hold: o.hold, Precision: o.precision}
	sp.model = o.model
	sp.maxInfl = o.maxInflight
	sp.warmup = o.warmup
	sp.grace = min(o.timeout, 2*time.Second)
	sp.hasChecks = len(sp.req.Checks) > 0
	return sp, nil
}

// plan is the load plan of one level.
func (sp *findSpec) plan(level float64, d time.Duration) load.Plan {
	p := load.Plan{Duration: d, Grace: sp.grace}
	if sp.model == "users" {
		p.Users = load.RampUsers{N: int(level)}
		p.Think, p.ThinkMax = sp.think[0], sp.think[1]
	} else {
		p.Arrivals = load.ConstantRate{Rate: level}
		p.MaxInflight = sp.maxInfl
	}
	return p
}

// runFind runs a search, reports it and writes its result.
func runFind(parent context.Context, env Env, sp *findSpec, quiet bool, jsonOut string) error {
	out, err := openOutput(jsonOut, env.Stdout, "--json")
	if err != nil {
		return err
	}
	tuneForLoad(env)
	defer out.Close()
	out.fallback = partialStub(sp.req)
	out.fallback.Model = sp.model
	ctx, stop := interruptible(parent, env, out.quit)
	defer stop()
	summaryTo := env.Stdout
	if out.isStdout() {
		summaryTo = env.Stderr
	}
	res, err := search(ctx, env, sp, quiet, summaryTo)
	if err != nil {
		return err
	}
	if err := out.write(res); err != nil {
		return err
	}
	return findOutcome(env, res, quiet)
}

// findOutcome turns a search's result into the command's error.
func findOutcome(env Env, res *result.Result, quiet bool) error {
	switch {
	case res.Partial:
		return abortedError{}
	case !res.Capacity.MetAtMin:
		if quiet {
			fmt.Fprintf(env.Stderr, "surge: the SLOs fail even at the lowest load (%s): %s\n", res.Bottleneck.Class, res.Bottleneck.Summary)
		}
		return thresholdError{failed: 1}
	}
	return nil
}

// search runs the capacity search, printing each step on stderr and the
// summary on summaryTo (unless quiet), and returns find's result.
func search(ctx context.Context, env Env, sp *findSpec, quiet bool, summaryTo io.Writer) (*result.Result, error) {
	started := time.Now()
	if !quiet {
		model := "closed model"
		if sp.model == "rate" {
			model = "open model"
		}
		fmt.Fprintf(env.Stderr, "surge find · %s %s · SLO %s · %s, %s to %s\n", sp.req.Method, sp.req.URL, sloText(sp.slos),
			model, report.Level(sp.model, sp.search.Min), report.Level(sp.model, sp.search.Max))
	}
	n := 0
	run := func(ctx context.Context, level float64, phase string, d time.Duration) (*result.Result, error) {
		return runner.Run(ctx, runner.Options{
			Request: sp.req, Client: sp.client, Plan: sp.plan(level, d),
			Thresholds: sp.slos, Warmup: sp.warmup, Probes: sp.probes,
		})
	}
	progress := func(st capacity.Step) {
		n++
		if !quiet {
			fmt.Fprintln(env.Stderr, report.StepLine(n, sp.model, st.Level, st.Phase, st.OK, st.Result))
		}
	}
	oc, err := capacity.Search(ctx, sp.search, run, progress)
	if err != nil {
		return nil, err
	}
	res := assembleFind(sp, oc, started)
	if !quiet {
		fmt.Fprintln(env.Stderr)
		if err := report.Find(summaryTo, res); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// assembleFind builds find's result: the envelope of the confirmed level
// (or the last step), plus capacity, steps and bottleneck.
func assembleFind(sp *findSpec, oc capacity.Outcome, started time.Time) *result.Result {
	var env *result.Result
	switch {
	case oc.Confirmed != nil:
		env = oc.Confirmed
	case len(oc.Steps) > 0:
		env = oc.Steps[len(oc.Steps)-1].Result
	default:
		env = &result.Result{Version: result.Version, Target: sp.req.URL.String(), Method: sp.req.Method, Probes: result.Probes{}, Thresholds: []result.Threshold{}}
	}
	res := *env
	res.Started = started.UTC().Truncate(time.Millisecond)
	res.Model = sp.model
	res.Partial = oc.Interrupted
	res.DurationS = result.Round(time.Since(started).Seconds(), 3)

	slo := make([]string, len(sp.slos))
	for i, e := range sp.slos {
		slo[i] = e.String()
	}
	c := &result.Capacity{SLO: slo, MetAtMin: oc.MetAtMin, Confirmed: oc.Confirmed != nil}
	if oc.MetAtMin {
		if sp.model == "users" {
			c.Users = int(oc.Capacity)
		} else {
			c.Rate = oc.Capacity
		}
		if oc.Confirmed != nil {
			c.RPS = oc.Confirmed.Summary.RPS
		} else {
			for _, st := range oc.Steps {
				if st.Level == oc.Capacity && st.OK {
					c.RPS = st.Result.Summary.RPS
				}
			}
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
			Phase: st.Phase, DurationS: r.DurationS, RPS: r.Summary.RPS, Latency: r.Summary.Latency,
			Errors: r.Summary.Errors, StatusCodes: r.Summary.StatusCodes, SLOOK: st.OK, SLO: r.Thresholds,
			Client: r.Client, Probes: map[string]*result.ProbeWindow{},
		}
		if sp.model == "users" {
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
	v := diagnose.Diagnose(diagnose.Input{
		Model: sp.model, Steps: dsteps, Capacity: oc.Capacity, MetAtMin: oc.MetAtMin,
		ReachedMax: oc.ReachedMax, SLO: slo, Checks: sp.hasChecks,
	})
	res.Bottleneck = &v
	return &res
}

func sloText(slos []*expr.Expr) string {
	s := ""
	for i, e := range slos {
		if i > 0 {
			s += ", "
		}
		s += e.String()
	}
	return s
}
