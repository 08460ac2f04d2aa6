package load_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/surgeload/surge/internal/client"
	"github.com/surgeload/surge/internal/load"
)

// senders are the two ways a worker sends: blocking, or on callbacks.
var senders = map[string]func(d time.Duration, calls *atomic.Int64) client.Sender{
	"goroutines": func(d time.Duration, calls *atomic.Int64) client.Sender { return fakeDoer{d: d, calls: calls} },
	"callbacks": func(d time.Duration, calls *atomic.Int64) client.Sender {
		return fakeStarter{fakeDoer{d: d, calls: calls}}
	},
}

func runJourney(t *testing.T, kind string, p load.Plan, d time.Duration, j func() *steps) (load.Stats, *sink, int64) {
	t.Helper()
	var calls atomic.Int64
	s := &sink{}
	e, err := load.New(p, func(int) load.Worker {
		return load.Worker{Journey: j(), Sender: senders[kind](d, &calls)}
	}, s)
	if err != nil {
		t.Fatal(err)
	}
	return e.Run(context.Background()), s, calls.Load()
}

func TestJourneyStepsPausesAndIterations(t *testing.T) {
	for kind := range senders {
		t.Run(kind, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				// 2 users, 3 steps of 10 ms each followed by a 20 ms pause,
				// 30 ms of think between iterations: an iteration takes
				// 3×(10+20) = 90 ms, and a user starts one every 120 ms.
				// The last step's pause is not part of its iteration: it
				// lasts 70 ms.
				p := load.Plan{Users: load.RampUsers{N: 2}, Duration: 1200 * time.Millisecond, Think: 30 * time.Millisecond, StepPauses: true}
				st, s, calls := runJourney(t, kind, p, 10*time.Millisecond, func() *steps { return &steps{n: 3, pause: 20 * time.Millisecond} })
				if st.Stopped != "" {
					t.Fatalf("stopped: %q", st.Stopped)
				}
				// 10 iterations per user in 1.2 s.
				if len(s.iterations) != 20 {
					t.Fatalf("%d iterations completed, want 20 (%d requests)", len(s.iterations), calls)
				}
				for _, d := range s.iterations {
					if d != 70*time.Millisecond {
						t.Fatalf("iteration took %s, want 70ms", d)
					}
				}
				bySteps := map[int]int{}
				for _, o := range s.outcomes {
					bySteps[o.Step]++
				}
				if bySteps[0] < bySteps[1] || bySteps[1] < bySteps[2] || bySteps[2] < len(s.iterations) || len(bySteps) != 3 {
					t.Fatalf("outcomes by step %v for %d iterations", bySteps, len(s.iterations))
				}
			})
		})
	}
}

func TestFailedStepEndsIteration(t *testing.T) {
	for kind := range senders {
		t.Run(kind, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := load.Plan{Users: load.RampUsers{N: 1}, Duration: time.Second}
				_, s, _ := runJourney(t, kind, p, 10*time.Millisecond, func() *steps { return &steps{n: 3, fail: map[int]bool{1: true}} })
				for _, o := range s.outcomes {
					if o.Step == 2 {
						t.Fatal("the step after a failed one was sent")
					}
				}
				// Each iteration: 2 requests of 10 ms, then it fails.
				if s.failedIts != 50 || len(s.iterations) != 0 {
					t.Fatalf("%d failed and %d completed iterations, want 50 and 0", s.failedIts, len(s.iterations))
				}
				if n := s.count(client.CheckFailed); n != 50 {
					t.Fatalf("%d failed checks, want 50", n)
				}
			})
		})
	}
}

func TestJourneyOutOfDataStopsTheRun(t *testing.T) {
	for kind := range senders {
		for _, open := range []bool{false, true} {
			t.Run(kind, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					p := load.Plan{Users: load.RampUsers{N: 1}, Duration: time.Hour, Grace: time.Second}
					if open {
						p = load.Plan{Arrivals: load.ConstantRate{Rate: 10}, MaxInflight: 1, Duration: time.Hour, Grace: time.Second}
					}
					start := time.Now()
					st, s, _ := runJourney(t, kind, p, 10*time.Millisecond, func() *steps { return &steps{n: 2, iterations: 5} })
					if !strings.Contains(st.Stopped, "out of data") {
						t.Fatalf("open=%v: Stopped = %q", open, st.Stopped)
					}
					if len(s.iterations) != 5 {
						t.Fatalf("open=%v: %d iterations, want 5", open, len(s.iterations))
					}
					if d := time.Since(start); d > 2*time.Second {
						t.Fatalf("open=%v: the run went on for %s after its data ran out", open, d)
					}
				})
			})
		}
	}
}

func TestOpenModelIterationMeasuredFromDue(t *testing.T) {
	for kind := range senders {
		t.Run(kind, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				// 10 journeys/s of 2 steps of 20 ms, each followed by a 50 ms
				// pause: an iteration takes 90 ms from its due time (the
				// pause after its last step is not part of it); only the
				// first step is scheduled.
				p := load.Plan{Arrivals: load.ConstantRate{Rate: 10}, MaxInflight: 10, Duration: time.Second, StepPauses: true}
				_, s, calls := runJourney(t, kind, p, 20*time.Millisecond, func() *steps { return &steps{n: 2, pause: 50 * time.Millisecond} })
				if len(s.iterations) != 10 || calls != 20 {
					t.Fatalf("%d iterations, %d requests; want 10 and 20", len(s.iterations), calls)
				}
				for _, d := range s.iterations {
					if d != 90*time.Millisecond {
						t.Fatalf("iteration took %s from its due time, want 90ms", d)
					}
				}
				for _, o := range s.outcomes {
					if o.Scheduled != (o.Step == 0) {
						t.Fatalf("step %d scheduled=%v", o.Step, o.Scheduled)
					}
				}
			})
		})
	}
}

func TestRunEndsWithoutWaitingOutPauses(t *testing.T) {
	for kind := range senders {
		for _, open := range []bool{false, true} {
			t.Run(kind, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					// Steps of 10 ms followed by a 1-minute pause: the run
					// of 1 s ends at 1 s, not after a pause.
					p := load.Plan{Users: load.RampUsers{N: 3}, Duration: time.Second, Grace: time.Hour, StepPauses: true}
					if open {
						p = load.Plan{Arrivals: load.ConstantRate{Rate: 5}, MaxInflight: 10, Duration: time.Second, Grace: time.Hour, StepPauses: true}
					}
					st, _, _ := runJourney(t, kind, p, 10*time.Millisecond, func() *steps { return &steps{n: 3, pause: time.Minute} })
					if st.Elapsed != time.Second {
						t.Fatalf("open=%v: the run took %s, want 1s", open, st.Elapsed)
					}
				})
			})
		}
	}
}

// Without StepPauses no user keeps a pause timer, and a pause a journey
// asks for is not taken.
func TestPausesNeedStepPauses(t *testing.T) {
	for kind := range senders {
		t.Run(kind, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := load.Plan{Users: load.RampUsers{N: 1}, Duration: 300 * time.Millisecond}
				_, s, _ := runJourney(t, kind, p, 10*time.Millisecond, func() *steps { return &steps{n: 3, pause: 20 * time.Millisecond} })
				for _, d := range s.iterations {
					if d != 30*time.Millisecond {
						t.Fatalf("iteration took %s, want 30ms (three steps, no pause)", d)
					}
				}
				if len(s.iterations) != 10 {
					t.Fatalf("%d iterations in 300 ms, want 10", len(s.iterations))
				}
			})
		})
	}
}
