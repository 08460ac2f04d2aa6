package find

import (
	"testing"
	"time"

	"github.com/surgeload/surge/internal/expr"
	"github.com/surgeload/surge/internal/metrics"
)

func TestClearVerdict(t *testing.T) {
	slos := func(src ...string) []*expr.Expr {
		var out []*expr.Expr
		for _, s := range src {
			e, err := expr.Parse(s)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, e)
		}
		return out
	}
	def := slos("p95<100ms", "errors<1%")
	ms := time.Millisecond
	for _, c := range []struct {
		name  string
		slos  []*expr.Expr
		p     metrics.Point
		clear bool
	}{
		{"far under every bound", def, metrics.Point{Requests: 500, P95: 20 * ms}, true},
		{"near the latency bound", def, metrics.Point{Requests: 500, P95: 60 * ms}, false},
		{"latency far over", def, metrics.Point{Requests: 500, P95: 400 * ms}, true},
		{"a few errors", def, metrics.Point{Requests: 500, Errors: 3, P95: 20 * ms}, false},
		{"errors far over", def, metrics.Point{Requests: 500, Errors: 100, P95: 1 * ms}, true},
		{"too few requests", def, metrics.Point{Requests: 10, P95: 400 * ms}, false},
		{"a mean SLO never passes early", slos("mean<100ms", "errors<1%"), metrics.Point{Requests: 500, P95: 5 * ms}, false},
		{"but another one may fail", slos("mean<100ms", "p99<10ms"), metrics.Point{Requests: 500, P99: 50 * ms}, true},
	} {
		if got := clearVerdict(c.slos, c.p, true); got != c.clear {
			t.Errorf("%s: clear %v, want %v", c.name, got, c.clear)
		}
	}
	// With SLOs on a step, the whole run's figures can fail a level early,
	// never pass it.
	if clearVerdict(def, metrics.Point{Requests: 500, P95: 20 * ms}, false) {
		t.Error("a clear pass decided a level with step SLOs")
	}
	if !clearVerdict(def, metrics.Point{Requests: 500, P95: 400 * ms}, false) {
		t.Error("a clear failure did not decide a level with step SLOs")
	}
}
