package lab

import (
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics holds the lab's Prometheus metrics, registered on the Server's
// own registry (never the global default one).
type metrics struct {
	reg              *prometheus.Registry
	requests         *prometheus.CounterVec   // lab_requests_total{endpoint, code}
	inflight         *prometheus.GaugeVec     // lab_inflight{endpoint}
	duration         *prometheus.HistogramVec // lab_request_duration_seconds{endpoint}
	poolWaiters      *prometheus.GaugeVec     // lab_pool_waiters{n}
	poolInUse        *prometheus.GaugeVec     // lab_pool_in_use{n}
	lockWaiters      prometheus.Gauge
	quotaRejected    prometheus.Counter
	overloadRejected prometheus.Counter
	raceWrong        prometheus.Counter
	leakBytes        prometheus.Gauge
}

// newMetrics builds the metrics and registers them, with the process and
// Go collectors, on a new registry.
func newMetrics(noGo bool) (*metrics, error) {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lab_requests_total",
			Help: "Requests answered by the lab, by endpoint and HTTP status code (499: the client went away first).",
		}, []string{"endpoint", "code"}),
		inflight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "lab_inflight",
			Help: "Requests in flight now, by endpoint.",
		}, []string{"endpoint"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "lab_request_duration_seconds",
			Help:    "Time from the start of a request's handling to its answer, by endpoint.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"endpoint"}),
		poolWaiters: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "lab_pool_waiters",
			Help: "Requests waiting for a /pool slot, by pool size n.",
		}, []string{"n"}),
		poolInUse: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "lab_pool_in_use",
			Help: "/pool slots held now, by pool size n.",
		}, []string{"n"}),
		lockWaiters: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lab_lock_waiters",
			Help: "Requests waiting for the /lock global lock.",
		}),
		quotaRejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lab_quota_rejected_total",
			Help: "/quota requests answered 429 because the token bucket was empty.",
		}),
		overloadRejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lab_overload_rejected_total",
			Help: "/overload requests answered 500 because more than limit were in flight.",
		}),
		raceWrong: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lab_race_wrong_total",
			Help: "/race answers that carried another caller's id.",
		}),
		leakBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lab_leak_bytes",
			Help: "Bytes retained by /leak.",
		}),
	}
	cs := []prometheus.Collector{
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.inflight, m.duration, m.poolWaiters, m.poolInUse,
		m.lockWaiters, m.quotaRejected, m.overloadRejected, m.raceWrong, m.leakBytes,
	}
	if !noGo {
		cs = append(cs, collectors.NewGoCollector())
	}
	for _, c := range cs {
		if err := m.reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}

// endpointStats are the cheap server-side counts of one endpoint.
type endpointStats struct {
	handled  atomic.Uint64 // requests answered
	inflight atomic.Int64  // requests in flight now
}

// instrument wraps h so that every request to endpoint name is counted,
// timed and shown in flight. A request is counted (Count, requests_total,
// duration) when its answer starts, before the client can see it, and
// leaves lab_inflight when its handler returns.
func (s *Server) instrument(name string, h http.HandlerFunc) http.Handler {
	st := s.stats[name]
	inflight := s.m.inflight.WithLabelValues(name)
	duration := s.m.duration.WithLabelValues(name)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		st.inflight.Add(1)
		inflight.Inc()
		rec := &statusRecorder{ResponseWriter: w, onAnswer: func(code int) {
			duration.Observe(time.Since(start).Seconds())
			s.m.requests.WithLabelValues(name, strconv.Itoa(code)).Inc()
			st.handled.Add(1)
		}}
		defer func() {
			rec.answer(http.StatusOK) // a handler that wrote nothing answered 200
			inflight.Dec()
			st.inflight.Add(-1)
		}()
		h(rec, r)
	})
}

// statusRecorder reports the status code a handler answers with, once,
// as the answer starts.
type statusRecorder struct {
	http.ResponseWriter
	onAnswer func(code int)
	answered bool
}

// answer reports code unless an answer was already reported.
func (w *statusRecorder) answer(code int) {
	if !w.answered {
		w.answered = true
		w.onAnswer(code)
	}
}

// WriteHeader reports the first final status code and passes it on.
func (w *statusRecorder) WriteHeader(code int) {
	if code >= 200 {
		w.answer(code)
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write reports an implicit 200 and passes b on.
func (w *statusRecorder) Write(b []byte) (int, error) {
	w.answer(http.StatusOK)
	return w.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }
