package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/surgeload/surge/internal/buildinfo"
	"github.com/surgeload/surge/internal/report"
	"github.com/surgeload/surge/internal/result"
	"github.com/surgeload/surge/internal/runner"
	"github.com/surgeload/surge/internal/scenario"
)

const runLong = `Run one load test against URL, or the user journeys of a scenario file,
and report throughput, latency percentiles, status codes and errors by
class (for a scenario, also by step, and the iterations).

Two load models:
  -u N   closed model: N virtual users, each sending its next request when
         the previous one returns (plus --think time). Default: 10 users.
  -r R   open model: R requests (or journeys) per second on schedule,
         whatever the target does. Latency is measured from when each
         request was due, so queueing is never hidden (no coordinated
         omission).
  --stage DURATION:TARGET (repeatable) changes either over time.

A scenario file's own load applies where no flag overrides it (see
'surge validate' and the README's "Scenario files").

Examples:
  surge run http://127.0.0.1:8080/
  surge run -u 200 -d 1m --ramp 20s http://127.0.0.1:8080/users
  surge run -r 5000 -d 30s --slo 'p99<50ms' --slo 'errors<0.1%' http://127.0.0.1:8080/users
  surge run -X POST -H 'Content-Type: application/json' --body @order.json http://127.0.0.1:8080/orders
  surge run -n 10000 -u 50 --json result.json http://127.0.0.1:8080/
  surge run --stage 30s:100 --stage 1m:100 --stage 10s:400 http://127.0.0.1:8080/   (a spike)
  surge run examples/shop.yaml
  surge run -u 100 -d 1m --slo 'step.order.p95<300ms' examples/shop.yaml

Exit codes: 0 ran and every threshold held; 2 bad usage or input (nothing
was sent); 3 ran and a threshold failed; 1 anything else (interrupted).`

// runOptions are the flags of `surge run`.
type runOptions struct {
	loadFlags
	modelFlags
}

func newRunCmd(env Env) *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run [flags] URL|FILE",
		Short: "Run one load test against a URL or a scenario file",
		Long:  runLong,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("surge run takes one URL or scenario file, got %d arguments (see 'surge run --help')", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd, env, args[0])
		},
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	fs.IntVarP(&o.users, "users", "u", 10, "closed model: number of virtual users")
	fs.Float64VarP(&o.rate, "rate", "r", 0, "open model: requests per second")
	fs.DurationVarP(&o.duration, "duration", "d", 10*time.Second, "how long to send requests")
	fs.Uint64VarP(&o.requests, "requests", "n", 0, "stop after N requests (with no -d, the run may last up to 1h)")
	fs.DurationVar(&o.ramp, "ramp", 0, "ramp users or rate up linearly over this time")
	fs.StringArrayVar(&o.stages, "stage", nil, "a stage of the load: DURATION:USERS, or DURATION:RATE/s for arrivals per second; linear from the previous stage's target (from 0), then held; -d defaults to their total (repeatable)")
	fs.DurationVar(&o.grace, "grace", 5*time.Second, "time requests in flight at the end may take to finish before they are canceled")
	o.register(fs, "fail the run (exit 3) unless EXPR holds, e.g. 'p95<100ms', 'errors<1%', 'rps>800' (repeatable)")
	return cmd
}

func (o *runOptions) run(cmd *cobra.Command, env Env, target string) error {
	fs := cmd.Flags()
	if fs.Changed("requests") && o.requests == 0 {
		return usagef("--requests must be at least 1 (leave -n out for no cap: the run then lasts --duration)")
	}
	if fs.Changed("requests") && !fs.Changed("duration") {
		o.duration = time.Hour
	}
	job, err := o.workload(target, env.Stderr)
	if err != nil {
		return err
	}
	var fileLoad *scenario.Load
	if job.file != nil {
		fileLoad = &job.file.Load
	}
	plan, err := o.plan(fs, &o.loadFlags, fileLoad)
	if err != nil {
		return err
	}
	users := o.users
	if plan.Arrivals != nil {
		users = 0
	}
	if err := fitInflight(users, &plan.MaxInflight, fs.Changed("max-inflight")); err != nil {
		return err
	}
	conns := o.users
	if plan.Arrivals != nil {
		conns = min(plan.MaxInflight, 1024)
	}
	ccfg, err := o.clientConfig(conns)
	if err != nil {
		return err
	}
	thresholds, stepThresholds, err := job.thresholds(o.thresholds)
	if err != nil {
		return err
	}
	out, err := openOutput(o.jsonOut, env.Stdout, "--json")
	if err != nil {
		return err
	}
	defer out.Close()
	html, err := openHTML(o.htmlOut)
	if err != nil {
		return err
	}
	defer html.Close()
	out.fallback = partialStub(job.target, job.method)
	out.fallback.Model, out.fallback.Users, out.fallback.Rate = "users", o.users, 0
	if plan.Arrivals != nil {
		out.fallback.Model, out.fallback.Users, out.fallback.Rate = "rate", 0, o.rate
	}

	// Everything is valid: from here on requests are sent.
	ctx, stop := interruptible(cmd.Context(), env, out.quit)
	tuneForLoad(env, job.plan.Requests())
	defer stop()
	var prog *report.Progress
	opts := runner.Options{Journeys: job.plan, Target: job.target, Method: job.method, Client: ccfg, Plan: plan, Thresholds: thresholds, StepThresholds: stepThresholds}
	if !o.quiet {
		prog = report.NewProgress(env.Stderr, env.IsTerminal(env.Stderr), plan.Duration)
		opts.Progress = func(p runner.Progress) { prog.Update(p.Elapsed, p.Point, p.Sent, p.Errors) }
	}
	res, err := runner.Run(ctx, opts)
	if prog != nil {
		prog.Done()
	}
	if err != nil {
		return err
	}
	// The summary and the JSON first; the report also when a threshold
	// failed or the run was interrupted.
	ferr := finish(env, res, out, o.quiet)
	if err := html.writeResult(res); err != nil {
		return err
	}
	return ferr
}

// finish prints the summary, writes the JSON result and turns the outcome
// into an error (and so an exit code).
func finish(env Env, res *result.Result, out *output, quiet bool) error {
	summaryTo := env.Stdout
	if out.isStdout() {
		summaryTo = env.Stderr // keep stdout clean JSON
	}
	if !quiet {
		if err := report.Summary(summaryTo, res); err != nil {
			return err
		}
	}
	if err := out.write(res); err != nil {
		return err
	}
	if res.Summary.Requests > 0 && res.Summary.Errors.Count == res.Summary.Requests {
		fmt.Fprintf(env.Stderr, "surge: every request failed (%s): is the target up and the URL right?\n", topClass(res.Summary.Errors.ByClass))
	}
	if res.Partial {
		return abortedError{}
	}
	failed := 0
	for _, t := range res.Thresholds {
		if !t.OK {
			failed++
			if quiet {
				fmt.Fprintf(env.Stderr, "surge: threshold %s failed: measured %s\n", t.Expr, report.ThresholdValue(t))
			}
		}
	}
	if failed > 0 {
		return thresholdError{failed: failed}
	}
	return nil
}

func topClass(m map[string]int64) string {
	best, n := "", int64(-1)
	for k, v := range m {
		if v > n || v == n && k < best {
			best, n = k, v
		}
	}
	return best
}

// output is where a JSON result goes: nowhere, stdout or a file. A file
// is written to a temporary file beside it (created before the run, so a
// bad path is a usage error and nothing is sent) and renamed into place,
// so it is never seen half written.
type output struct {
	mu     sync.Mutex
	done   bool // a result was written (or the output closed)
	tmp    *os.File
	direct *os.File // a device or a pipe, written in place
	stdout io.Writer
	path   string
	// fallback, when set, is written by a hard quit (second Ctrl-C) when
	// no result was: a valid, partial result with what is known.
	fallback *result.Result
}

