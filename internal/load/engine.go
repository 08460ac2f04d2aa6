package load

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/surgeload/surge/internal/client"
	"github.com/surgeload/surge/internal/metrics"
)

// Plan is what to run. Exactly one of Users (closed model) and Arrivals
// (open model) is set.
type Plan struct {
	Users    Users    // closed model
	Arrivals Arrivals // open model
	// Duration is how long requests are issued. Requests in flight at
	// the end get Grace to finish, then are canceled.
	Duration time.Duration
	// Requests, when > 0, stops the run after that many requests were
	// sent, or at Duration, whichever comes first.
	Requests uint64
	// Think is the pause between a response and the same user's next
	// request (closed model). When ThinkMax > Think, each pause is drawn
	// uniformly from [Think, ThinkMax].
	Think    time.Duration
	ThinkMax time.Duration
	// MaxInflight caps the requests in flight in the open model. An
	// arrival that finds the cap reached waits (and its latency, measured
	// from its due time, grows); arrivals still waiting at the end are
	// counted as dropped.
	MaxInflight int
	// Grace is how long requests in flight at the end may take to finish.
	Grace time.Duration
}

// Validate reports every problem with the plan at once.
func (p Plan) Validate() error {
	var errs []error
	switch {
	case p.Users == nil && p.Arrivals == nil:
		errs = append(errs, errors.New("plan has neither users nor an arrival rate"))
	case p.Users != nil && p.Arrivals != nil:
		errs = append(errs, errors.New("plan has both users and an arrival rate"))
	case p.Users != nil && p.Users.Max() < 1:
		errs = append(errs, errors.New("plan needs at least one user"))
	}
	if p.Duration <= 0 {
		errs = append(errs, errors.New("duration must be positive"))
	}
	if p.Think < 0 || p.ThinkMax < 0 {
		errs = append(errs, errors.New("think time must not be negative"))
	}
	if p.Arrivals != nil && p.MaxInflight < 1 {
		errs = append(errs, errors.New("the open model needs a max in-flight of at least 1"))
	}
	if p.Grace < 0 {
		errs = append(errs, errors.New("grace must not be negative"))
	}
	return errors.Join(errs...)
}

// Doer sends one request. Each worker gets its own Doer and calls it from
// one goroutine. A Doer that is also a client.Starter carries closed-model
// users without a goroutine each.
type Doer interface {
	Do(ctx context.Context) client.Result
}

// Sink receives every outcome. Record is called concurrently; worker
// identifies the calling worker.
type Sink interface {
	Record(worker int, o metrics.Outcome)
}

// Stats describes how a run went, from the engine's side.
type Stats struct {
	Sent    uint64        // requests sent
	Dropped uint64        // open model: arrivals due in the run that were never sent
	Elapsed time.Duration // from the start to the end of the last request
	// Interrupted is true when the run was stopped by its context before
	// the plan ended.
	Interrupted bool
	Workers     int // users, or open-model workers, that sent requests
	// Late counts open-model arrivals sent more than LateAfter after they
	// were due (a stall of surge, or every in-flight slot busy). The
	// backlog is sent at up to CatchUp times the schedule's rate, never
	// as one burst, but the target still sees a faster rate for a while.
	Late uint64
}

// Open-model catch-up: arrivals that fall behind are sent at most CatchUp
// times as fast as scheduled until the schedule is met again, so a stall
// never turns into a burst; those sent more than LateAfter late count in
// Stats.Late.
const (
	CatchUp   = 2
	LateAfter = 10 * time.Millisecond
)

// stallAfter is how late a dispatch may end before the catch-up pace
// starts from the wall clock: below it, scheduling jitter.
const stallAfter = time.Millisecond

