package load_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/surgeload/surge/internal/client"
	"github.com/surgeload/surge/internal/load"
	"github.com/surgeload/surge/internal/metrics"
)

// fakeDoer takes a fixed time to answer, or is canceled by ctx. Inside a
// synctest bubble its time is fake, so the tests are exact and instant.
type fakeDoer struct {
	d     time.Duration
	calls *atomic.Int64
}

func (f fakeDoer) Do(ctx context.Context, _ *client.Exchange) client.Result {
	f.calls.Add(1)
	t := time.NewTimer(f.d)
	defer t.Stop()
	select {
	case <-t.C:
		return client.Result{Code: 200, Class: client.OK, Proto: 1}
	case <-ctx.Done():
		return client.Result{Class: client.Canceled}
	}
}

// fakeStarter is fakeDoer's event-driven form: Start returns at once and
// done is called from a timer, as the client's event loops do.
type fakeStarter struct{ fakeDoer }

func (f fakeStarter) Start(ctx context.Context, _ *client.Exchange, done func(client.Result)) {
	f.calls.Add(1)
	var once sync.Once
	finish := func(r client.Result) { once.Do(func() { done(r) }) }
	t := time.AfterFunc(f.d, func() { finish(client.Result{Code: 200, Class: client.OK, Proto: 1}) })
	context.AfterFunc(ctx, func() {
		if t.Stop() {
			finish(client.Result{Class: client.Canceled})
		}
	})
}

// doers are the two kinds of Doer the closed model runs: one goroutine
// per user, or users as callbacks of a client.Starter.
var doers = map[string]func(d time.Duration, calls *atomic.Int64) load.Worker{
	"goroutines": func(d time.Duration, calls *atomic.Int64) load.Worker {
		return load.Worker{Journey: &steps{n: 1}, Sender: fakeDoer{d: d, calls: calls}}
	},
	"callbacks": func(d time.Duration, calls *atomic.Int64) load.Worker {
		return load.Worker{Journey: &steps{n: 1}, Sender: fakeStarter{fakeDoer{d: d, calls: calls}}}
	},
}

// steps is a journey of n steps, each paused after by pause; a step whose
// index is in fail fails; after iterations, Begin refuses.
type steps struct {
	n, at      int
	pause      time.Duration
	fail       map[int]bool
	failed     bool
	iterations int // 0: no end
	begun      int
	x          client.Exchange
}

func (j *steps) Begin() error {
	if j.iterations > 0 && j.begun == j.iterations {
		return errors.New("out of data")
	}
	j.begun++
	j.at, j.failed = 0, false
	return nil
}

func (j *steps) Next() (*client.Exchange, int) {
	if j.at >= j.n || j.failed {
		return nil, 0
	}
	j.at++
	return &j.x, j.at - 1
}

func (j *steps) Done(res client.Result) (client.Result, time.Duration) {
	if j.fail[j.at-1] && res.Class == client.OK {
		res.Class = client.CheckFailed
		j.failed = true
	}
	return res, j.pause
}

func (j *steps) Failed() bool { return j.failed }

// sink keeps every outcome.
type sink struct {
	mu         sync.Mutex
	outcomes   []metrics.Outcome
	iterations []time.Duration
	failedIts  int
}

func (s *sink) RecordIteration(_ int, d time.Duration, failed bool) {
	s.mu.Lock()
	if failed {
		s.failedIts++
	} else {
		s.iterations = append(s.iterations, d)
	}
	s.mu.Unlock()
}

func (s *sink) Record(_ int, o metrics.Outcome) {
	s.mu.Lock()
	s.outcomes = append(s.outcomes, o)
	s.mu.Unlock()
}

func (s *sink) count(class client.Class) int {
	n := 0
	for _, o := range s.outcomes {
		if o.Class == class {
			n++
		}
	}
	return n
}

func run(t *testing.T, p load.Plan, d time.Duration) (load.Stats, *sink, int64) {
	return runWith(t, "goroutines", p, d)
}

