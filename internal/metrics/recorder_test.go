package metrics_test

import (
	"sync"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/client"
	"github.com/surgeload/surge/internal/metrics"
)

func TestRecorderCountsEverything(t *testing.T) {
	r := metrics.NewRecorder(100, 0)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				o := metrics.Outcome{Latency: time.Duration(i+1) * time.Microsecond, Code: 200, Class: client.OK, Proto: 1}
				switch {
				case i%100 == 0:
					o.Code, o.Class = 503, client.HTTP5xx
				case i%250 == 1:
					o.Code, o.Class, o.Proto = 0, client.Refused, 0
				case i%500 == 2:
					o.Code, o.Class, o.Proto = 0, client.Canceled, 0
				}
				r.Record(w, o)
			}
		}()
	}
	wg.Wait()
	p := r.Tick(time.Second, metrics.Gauges{Users: 8}, true)
	tot := r.Totals()
	// Per worker: 10 × 503, 4 refused, 2 canceled, 984 OK.
	if tot.Requests != 8*998 || p.Requests != 8*998 {
		t.Fatalf("requests %d (point %d), want %d", tot.Requests, p.Requests, 8*998)
	}
	if tot.Canceled != 16 {
		t.Fatalf("canceled %d, want 16", tot.Canceled)
	}
	if tot.Errors != 8*14 || tot.ByClass["http_5xx"] != 80 || tot.ByClass["refused"] != 32 {
		t.Fatalf("errors %d by class %v, want 112: 80 http_5xx, 32 refused", tot.Errors, tot.ByClass)
	}
	if tot.Codes[200] != 8*984 || tot.Codes[503] != 80 {
		t.Fatalf("codes %v", tot.Codes)
	}
	// Refused requests have no latency; everything else with a response does.
	if tot.Latency.Count() != 8*(984+10) {
		t.Fatalf("latency count %d, want %d", tot.Latency.Count(), 8*994)
	}
	if p.RPS != float64(8*998) || p.Users != 8 {
		t.Fatalf("point %+v", p)
	}
	// A second tick with nothing recorded is an empty interval.
	p2 := r.Tick(2*time.Second, metrics.Gauges{}, true)
	if p2.Requests != 0 || r.Totals().Requests != tot.Requests || len(r.Timeline()) != 2 {
		t.Fatalf("empty interval %+v, timeline %d points", p2, len(r.Timeline()))
	}
	// A warm-up interval is on the timeline but not in the totals.
	r.Record(0, metrics.Outcome{Latency: time.Millisecond, Code: 200, Class: client.OK})
	if p3 := r.Tick(3*time.Second, metrics.Gauges{}, false); p3.Requests != 1 || r.Totals().Requests != tot.Requests {
		t.Fatalf("warm-up interval %+v changed the totals to %d", p3, r.Totals().Requests)
	}
}

func TestTimelineStaysBounded(t *testing.T) {
	tl := metrics.NewTimeline(10)
	for i := 1; i <= 1000; i++ {
		tl.Add(metrics.Point{T: time.Duration(i) * time.Second, Span: time.Second, Requests: 10, P99: time.Duration(i) * time.Millisecond})
	}
	pts := tl.Points()
	if len(pts) > 11 {
		t.Fatalf("%d points for a timeline of 10", len(pts))
	}
	var total int64
	var span time.Duration
	for _, p := range pts {
		total += p.Requests
		span += p.Span
	}
	if total != 10000 || span != 1000*time.Second {
		t.Fatalf("merged points hold %d requests over %v, want 10000 over 1000s", total, span)
	}
	last := pts[len(pts)-1]
	if last.T != 1000*time.Second || last.P99 != time.Second {
		t.Fatalf("last point %+v: want T=1000s and the largest p99 (1s)", last)
	}
	for _, p := range pts {
		if p.RPS != 10 {
			t.Fatalf("point %+v: merged rate should stay 10/s", p)
		}
	}
}

func TestRecorderCountsRetryAfter(t *testing.T) {
	r := metrics.NewRecorder(10, 0)
	r.Record(0, metrics.Outcome{Code: 503, Class: client.HTTP5xx, RetryAfter: true, Proto: 1})
	r.Record(1, metrics.Outcome{Code: 503, Class: client.HTTP5xx, Proto: 1})
	r.Record(2, metrics.Outcome{Code: 429, Class: client.HTTP4xx, RetryAfter: true, Proto: 1})
	r.Tick(time.Second, metrics.Gauges{}, true) // totals count closed intervals
	if tot := r.Totals(); tot.RetryAfter != 2 || tot.Codes[503] != 2 {
		t.Fatalf("totals %+v: want 2 responses with Retry-After of 3", tot)
	}
}

// The mean tail covers the responses whose client measured one, across
// shards and ticks, and no others (a response from a path that does not
// measure, or a failure with no latency).
func TestRecorderMeansTheMeasuredTails(t *testing.T) {
	r := metrics.NewRecorder(100, 0)
	res := client.Result{Code: 200, Class: client.OK, Proto: 1, HasTail: true}
	for w, tail := range []time.Duration{10 * time.Millisecond, 30 * time.Millisecond} {
		res.Tail = tail
		r.Record(w, metrics.OutcomeOf(res, 50*time.Millisecond, 0))
	}
	r.Tick(time.Second, metrics.Gauges{}, true)
	r.Record(0, metrics.OutcomeOf(client.Result{Code: 200, Class: client.OK, Proto: 2, Tail: time.Second}, 50*time.Millisecond, 0))
	r.Record(1, metrics.OutcomeOf(client.Result{Class: client.Refused, HasTail: true, Tail: time.Second}, 0, 0))
	r.Tick(2*time.Second, metrics.Gauges{}, true)
	tot := r.Totals()
	if tot.Tails != 2 || tot.Tail != 20*time.Millisecond {
		t.Fatalf("mean tail %v over %d responses, want 20ms over 2", tot.Tail, tot.Tails)
	}
	if tot.Requests != 4 {
		t.Fatalf("requests %d, want 4", tot.Requests)
	}
}
