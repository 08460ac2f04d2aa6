// Package runner runs one load test end to end: it builds the client, the
// engine and the recorder, drives the timeline, watches the generator
// itself, evaluates thresholds and assembles the result. `surge run` calls
// it once; `surge find` calls it once per step.
package runner

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/surgeload/surge/internal/buildinfo"
	"github.com/surgeload/surge/internal/client"
	"github.com/surgeload/surge/internal/expr"
	"github.com/surgeload/surge/internal/hist"
	"github.com/surgeload/surge/internal/load"
	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/probe"
	"github.com/surgeload/surge/internal/result"
	"github.com/surgeload/surge/internal/scenario"
	"github.com/surgeload/surge/internal/selfcheck"
)

// MaxPoints bounds the timeline of one run: runs longer than MaxPoints
// seconds get a coarser interval, so memory never grows with run length.
const MaxPoints = 3600

// trimUsers is the number of users from which a run returns memory to
// the OS once all of them are running. It matters for users carried by
// net/http (TLS, HTTP/2, systems without the client's event loops): while
// thousands of them connect at once, the heap and the stacks of the
// goroutines that dial grow; Go gives that memory back to the OS only
// slowly, and surge allocates too little per request for collections to
// come soon. Three collections, one per second once every user runs,
// brought such a 10 000-user run from ~96 MB to ~83 MB resident. (Users on
// the event loops allocate too little for it to matter: ~25 MB either way.)
const trimUsers = 1000

// Options is one load test.
type Options struct {
	// Journeys is what every user runs: a scenario's flows, or the one
	// step of a URL run.
	Journeys *scenario.Plan
	// Target names what is tested in the result: the URL, or the
	// scenario file.
	Target string
	// Method is the URL run's method ("" for a scenario).
	Method     string
	Client     client.Config
	Plan       load.Plan
	Thresholds []*expr.Expr
	// StepThresholds are thresholds on one step of a scenario
	// ("step.order.p95<300ms").
	StepThresholds []StepThreshold
	// Progress, when set, is called once per timeline interval with the
	// interval just closed. It runs on the ticker goroutine and must not
	// block for long.
	Progress func(Progress)
	// Warmup is left out of the totals: the first interval then ends at
	// Warmup, and only what completes after it counts (find uses it so
	// that each step measures a steady state, not its start).
	Warmup time.Duration
	// Probes read the target's side during the run.
	Probes []probe.Probe
	// EndEarly, when set, is asked after each measured interval (after the
	// warm-up) whether the run has seen enough; when it returns true the
	// run ends there, complete, not partial. Requests in flight then are
	// cut off and counted as unfinished. It runs on the ticker goroutine.
	EndEarly func(Progress) bool
}

// StepThreshold is a threshold on one step's figures.
type StepThreshold struct {
	Src  string // as written, with its "step.NAME." prefix
	Step int    // index into Journeys.Steps
	Expr *expr.Expr
	// At is its place among all the thresholds as written: the result
	// lists them in that order, the plain ones filling the other places.
	At int
}

// Progress is a live view of a run, once per interval.
type Progress struct {
	Point   metrics.Point
	Sent    int64 // requests completed so far
	Errors  int64 // errors so far
	Elapsed time.Duration
}

// Interval returns the timeline interval for a run of duration d: one
// second, or longer so that the timeline has at most MaxPoints points.
func Interval(d time.Duration) time.Duration {
	iv := time.Second
	if n := time.Duration(MaxPoints); d > n*time.Second {
		iv = (d + n - 1) / n
		iv = iv.Round(time.Second)
	}
	return iv
}

