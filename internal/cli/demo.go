package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/surgeload/surge/internal/capacity"
	"github.com/surgeload/surge/internal/client"
	"github.com/surgeload/surge/internal/expr"
	"github.com/surgeload/surge/internal/find"
	"github.com/surgeload/surge/internal/probe"
	"github.com/surgeload/surge/internal/report"
	"github.com/surgeload/surge/internal/result"
)

const demoLong = `See surge at work with nothing to set up: start the lab target on loopback
(a child process, so its CPU and memory are its own), run 'surge find' on its
connection-pool endpoint (a pool of 20 connections, each request holding one
for 10 ms: seed 001's fix), and print surge's verdict beside the lab's known
truth. It takes about a minute.`

// The demo's experiment and its known answer.
const (
	demoPath    = "/pool?n=20&ms=10"
	demoSLO     = "p95<50ms"
	demoPool    = 20
	demoHoldMs  = 10
	demoMaxUser = 400
)

func newDemoCmd(env Env) *cobra.Command {
	var jsonOut string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Start a lab target, find its capacity and bottleneck, and check the verdict",
		Long:  demoLong,
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDemo(cmd.Context(), env, jsonOut, quiet)
		},
	}
	cmd.Flags().StringVar(&jsonOut, "json", "", "write find's result as JSON to FILE ('-' for stdout)")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only the verdict and the comparison")
	return cmd
}

func runDemo(parent context.Context, env Env, jsonOut string, quiet bool) error {
	out, err := openOutput(jsonOut, env.Stdout, "--json")
	if err != nil {
		return err
	}
	tuneForLoad(env, nil) // the lab speaks plain HTTP
	defer out.Close()
	ctx, stop := interruptible(parent, env)
	defer stop()

	base, stopLab, err := startLabChild(ctx, env)
	if err != nil {
		return err
	}
	defer stopLab()

	w := env.Stdout
	if out.isStdout() {
		w = env.Stderr
	}
	theoryRPS := float64(demoPool) * 1000 / demoHoldMs
	theoryUsers := 50 * theoryRPS / 1000 // p95 < 50 ms: users × 10 ms / 20 < 50 ms
	fmt.Fprintf(w, `surge demo

The lab target is running at %s. Its endpoint %s
holds one of %d pooled connections for %d ms per request, like the database
pool of 20 in field report 001. surge will now search for the most users it
serves with %s and errors<1%%, watching the target's CPU and memory through
its /metrics, and name what limits it.

`, base, demoPath, demoPool, demoHoldMs, demoSLO)

	sp, err := demoSpec(base)
	if err != nil {
		return err
	}
	res, err := search(ctx, env, sp, quiet, w)
	if err != nil {
		return err
	}
	if err := out.write(res); err != nil {
		return err
	}
	if res.Partial {
		return abortedError{}
	}
	fmt.Fprint(w, demoVerdict(res, theoryUsers, theoryRPS))
	fmt.Fprintf(w, `
Try the other bottlenecks of the lab yourself (start it with 'surge lab'):
  surge find 'http://127.0.0.1:8080/lock?ms=10'                   a global lock: serialized
  surge find 'http://127.0.0.1:8080/slow?ms=200'                  a slow dependency: latency-floor
  surge find -r 1000 'http://127.0.0.1:8080/quota?rps=100'        a quota: throttled
  surge find 'http://127.0.0.1:8080/overload?limit=50'            errors before latency
  surge find --check 'body~{{id}}' 'http://127.0.0.1:8080/race?id={{id}}'   wrong answers under load
`)
	return nil
}

