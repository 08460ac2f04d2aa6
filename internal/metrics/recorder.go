package metrics

import (
	"runtime"
	"sync"
	"time"

	"github.com/surgeload/surge/internal/client"
	"github.com/surgeload/surge/internal/hist"
)

// Outcome is what one request produced.
type Outcome struct {
	// Latency runs from when the request was due (open model) or sent
	// (closed model) to the last byte of the response.
	Latency time.Duration
	// Lag is how late the request was sent after it was due (open model
	// only; see Scheduled).
	Lag time.Duration
	// Scheduled marks an open-model request, which has a due time and so
	// a send lag.
	Scheduled bool
	Code      int          // HTTP status, 0 without a response
	Class     client.Class // OK or the failure class
	Proto     int          // major HTTP version of the response, 0 without one
	// Step is the index of the journey step the request was (0 for a
	// one-step run).
	Step int
	// RetryAfter marks a response that carried Retry-After.
	RetryAfter bool
	// Tail is the time from the response's first byte to its last, when
	// HasTail says the client measured it (see client.Result.Tail).
	Tail    time.Duration
	HasTail bool
}

// OutcomeOf is the outcome of the request of journey step step, answered
// with res latency after it began (or was due).
func OutcomeOf(res client.Result, latency time.Duration, step int) Outcome {
	return Outcome{Latency: latency, Code: res.Code, Class: res.Class, Proto: res.Proto,
		RetryAfter: res.RetryAfter, Tail: res.Tail, HasTail: res.HasTail, Step: step}
}

// maxCode bounds the status codes counted in arrays; others go to a map.
const maxCode = 600

// counts is the data of one interval, or of a whole run.
type counts struct {
	lat      *hist.Histogram
	lag      *hist.Histogram
	requests int64
	classes  [client.NumClasses]int64
	codes    [maxCode]int64
	odd      map[int]int64 // status codes outside 0..599 (rare)
	proto    [3]int64
	// Of a journey run: each step's counts (no send lag), and the
	// iterations that ended.
	steps     []*counts
	iterLat   *hist.Histogram // completed iterations
	iterOK    int64
	iterFails int64
	retry     int64 // responses with Retry-After
	// The tails of the responses whose client measured them: their sum
	// and count (see Outcome.Tail).
	tail  time.Duration
	tails int64
}

// newCounts returns counts for a run of the given number of journey
// steps (0 for a run of one URL).
func newCounts(steps int) *counts {
	c := &counts{lat: hist.New(), lag: hist.New()}
	if steps > 0 {
		c.iterLat = hist.New()
		c.steps = make([]*counts, steps)
		for i := range c.steps {
			c.steps[i] = &counts{lat: hist.New()}
		}
	}
	return c
}

func (c *counts) add(o *Outcome) {
	if c.steps != nil && o.Step >= 0 && o.Step < len(c.steps) {
		c.steps[o.Step].add(o)
	}
	if o.Class == client.Canceled {
		c.classes[client.Canceled]++
		return
	}
	c.requests++
	c.classes[o.Class]++
	if o.Class.HasLatency() {
		c.lat.Record(o.Latency)
	}
	if o.Scheduled && c.lag != nil {
		c.lag.Record(o.Lag)
	}
	switch {
	case !o.Class.Completed():
		// A response cut short (a 200 head whose body broke) is an error
		// of its class, not a 200: status codes and errors agree.
	case o.Code >= 0 && o.Code < maxCode:
		c.codes[o.Code]++
	default:
		if c.odd == nil {
			c.odd = make(map[int]int64)
		}
		c.odd[o.Code]++
	}
	if o.Class.Completed() && o.Proto > 0 && o.Proto < len(c.proto) {
		c.proto[o.Proto]++
	}
	if o.RetryAfter {
		c.retry++
	}
	if o.HasTail && o.Class.HasLatency() {
		c.tail += o.Tail
		c.tails++
	}
}

