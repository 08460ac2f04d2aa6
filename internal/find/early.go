package find

import (
	"time"

	"github.com/surgeload/surge/internal/expr"
	"github.com/surgeload/surge/internal/metrics"
)

// Thresholds of an early end: how far from its bound an SLO must be, in
// one measured interval, for the level's verdict to be clear.
const (
	clearLatency  = 3.0 // latency 3× over (fail) or under (pass) its bound
	clearErrors   = 5.0 // error rate 5× over its bound (and at least 5 %)
	clearRequests = 50  // requests an interval needs to decide anything
	clearFailures = 20  // errors an interval needs to call a clear failure
)

// clearVerdict reports whether one measured interval already decides a
// growth level: one SLO missed by far, or every SLO met by far. Only
// percentile and error-rate SLOs decide; a mean, min, max or rps SLO never
// passes clearly (a clear failure of another one still decides). With
// mayPass false (SLOs on a journey step, which one interval of the whole
// does not show), only a clear failure decides.
func clearVerdict(slos []*expr.Expr, p metrics.Point, mayPass bool) bool {
	if p.Requests < clearRequests || len(slos) == 0 {
		return false
	}
	allPass := true
	for _, e := range slos {
		switch pass, fail := clearOne(e, p); {
		case fail:
			return true
		case !pass:
			allPass = false
		}
	}
	return allPass && mayPass
}

// clearOne says whether one SLO clearly passes or clearly fails in p.
func clearOne(e *expr.Expr, p metrics.Point) (pass, fail bool) {
	if e.Op != expr.Less && e.Op != expr.LessEq {
		return false, false
	}
	switch e.Kind {
	case expr.Quantile:
		var v time.Duration
		switch e.Quantile {
		case 0.5:
			v = p.P50
		case 0.95:
			v = p.P95
		case 0.99:
			v = p.P99
		default:
			return false, false
		}
		ms := float64(v) / float64(time.Millisecond)
		return ms <= e.Bound/clearLatency, ms >= e.Bound*clearLatency
	case expr.ErrorRate:
		rate := float64(p.Errors) / float64(p.Requests)
		return p.Errors == 0 && e.Bound > 0, p.Errors >= clearFailures && rate >= max(clearErrors*e.Bound, 0.05)
	}
	return false, false
}