// Engine runs one Plan. Its Gauges may be read while it runs.
type Engine struct {
	plan    Plan
	newDoer func(worker int) Doer
	sink    Sink

	start    time.Time
	halted   atomic.Bool
	stop     chan struct{} // closed when no new request may start
	haltOnce sync.Once
	issued   atomic.Uint64 // requests taken against plan.Requests
	// lateDrops counts open-model arrivals handed to a worker only after
	// the end of the run.
	lateDrops atomic.Uint64
	// lateSends counts open-model arrivals dispatched over LateAfter late.
	lateSends atomic.Uint64

	mu      sync.Mutex
	workers []*workerState
	// Closed-model users whose requests run on the client's event loops:
	// parked are those above the current target.
	async   []*asyncUser
	parked  []*asyncUser
	changed chan struct{} // closed and replaced when target changes
	target  atomic.Int64  // closed model: users wanted now
	spawned atomic.Int64
	wg      sync.WaitGroup
}

// workerState holds one worker's counters; only that worker writes them.
type workerState struct {
	sent atomic.Uint64
	done atomic.Uint64
	_    [48]byte // keep workers off each other's cache lines
}

// New checks the plan and returns an Engine ready to Run once.
func New(p Plan, newDoer func(worker int) Doer, sink Sink) (*Engine, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &Engine{
		plan:    p,
		newDoer: newDoer,
		sink:    sink,
		stop:    make(chan struct{}),
		changed: make(chan struct{}),
	}, nil
}

// Run runs the plan and blocks until every request has ended. Canceling
// ctx stops the run at once: no new request starts and requests in flight
// are canceled (Stats.Interrupted is then true).
func (e *Engine) Run(ctx context.Context) Stats {
	reqCtx, cancelReqs := context.WithCancel(ctx)
	defer cancelReqs()

	e.mu.Lock()
	e.start = time.Now()
	e.mu.Unlock()
	deadline := time.AfterFunc(e.plan.Duration, e.halt)
	defer deadline.Stop()
	go func() {
		select {
		case <-ctx.Done():
			e.halt()
		case <-e.stop:
		}
	}()

	var dropped uint64
	if e.plan.Users != nil {
		e.runClosed(reqCtx)
	} else {
		dropped = e.runOpen(reqCtx)
	}
	e.halt()

	done := make(chan struct{})
	go func() { e.wg.Wait(); close(done) }()
	grace := time.NewTimer(e.plan.Grace)
	select {
	case <-done:
	case <-grace.C:
		cancelReqs()
		<-done
	}
	grace.Stop()

	st := Stats{
		Dropped:     dropped + e.lateDrops.Load(),
		Late:        e.lateSends.Load(),
		Elapsed:     time.Since(e.start),
		Interrupted: ctx.Err() != nil,
	}
	e.mu.Lock()
	st.Workers = len(e.workers)
	for _, w := range e.workers {
		st.Sent += w.sent.Load()
	}
	e.mu.Unlock()
	return st
}

// Gauges returns the engine's live values: active users, requests in
// flight and the target rate. Safe to call at any time.
func (e *Engine) Gauges() metrics.Gauges {
	e.mu.Lock()
	defer e.mu.Unlock()
	var g metrics.Gauges
	for _, w := range e.workers {
		g.Inflight += int(w.sent.Load() - w.done.Load())
	}
	if e.plan.Users != nil {
		g.Users = int(min(e.target.Load(), e.spawned.Load()))
		if e.halted.Load() {
			g.Users = g.Inflight
		}
	} else if !e.start.IsZero() {
		g.Rate = e.plan.Arrivals.RateAt(time.Since(e.start))
	}
	return g
}

// Started returns when the run started (zero before Run).
func (e *Engine) Started() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.start
}

func (e *Engine) halt() {
	e.haltOnce.Do(func() {
		e.halted.Store(true)
		close(e.stop)
	})
}

// take reserves the right to send one more request at now.
func (e *Engine) take(now time.Time) bool {
	if e.halted.Load() {
		return false
	}
	if now.Sub(e.start) >= e.plan.Duration {
		e.halt()
		return false
	}
	if e.plan.Requests > 0 && e.issued.Add(1) > e.plan.Requests {
		e.halt()
		return false
	}
	return true
}

