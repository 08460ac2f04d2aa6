package report_test

import (
	"time"

	"github.com/surgeload/surge/internal/metrics"
)

func metricsPoint() metrics.Point {
	return metrics.Point{T: 2 * time.Second, Span: time.Second, Requests: 502, RPS: 502,
		P50: 10200 * time.Microsecond, P99: 40100 * time.Microsecond, Users: 5, Inflight: 5}
}