func (o *output) isStdout() bool { return o.stdout != nil }

func (o *output) write(r *result.Result) error {
	return o.encode(func(w io.Writer) error { return result.Write(w, r) })
}

// encode writes one value with enc, once: to stdout, in place (a device
// or a pipe), or to a temporary file renamed over the path when whole.
func (o *output) encode(enc func(io.Writer) error) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.done {
		return nil
	}
	o.done = true
	switch {
	case o.stdout != nil:
		return enc(o.stdout)
	case o.direct != nil:
		err := enc(o.direct)
		o.direct.Close()
		o.direct = nil
		return err
	case o.tmp != nil:
		tmp := o.tmp
		o.tmp = nil
		err := enc(tmp)
		if cerr := tmp.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("write %s: %w", o.path, cerr)
		}
		if err == nil {
			err = os.Rename(tmp.Name(), o.path)
		}
		if err != nil {
			os.Remove(tmp.Name())
		}
		return err
	}
	return nil
}

// quit writes the fallback result unless a result was written; a write
// under way is waited for. A hard quit calls it before exiting.
func (o *output) quit() {
	if o.fallback != nil {
		o.write(o.fallback)
	}
}

func (o *output) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.done = true
	if o.direct != nil {
		o.direct.Close()
		o.direct = nil
	}
	if o.tmp != nil {
		o.tmp.Close()
		os.Remove(o.tmp.Name())
		o.tmp = nil
	}
	return nil
}

func openOutput(path string, stdout io.Writer, flag string) (*output, error) {
	switch path {
	case "":
		return &output{}, nil
	case "-":
		return &output{stdout: stdout}, nil
	}
	bad := func(err error) error {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return usagef("%s: %s: %v", flag, path, err)
	}
	st, statErr := os.Stat(path)
	switch {
	case statErr == nil && st.IsDir():
		return nil, usagef("%s: %s is a directory", flag, path)
	case statErr == nil && !st.Mode().IsRegular():
		// A device or a pipe (/dev/stdout, a FIFO): written in place.
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return nil, bad(err)
		}
		return &output{direct: f, path: path}, nil
	}
	target := path
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		target = resolved // replace the file a symlink points to, not the link
	}
	f, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".*.tmp")
	if err != nil {
		return nil, bad(err)
	}
	perm := os.FileMode(0o644) // as os.Create under the usual umask
	if statErr == nil {
		perm = st.Mode().Perm() // keep the mode of the file replaced
	}
	f.Chmod(perm)
	return &output{tmp: f, path: target}, nil
}

// partialStub is the result a hard quit writes when the run's own result
// is not ready: what was asked, marked partial, with nothing measured.
func partialStub(target, method string) *result.Result {
	return &result.Result{
		Version: result.Version, Tool: buildinfo.Read().String(), Target: target, Method: method,
		Partial: true, Probes: result.Probes{}, Thresholds: []result.Threshold{},
		Summary: result.Summary{StatusCodes: map[string]int64{}, Protocols: map[string]int64{},
			Errors: result.Errors{ByClass: map[string]int64{}}},
	}
}

// interruptible returns a context canceled by the first Ctrl-C; a second
// one runs onQuit (which writes what result it can) and exits.
func interruptible(parent context.Context, env Env, onQuit ...func()) (context.Context, func()) {
	ctx, cancel := context.WithCancel(parent)
	sig := make(chan os.Signal, 2)
	stopNotify := env.Notify(sig)
	done := make(chan struct{})
	go func() {
		select {
		case <-sig:
		case <-done:
			return
		}
		fmt.Fprintln(env.Stderr, "\nsurge: interrupted: stopping (Ctrl-C again to quit at once)")
		cancel()
		select {
		case <-sig:
			fmt.Fprintln(env.Stderr, "surge: quit")
			for _, f := range onQuit {
				f()
			}
			env.Exit(130)
		case <-done:
		}
	}()
	return ctx, func() {
		stopNotify()
		close(done)
		cancel()
	}
}