// newWorker registers a worker and returns its state and Doer.
func (e *Engine) newWorker() (int, *workerState, Doer) {
	st := &workerState{}
	e.mu.Lock()
	id := len(e.workers)
	e.workers = append(e.workers, st)
	e.mu.Unlock()
	return id, st, e.newDoer(id)
}

// runClosed drives the closed model until the run halts: it keeps the
// number of started users at the schedule's value.
func (e *Engine) runClosed(reqCtx context.Context) {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	spawned := 0
	for {
		want := e.plan.Users.At(time.Since(e.start))
		if int64(want) != e.target.Load() {
			e.mu.Lock()
			e.target.Store(int64(want))
			close(e.changed)
			e.changed = make(chan struct{})
			var resume []*asyncUser
			e.parked, resume = splitParked(e.parked, want)
			e.mu.Unlock()
			for _, u := range resume {
				u.next()
			}
		}
		for ; spawned < want; spawned++ {
			e.wg.Add(1)
			e.spawned.Add(1)
			id, st, doer := e.newWorker()
			if s, ok := doer.(client.Starter); ok {
				u := e.newAsyncUser(reqCtx, spawned, id, st, s)
				u.next()
			} else {
				go e.user(reqCtx, spawned, id, st, doer)
			}
		}
		select {
		case <-e.stop:
			e.endWaitingUsers()
			return
		case <-tick.C:
		}
	}
}

// user is one virtual user of the closed model. Users whose index is at or
// above the current target wait until the schedule wants them again.
func (e *Engine) user(reqCtx context.Context, index, id int, st *workerState, doer Doer) {
	defer e.wg.Done()
	var think *time.Timer
	for {
		if int64(index) >= e.target.Load() {
			e.mu.Lock()
			ch := e.changed
			e.mu.Unlock()
			if int64(index) >= e.target.Load() {
				select {
				case <-ch:
					continue
				case <-e.stop:
					return
				}
			}
		}
		t0 := time.Now()
		if !e.take(t0) {
			return
		}
		st.sent.Add(1)
		res := doer.Do(reqCtx)
		t1 := time.Now()
		st.done.Add(1)
		e.sink.Record(id, metrics.Outcome{
			Latency:    t1.Sub(t0),
			Code:       res.Code,
			Class:      res.Class,
			Proto:      res.Proto,
			RetryAfter: res.RetryAfter,
		})
		if res.Class == client.Canceled {
			return
		}
		if d := e.thinkTime(); d > 0 {
			if think == nil {
				think = time.NewTimer(d)
			} else {
				think.Reset(d)
			}
			select {
			case <-think.C:
			case <-e.stop:
				think.Stop()
				return
			}
		}
	}
}

// asyncUser is a closed-model user whose requests run on the client's
// event loops (a client.Starter): between requests it holds no goroutine,
// which is what lets 10 000 users cost a few megabytes. It does what user
// does, in callbacks: next sends the next request (or parks the user while
// it is above the target), finished records an outcome and thinks, on a
// timer, or goes on at once.
type asyncUser struct {
	e     *Engine
	ctx   context.Context
	index int
	id    int
	st    *workerState
	s     client.Starter
	t0    time.Time
	think *time.Timer // nil without think time
	done  func(client.Result)
	ended bool // under e.mu, for endWaitingUsers
}

func (e *Engine) newAsyncUser(ctx context.Context, index, id int, st *workerState, s client.Starter) *asyncUser {
	u := &asyncUser{e: e, ctx: ctx, index: index, id: id, st: st, s: s}
	u.done = u.finished
	if e.plan.Think > 0 || e.plan.ThinkMax > 0 {
		u.think = time.AfterFunc(time.Hour, u.next)
		u.think.Stop()
	}
	e.mu.Lock()
	e.async = append(e.async, u)
	e.mu.Unlock()
	return u
}