// demoSpec is the demo's search: the pool endpoint, one SLO, a probe.
func demoSpec(base string) (*find.Spec, error) {
	job, err := (&loadFlags{method: "GET"}).workload(base+demoPath, io.Discard)
	if err != nil {
		return nil, err
	}
	var slos []*expr.Expr
	for _, s := range []string{demoSLO, "errors<1%"} {
		e, err := expr.Parse(s)
		if err != nil {
			return nil, err
		}
		slos = append(slos, e)
	}
	p, err := probe.Parse("prom="+base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	return &find.Spec{
		Journeys:    job.plan,
		Target:      job.target,
		Method:      job.method,
		Client:      client.Config{Timeout: 10 * time.Second, Conns: demoMaxUser},
		SLOs:        slos,
		Probes:      []probe.Probe{p},
		Search:      capacity.Config{Integer: true, Min: 1, Max: demoMaxUser, Step: 3 * time.Second, Hold: 6 * time.Second, Precision: 0.05},
		Model:       "users",
		MaxInflight: 10000,
		Warmup:      time.Second,
		Grace:       2 * time.Second,
		EndEarly:    true,
	}, nil
}

// demoVerdict sets surge's answer beside the lab's known truth.
func demoVerdict(res *result.Result, theoryUsers, theoryRPS float64) string {
	var b strings.Builder
	c, bn := res.Capacity, res.Bottleneck
	found := "none"
	if c.MetAtMin {
		found = fmt.Sprintf("%s · %s req/s", report.Level("users", float64(c.Users)), report.Rate(c.RPS))
	}
	limit := "—"
	if bn.ConcurrencyLimit > 0 {
		limit = fmt.Sprintf("%.1f", bn.ConcurrencyLimit)
	}
	fmt.Fprintf(&b, "\nsurge's verdict beside the lab's known truth\n\n")
	fmt.Fprintf(&b, "  %-19s %-30s %s\n", "", "surge measured", "theory")
	fmt.Fprintf(&b, "  %-19s %-30s %s\n", "bottleneck", bn.Class, "concurrency-limit")
	fmt.Fprintf(&b, "  %-19s %-30s %d (the pool size)\n", "concurrency limit", limit, demoPool)
	fmt.Fprintf(&b, "  %-19s %-30s %s · %s req/s\n", "capacity ("+demoSLO+")", found, report.Level("users", theoryUsers), report.Rate(theoryRPS))
	b.WriteString("\n  The theory is an upper bound: each 10 ms hold also pays the timer's wake-up\n  delay, so the measured throughput sits a few percent below 2,000 req/s.\n")
	ok := bn.Class == "concurrency-limit" && bn.ConcurrencyLimit >= 0.8*demoPool && bn.ConcurrencyLimit <= 1.2*demoPool
	if ok {
		b.WriteString("\n  ✓ surge named the bottleneck and measured the pool size within 20%.\n")
	} else {
		b.WriteString("\n  ✗ surge's verdict differs from the truth: see the warnings and evidence above\n    (a busy machine can distort a demo that shares it with the target).\n")
	}
	return b.String()
}

// startLabChild starts `surge lab` on a free loopback port as a child
// process and returns its base URL and a function that stops it.
func startLabChild(ctx context.Context, env Env) (string, func(), error) {
	base, _, stop, err := startLabProcess(ctx, env)
	return base, stop, err
}

// startLabProcess is startLabChild that also returns the child's pid.
func startLabProcess(ctx context.Context, env Env) (string, int, func(), error) {
	exe, err := env.Executable()
	if err != nil {
		return "", 0, nil, fmt.Errorf("cannot find the surge binary to start the lab: %w", err)
	}
	cmd := exec.Command(exe, "lab", "--listen", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", 0, nil, err
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		return "", 0, nil, fmt.Errorf("start the lab: %w", err)
	}
	stopLab := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	lines := make(chan string, 1)
	go func() {
		br := bufio.NewReader(stdout)
		line, _ := br.ReadString('\n')
		lines <- line
		_, _ = io.Copy(io.Discard, br)
	}()
	select {
	case line := <-lines:
		base, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
		if !ok {
			stopLab()
			return "", 0, nil, errors.New("the lab did not start (no 'listening on' line)")
		}
		return base, cmd.Process.Pid, stopLab, nil
	case <-time.After(10 * time.Second):
		stopLab()
		return "", 0, nil, errors.New("the lab did not start within 10 s")
	case <-ctx.Done():
		stopLab()
		return "", 0, nil, ctx.Err()
	}
}