func runWith(t *testing.T, kind string, p load.Plan, d time.Duration) (load.Stats, *sink, int64) {
	t.Helper()
	var calls atomic.Int64
	s := &sink{}
	e, err := load.New(p, func(int) load.Worker { return doers[kind](d, &calls) }, s)
	if err != nil {
		t.Fatal(err)
	}
	st := e.Run(context.Background())
	return st, s, calls.Load()
}

func TestClosedModelThroughputIsUsersOverLatency(t *testing.T) {
	for kind := range doers {
		synctest.Test(t, func(t *testing.T) {
			closedModelThroughput(t, kind)
		})
	}
}

func closedModelThroughput(t *testing.T, kind string) {
	{
		// 10 users, 10 ms per request, 1 s: each user sends exactly 100.
		st, s, calls := runWith(t, kind, load.Plan{Users: load.RampUsers{N: 10}, Duration: time.Second, Grace: time.Second}, 10*time.Millisecond)
		if st.Sent != 1000 || calls != 1000 || len(s.outcomes) != 1000 {
			t.Fatalf("sent %d, doer calls %d, outcomes %d; want 1000 each", st.Sent, calls, len(s.outcomes))
		}
		for _, o := range s.outcomes {
			if o.Latency != 10*time.Millisecond || o.Scheduled {
				t.Fatalf("outcome %+v: want latency exactly 10ms, unscheduled", o)
			}
		}
		if st.Elapsed != time.Second {
			t.Fatalf("%s: elapsed %v, want 1s", kind, st.Elapsed)
		}
	}
}

func TestThinkTime(t *testing.T) {
	for kind := range doers {
		synctest.Test(t, func(t *testing.T) {
			// 10 ms request + 90 ms think: 10 requests per user per second.
			// The run ends at 1 s although every user is then thinking.
			st, s, _ := runWith(t, kind, load.Plan{Users: load.RampUsers{N: 5}, Duration: time.Second, Think: 90 * time.Millisecond, Grace: time.Minute}, 10*time.Millisecond)
			if st.Sent != 50 || len(s.outcomes) != 50 {
				t.Fatalf("%s: sent %d, outcomes %d, want 50", kind, st.Sent, len(s.outcomes))
			}
			if st.Elapsed != time.Second {
				t.Fatalf("%s: elapsed %v, want 1s", kind, st.Elapsed)
			}
		})
	}
}

// stepUsers wants 10 users, then 2 from 1.05 s to 2.05 s, then 10 again
// (off the 100 ms beat of the requests, so that no change of target
// coincides with an answer).
type stepUsers struct{}

func (stepUsers) At(e time.Duration) int {
	if e >= 1050*time.Millisecond && e < 2050*time.Millisecond {
		return 2
	}
	return 10
}

func (stepUsers) Max() int { return 10 }

func TestUsersAboveTheTargetWait(t *testing.T) {
	for kind := range doers {
		synctest.Test(t, func(t *testing.T) {
			// 100 ms requests. To 1.05 s: 10 users start 11 each. Then 2
			// users (the 8 others finish theirs and wait) send 10 each to
			// 2.05 s, when the 8 come back: 10 more each, the first two 9.
			st, s, _ := runWith(t, kind, load.Plan{Users: stepUsers{}, Duration: 3 * time.Second, Grace: time.Minute}, 100*time.Millisecond)
			const want = 10*11 + 2*10 + 8*10 + 2*9
			if st.Sent != want || len(s.outcomes) != want {
				t.Fatalf("%s: sent %d, outcomes %d, want %d", kind, st.Sent, len(s.outcomes), want)
			}
			// The 8 who came back at 2.05 s sent their last at 2.95 s.
			if st.Elapsed != 3050*time.Millisecond {
				t.Fatalf("%s: elapsed %v, want 3.05s", kind, st.Elapsed)
			}
		})
	}
}

