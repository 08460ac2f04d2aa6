package load

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
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
	// StepPauses says that journeys pause between their steps (a step's
	// think time): only then does each user keep a timer for it. A pause
	// a journey asks for without it is not taken.
	StepPauses bool
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

// Journey is one virtual user's iterations, step by step: it says what to
// send next and judges each outcome. The engine calls it from one
// goroutine at a time. A run of one URL is a journey of one step.
type Journey interface {
	// Begin starts an iteration. An error means the user can start no
	// more (its data ran out): the run then ends, and says why.
	Begin() error
	// Next returns the exchange of the iteration's next step and the
	// step's index, or nil when the iteration is over.
	Next() (x *client.Exchange, step int)
	// Done takes the outcome of the exchange Next returned. It returns
	// the outcome to record (the step's checks applied) and how long to
	// pause before the next step.
	Done(res client.Result) (client.Result, time.Duration)
	// Failed reports whether the iteration that just ended failed.
	Failed() bool
}

// Worker is what one virtual user (closed model), or one open-model
// worker, runs: its journeys and the sender of its requests. A sender that
// is a client.Starter carries the worker without a goroutine of its own.
type Worker struct {
	Journey Journey
	Sender  client.Sender
}

// Sink receives every outcome. Record and RecordIteration are called
// concurrently; worker identifies the calling worker.
type Sink interface {
	Record(worker int, o metrics.Outcome)
	// RecordIteration counts an iteration that ended: latency is the
	// journey's, from its start (or due time) to the end of its last step.
	RecordIteration(worker int, latency time.Duration, failed bool)
}

// Stats describes how a run went, from the engine's side.
type Stats struct {
	Sent uint64 // requests sent
	// Dropped counts the open model's arrivals due in the run that were
	// never sent because every in-flight slot (MaxInflight) was busy; not
	// those whose turn came after the run had ended (its duration, an
	// interrupt).
	Dropped uint64
	Elapsed time.Duration // from the start to the end of the last request
	// Interrupted is true when the run was stopped by its context before
	// the plan ended.
	Interrupted bool
	Workers     int // users, or open-model workers, that sent requests
	// Stopped says why the run ended before its plan did, when a journey
	// could start no more iterations (its data ran out); "" otherwise.
	Stopped string
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
	plan       Plan
	makeWorker func(worker int) Worker
	sink       Sink

	start    time.Time
	halted   atomic.Bool
	stop     chan struct{} // closed when no new request may start
	haltOnce sync.Once
	issued   atomic.Uint64 // requests taken against plan.Requests
	// lateDrops counts open-model arrivals handed to a worker only after
	// the end of the run.
	lateDrops atomic.Uint64
	// stopped says why the run ended before its plan did (a journey
	// could start no more iterations).
	stoppedOnce sync.Once
	stopped     string
	// lateSends counts open-model arrivals dispatched over LateAfter late.
	lateSends atomic.Uint64

	nworkers atomic.Int64 // workers numbered so far

	// reqCtx is the requests' context, canceled when Run returns; the
	// users on the event loops read it here rather than each hold it.
	reqCtx context.Context

	mu      sync.Mutex
	workers []*workerState
	// Closed-model users whose requests run on the client's event loops:
	// parked are those above the current target.
	async []*asyncUser
	// Open-model workers on the event loops.
	opens   []*openSender
	parked  []*asyncUser
	changed chan struct{} // closed and replaced when target changes
	target  atomic.Int64  // closed model: users wanted now
	spawned atomic.Int64
	wg      sync.WaitGroup
}

// workerState holds one worker's counters; only that worker writes them.
// Workers on the client's event loops hold theirs inside their own state;
// goroutine workers get a padded one (see padded).
type workerState struct {
	sent atomic.Uint64
	done atomic.Uint64
}

// padded returns counters alone on their cache line, for a goroutine
// worker: workers on different cores then do not share one.
func padded() *workerState {
	p := &struct {
		workerState
		_ [48]byte
	}{}
	return &p.workerState
}

// New checks the plan and returns an Engine ready to Run once.
func New(p Plan, newWorker func(worker int) Worker, sink Sink) (*Engine, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &Engine{
		plan:       p,
		makeWorker: newWorker,
		sink:       sink,
		stop:       make(chan struct{}),
		changed:    make(chan struct{}),
	}, nil
}

