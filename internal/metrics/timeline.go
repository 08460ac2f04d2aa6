package metrics

import "time"

// Point is one interval of the timeline.
type Point struct {
	T        time.Duration // end of the interval, since the start of the run
	Span     time.Duration // length of the interval
	Requests int64         // requests completed in the interval
	RPS      float64       // Requests / Span
	Errors   int64         // failed requests completed in the interval
	P50      time.Duration // latency percentiles of the interval
	P95      time.Duration
	P99      time.Duration
	Users    int     // active virtual users at the end of the interval
	Inflight int     // requests in flight at the end of the interval
	Rate     float64 // target arrival rate (open model)
	// Iterations counts the journeys that ended in the interval (0 for a
	// one-step run).
	Iterations int64
}

// Timeline is a bounded series of points. When it is full, adjacent pairs
// are merged, halving its resolution, so a run of any length costs the same
// memory. A merged point's percentiles are the larger of the two, an upper
// bound; runs that stay within the planned duration are never merged (the
// run picks an interval that fits).
type Timeline struct {
	max    int
	points []Point
	// pending holds a point waiting for its pair once the resolution
	// has been halved, so that every stored point has the same span.
	stride  int
	pending []Point
}

// NewTimeline returns a timeline that holds at most max points (min 2).
func NewTimeline(max int) *Timeline {
	if max < 2 {
		max = 2
	}
	return &Timeline{max: max, points: make([]Point, 0, min(max, 4096)), stride: 1}
}

// Add appends a point.
func (t *Timeline) Add(p Point) {
	if t.stride > 1 {
		t.pending = append(t.pending, p)
		if len(t.pending) < t.stride {
			return
		}
		p = mergePoints(t.pending)
		t.pending = t.pending[:0]
	}
	if len(t.points) == t.max {
		t.halve()
	}
	t.points = append(t.points, p)
}

func (t *Timeline) halve() {
	n := 0
	for i := 0; i+1 < len(t.points); i += 2 {
		t.points[n] = mergePoints(t.points[i : i+2])
		n++
	}
	if len(t.points)%2 == 1 {
		t.points[n] = t.points[len(t.points)-1]
		n++
	}
	t.points = t.points[:n]
	t.stride *= 2
}

func mergePoints(ps []Point) Point {
	m := ps[len(ps)-1] // gauges as of the end
	m.Requests, m.Errors, m.Span, m.Iterations = 0, 0, 0, 0
	for _, p := range ps {
		m.Requests += p.Requests
		m.Iterations += p.Iterations
		m.Errors += p.Errors
		m.Span += p.Span
		m.P50 = max(m.P50, p.P50)
		m.P95 = max(m.P95, p.P95)
		m.P99 = max(m.P99, p.P99)
	}
	if m.Span > 0 {
		m.RPS = float64(m.Requests) / m.Span.Seconds()
	}
	return m
}

// Points returns a copy of the stored points, the last one possibly
// covering a shorter span than the others.
func (t *Timeline) Points() []Point {
	out := make([]Point, len(t.points), len(t.points)+1)
	copy(out, t.points)
	if len(t.pending) > 0 {
		out = append(out, mergePoints(t.pending))
	}
	return out
}