func TestRequestBudgetIsExact(t *testing.T) {
	for _, tc := range []struct {
		kind string
		p    load.Plan
	}{
		{"goroutines", load.Plan{Users: load.RampUsers{N: 7}, Duration: time.Minute, Requests: 1001}},
		{"callbacks", load.Plan{Users: load.RampUsers{N: 7}, Duration: time.Minute, Requests: 1001}},
		{"goroutines", load.Plan{Arrivals: load.ConstantRate{Rate: 1000}, Duration: time.Minute, Requests: 1001, MaxInflight: 100}},
		{"callbacks", load.Plan{Arrivals: load.ConstantRate{Rate: 1000}, Duration: time.Minute, Requests: 1001, MaxInflight: 100}},
	} {
		p := tc.p
		synctest.Test(t, func(t *testing.T) {
			st, s, calls := runWith(t, tc.kind, p, time.Millisecond)
			if st.Sent != 1001 || calls != 1001 || len(s.outcomes) != 1001 {
				t.Fatalf("%+v: sent %d, calls %d, outcomes %d; want 1001", p, st.Sent, calls, len(s.outcomes))
			}
			if st.Elapsed >= time.Minute {
				t.Fatalf("run lasted %v: the budget should end it early", st.Elapsed)
			}
		})
	}
}

func TestOpenModelSendsOnSchedule(t *testing.T) {
	for kind := range doers {
		synctest.Test(t, func(t *testing.T) {
			// 2000/s for 5 s: exactly 10000 arrivals, none late, each 10 ms.
			st, s, _ := runWith(t, kind, load.Plan{Arrivals: load.ConstantRate{Rate: 2000}, Duration: 5 * time.Second, MaxInflight: 1000, Grace: time.Second}, 10*time.Millisecond)
			if st.Sent != 10000 || st.Dropped != 0 || len(s.outcomes) != 10000 {
				t.Fatalf("%s: sent %d dropped %d outcomes %d, want 10000, 0, 10000", kind, st.Sent, st.Dropped, len(s.outcomes))
			}
			for _, o := range s.outcomes {
				if !o.Scheduled || o.Lag != 0 || o.Latency != 10*time.Millisecond {
					t.Fatalf("%s: outcome %+v: want scheduled, no lag, latency 10ms", kind, o)
				}
			}
			// About 2000/s × 10 ms = 20 requests in flight: the pool stays small.
			if st.Workers > 25 {
				t.Fatalf("%s: %d workers for ~20 concurrent requests", kind, st.Workers)
			}
		})
	}
}

func TestOpenModelMeasuresFromDueTime(t *testing.T) {
	for kind := range doers {
		synctest.Test(t, func(t *testing.T) {
			// One worker, 100 ms per request, 20 arrivals/s for 1 s: the
			// worker can serve 10/s, so requests queue; latency counts the
			// queueing.
			st, s, _ := runWith(t, kind, load.Plan{Arrivals: load.ConstantRate{Rate: 20}, Duration: time.Second, MaxInflight: 1, Grace: time.Second}, 100*time.Millisecond)
			if st.Sent != 10 || st.Dropped != 10 {
				t.Fatalf("%s: sent %d dropped %d, want 10 and 10", kind, st.Sent, st.Dropped)
			}
			// Request k is due at 50k ms and starts at 100k ms: lag 50k ms,
			// latency lag + 100 ms.
			for k, o := range s.outcomes {
				wantLag := time.Duration(k) * 50 * time.Millisecond
				if o.Lag != wantLag || o.Latency != wantLag+100*time.Millisecond {
					t.Fatalf("%s: request %d: lag %v latency %v, want %v and %v", kind, k, o.Lag, o.Latency, wantLag, wantLag+100*time.Millisecond)
				}
			}
		})
	}
}

