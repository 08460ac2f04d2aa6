package load_test

import (
	"context"
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

func (f fakeDoer) Do(ctx context.Context) client.Result {
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

// sink keeps every outcome.
type sink struct {
	mu       sync.Mutex
	outcomes []metrics.Outcome
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
	t.Helper()
	var calls atomic.Int64
	s := &sink{}
	e, err := load.New(p, func(int) load.Doer { return fakeDoer{d: d, calls: &calls} }, s)
	if err != nil {
		t.Fatal(err)
	}
	st := e.Run(context.Background())
	return st, s, calls.Load()
}

func TestClosedModelThroughputIsUsersOverLatency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// 10 users, 10 ms per request, 1 s: each user sends exactly 100.
		st, s, calls := run(t, load.Plan{Users: load.RampUsers{N: 10}, Duration: time.Second, Grace: time.Second}, 10*time.Millisecond)
		if st.Sent != 1000 || calls != 1000 || len(s.outcomes) != 1000 {
			t.Fatalf("sent %d, doer calls %d, outcomes %d; want 1000 each", st.Sent, calls, len(s.outcomes))
		}
		for _, o := range s.outcomes {
			if o.Latency != 10*time.Millisecond || o.Scheduled {
				t.Fatalf("outcome %+v: want latency exactly 10ms, unscheduled", o)
			}
		}
		if st.Elapsed != time.Second {
			t.Fatalf("elapsed %v, want 1s", st.Elapsed)
		}
	})
}

func TestThinkTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// 10 ms request + 90 ms think: 10 requests per user per second.
		st, _, _ := run(t, load.Plan{Users: load.RampUsers{N: 5}, Duration: time.Second, Think: 90 * time.Millisecond}, 10*time.Millisecond)
		if st.Sent != 50 {
			t.Fatalf("sent %d, want 50", st.Sent)
		}
	})
}

func TestRequestBudgetIsExact(t *testing.T) {
	for _, p := range []load.Plan{
		{Users: load.RampUsers{N: 7}, Duration: time.Minute, Requests: 1001},
		{Arrivals: load.ConstantRate{Rate: 1000}, Duration: time.Minute, Requests: 1001, MaxInflight: 100},
	} {
		synctest.Test(t, func(t *testing.T) {
			st, s, calls := run(t, p, time.Millisecond)
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
	synctest.Test(t, func(t *testing.T) {
		// 2000/s for 5 s: exactly 10000 arrivals, none late, each 10 ms.
		st, s, _ := run(t, load.Plan{Arrivals: load.ConstantRate{Rate: 2000}, Duration: 5 * time.Second, MaxInflight: 1000, Grace: time.Second}, 10*time.Millisecond)
		if st.Sent != 10000 || st.Dropped != 0 {
			t.Fatalf("sent %d dropped %d, want 10000 and 0", st.Sent, st.Dropped)
		}
		for _, o := range s.outcomes {
			if !o.Scheduled || o.Lag != 0 || o.Latency != 10*time.Millisecond {
				t.Fatalf("outcome %+v: want scheduled, no lag, latency 10ms", o)
			}
		}
		// About 2000/s × 10 ms = 20 requests in flight: the pool stays small.
		if st.Workers > 25 {
			t.Fatalf("%d workers for ~20 concurrent requests", st.Workers)
		}
	})
}

func TestOpenModelMeasuresFromDueTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// One worker, 100 ms per request, 20 arrivals/s for 1 s: the worker
		// can serve 10/s, so requests queue; latency counts the queueing.
		st, s, _ := run(t, load.Plan{Arrivals: load.ConstantRate{Rate: 20}, Duration: time.Second, MaxInflight: 1, Grace: time.Second}, 100*time.Millisecond)
		if st.Sent != 10 || st.Dropped != 10 {
			t.Fatalf("sent %d dropped %d, want 10 and 10", st.Sent, st.Dropped)
		}
		// Request k is due at 50k ms and starts at 100k ms: lag 50k ms,
		// latency lag + 100 ms.
		for k, o := range s.outcomes {
			wantLag := time.Duration(k) * 50 * time.Millisecond
			if o.Lag != wantLag || o.Latency != wantLag+100*time.Millisecond {
				t.Fatalf("request %d: lag %v latency %v, want %v and %v", k, o.Lag, o.Latency, wantLag, wantLag+100*time.Millisecond)
			}
		}
	})
}

func TestGraceThenCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Requests take 10 s; the run lasts 1 s with 2 s of grace: the
		// in-flight requests are canceled at 3 s and not counted as errors.
		st, s, _ := run(t, load.Plan{Users: load.RampUsers{N: 4}, Duration: time.Second, Grace: 2 * time.Second}, 10*time.Second)
		if st.Elapsed != 3*time.Second {
			t.Fatalf("elapsed %v, want 3s", st.Elapsed)
		}
		if st.Sent != 4 || s.count(client.Canceled) != 4 {
			t.Fatalf("sent %d, canceled %d; want 4 and 4", st.Sent, s.count(client.Canceled))
		}
	})
}

func TestInterrupt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int64
		s := &sink{}
		e, err := load.New(load.Plan{Users: load.RampUsers{N: 3}, Duration: time.Hour, Grace: time.Hour},
			func(int) load.Doer { return fakeDoer{d: time.Second, calls: &calls} }, s)
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
			t.Fatalf("ok %d canceled %d, want 6 and 3", s.count(client.OK), s.count(client.Canceled))
		}
	})
}

func TestRampStartsUsersOnSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int64
		s := &sink{}
		e, err := load.New(load.Plan{Users: load.RampUsers{N: 100, Ramp: 10 * time.Second}, Duration: 20 * time.Second},
			func(int) load.Doer { return fakeDoer{d: 10 * time.Millisecond, calls: &calls} }, s)
		if err != nil {
			t.Fatal(err)
		}
		var at5, at15 int
		time.AfterFunc(5*time.Second+5*time.Millisecond, func() { at5 = e.Gauges().Users })
		time.AfterFunc(15*time.Second, func() { at15 = e.Gauges().Users })
		e.Run(context.Background())
		if at5 < 50 || at5 > 51 || at15 != 100 {
			t.Fatalf("users at 5 s = %d (want 50–51), at 15 s = %d (want 100)", at5, at15)
		}
	})
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
