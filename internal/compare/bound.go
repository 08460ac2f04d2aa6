package compare

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Bound is one --fail-on expression: a metric, a direction and the change
// beyond which B counts as a regression, e.g. p95>+10% or errors>+0.5pp.
type Bound struct {
	Src     string
	Metric  string  // rps, mean, p50 … p999, errors, capacity
	Above   bool    // true for '>', false for '<'
	Limit   float64 // signed
	Unit    string  // "%" (relative) or "pp" (percentage points)
	section string
	name    string
}

var metrics = map[string][2]string{
	"rps": {"throughput", "rps"}, "mean": {"latency", "mean"}, "p50": {"latency", "p50"},
	"p90": {"latency", "p90"}, "p95": {"latency", "p95"}, "p99": {"latency", "p99"},
	"p999": {"latency", "p999"}, "errors": {"errors", "errors"}, "capacity": {"capacity", "level"},
}

// ParseBound parses a --fail-on expression. The error says what is wrong.
func ParseBound(s string) (Bound, error) {
	src := s
	s = strings.ReplaceAll(s, " ", "")
	i := strings.IndexAny(s, "<>")
	if i <= 0 {
		return Bound{}, fmt.Errorf("%q: want METRIC>+N%% or METRIC<-N%%, e.g. 'p95>+10%%', 'errors>+0.5pp', 'rps<-5%%'", src)
	}
	b := Bound{Src: src, Metric: strings.ToLower(s[:i]), Above: s[i] == '>'}
	m, ok := metrics[b.Metric]
	if !ok {
		return Bound{}, fmt.Errorf("%q: unknown metric %q (want rps, mean, p50, p90, p95, p99, p999, errors or capacity)", src, s[:i])
	}
	b.section, b.name = m[0], m[1]
	num := s[i+1:]
	switch {
	case strings.HasSuffix(num, "pp"):
		b.Unit, num = "pp", strings.TrimSuffix(num, "pp")
		if b.Metric != "errors" {
			return Bound{}, fmt.Errorf("%q: percentage points (pp) apply to errors only; use %% for %s", src, b.Metric)
		}
	case strings.HasSuffix(num, "%"):
		b.Unit, num = "%", strings.TrimSuffix(num, "%")
	default:
		return Bound{}, fmt.Errorf("%q: the change needs a unit: %% (relative) or pp (percentage points, errors only)", src)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return Bound{}, fmt.Errorf("%q: %q is not a number", src, num)
	}
	b.Limit = v
	return b, nil
}

// Check reports whether the comparison breaks the bound: B's change lies
// beyond the limit in the bound's direction, and the test says it is real.
// found is false when the comparison has no such figure (e.g. capacity of
// a run result).
func (b Bound) Check(c *Comparison) (broken bool, change float64, found bool) {
	r, ok := c.Find(b.section, b.name)
	if !ok {
		return false, 0, false
	}
	switch {
	case b.Unit == "pp":
		change = r.B - r.A
	case r.A == 0 && r.B == 0:
		change = 0
	case r.A == 0:
		change = math.Inf(1)
	default:
		change = (r.B - r.A) / r.A * 100
	}
	beyond := change < b.Limit
	if b.Above {
		beyond = change > b.Limit
	}
	return beyond && r.Real, change, true
}