// Run runs one load test. It returns an error only when the test could not
// be set up; a failing target is data in the result. When ctx is canceled
// the run stops and the result is marked partial.
func Run(ctx context.Context, o Options) (*result.Result, error) {
	if o.Journeys == nil {
		return nil, errors.New("nothing to send")
	}
	c, err := client.New(o.Client)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	steps := 0
	if o.Journeys.Journeys() {
		steps = len(o.Journeys.Steps)
	}
	rec := metrics.NewRecorder(MaxPoints, steps)
	reqs := o.Journeys.Requests()
	o.Plan.StepPauses = o.Journeys.Pauses()
	eng, err := load.New(o.Plan, func(id int) load.Worker {
		return load.Worker{Journey: o.Journeys.NewUser(id, c.RunID()), Sender: c.NewSender(id, reqs...)}
	}, rec)
	if err != nil {
		return nil, err
	}

	mon := selfcheck.Start()
	var sess *probe.Session
	iv := Interval(o.Plan.Duration)
	if len(o.Probes) > 0 {
		sess = probe.Start(ctx, o.Probes, iv)
	}
	engCtx, endEngine := context.WithCancel(ctx)
	defer endEngine()
	var endedEarly atomic.Bool
	started := time.Now()
	tickDone := make(chan struct{})
	stopTick := make(chan struct{})
	var measuredFrom time.Duration // end of the warm-up, set by the ticker
	var probeFrom time.Duration    // session time of the probes' warm-up mark
	go func() {
		defer close(tickDone)
		first := iv
		if o.Warmup > 0 {
			first = o.Warmup
		}
		t := time.NewTimer(first)
		defer t.Stop()
		var sent, errs int64
		trimmed := 0
		warm := o.Warmup > 0
		for {
			select {
			case <-stopTick:
				return
			case <-t.C:
				t.Reset(iv)
				g := eng.Gauges()
				if trimmed < 3 && g.Users >= trimUsers && o.Plan.Users != nil && g.Users == o.Plan.Users.Max() {
					// Every user is running: give back what the connection
					// storm used (see trimUsers).
					trimmed++
					go debug.FreeOSMemory()
				}
				elapsed := time.Since(started)
				p := rec.Tick(elapsed, g, !warm)
				counted := !warm
				if warm {
					warm = false
					measuredFrom = elapsed
					if sess != nil {
						probeFrom, _ = sess.Mark(ctx)
					}
				}
				sent += p.Requests
				errs += p.Errors
				if o.Progress != nil {
					o.Progress(Progress{Point: p, Sent: sent, Errors: errs, Elapsed: p.T})
				}
				if counted && o.EndEarly != nil && !endedEarly.Load() && o.EndEarly(Progress{Point: p, Sent: sent, Errors: errs, Elapsed: p.T}) {
					endedEarly.Store(true)
					endEngine()
				}
			}
		}
	}()

	st := eng.Run(engCtx)
	if endedEarly.Load() && ctx.Err() == nil {
		st.Interrupted = false // ended on purpose: a complete, shorter run
	}
	close(stopTick)
	<-tickDone
	// Close the last, partial interval.
	end := time.Since(started)
	rec.Tick(end, eng.Gauges(), o.Warmup == 0 || measuredFrom > 0)
	self := mon.Stop()
	var series []probe.Series
	var probeTo time.Duration
	if sess != nil {
		_, probeTo = sess.Mark(context.WithoutCancel(ctx))
		series = sess.Stop()
	}

	measured := st.Elapsed - measuredFrom
	r := assemble(o, rec, st, measured, c.Conns(), self)
	r.Started = started.UTC().Truncate(time.Millisecond)
	r.WarmupS = result.Round(measuredFrom.Seconds(), 3)
	if sess != nil {
		offset := started.Sub(sess.Started())
		r.Probes = ProbeResults(series, probeFrom, probeTo, -offset)
	}
	return r, nil
}

// ProbeResults converts a session's series for the result, with the
// window [from, to] (session time) summarized; shift moves sample times
// onto the run's timeline.
func ProbeResults(series []probe.Series, from, to, shift time.Duration) result.Probes {
	out := result.Probes{}
	for _, sr := range series {
		ps := result.ProbeSeries{Samples: []result.ProbeSample{}, Failures: sr.Failures}
		if sr.Err != nil {
			ps.Error = sr.Err.Error()
		}
		for _, s := range sr.Samples {
			v := map[string]float64{}
			put(v, "cpu_seconds", s.CPU)
			put(v, "rss_bytes", s.RSS)
			put(v, "cores", s.Cores)
			put(v, "cpu_wait_seconds", s.CPUWait)
			put(v, "host_busy_seconds", s.HostBusy)
			for k, x := range s.Metrics {
				put(v, k, x)
			}
			ps.Samples = append(ps.Samples, result.ProbeSample{T: result.Round((s.T + shift).Seconds(), 3), Values: v})
		}
		if w, err := probe.Summarize(sr, from, to); err == nil {
			ps.Window = windowResult(w)
		}
		out[sr.Name] = ps
	}
	return out
}

func windowResult(w probe.Window) *result.ProbeWindow {
	pw := &result.ProbeWindow{
		CPUCores:           num(w.CPUCores, 3),
		CPUUtil:            num(w.CPUUtil, 3),
		Cores:              num(w.Cores, 2),
		RSSBytes:           num(w.RSS, 0),
		RSSDeltaBytes:      num(w.RSSDelta, 0),
		BusiestThreadCores: num(w.BusiestThread, 3),
		CPUWaitCores:       num(w.CPUWait, 3),
		HostCPUUtil:        num(w.HostCPUUtil, 3),
	}
	for k, v := range w.Metrics {
		if !math.IsNaN(v) {
			if pw.Metrics == nil {
				pw.Metrics = map[string]float64{}
			}
			pw.Metrics[k] = result.Round(v, 3)
		}
	}
	for k, v := range w.Rates {
		if !math.IsNaN(v) {
			if pw.Rates == nil {
				pw.Rates = map[string]float64{}
			}
			pw.Rates[k] = result.Round(v, 3)
		}
	}
	return pw
}

func put(m map[string]float64, k string, v float64) {
	if !math.IsNaN(v) && !math.IsInf(v, 0) {
		m[k] = v
	}
}

func num(v float64, decimals int) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	r := result.Round(v, decimals)
	return &r
}

// assemble builds the result from everything measured.
func assemble(o Options, rec *metrics.Recorder, st load.Stats, measured time.Duration, conns client.ConnStats, self selfcheck.Report) *result.Result {
	tot := rec.Totals()
	r := &result.Result{
		Version:   result.Version,
		Tool:      buildinfo.Read().String(),
		Target:    o.Target,
		Method:    o.Method,
		DurationS: result.Round(st.Elapsed.Seconds(), 3),
		Partial:   st.Interrupted,
		Stopped:   st.Stopped,
		Probes:    result.Probes{},
	}
	if u := o.Plan.Users; u != nil {
		r.Model, r.Users = "users", u.Max()
	} else {
		r.Model = "rate"
		r.Rate = o.Plan.Arrivals.RateAt(o.Plan.Duration)
	}

	r.Summary = SummaryOf(tot, measured)
	s := &r.Summary
	s.BytesIn, s.BytesOut = conns.BytesIn, conns.BytesOut
	s.Sent = int64(st.Sent)
	s.Dropped = int64(st.Dropped)
	s.Unfinished = tot.Canceled
	s.Connections = conns.Dials - conns.DialErrors
	s.DialErrors = conns.DialErrors
	s.Protocols = map[string]int64{}
	if tot.HTTP1 > 0 {
		s.Protocols["HTTP/1.1"] = tot.HTTP1
	}
	if tot.HTTP2 > 0 {
		s.Protocols["HTTP/2"] = tot.HTTP2
	}

	r.Thresholds = orderThresholds(Evaluate(o.Thresholds, tot, measured), o.StepThresholds, tot, measured)
	if len(tot.Steps) > 0 {
		r.StepNames = o.Journeys.StepNames()
		r.ByStep = make(map[string]result.Summary, len(tot.Steps))
		for i, st := range tot.Steps {
			sum := SummaryOf(st, measured)
			if h, err := st.Latency.Encode(); err == nil {
				sum.Histogram = h
			}
			r.ByStep[r.StepNames[i]] = sum
		}
	}
	if it := tot.Iterations; it != nil {
		ri := &result.Iterations{Count: it.Completed + it.Failed, Completed: it.Completed, Failed: it.Failed, Latency: LatencyOf(it.Latency)}
		if measured > 0 {
			ri.Rate = result.Round(float64(ri.Count)/measured.Seconds(), 2)
		}
		r.Iterations = ri
	}

	for _, p := range rec.Timeline() {
		r.Timeline = append(r.Timeline, result.Point{
			T:          result.Round(p.T.Seconds(), 3),
			RPS:        result.Round(p.RPS, 1),
			P50:        result.Ms(p.P50),
			P95:        result.Ms(p.P95),
			P99:        result.Ms(p.P99),
			Errors:     p.Errors,
			Users:      p.Users,
			Requests:   p.Requests,
			Inflight:   p.Inflight,
			Rate:       result.Round(p.Rate, 1),
			Iterations: p.Iterations,
		})
	}

	r.Client = ClientCheck(self, tot, st, o.Plan)
	if h, err := tot.Latency.Encode(); err == nil {
		r.Histogram = h
	}
	return r
}

