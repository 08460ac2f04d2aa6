// Package result defines surge's versioned JSON result, the contract that
// scripts and CI read (see PRODUCT.md), and is the only place that encodes
// or decodes it. Keys are only ever added; none is renamed or removed
// without raising Version.
package result

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// Version is the version of the result format this package writes.
const Version = 1

// Result is the outcome of `surge run`, and the envelope of `surge find`.
type Result struct {
	Version   int       `json:"version"`
	Tool      string    `json:"tool"`   // "surge v0.1.0 …"
	Target    string    `json:"target"` // URL (or scenario file)
	Method    string    `json:"method"`
	Model     string    `json:"model"`          // "users" or "rate"
	Users     int       `json:"users,omitzero"` // closed model: virtual users
	Rate      float64   `json:"rate,omitzero"`  // open model: arrivals per second
	Started   time.Time `json:"started"`
	DurationS float64   `json:"duration_s"`
	// WarmupS is the start of the run left out of the figures (find steps).
	WarmupS float64 `json:"warmup_s,omitzero"`
	// Partial is true when the run was interrupted (Ctrl-C) before the
	// end of its plan.
	Partial bool `json:"partial"`
	// Stopped says why the run ended before its plan did, when its
	// journeys could start no more iterations (a feeder ran out).
	Stopped    string      `json:"stopped,omitempty"`
	Summary    Summary     `json:"summary"`
	Thresholds []Threshold `json:"thresholds"`
	Timeline   []Point     `json:"timeline"`
	Client     Client      `json:"client"`
	Probes     Probes      `json:"probes"`
	// Histogram is the run's latency histogram in the HdrHistogram V2
	// compressed format, base64: mergeable with other results.
	Histogram string `json:"histogram"`

	// StepNames, ByStep and Iterations are written for scenario files:
	// StepNames lists the steps in the order of the file (flow by flow),
	// ByStep holds each step's figures by name, in the shape of Summary,
	// and Iterations counts the journeys.
	StepNames  []string           `json:"step_names,omitempty"`
	ByStep     map[string]Summary `json:"by_step,omitempty"`
	Iterations *Iterations        `json:"iterations,omitempty"`

	// Capacity, Steps and Bottleneck are written by `surge find` only.
	Capacity   *Capacity   `json:"capacity,omitempty"`
	Steps      []Step      `json:"steps,omitempty"`
	Bottleneck *Bottleneck `json:"bottleneck,omitempty"`
}

// Summary holds the whole-run figures.
type Summary struct {
	Requests int64   `json:"requests"` // completed requests, failures included
	RPS      float64 `json:"rps"`      // Requests / duration
	// Latency percentiles in milliseconds. They cover requests that got a
	// response (any status) or timed out; see the README.
	Latency     Latency          `json:"latency_ms"`
	Errors      Errors           `json:"errors"`
	StatusCodes map[string]int64 `json:"status_codes"`
	// RetryAfter counts the responses that carried a Retry-After header
	// (any status): a 503 with it is a quota, without it load shedding.
	RetryAfter int64 `json:"retry_after,omitempty"`
	BytesIn    int64 `json:"bytes_in"`  // bytes read on the wire
	BytesOut   int64 `json:"bytes_out"` // bytes written on the wire
	Sent       int64 `json:"sent"`      // requests sent
	// Dropped counts open-model arrivals due during the run that surge
	// could not send (its in-flight cap was reached until the end).
	Dropped int64 `json:"dropped"`
	// Unfinished counts requests still in flight when the run ended
	// (after the grace period, or at Ctrl-C): neither successes nor errors.
	Unfinished  int64            `json:"unfinished"`
	Connections int64            `json:"connections"` // connections opened
	DialErrors  int64            `json:"dial_errors"` // connects that failed (refused, timed out, out of descriptors)
	Protocols   map[string]int64 `json:"protocols"`   // responses by HTTP version
	// Histogram is a by_step entry's latency histogram, encoded as the
	// result's own (empty in summary, whose histogram is the result's).
	Histogram string `json:"histogram,omitempty"`
}

// Iterations counts the journeys of a scenario run: one iteration is one
// user going once through one flow.
type Iterations struct {
	Count     int64   `json:"count"`     // iterations that ended (completed or failed)
	Completed int64   `json:"completed"` // iterations whose every step succeeded
	Failed    int64   `json:"failed"`    // iterations ended by a failed step
	Rate      float64 `json:"rate"`      // Count per second
	// Latency is the journey latency of completed iterations, think
	// time included, in milliseconds.
	Latency Latency `json:"latency_ms"`
}

// Latency is a set of latency statistics in milliseconds.
type Latency struct {
	Mean float64 `json:"mean"`
	Min  float64 `json:"min"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
	// TTFB is the mean time to the response's first byte: Mean less the
	// mean time the rest of the response took. Only where the client
	// measures it (surge's own HTTP/1.1 path); absent elsewhere.
	TTFB float64 `json:"ttfb_mean,omitzero"`
}

// Errors counts failed requests.
type Errors struct {
	Count   int64            `json:"count"`
	Rate    float64          `json:"rate"` // Count / requests, 0..1
	ByClass map[string]int64 `json:"by_class"`
}

// Threshold is one evaluated threshold or SLO expression.
type Threshold struct {
	Expr string `json:"expr"`
	OK   bool   `json:"ok"`
	// Value is the measured value in Unit (ms, %, req/s); null when
	// nothing could be measured (no request completed).
	Value *float64 `json:"value"`
	Unit  string   `json:"unit"`
}

// Point is one timeline interval.
type Point struct {
	T        float64 `json:"t"` // seconds since start, end of the interval
	RPS      float64 `json:"rps"`
	P50      float64 `json:"p50_ms"`
	P95      float64 `json:"p95_ms"`
	P99      float64 `json:"p99_ms"`
	Errors   int64   `json:"errors"`
	Users    int     `json:"users"`
	Requests int64   `json:"requests"`
	Inflight int     `json:"inflight"`
	Rate     float64 `json:"rate,omitzero"` // open model: target rate
	// Iterations counts the scenario iterations that ended in the interval.
	Iterations int64 `json:"iterations,omitzero"`
}

// Client is the load generator's self-check: figures about surge itself,
// and warnings when they distort the result.
type Client struct {
	CPUPercent float64 `json:"cpu_percent"` // share of surge's cores kept busy, 0..100
	Cores      int     `json:"cores"`
	// SendLag is how late open-model requests were sent after they were
	// due (nil in the closed model).
	SendLag *Lag `json:"send_lag_ms,omitempty"`
	// LateSends counts open-model requests sent over 10 ms after they
	// were due; the backlog went out at up to twice the scheduled rate.
	LateSends int64    `json:"late_sends,omitempty"`
	SchedLag  Lag      `json:"sched_lag_ms"` // how late surge's timers fired
	Warnings  []string `json:"warnings"`
}

// Lag is a small latency-like distribution in milliseconds.
type Lag struct {
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// Probes holds what server-side probes observed, by probe spec
// ("prom=http://…", "pid=123", "cgroup=/sys/fs/cgroup/…").
type Probes map[string]ProbeSeries

// ProbeSeries is one probe's samples, aligned to the timeline, and its
// summary over the measured part of the run.
type ProbeSeries struct {
	Samples []ProbeSample `json:"samples"`
	Window  *ProbeWindow  `json:"window,omitempty"`
	// Error is the last error reading the probe; Failures counts the
	// samples that could not be read.
	Error    string `json:"error,omitempty"`
	Failures int    `json:"failures,omitempty"`
}

// ProbeSample is one reading of a probe. Values holds cpu_seconds
// (cumulative), rss_bytes, cores, cpu_wait_seconds and host_busy_seconds
// (cumulative), and every --probe-metric by name; a value that could not
// be read is left out.
type ProbeSample struct {
	T      float64            `json:"t"`
	Values map[string]float64 `json:"values"`
}

// ProbeWindow summarizes a probe over the measured part of a run (after
// warm-up). Unknown values are null.
type ProbeWindow struct {
	CPUCores      *float64 `json:"cpu_cores"`       // CPU used, in cores
	CPUUtil       *float64 `json:"cpu_util"`        // CPUCores / Cores, 0..1
	Cores         *float64 `json:"cores"`           // CPUs available to the target
	RSSBytes      *float64 `json:"rss_bytes"`       // resident memory at the end
	RSSDeltaBytes *float64 `json:"rss_delta_bytes"` // change over the window
	// BusiestThreadCores is the CPU of the target's busiest thread (pid
	// probes): near 1 for a single-threaded server at its limit.
	BusiestThreadCores *float64 `json:"busiest_thread_cores,omitempty"`
	// CPUWaitCores is the time the target's threads were ready to run
	// but waited for a CPU, per second (pid and cgroup probes): CPU it
	// wanted and did not get, because its own threads or other processes
	// held the cores.
	CPUWaitCores *float64 `json:"cpu_wait_cores,omitempty"`
	// HostCPUUtil is the share of the machine's CPUs busy, whoever ran
	// (pid and cgroup probes, which run on the target's machine): near 1
	// with the target and surge far below, other processes took the rest.
	HostCPUUtil *float64           `json:"host_cpu_util,omitempty"`
	Metrics     map[string]float64 `json:"metrics,omitempty"`
	Rates       map[string]float64 `json:"rates,omitempty"` // per second
}

// Capacity is `surge find`'s answer: the highest load that met every SLO.
type Capacity struct {
	Users int     `json:"users,omitzero"`
	Rate  float64 `json:"rate,omitzero"`
	RPS   float64 `json:"rps"`
	// GoodputRPS counts only the successful requests of RPS (no error);
	// nil in results written before it existed.
	GoodputRPS *float64 `json:"goodput_rps,omitempty"`
	SLO        []string `json:"slo"`
	MetAtMin   bool     `json:"met_at_min"`
	// Confirmed is true when a sustained hold at the capacity met every
	// SLO; false when only short steps did.
	Confirmed bool `json:"confirmed"`
}

// Step is one load level tried by `surge find`.
type Step struct {
	Users       int                     `json:"users,omitzero"`
	Rate        float64                 `json:"rate,omitzero"`
	Phase       string                  `json:"phase"` // "grow", "bisect" or "confirm"
	DurationS   float64                 `json:"duration_s"`
	Requests    int64                   `json:"requests"`
	RPS         float64                 `json:"rps"`
	Latency     Latency                 `json:"latency_ms"`
	Errors      Errors                  `json:"errors"`
	StatusCodes map[string]int64        `json:"status_codes"`
	RetryAfter  int64                   `json:"retry_after,omitempty"`
	SLOOK       bool                    `json:"slo_ok"`
	SLO         []Threshold             `json:"slo"`
	Client      Client                  `json:"client"`
	Probes      map[string]*ProbeWindow `json:"probes"`
	// ByStep holds each scenario step's figures at this level.
	ByStep map[string]Summary `json:"by_step,omitempty"`
}

// Bottleneck is `surge find`'s diagnosis.
type Bottleneck struct {
	Class string `json:"class"`
	// Step names, for a scenario, the journey step that degrades first;
	// the class and evidence are then that step's.
	Step             string   `json:"step,omitempty"`
	ConcurrencyLimit float64  `json:"concurrency_limit,omitzero"`
	Summary          string   `json:"summary"`
	Evidence         []string `json:"evidence"`
	Secondary        []string `json:"secondary,omitempty"`
}

// Write encodes r as indented JSON.
func Write(w io.Writer, r *Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	return nil
}

// Read decodes a result and checks its version.
func Read(rd io.Reader) (*Result, error) {
	var r Result
	dec := json.NewDecoder(rd)
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("read result: %w", err)
	}
	switch {
	case r.Version == 0:
		return nil, errors.New("read result: not a surge result (no version)")
	case r.Version > Version:
		return nil, fmt.Errorf("read result: version %d is newer than this surge understands (%d)", r.Version, Version)
	}
	return &r, nil
}

// Ms converts a duration to milliseconds, rounded to the microsecond.
func Ms(d time.Duration) float64 {
	return Round(float64(d)/float64(time.Millisecond), 3)
}

// Round rounds v to the given number of decimals.
func Round(v float64, decimals int) float64 {
	p := math.Pow(10, float64(decimals))
	return math.Round(v*p) / p
}