func TestOpenModelGraceThenCancel(t *testing.T) {
	for kind := range doers {
		synctest.Test(t, func(t *testing.T) {
			// 10 arrivals/s for 1 s, each taking 10 s, 2 s of grace: all 10
			// are sent; the grace runs from the end of the run, at 1 s, so
			// they are canceled at 3 s.
			st, s, _ := runWith(t, kind, load.Plan{Arrivals: load.ConstantRate{Rate: 10}, Duration: time.Second, MaxInflight: 100, Grace: 2 * time.Second}, 10*time.Second)
			if st.Sent != 10 || s.count(client.Canceled) != 10 || st.Elapsed != 3*time.Second {
				t.Fatalf("%s: sent %d canceled %d elapsed %v, want 10, 10, 3s", kind, st.Sent, s.count(client.Canceled), st.Elapsed)
			}
		})
	}
}

func TestGraceThenCancel(t *testing.T) {
	for kind := range doers {
		synctest.Test(t, func(t *testing.T) {
			// Requests take 10 s; the run lasts 1 s with 2 s of grace: the
			// in-flight requests are canceled at 3 s and not counted as errors.
			st, s, _ := runWith(t, kind, load.Plan{Users: load.RampUsers{N: 4}, Duration: time.Second, Grace: 2 * time.Second}, 10*time.Second)
			if st.Elapsed != 3*time.Second {
				t.Fatalf("%s: elapsed %v, want 3s", kind, st.Elapsed)
			}
			if st.Sent != 4 || s.count(client.Canceled) != 4 {
				t.Fatalf("%s: sent %d, canceled %d; want 4 and 4", kind, st.Sent, s.count(client.Canceled))
			}
		})
	}
}

func TestInterrupt(t *testing.T) {
	for kind := range doers {
		synctest.Test(t, func(t *testing.T) { interrupt(t, kind) })
	}
}

func interrupt(t *testing.T, kind string) {
	{
		var calls atomic.Int64
		s := &sink{}
		e, err := load.New(load.Plan{Users: load.RampUsers{N: 3}, Duration: time.Hour, Grace: time.Hour},
			func(int) load.Worker { return doers[kind](time.Second, &calls) }, s)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(2500*time.Millisecond, cancel)
		st := e.Run(ctx)
		if !st.Interrupted || st.Elapsed != 2500*time.Millisecond {
			t.Fatalf("interrupted=%v elapsed=%v, want true and 2.5s", st.Interrupted, st.Elapsed)
		}
		if s.count(client.OK) != 6 || s.count(client.Canceled) != 3 {
			t.Fatalf("%s: ok %d canceled %d, want 6 and 3", kind, s.count(client.OK), s.count(client.Canceled))
		}
	}
}

func TestRampStartsUsersOnSchedule(t *testing.T) {
	for kind := range doers {
		synctest.Test(t, func(t *testing.T) { rampStartsUsers(t, kind) })
	}
}

func rampStartsUsers(t *testing.T, kind string) {
	{
		var calls atomic.Int64
		s := &sink{}
		e, err := load.New(load.Plan{Users: load.RampUsers{N: 100, Ramp: 10 * time.Second}, Duration: 20 * time.Second},
			func(int) load.Worker { return doers[kind](10*time.Millisecond, &calls) }, s)
		if err != nil {
			t.Fatal(err)
		}
		var at5i, at15i atomic.Int64
		time.AfterFunc(5*time.Second+5*time.Millisecond, func() { at5i.Store(int64(e.Gauges().Users)) })
		time.AfterFunc(15*time.Second, func() { at15i.Store(int64(e.Gauges().Users)) })
		e.Run(context.Background())
		at5, at15 := at5i.Load(), at15i.Load()
		if at5 < 50 || at5 > 51 || at15 != 100 {
			t.Fatalf("%s: users at 5 s = %d (want 50–51), at 15 s = %d (want 100)", kind, at5, at15)
		}
	}
}