// orderThresholds evaluates the step thresholds and puts every threshold
// in the order it was written.
func orderThresholds(plain []result.Threshold, steps []StepThreshold, tot metrics.Totals, measured time.Duration) []result.Threshold {
	if len(steps) == 0 {
		return plain
	}
	out := make([]result.Threshold, len(plain)+len(steps))
	placed := make([]bool, len(out))
	for _, st := range steps {
		sub := metrics.Totals{Latency: hist.New(), Lag: hist.New()}
		if st.Step < len(tot.Steps) {
			sub = tot.Steps[st.Step]
		}
		t := Evaluate([]*expr.Expr{st.Expr}, sub, measured)[0]
		t.Expr = st.Src
		at := min(max(st.At, 0), len(out)-1)
		for placed[at] {
			at = (at + 1) % len(out)
		}
		out[at], placed[at] = t, true
	}
	i := 0
	for at := range out {
		if !placed[at] {
			out[at] = plain[i]
			i++
		}
	}
	return out
}

// SummaryOf gives the figures of totals measured over elapsed: requests,
// throughput, latency, errors and status codes.
func SummaryOf(tot metrics.Totals, elapsed time.Duration) result.Summary {
	s := result.Summary{Requests: tot.Requests, Latency: LatencyOf(tot.Latency)}
	if tot.Tails > 0 && tot.Latency.Count() > 0 {
		s.Latency.TTFB = result.Ms(max(tot.Latency.Mean()-tot.Tail, time.Microsecond))
	}
	if elapsed > 0 {
		s.RPS = result.Round(float64(tot.Requests)/elapsed.Seconds(), 1)
	}
	s.Errors = result.Errors{Count: tot.Errors, ByClass: tot.ByClass}
	if tot.Requests > 0 {
		s.Errors.Rate = result.Round(float64(tot.Errors)/float64(tot.Requests), 6)
	}
	s.StatusCodes = make(map[string]int64, len(tot.Codes))
	for code, n := range tot.Codes {
		s.StatusCodes[strconv.Itoa(code)] = n
	}
	s.RetryAfter = tot.RetryAfter
	return s
}

// LatencyOf summarizes a latency histogram in milliseconds.
func LatencyOf(h *hist.Histogram) result.Latency {
	return result.Latency{
		Mean: result.Ms(h.Mean()),
		Min:  result.Ms(h.Min()),
		P50:  result.Ms(h.Quantile(0.50)),
		P90:  result.Ms(h.Quantile(0.90)),
		P95:  result.Ms(h.Quantile(0.95)),
		P99:  result.Ms(h.Quantile(0.99)),
		P999: result.Ms(h.Quantile(0.999)),
		Max:  result.Ms(h.Max()),
	}
}