// Run runs the plan and blocks until every request has ended. Canceling
// ctx stops the run at once: no new request starts and requests in flight
// are canceled (Stats.Interrupted is then true).
func (e *Engine) Run(ctx context.Context) Stats {
	reqCtx, cancelReqs := context.WithCancel(ctx)
	defer cancelReqs()
	e.reqCtx = reqCtx

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
		var capped bool
		dropped, capped = e.runOpen(reqCtx)
		if !capped {
			// The last arrival is out: its journey, and the others under
			// way, go on until the end of the run.
			<-e.stop
		}
		e.halt()
		e.endPausedOpen()
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

	e.stoppedOnce.Do(func() {}) // no stopWith from here on
	st := Stats{
		Stopped:     e.stopped,
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

// take reserves the right to send one more request, elapsed into the run.
func (e *Engine) take(elapsed time.Duration) bool {
	if e.halted.Load() {
		return false
	}
	if elapsed >= e.plan.Duration {
		e.halt()
		return false
	}
	if e.plan.Requests > 0 && e.issued.Add(1) > e.plan.Requests {
		e.halt()
		return false
	}
	return true
}

// newWorker numbers a worker and returns what it runs. Its counters are
// registered apart (count), where the worker keeps them.
func (e *Engine) newWorker() (int, Worker) {
	id := int(e.nworkers.Add(1)) - 1
	return id, e.makeWorker(id)
}

// count registers a worker's counters, which Gauges and Run read.
func (e *Engine) count(st *workerState) *workerState {
	e.mu.Lock()
	e.workers = append(e.workers, st)
	e.mu.Unlock()
	return st
}

// stopWith ends the run because a user could start no more iterations.
func (e *Engine) stopWith(err error) {
	e.stoppedOnce.Do(func() { e.stopped = err.Error() })
	e.halt()
}

// runClosed drives the closed model until the run halts: it keeps the
// number of started users at the schedule's value.
func (e *Engine) runClosed(reqCtx context.Context) {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	spawned := 0
	// Room for every user's counters at once, not by doubling: ten
	// thousand users start in the first instants, and each doubling
	// would leave its old array behind as garbage at the peak.
	e.mu.Lock()
	e.workers = slices.Grow(e.workers, e.plan.Users.Max())
	e.mu.Unlock()
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
				u.iterate()
			}
		}
		for ; spawned < want && !e.halted.Load(); spawned++ {
			e.wg.Add(1)
			e.spawned.Add(1)
			id, w := e.newWorker()
			if s, ok := w.Sender.(client.Starter); ok {
				u := e.newAsyncUser(spawned, id, w.Journey, s)
				u.iterate()
			} else {
				go e.user(reqCtx, spawned, id, e.count(padded()), w)
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

// pause waits d on t (made on first use), or until the run halts; it
// reports whether the wait ran to its end.
func (e *Engine) pause(t **time.Timer, d time.Duration) bool {
	if *t == nil {
		*t = time.NewTimer(d)
	} else {
		(*t).Reset(d)
	}
	select {
	case <-(*t).C:
		return true
	case <-e.stop:
		(*t).Stop()
		return false
	}
}

// user is one virtual user of the closed model, on a goroutine of its
// own. Between iterations, users whose index is at or above the current
// target wait until the schedule wants them again.
func (e *Engine) user(reqCtx context.Context, index, id int, st *workerState, w Worker) {
	defer e.wg.Done()
	var timer *time.Timer
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
		if e.halted.Load() {
			return
		}
		if err := w.Journey.Begin(); err != nil {
			e.stopWith(err)
			return
		}
		it0 := time.Now()
		x, step := w.Journey.Next()
		for x != nil {
			t0 := time.Now()
			if !e.take(t0.Sub(e.start)) {
				return
			}
			st.sent.Add(1)
			res := w.Sender.Do(reqCtx, x)
			t1 := time.Now()
			st.done.Add(1)
			res, wait := w.Journey.Done(res)
			e.sink.Record(id, metrics.OutcomeOf(res, t1.Sub(t0), step))
			if res.Class == client.Canceled {
				return
			}
			if x, step = w.Journey.Next(); x == nil {
				// The journey's last step is answered: a pause after it
				// is not part of the iteration.
				e.sink.RecordIteration(id, t1.Sub(it0), w.Journey.Failed())
			}
			if wait > 0 && e.plan.StepPauses && !e.pause(&timer, wait) {
				return
			}
		}
		if d := e.thinkTime(); d > 0 && !e.pause(&timer, d) {
			return
		}
	}
}

// asyncUser is a closed-model user whose requests run on the client's
// event loops (a client.Starter): between requests it holds no goroutine,
// which is what lets 10 000 users cost a few megabytes. It does what user
// does, in callbacks: iterate begins an iteration (or parks the user while
// it is above the target), step sends the iteration's next request or
// ends it, finished records an outcome and pauses, on a timer, or goes on
// at once.
type asyncUser struct {
	e     *Engine
	st    workerState // not padded: the struct around it keeps it apart
	j     Journey
	s     client.Starter
	it0   time.Duration    // the iteration's start, into the run (a third of a Time's size)
	t0    time.Duration    // the request's
	x     *client.Exchange // the next step's, nil at the end of the iteration
	think *time.Timer      // between iterations; nil without think time
	wait  *time.Timer      // between steps (stopped until used); nil without StepPauses
	done  func(client.Result)
	index int32 // ten thousand users and more: 32 bits each
	id    int32
	cur   int32 // the step of x
	ended bool  // under e.mu, for endWaitingUsers
}

// next takes the journey's next step into x and cur.
func (u *asyncUser) next() {
	x, cur := u.j.Next()
	u.x, u.cur = x, int32(cur)
}

func (e *Engine) newAsyncUser(index, id int, j Journey, s client.Starter) *asyncUser {
	u := &asyncUser{e: e, index: int32(index), id: int32(id), j: j, s: s}
	e.count(&u.st)
	u.done = u.finished
	if e.plan.Think > 0 || e.plan.ThinkMax > 0 {
		u.think = time.AfterFunc(time.Hour, u.iterate)
		u.think.Stop()
	}
	if e.plan.StepPauses {
		u.wait = time.AfterFunc(time.Hour, u.step)
		u.wait.Stop()
	}
	e.mu.Lock()
	if e.async == nil {
		e.async = make([]*asyncUser, 0, e.plan.Users.Max()) // see runClosed
	}
	e.async = append(e.async, u)
	e.mu.Unlock()
	return u
}

// iterate begins the user's next iteration, unless the run has halted or
// the schedule wants fewer users than this one's index.
func (u *asyncUser) iterate() {
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
	if e.halted.Load() {
		u.end()
		return
	}
	if err := u.j.Begin(); err != nil {
		e.stopWith(err)
		u.end()
		return
	}
	u.it0 = time.Since(e.start)
	u.next()
	u.step()
}

// step sends the iteration's next request, or thinks and begins the next
// iteration.
func (u *asyncUser) step() {
	e := u.e
	if u.x == nil {
		if d := e.thinkTime(); d > 0 && u.think != nil {
			u.sleep(u.think, d)
			return
		}
		u.iterate()
		return
	}
	u.t0 = time.Since(e.start)
	if !e.take(u.t0) {
		u.end()
		return
	}
	u.st.sent.Add(1)
	u.s.Start(u.e.reqCtx, u.x, u.done)
}

// finished records a request's outcome and goes on to the next step.
func (u *asyncUser) finished(res client.Result) {
	e := u.e
	t1 := time.Since(e.start)
	u.st.done.Add(1)
	res, wait := u.j.Done(res)
	e.sink.Record(int(u.id), metrics.OutcomeOf(res, t1-u.t0, int(u.cur)))
	if res.Class == client.Canceled {
		u.end()
		return
	}
	if u.next(); u.x == nil {
		e.sink.RecordIteration(int(u.id), t1-u.it0, u.j.Failed())
	}
	if wait > 0 && u.wait != nil {
		u.sleep(u.wait, wait)
		return
	}
	u.step()
}

// sleep sets t to fire after d. A halt that came while the timer was
// being set ends the pause now, unless endWaitingUsers already did.
func (u *asyncUser) sleep(t *time.Timer, d time.Duration) {
	t.Reset(d)
	if u.e.halted.Load() && t.Stop() {
		u.end()
	}
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
// parked or pausing; those with a request in flight end when it does.
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
		if u.think != nil && u.think.Stop() || u.wait != nil && u.wait.Stop() {
			u.end()
		}
	}
}

// splitParked returns the parked users still above target, and those the
// schedule wants again.
func splitParked(parked []*asyncUser, target int) (still, resume []*asyncUser) {
	for _, u := range parked {
		if int(u.index) < target {
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
// were due within the run but never sent. Each arrival is one iteration of
// a journey. Workers are goroutines that call Do, or, when their senders
// are client.Starters, workers that the dispatcher starts itself and that
// come back to an idle list when their iteration ends.
//
// capped reports that the run's request budget (Plan.Requests) was spent.
func (e *Engine) runOpen(reqCtx context.Context) (dropped uint64, capped bool) {
	work := make(chan time.Duration)
	defer close(work)         // idle workers exit
	var idle chan *openSender // nil (never ready) until a Starter is made
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	precise := wallClock()
	workers := 0
	// The previous arrival: when it was due, and when it was to go out.
	var prevAt, prevSend time.Duration
	var i uint64
	for ; ; i++ {
		if e.plan.Requests > 0 && i >= e.plan.Requests {
			return 0, true
		}
		at, ok := e.plan.Arrivals.Due(i)
		if !ok || at >= e.plan.Duration {
			return 0, false
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
		if !e.waitUntil(timer, sendAt, precise) {
			// The run ended first: arrivals held back by the catch-up
			// pace were due within it and count as dropped; one not yet
			// due was never due within the run (see countDropped).
			return e.countDropped(i), false
		}
		if e.halted.Load() {
			return e.countDropped(i), false
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
			id, w := e.newWorker()
			if s, ok := w.Sender.(client.Starter); ok {
				if idle == nil {
					idle = make(chan *openSender, e.plan.MaxInflight)
				}
				o := &openSender{e: e, ctx: reqCtx, id: id, j: w.Journey, s: s, idle: idle}
				e.count(&o.st)
				o.done = o.finished
				if e.plan.StepPauses {
					o.wait = time.AfterFunc(time.Hour, o.resume)
					o.wait.Stop()
				}
				e.mu.Lock()
				e.opens = append(e.opens, o)
				e.mu.Unlock()
				o.send(at)
			} else {
				e.wg.Add(1)
				go e.openWorker(reqCtx, at, work, id, e.count(padded()), w)
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
			return e.countDropped(i), false
		}
	}
}

// openSender is an open-model worker whose requests run on the client's
// event loops: it holds no goroutine while its iteration runs.
type openSender struct {
	e       *Engine
	ctx     context.Context
	id      int
	st      workerState // not padded: the struct around it keeps it apart
	j       Journey
	s       client.Starter
	idle    chan<- *openSender // where it goes back when its iteration ends
	due, t0 time.Time
	first   bool             // the request in flight is the iteration's first
	x       *client.Exchange // the next step's, nil at the end of the iteration
	cur     int              // the step of x
	wait    *time.Timer      // between steps (stopped until used)
	waiting bool             // pausing between steps, under e.mu
	done    func(client.Result)
}

// send starts the iteration due at at (from the start of the run).
func (o *openSender) send(at time.Duration) {
	e := o.e
	o.due = e.start.Add(at)
	if time.Since(e.start) >= e.plan.Duration {
		// Its turn came too late to be sent within the run.
		e.halt()
		e.lateDrops.Add(1)
		o.idle <- o
		return
	}
	if err := o.j.Begin(); err != nil {
		e.stopWith(err)
		o.idle <- o
		return
	}
	e.wg.Add(1)
	o.first = true
	o.x, o.cur = o.j.Next()
	o.step()
}

// step sends the iteration's next request, or ends the iteration.
func (o *openSender) step() {
	e := o.e
	if o.x == nil || !o.first && e.halted.Load() {
		// The iteration is over, or the run ended during it: its later
		// steps are not sent.
		o.idle <- o // never blocks: the list holds MaxInflight
		e.wg.Done()
		return
	}
	o.t0 = time.Now()
	o.st.sent.Add(1)
	o.s.Start(o.ctx, o.x, o.done)
}

func (o *openSender) finished(res client.Result) {
	t1 := time.Now()
	o.st.done.Add(1)
	res, wait := o.j.Done(res)
	out := metrics.OutcomeOf(res, t1.Sub(o.t0), o.cur)
	if o.first {
		// The arrival's first request is measured from when it was due.
		out.Latency, out.Lag, out.Scheduled = t1.Sub(o.due), o.t0.Sub(o.due), true
		o.first = false
	}
	o.e.sink.Record(o.id, out)
	if res.Class == client.Canceled {
		o.x = nil
		o.step()
		return
	}
	if o.x, o.cur = o.j.Next(); o.x == nil {
		o.e.sink.RecordIteration(o.id, t1.Sub(o.due), o.j.Failed())
	}
	if wait > 0 && o.x != nil && o.wait != nil {
		e := o.e
		e.mu.Lock()
		if e.halted.Load() {
			// The run is over: the iteration's later steps are not sent.
			e.mu.Unlock()
			o.x = nil
			o.step()
			return
		}
		o.waiting = true
		e.mu.Unlock()
		o.wait.Reset(wait)
		return
	}
	o.step()
}

// resume goes on with the iteration after a pause between steps, unless
// endPausedOpen ended it.
func (o *openSender) resume() {
	e := o.e
	e.mu.Lock()
	waiting := o.waiting
	o.waiting = false
	e.mu.Unlock()
	if waiting {
		o.step()
	}
}

// endPausedOpen ends, at the halt, the open-model iterations pausing
// between steps: their later steps are not sent, and the run need not
// wait out their pauses.
func (e *Engine) endPausedOpen() {
	e.mu.Lock()
	var paused []*openSender
	for _, o := range e.opens {
		if o.waiting {
			o.waiting = false
			o.wait.Stop()
			paused = append(paused, o)
		}
	}
	e.mu.Unlock()
	for _, o := range paused {
		o.x = nil
		o.step()
	}
}

// countDropped counts the arrivals from i on that were due before the end
// of the run, or before now if the run was stopped earlier.
func (e *Engine) countDropped(i uint64) uint64 {
	var n uint64
	end := min(e.plan.Duration, time.Since(e.start))
	for ; e.plan.Requests == 0 || i < e.plan.Requests; i++ {
		at, ok := e.plan.Arrivals.Due(i)
		if !ok || at >= end {
			break
		}
		n++
	}
	return n
}

// openWorker runs the iterations handed to it, on a goroutine of its own;
// first is the due time of its first iteration.
func (e *Engine) openWorker(reqCtx context.Context, first time.Duration, work <-chan time.Duration, id int, st *workerState, w Worker) {
	defer e.wg.Done()
	var timer *time.Timer
	at := first
	for {
		due := e.start.Add(at)
		if time.Since(e.start) >= e.plan.Duration {
			// Handed over too late to be sent within the run.
			e.halt()
			e.lateDrops.Add(1)
			for range work { // the dispatcher stops at the halt and closes work
				e.lateDrops.Add(1)
			}
			return
		}
		if err := w.Journey.Begin(); err != nil {
			e.stopWith(err)
			for range work {
			}
			return
		}
		e.iterate(reqCtx, due, id, st, w, &timer)
		var ok bool
		if at, ok = <-work; !ok {
			return
		}
	}
}

// iterate runs one open-model iteration due at due, from its first step.
func (e *Engine) iterate(reqCtx context.Context, due time.Time, id int, st *workerState, w Worker, timer **time.Timer) {
	first := true
	x, step := w.Journey.Next()
	for x != nil {
		if !first && e.halted.Load() {
			return
		}
		t0 := time.Now()
		st.sent.Add(1)
		res := w.Sender.Do(reqCtx, x)
		t1 := time.Now()
		st.done.Add(1)
		res, wait := w.Journey.Done(res)
		out := metrics.OutcomeOf(res, t1.Sub(t0), step)
		if first {
			out.Latency, out.Lag, out.Scheduled = t1.Sub(due), t0.Sub(due), true
			first = false
		}
		e.sink.Record(id, out)
		if res.Class == client.Canceled {
			return
		}
		if x, step = w.Journey.Next(); x == nil {
			e.sink.RecordIteration(id, t1.Sub(due), w.Journey.Failed())
			return
		}
		if wait > 0 && e.plan.StepPauses && !e.pause(timer, wait) {
			return
		}
	}
}