// next sends the user's next request, unless the run has halted or the
// schedule wants fewer users than this one's index.
func (u *asyncUser) next() {
	e := u.e
	if int64(u.index) >= e.target.Load() {
		e.mu.Lock()
		if int64(u.index) >= e.target.Load() && !e.halted.Load() {
			e.parked = append(e.parked, u)
			e.mu.Unlock()
			return
		}
		e.mu.Unlock()
	}
	u.t0 = time.Now()
	if !e.take(u.t0) {
		u.end()
		return
	}
	u.st.sent.Add(1)
	u.s.Start(u.ctx, u.done)
}

// finished records a request's outcome and goes on to the next one.
func (u *asyncUser) finished(res client.Result) {
	e := u.e
	u.st.done.Add(1)
	e.sink.Record(u.id, metrics.Outcome{
		Latency:    time.Since(u.t0),
		Code:       res.Code,
		Class:      res.Class,
		Proto:      res.Proto,
		RetryAfter: res.RetryAfter,
	})
	if res.Class == client.Canceled {
		u.end()
		return
	}
	if d := e.thinkTime(); d > 0 && u.think != nil {
		u.think.Reset(d)
		// A halt that came while the timer was being set ends the pause
		// now, unless endWaitingUsers already did.
		if e.halted.Load() && u.think.Stop() {
			u.end()
		}
		return
	}
	u.next()
}

// end retires the user.
func (u *asyncUser) end() {
	u.e.mu.Lock()
	ended := u.ended
	u.ended = true
	u.e.mu.Unlock()
	if !ended {
		u.e.wg.Done()
	}
}

// endWaitingUsers retires, at the halt, the event-loop users that are
// parked or thinking; those with a request in flight end when it does.
func (e *Engine) endWaitingUsers() {
	e.mu.Lock()
	parked := e.parked
	e.parked = nil
	users := e.async
	e.mu.Unlock()
	for _, u := range parked {
		u.end()
	}
	for _, u := range users {
		if u.think != nil && u.think.Stop() {
			u.end()
		}
	}
}

// splitParked returns the parked users still above target, and those the
// schedule wants again.
func splitParked(parked []*asyncUser, target int) (still, resume []*asyncUser) {
	for _, u := range parked {
		if u.index < target {
			resume = append(resume, u)
		} else {
			still = append(still, u)
		}
	}
	return still, resume
}

func (e *Engine) thinkTime() time.Duration {
	p := e.plan
	if p.ThinkMax > p.Think {
		return p.Think + rand.N(p.ThinkMax-p.Think+1)
	}
	return p.Think
}

// runOpen dispatches arrivals on schedule to a pool of workers that grows
// on demand up to MaxInflight, and returns the number of arrivals that
// were due within the run but never sent. Workers are goroutines that call
// Do, or, when the Doers are client.Starters, senders that the dispatcher
// starts itself and that come back to an idle list when answered.
func (e *Engine) runOpen(reqCtx context.Context) (dropped uint64) {
	work := make(chan time.Duration)
	defer close(work)         // idle workers exit
	var idle chan *openSender // nil (never ready) until a Starter is made
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	workers := 0
	// The previous arrival: when it was due, and when it was to go out.
	var prevAt, prevSend time.Duration
	var i uint64
	for ; ; i++ {
		if e.plan.Requests > 0 && i >= e.plan.Requests {
			return 0
		}
		at, ok := e.plan.Arrivals.Due(i)
		if !ok || at >= e.plan.Duration {
			return 0
		}
		// Behind schedule, arrivals go out at most CatchUp times as fast
		// as scheduled, not all at once: a stall must not become a burst
		// that the target (a rate limiter) takes for a spike. The pace is
		// kept on the schedule's clock, so that the dispatcher's own
		// jitter costs no rate; only a stall (the previous dispatch ending
		// over stallAfter late) moves it to the wall clock.
		sendAt := at
		if i > 0 {
			if done := time.Since(e.start); done-prevSend > stallAfter {
				prevSend = done
			}
			sendAt = max(at, prevSend+(at-prevAt)/CatchUp)
		}
		prevAt, prevSend = at, sendAt
		if wait := sendAt - time.Since(e.start); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-e.stop:
				timer.Stop()
				return e.countDropped(i)
			}
		}
		if e.halted.Load() {
			return e.countDropped(i)
		}
		if time.Since(e.start)-at > LateAfter {
			e.lateSends.Add(1)
		}
		select {
		case work <- at:
			continue
		case o := <-idle:
			o.send(at)
			continue
		default:
		}
		if workers < e.plan.MaxInflight {
			workers++
			id, st, doer := e.newWorker()
			if s, ok := doer.(client.Starter); ok {
				if idle == nil {
					idle = make(chan *openSender, e.plan.MaxInflight)
				}
				o := &openSender{e: e, ctx: reqCtx, id: id, st: st, s: s, idle: idle}
				o.done = o.finished
				o.send(at)
			} else {
				e.wg.Add(1)
				go e.openWorker(reqCtx, at, work, id, st, doer)
			}
			continue
		}
		// Every worker is busy and the cap is reached: this arrival waits,
		// and its lateness counts in its latency.
		select {
		case work <- at:
		case o := <-idle:
			o.send(at)
		case <-e.stop:
			return e.countDropped(i)
		}
	}
}