// Stats returns the values thresholds are evaluated against.
func Stats(tot metrics.Totals, elapsed time.Duration) expr.Stats {
	s := expr.Stats{
		Quantile: tot.Latency.Quantile,
		Mean:     tot.Latency.Mean(),
		Min:      tot.Latency.Min(),
		Max:      tot.Latency.Max(),
	}
	if tot.Requests > 0 {
		s.ErrorRate = float64(tot.Errors) / float64(tot.Requests)
	}
	if elapsed > 0 {
		s.RPS = float64(tot.Requests) / elapsed.Seconds()
	}
	return s
}

// Evaluate checks every expression against a run's totals. With no
// completed request nothing was measured: every expression fails, with no
// value, rather than passing vacuously.
func Evaluate(exprs []*expr.Expr, tot metrics.Totals, elapsed time.Duration) []result.Threshold {
	out := make([]result.Threshold, 0, len(exprs))
	stats := Stats(tot, elapsed)
	for _, e := range exprs {
		t := result.Threshold{Expr: e.String(), Unit: e.Unit()}
		measured := tot.Requests > 0 && (!e.IsLatency() || tot.Latency.Count() > 0)
		if measured {
			v, ok := e.Eval(stats)
			if !math.IsNaN(v) {
				v = result.Round(v, 3)
				t.Value, t.OK = &v, ok
			}
		}
		out = append(out, t)
	}
	return out
}

// lateShare is the share of open-model requests sent late from which the
// result carries a warning.
const lateShare = 0.01

// ClientCheck assembles the generator self-check: surge's CPU, its timer
// lag, the open model's send lag, and warnings when they distort the run.
func ClientCheck(self selfcheck.Report, tot metrics.Totals, st load.Stats, plan load.Plan) result.Client {
	c := result.Client{
		CPUPercent: result.Round(100*self.Utilization(), 1),
		Cores:      self.Cores,
		SchedLag: result.Lag{
			P50: result.Ms(self.SchedLagP50),
			P99: result.Ms(self.SchedLagP99),
			Max: result.Ms(self.SchedLagMax),
		},
		Warnings: self.Warnings(),
	}
	if c.Warnings == nil {
		c.Warnings = []string{}
	}
	if n := tot.ByClass[client.Local.String()]; n > 0 {
		c.Warnings = append(c.Warnings, fmt.Sprintf(
			"%d requests never reached the target: this host could not open connections (class local: out of file descriptors or local ports, or an address it cannot use, such as ::1 without IPv6); raise ulimit -n, widen net.ipv4.ip_local_port_range, keep connections alive instead of opening one per request, or check the address",
			n))
	}
	if plan.Arrivals != nil {
		lag := tot.Lag
		c.SendLag = &result.Lag{
			P50: result.Ms(lag.Quantile(0.5)),
			P99: result.Ms(lag.Quantile(0.99)),
			Max: result.Ms(lag.Max()),
		}
		p99 := lag.Quantile(0.99)
		if p99 > selfcheck.MaxSchedLag && p99 > tot.Latency.Quantile(0.5)/10 {
			c.Warnings = append(c.Warnings, fmt.Sprintf(
				"requests were sent up to %s late (p99 send lag): surge could not keep the schedule, so part of the latency is queueing inside surge (counted honestly from the due time)",
				lag.Quantile(0.99).Round(100*time.Microsecond)))
		}
		c.LateSends = int64(st.Late)
		if st.Late > 0 && float64(st.Late) >= lateShare*float64(max(1, st.Sent)) {
			c.Warnings = append(c.Warnings, fmt.Sprintf(
				"%d of %d requests (%.1f%%) were sent over %s late, then at up to %d× the scheduled rate to catch up: the target saw a faster rate than asked for a while, so a rate limiter's refusals may be partly surge's doing",
				st.Late, st.Sent, 100*float64(st.Late)/float64(max(1, st.Sent)), load.LateAfter, load.CatchUp))
		}
		if st.Dropped > 0 {
			c.Warnings = append(c.Warnings, fmt.Sprintf(
				"%d arrivals could not be sent: all %d in-flight slots were busy (raise --max-inflight, or the target is far past its capacity)",
				st.Dropped, plan.MaxInflight))
		}
	}
	return c
}
