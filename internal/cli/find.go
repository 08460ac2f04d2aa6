package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/surgeload/surge/internal/capacity"
	"github.com/surgeload/surge/internal/expr"
	"github.com/surgeload/surge/internal/find"
	"github.com/surgeload/surge/internal/probe"
	"github.com/surgeload/surge/internal/report"
	"github.com/surgeload/surge/internal/result"
)

const findLong = `Find the highest load URL sustains while every SLO holds, then name what
limits it (the bottleneck) with the evidence. Given a scenario file, find
grows the users running its journeys (or journeys per second), takes the
file's thresholds and step.NAME.EXPR SLOs, and names the step that
degrades first.

The search doubles the load until an SLO fails, bisects between the last
level that held and the first that failed (to ±5 %), and confirms the answer
with a longer hold. Each level runs for --step-duration; its first --warmup
is left out of the figures. Then the diagnosis names one bottleneck class:
cpu, serialized, concurrency-limit (with the limit), throttled, errors,
latency-floor, incorrect-responses, memory, client (surge itself saturated)
or none. Probes (--probe) show the target's CPU and memory; without one,
conclusions that need them say so.

SLOs default to p95<100ms and errors<1%. A latency --slo (p99<50ms) replaces
only the latency default, an error --slo (errors<0.1%) only the error one;
--no-default-slo keeps only the SLOs given. The header shows the set in use,
and the capacity reports goodput (successful req/s) beside the total.

With a probe that reads memory, the search stops growing the load once the
target's memory grew by more than --max-target-growth, and names memory.

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
	noDefaultSLO bool
	maxGrowth    string
	fullSteps    bool
}

func newFindCmd(env Env) *cobra.Command {
	var o findOptions
	cmd := &cobra.Command{
		Use:   "find [flags] URL|FILE",
		Short: "Find the capacity under SLOs, and the bottleneck",
		Long:  findLong,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("surge find takes one URL or scenario file, got %d arguments (see 'surge find --help')", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			spec, err := o.spec(cmd.Flags(), args[0], env.Stderr)
			if err != nil {
				return err
			}
			return runFind(cmd.Context(), env, spec, o.quiet, o.jsonOut, o.htmlOut)
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
	fs.BoolVar(&o.fullSteps, "full-steps", false, "run every growth level for all of --step-duration (by default one ends after its first measured second if an SLO is far missed, or all are far met)")
	fs.StringArrayVar(&o.probes, "probe", nil, "read the target's side: prom=URL[,cores=N] (Prometheus metrics), pid=N (/proc, with its children), cgroup=PATH (repeatable)")
	fs.StringVar(&o.maxGrowth, "max-target-growth", "1GiB", "stop growing the load when a probe sees the target's memory grow by more than SIZE (e.g. 512MiB; 0: no bound)")
	fs.StringArrayVar(&o.probeMetrics, "probe-metric", nil, "also read this metric from prom probes: NAME or NAME{label=\"value\"} (repeatable)")
	fs.BoolVar(&o.noDefaultSLO, "no-default-slo", false, "use only the --slo given: drop the default p95<100ms and errors<1%")
	o.register(fs, "an SLO every level must meet, e.g. 'p95<100ms', 'errors<1%' (repeatable; a latency SLO replaces the default p95<100ms, an error SLO the default errors<1%)")
	return cmd
}

func (o *findOptions) spec(fs *pflag.FlagSet, target string, stderr io.Writer) (*find.Spec, error) {
	sp := &find.Spec{}
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
	job, err := o.workload(target, stderr)
	if err != nil {
		return nil, err
	}
	sp.Journeys, sp.Target, sp.Method = job.plan, job.target, job.method
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
	if sp.Client, err = o.clientConfig(conns); err != nil {
		return nil, err
	}
	if sp.SLOs, sp.StepSLOs, err = job.thresholds(o.thresholds); err != nil {
		return nil, err
	}
	if !o.noDefaultSLO {
		if sp.SLOs, err = withDefaultSLOs(sp.SLOs); err != nil {
			return nil, err
		}
	}
	if len(sp.SLOs)+len(sp.StepSLOs) == 0 {
		return nil, usagef("--no-default-slo needs at least one --slo: find searches for the load at which the SLOs hold")
	}
	if len(o.probeMetrics) > 0 && len(o.probes) == 0 {
		return nil, usagef("--probe-metric needs a --probe prom=URL")
	}
	for _, spec := range o.probes {
		p, err := probe.Parse(spec, o.probeMetrics)
		if err != nil {
			return nil, dashed(err)
		}
		sp.Probes = append(sp.Probes, p)
	}
	growth, err := parseSize(o.maxGrowth)
	if err != nil {
		return nil, usagef("--max-target-growth %q: %v", o.maxGrowth, err)
	}
	sp.MaxTargetGrowth = growth
	sp.EndEarly = !o.fullSteps
	if o.model == "users" {
		lo, hi, err := o.thinkRange()
		if err != nil {
			return nil, err
		}
		sp.Think, sp.ThinkMax = lo, hi
		if l := job.file; l != nil && !fs.Changed("think") {
			// The journeys' own pauses are part of how their users behave.
			sp.Think, sp.ThinkMax = l.Load.Think, max(l.Load.ThinkMax, l.Load.Think)
		}
	}
	sp.Search = capacity.Config{Integer: o.model == "users", Min: o.min, Max: o.max, Step: o.step, Hold: o.hold, Precision: o.precision}
	sp.Model = o.model
	sp.MaxInflight = o.maxInflight
	sp.Warmup = o.warmup
	sp.Grace = min(o.timeout, 2*time.Second)
	sp.Checks = job.checks
	return sp, nil
}

// runFind runs a search, reports it and writes its result.
func runFind(parent context.Context, env Env, sp *find.Spec, quiet bool, jsonOut, htmlOut string) error {
	out, err := openOutput(jsonOut, env.Stdout, "--json")
	if err != nil {
		return err
	}
	html, err := openHTML(htmlOut)
	if err != nil {
		return err
	}
	defer html.Close()
	tuneForLoad(env, sp.Journeys.Requests())
	defer out.Close()
	out.fallback = partialStub(sp.Target, sp.Method)
	out.fallback.Model = sp.Model
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
	if err := html.writeResult(res); err != nil {
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
func search(ctx context.Context, env Env, sp *find.Spec, quiet bool, summaryTo io.Writer) (*result.Result, error) {
	if !quiet {
		model := "closed model"
		if sp.Model == "rate" {
			model = "open model"
		}
		fmt.Fprintf(env.Stderr, "surge find · %s %s · SLO %s · %s, %s to %s\n", sp.Method, sp.Target, sp.SLOText(),
			model, report.Level(sp.Model, sp.Search.Min), report.Level(sp.Model, sp.Search.Max))
		sp.OnStep = func(n int, st capacity.Step) {
			fmt.Fprintln(env.Stderr, report.StepLine(n, sp.Model, st.Level, st.Phase, st.OK, st.Result))
		}
	}
	res, err := find.Search(ctx, *sp)
	if err != nil {
		return nil, err
	}
	if !quiet {
		fmt.Fprintln(env.Stderr)
		if err := report.Find(summaryTo, res); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// defaultSLOs are find's SLOs when none of their kind is given.
var defaultSLOs = []string{"p95<100ms", "errors<1%"}

// withDefaultSLOs adds each default SLO whose kind (latency, errors) the
// user's SLOs do not bound already.
func withDefaultSLOs(user []*expr.Expr) ([]*expr.Expr, error) {
	var lat, errs bool
	for _, e := range user {
		lat = lat || e.IsLatency()
		errs = errs || e.Unit() == "%"
	}
	out := user
	for _, src := range defaultSLOs {
		d, err := expr.Parse(src)
		if err != nil {
			return nil, err
		}
		if (d.IsLatency() && !lat) || (d.Unit() == "%" && !errs) {
			out = append(out, d)
		}
	}
	return out, nil
}

// sizeUnits are the units --max-target-growth takes, longest first.
var sizeUnits = []struct {
	suffix string
	bytes  float64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
}

// parseSize reads a size such as 512MiB, 1.5GB or 0.
func parseSize(s string) (float64, error) {
	num, mult := strings.TrimSpace(s), 1.0
	for _, u := range sizeUnits {
		if n, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = strings.TrimSpace(n), u.bytes
			break
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, errors.New("want a size such as 512MiB or 2GB (0: no bound)")
	}
	if v > 0 && mult == 1 && num == strings.TrimSpace(s) {
		return 0, errors.New("give a unit: B, KiB, MiB, GiB, KB, MB or GB (0: no bound)")
	}
	return v * mult, nil
}