func (c *counts) merge(o *counts) {
	c.lat.Merge(o.lat)
	if c.lag != nil {
		c.lag.Merge(o.lag)
	}
	for i, st := range c.steps {
		st.merge(o.steps[i])
	}
	if c.iterLat != nil {
		c.iterLat.Merge(o.iterLat)
	}
	c.iterOK += o.iterOK
	c.iterFails += o.iterFails
	c.tail += o.tail
	c.tails += o.tails
	c.requests += o.requests
	for i, v := range o.classes {
		c.classes[i] += v
	}
	for i, v := range o.codes {
		c.codes[i] += v
	}
	for k, v := range o.odd {
		if c.odd == nil {
			c.odd = make(map[int]int64)
		}
		c.odd[k] += v
	}
	for i, v := range o.proto {
		c.proto[i] += v
	}
	c.retry += o.retry
}

func (c *counts) reset() {
	c.lat.Reset()
	if c.lag != nil {
		c.lag.Reset()
	}
	for _, st := range c.steps {
		st.reset()
	}
	if c.iterLat != nil {
		c.iterLat.Reset()
	}
	c.iterOK, c.iterFails = 0, 0
	c.requests = 0
	c.classes = [client.NumClasses]int64{}
	c.codes = [maxCode]int64{}
	c.odd = nil
	c.proto = [3]int64{}
	c.retry = 0
	c.tail, c.tails = 0, 0
}

func (c *counts) errors() int64 {
	var n int64
	for cl, v := range c.classes {
		if client.Class(cl).IsError() {
			n += v
		}
	}
	return n
}

// shard is one lock and the interval it guards, padded so that two shards
// never share a cache line.
type shard struct {
	mu  sync.Mutex
	cur *counts
	_   [48]byte
}

// Gauges are the instantaneous values a timeline point carries besides
// what was recorded: they come from the load engine.
type Gauges struct {
	Users    int // active virtual users (closed model)
	Inflight int // requests in flight
	Rate     float64
}

// Recorder collects outcomes. Record is safe for concurrent use; Tick,
// Timeline and Totals are serialized internally and are meant to be called
// from one goroutine that drives the timeline.
type Recorder struct {
	shards []shard

	tickMu   sync.Mutex
	spare    *counts // swapped with a shard's interval at each tick
	scratch  *counts // the merged interval being closed
	total    *counts
	timeline *Timeline
	lastTick time.Duration
}

// NewRecorder returns a Recorder with one shard per CPU and a timeline of
// at most maxPoints points, for a run whose journeys have the given number
// of steps: each step is also counted on its own, and so are iterations.
// A run of one URL, whose iterations are its requests, passes 0.
func NewRecorder(maxPoints, steps int) *Recorder {
	n := runtime.GOMAXPROCS(0)
	r := &Recorder{
		shards:   make([]shard, n),
		spare:    newCounts(steps),
		scratch:  newCounts(steps),
		total:    newCounts(steps),
		timeline: NewTimeline(maxPoints),
	}
	for i := range r.shards {
		r.shards[i].cur = newCounts(steps)
	}
	return r
}

// RecordIteration counts one iteration that ended: completed (every step
// succeeded, latency is the journey's) or failed. It is a no-op for a run
// of one URL.
func (r *Recorder) RecordIteration(worker int, latency time.Duration, failed bool) {
	s := &r.shards[uint(worker)%uint(len(r.shards))]
	s.mu.Lock()
	if c := s.cur; c.iterLat != nil {
		if failed {
			c.iterFails++
		} else {
			c.iterOK++
			c.iterLat.Record(latency)
		}
	}
	s.mu.Unlock()
}

// Record adds one outcome. worker identifies the caller (any small
// integer); it picks the shard, so callers with different numbers rarely
// contend.
func (r *Recorder) Record(worker int, o Outcome) {
	s := &r.shards[uint(worker)%uint(len(r.shards))]
	s.mu.Lock()
	s.cur.add(&o)
	s.mu.Unlock()
}

// Tick closes the interval that ends at elapsed (time since the start of
// the run), appends its point to the timeline and returns it. With keep
// false (warm-up) the interval stays out of the totals.
func (r *Recorder) Tick(elapsed time.Duration, g Gauges, keep bool) Point {
	r.tickMu.Lock()
	defer r.tickMu.Unlock()
	r.scratch.reset()
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		s.cur, r.spare = r.spare, s.cur
		s.mu.Unlock()
		r.scratch.merge(r.spare)
		r.spare.reset()
	}
	dt := elapsed - r.lastTick
	r.lastTick = elapsed
	c := r.scratch
	p := Point{
		T:          elapsed,
		Span:       dt,
		Requests:   c.requests,
		Errors:     c.errors(),
		P50:        c.lat.Quantile(0.50),
		P95:        c.lat.Quantile(0.95),
		P99:        c.lat.Quantile(0.99),
		Users:      g.Users,
		Inflight:   g.Inflight,
		Rate:       g.Rate,
		Iterations: c.iterOK + c.iterFails,
	}
	if dt > 0 {
		p.RPS = float64(c.requests) / dt.Seconds()
	}
	if keep {
		r.total.merge(c)
	}
	r.timeline.Add(p)
	return p
}

// Timeline returns a copy of the timeline so far.
func (r *Recorder) Timeline() []Point {
	r.tickMu.Lock()
	defer r.tickMu.Unlock()
	return r.timeline.Points()
}

// Totals returns everything recorded up to the last Tick. Call Tick once
// more after the last request to include it.
func (r *Recorder) Totals() Totals {
	r.tickMu.Lock()
	defer r.tickMu.Unlock()
	t := r.total.totals()
	for _, st := range r.total.steps {
		t.Steps = append(t.Steps, st.totals())
	}
	if c := r.total; c.iterLat != nil {
		t.Iterations = &IterTotals{Completed: c.iterOK, Failed: c.iterFails, Latency: hist.New()}
		t.Iterations.Latency.Merge(c.iterLat)
	}
	return t
}

func (c *counts) totals() Totals {
	t := Totals{
		Requests:   c.requests,
		Errors:     c.errors(),
		Canceled:   c.classes[client.Canceled],
		Latency:    hist.New(),
		Lag:        hist.New(),
		Codes:      make(map[int]int64),
		ByClass:    make(map[string]int64),
		HTTP1:      c.proto[1],
		HTTP2:      c.proto[2],
		RetryAfter: c.retry,
		Tails:      c.tails,
	}
	if c.tails > 0 {
		t.Tail = c.tail / time.Duration(c.tails)
	}
	t.Latency.Merge(c.lat)
	if c.lag != nil {
		t.Lag.Merge(c.lag)
	}
	for code, v := range c.codes {
		if v > 0 && code > 0 {
			t.Codes[code] = v
		}
	}
	for code, v := range c.odd {
		t.Codes[code] = v
	}
	for cl, v := range c.classes {
		if v > 0 && client.Class(cl).IsError() {
			t.ByClass[client.Class(cl).String()] = v
		}
	}
	return t
}

// Totals summarizes a whole run.
type Totals struct {
	Requests int64            // completed requests, failures included
	Errors   int64            // failed requests, all classes
	Canceled int64            // requests cut short by surge (not counted in Requests)
	ByClass  map[string]int64 // failures by class name
	Codes    map[int]int64    // responses by status code
	Latency  *hist.Histogram  // latency of requests that have one (see client.Class.HasLatency)
	Lag      *hist.Histogram  // send lag of open-model requests
	HTTP1    int64            // responses over HTTP/1.x
	HTTP2    int64            // responses over HTTP/2
	// Steps holds each journey step's totals (nil for a one-step run),
	// and Iterations the journeys'.
	Steps      []Totals
	Iterations *IterTotals
	// RetryAfter counts responses that carried Retry-After.
	RetryAfter int64
	// Tail is the mean time from a response's first byte to its last,
	// over the Tails responses whose client measured it (0: none did).
	Tail  time.Duration
	Tails int64
}

// IterTotals counts the iterations of a journey run.
type IterTotals struct {
	Completed int64           // iterations whose every step succeeded
	Failed    int64           // iterations ended by a failed step
	Latency   *hist.Histogram // journey latency of completed iterations
}
