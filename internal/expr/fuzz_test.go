package expr_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/expr"
)

// FuzzParseRoundTrip feeds Parse arbitrary text (FuzzParse checks its
// errors): an expression it accepts must have a finite bound, evaluate
// without panicking, and parse again from its own text to the same thing.
func FuzzParseRoundTrip(f *testing.F) {
	for _, s := range []string{"p95<100ms", "errors<1%", "rps>800", "p99.9 <= 1.5s", "mean>=800us", "max<1m", "errors<0.01", "p50<1e3ms", "median < 2s", "p999<10ms"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := expr.Parse(src)
		if err != nil {
			if strings.Contains(err.Error(), "\n") && !strings.Contains(src, "\n") {
				t.Fatalf("Parse(%q): error spans lines: %q", src, err)
			}
			return
		}
		if math.IsNaN(e.Bound) || math.IsInf(e.Bound, 0) {
			t.Fatalf("Parse(%q): bound %v", src, e.Bound)
		}
		if e.Kind == expr.Quantile && !(e.Quantile > 0 && e.Quantile < 1) {
			t.Fatalf("Parse(%q): quantile %v", src, e.Quantile)
		}
		e.Eval(expr.Stats{Quantile: func(float64) time.Duration { return time.Millisecond }, Mean: time.Millisecond, ErrorRate: 0.5, RPS: 10})
		again, err := expr.Parse(e.String())
		if err != nil || *again != *e {
			t.Fatalf("Parse(%q) = %+v, but its text parses to %+v, %v", src, e, again, err)
		}
	})
}