// openSender is an open-model worker whose requests run on the client's
// event loops: it holds no goroutine while its request is in flight.
type openSender struct {
	e       *Engine
	ctx     context.Context
	id      int
	st      *workerState
	s       client.Starter
	idle    chan<- *openSender // where it goes back when answered
	due, t0 time.Time
	done    func(client.Result)
}

// send starts the request due at at (from the start of the run).
func (o *openSender) send(at time.Duration) {
	e := o.e
	o.due, o.t0 = e.start.Add(at), time.Now()
	if o.t0.Sub(e.start) >= e.plan.Duration {
		// Its turn came too late to be sent within the run.
		e.halt()
		e.lateDrops.Add(1)
		o.idle <- o
		return
	}
	o.st.sent.Add(1)
	e.wg.Add(1)
	o.s.Start(o.ctx, o.done)
}

func (o *openSender) finished(res client.Result) {
	t1 := time.Now()
	o.st.done.Add(1)
	o.e.sink.Record(o.id, metrics.Outcome{
		Latency:    t1.Sub(o.due),
		Lag:        o.t0.Sub(o.due),
		Scheduled:  true,
		Code:       res.Code,
		Class:      res.Class,
		Proto:      res.Proto,
		RetryAfter: res.RetryAfter,
	})
	o.idle <- o // never blocks: the list holds MaxInflight
	o.e.wg.Done()
}

// countDropped counts the arrivals from i on that were due before the end
// of the run.
func (e *Engine) countDropped(i uint64) uint64 {
	var n uint64
	for ; e.plan.Requests == 0 || i < e.plan.Requests; i++ {
		at, ok := e.plan.Arrivals.Due(i)
		if !ok || at >= e.plan.Duration {
			break
		}
		n++
	}
	return n
}

// openWorker sends the requests handed to it; first is the due time of its
// first request.
func (e *Engine) openWorker(reqCtx context.Context, first time.Duration, work <-chan time.Duration, id int, st *workerState, doer Doer) {
	defer e.wg.Done()
	at := first
	for {
		due := e.start.Add(at)
		t0 := time.Now()
		if t0.Sub(e.start) >= e.plan.Duration {
			// Handed over too late to be sent within the run.
			e.halt()
			e.lateDrops.Add(1)
			for range work { // the dispatcher stops at the halt and closes work
				e.lateDrops.Add(1)
			}
			return
		}
		st.sent.Add(1)
		res := doer.Do(reqCtx)
		t1 := time.Now()
		st.done.Add(1)
		e.sink.Record(id, metrics.Outcome{
			Latency:    t1.Sub(due),
			Lag:        t0.Sub(due),
			Scheduled:  true,
			Code:       res.Code,
			Class:      res.Class,
			Proto:      res.Proto,
			RetryAfter: res.RetryAfter,
		})
		var ok bool
		if at, ok = <-work; !ok {
			return
		}
	}
}
