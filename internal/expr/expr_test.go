package expr_test

import (
	"errors"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/expr"
)

func TestParseGood(t *testing.T) {
	cases := []struct {
		src   string
		kind  expr.Kind
		q     float64
		op    expr.Op
		bound float64
	}{
		{"p95<100ms", expr.Quantile, 0.95, expr.Less, 100},
		{"p99<=1s", expr.Quantile, 0.99, expr.LessEq, 1000},
		{"p99.9<250ms", expr.Quantile, 0.999, expr.Less, 250},
		{"p999<2s", expr.Quantile, 0.999, expr.Less, 2000},
		{"p50 < 1.5ms", expr.Quantile, 0.5, expr.Less, 1.5},
		{"median<10 ms", expr.Quantile, 0.5, expr.Less, 10},
		{"mean<50ms", expr.Mean, 0, expr.Less, 50},
		{"avg<500us", expr.Mean, 0, expr.Less, 0.5},
		{"max<3s", expr.Max, 0, expr.Less, 3000},
		{"p100<3s", expr.Max, 0, expr.Less, 3000},
		{"min>=1ms", expr.Min, 0, expr.GreaterEq, 1},
		{"errors<1%", expr.ErrorRate, 0, expr.Less, 0.01},
		{"errors<=0.001", expr.ErrorRate, 0, expr.LessEq, 0.001},
		{"rps>800", expr.RPS, 0, expr.Greater, 800},
		{"p5<1ms", expr.Quantile, 0.05, expr.Less, 1},
		{"p0<1ms", expr.Min, 0, expr.Less, 1},
	}
	for _, c := range cases {
		t.Run(c.src, func(t *testing.T) {
			e, err := expr.Parse(c.src)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if e.Kind != c.kind || e.Op != c.op || e.Quantile != c.q || !near(e.Bound, c.bound) {
				t.Fatalf("got kind=%v q=%v op=%v bound=%v, want kind=%v q=%v op=%v bound=%v",
					e.Kind, e.Quantile, e.Op, e.Bound, c.kind, c.q, c.op, c.bound)
			}
			if e.String() != c.src {
				t.Fatalf("String() = %q, want the source %q", e.String(), c.src)
			}
		})
	}
}

func TestParseBad(t *testing.T) {
	cases := []struct {
		src string
		col int
		msg string
	}{
		{"", 1, "empty expression (want e.g. p95<100ms, errors<1%, rps>800)"},
		{"p95", 4, "missing comparison: add <, <=, > or >= and a bound"},
		{"p95<", 5, "missing bound after <"},
		{"p95<100xs", 8, `unknown unit "xs" (want us, ms, s or m)`},
		{"p95<100", 8, "missing unit: a latency needs one (e.g. 100ms or 100s)"},
		{"p95=100ms", 4, `expected <, <=, > or >=, found "="`},
		{"latency<100ms", 1, `unknown metric "latency" (want p50, p95, p99, p999, mean, min, max, errors or rps)`},
		{"p101<1s", 1, `unknown metric "p101" (want p50, p95, p99, p999, mean, min, max, errors or rps)`},
		{"errors<5", 8, "error rate 5 is above 1: write a percentage as 5%"},
		{"errors<150%", 8, "error rate 150% is above 100%"},
		{"errors<1ms", 9, `unknown unit "ms" for errors (want % or a fraction such as 0.01)`},
		{"rps>1e3", 6, `unknown unit "e3" for rps (want a plain number of requests per second)`},
		{"p95<100ms and", 11, `unexpected "and" after the bound`},
		{"p95<1..2ms", 5, `bad number "1..2"`},
		{"<100ms", 1, "expected a metric (p50, p95, p99, p999, mean, min, max, errors, rps)"},
		{"p95<x", 5, `expected a number, found "x"`},
	}
	for _, c := range cases {
		t.Run(c.src, func(t *testing.T) {
			_, err := expr.Parse(c.src)
			var se *expr.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error = %v, want a *SyntaxError", c.src, err)
			}
			if se.Col != c.col || se.Msg != c.msg {
				t.Fatalf("Parse(%q) = column %d %q, want column %d %q", c.src, se.Col, se.Msg, c.col, c.msg)
			}
		})
	}
}

func TestEval(t *testing.T) {
	s := expr.Stats{
		Quantile: func(q float64) time.Duration {
			return time.Duration(q * float64(100*time.Millisecond))
		},
		Mean:      40 * time.Millisecond,
		Max:       3 * time.Second,
		ErrorRate: 0.005,
		RPS:       812.5,
	}
	cases := []struct {
		src   string
		value float64
		ok    bool
	}{
		{"p95<100ms", 95, true},
		{"p95<90ms", 95, false},
		{"p99<=99ms", 99, true},
		{"mean<40ms", 40, false},
		{"mean<=40ms", 40, true},
		{"max<3s", 3000, false},
		{"errors<1%", 0.5, true},
		{"errors<0.1%", 0.5, false},
		{"rps>800", 812.5, true},
		{"rps>=900", 812.5, false},
	}
	for _, c := range cases {
		e, err := expr.Parse(c.src)
		if err != nil {
			t.Fatal(err)
		}
		v, ok := e.Eval(s)
		if !near(v, c.value) || ok != c.ok {
			t.Errorf("%s: got (%v, %v), want (%v, %v)", c.src, v, ok, c.value, c.ok)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"p95<100ms", "errors<1%", "rps>800", "p99.9<=1s", "mean < 5 ms"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := expr.Parse(s)
		if err != nil {
			var se *expr.SyntaxError
			if !errors.As(err, &se) || se.Col < 1 || se.Col > len([]rune(s))+1 {
				t.Fatalf("Parse(%q): error %v has no valid column", s, err)
			}
			return
		}
		if e.Kind == expr.Quantile && (e.Quantile <= 0 || e.Quantile >= 1) {
			t.Fatalf("Parse(%q): quantile %v out of (0,1)", s, e.Quantile)
		}
	})
}

func near(a, b float64) bool {
	d := a - b
	return d < 1e-9 && d > -1e-9
}