func TestPlanValidate(t *testing.T) {
	cases := map[string]load.Plan{
		"neither model":    {Duration: time.Second},
		"both models":      {Users: load.RampUsers{N: 1}, Arrivals: load.ConstantRate{Rate: 1}, Duration: time.Second, MaxInflight: 1},
		"zero duration":    {Users: load.RampUsers{N: 1}},
		"no users":         {Users: load.RampUsers{N: 0}, Duration: time.Second},
		"no inflight room": {Arrivals: load.ConstantRate{Rate: 1}, Duration: time.Second},
		"negative think":   {Users: load.RampUsers{N: 1}, Duration: time.Second, Think: -1},
	}
	for name, p := range cases {
		if err := p.Validate(); err == nil {
			t.Errorf("%s: Validate() = nil, want an error", name)
		}
	}
}

// stallDoer answers its first request after stall, every later one at
// once, and notes when each request was sent.
type stallDoer struct {
	stall time.Duration
	mu    *sync.Mutex
	sent  *[]time.Time
}

func (f stallDoer) Do(ctx context.Context, _ *client.Exchange) client.Result {
	f.mu.Lock()
	*f.sent = append(*f.sent, time.Now())
	first := len(*f.sent) == 1
	f.mu.Unlock()
	if first {
		time.Sleep(f.stall) // the target hangs once; synctest's clock
	}
	return client.Result{Code: 200, Class: client.OK, Proto: 1}
}

// A stall leaves a backlog of arrivals; it must go out at no more than
// CatchUp times the rate, not as one burst, and count as late.
func TestOpenModelSpreadsABacklog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var sent []time.Time
		p := load.Plan{Arrivals: load.ConstantRate{Rate: 1000}, Duration: time.Second, MaxInflight: 1, Grace: time.Second}
		e, err := load.New(p, func(int) load.Worker {
			return load.Worker{Journey: &steps{n: 1}, Sender: stallDoer{stall: 50 * time.Millisecond, mu: &mu, sent: &sent}}
		}, &sink{})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		st := e.Run(context.Background())
		if st.Sent != 1000 || st.Dropped != 0 {
			t.Fatalf("sent %d dropped %d, want all 1000 sent", st.Sent, st.Dropped)
		}
		// In any 5 ms: at most CatchUp × 1000/s × 5 ms = 10 sends (+1 at
		// the window's edge). A burst would send the ~50 backlogged at once.
		for i := range sent {
			n := 0
			for j := i; j < len(sent) && sent[j].Sub(sent[i]) < 5*time.Millisecond; j++ {
				n++
			}
			if n > 11 {
				t.Fatalf("%d requests sent within 5 ms from %v: a burst", n, sent[i].Sub(start))
			}
		}
		// Arrival k (due at k ms) goes at ~50 + k/2 ms until it catches up
		// at k = 100: those more than 10 ms late are about k < 80.
		if st.Late < 70 || st.Late > 90 {
			t.Fatalf("%d late sends, want ~80", st.Late)
		}
	})
}

func TestOpenModelOnTheWallClockIsNeverEarly(t *testing.T) {
	if testing.Short() {
		t.Skip("a run of 300 ms on the wall clock")
	}
	for kind := range doers {
		// 1000/s for 300 ms on the real clock: the dispatcher wakes before
		// each arrival and waits out the rest precisely; no arrival goes
		// before its time, and every one is sent or counted dropped.
		st, s, _ := runWith(t, kind, load.Plan{Arrivals: load.ConstantRate{Rate: 1000}, Duration: 300 * time.Millisecond, MaxInflight: 100, Grace: time.Second}, time.Millisecond)
		if st.Sent+st.Dropped != 300 || st.Sent < 290 {
			t.Fatalf("%s: sent %d dropped %d, want 300 arrivals, nearly all sent", kind, st.Sent, st.Dropped)
		}
		for _, o := range s.outcomes {
			if !o.Scheduled || o.Lag < 0 {
				t.Fatalf("%s: outcome %+v: sent before its due time", kind, o)
			}
		}
	}
}
