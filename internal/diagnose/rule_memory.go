package diagnose

import (
	"fmt"

	"github.com/surgeload/surge/internal/result"
)

// memoryHalt names memory when the search stopped growing the load
// because the target's memory grew past the bound.
func (d *data) memoryHalt(h MemoryHalt) result.Bottleneck {
	ev := []string{
		fmt.Sprintf("target RSS grew from %s to %s (+%s) by %s, past --max-target-growth %s (%s)", bytes(h.From), bytes(h.To), bytes(h.To-h.From), d.level(h.Level), bytes(h.Bound), h.Probe),
	}
	if d.in.MetAtMin {
		ev = append(ev, fmt.Sprintf("the SLOs held up to %s when the search stopped: the capacity found is a lower bound, not confirmed", d.level(d.in.Capacity)))
	}
	return result.Bottleneck{
		Class: Memory,
		Summary: fmt.Sprintf("find stopped growing the load at %s because the target's memory grew by %s, past the bound of %s: a leak or an unbounded cache, which would run the target out of memory under sustained load. Raise --max-target-growth to go on.",
			d.level(h.Level), bytes(h.To-h.From), bytes(h.Bound)),
		Evidence: ev,
	}
}

func (d *data) memory() result.Bottleneck {
	first, last, ok := d.rssSpan()
	per := ""
	if ok {
		var reqs int64
		for _, s := range d.ordered {
			reqs += s.R.Summary.Requests
		}
		if reqs > 0 {
			per = fmt.Sprintf(", ~%s per request", bytes((last-first)/float64(reqs)))
		}
	}
	return result.Bottleneck{
		Class: Memory,
		Summary: fmt.Sprintf("The target's memory grows steadily with the requests it serves (+%s over the run%s) and is not given back: a leak or an unbounded cache; it will run out of memory under sustained load.",
			bytes(last-first), per),
		Evidence: []string{d.memoryEvidence(), fmt.Sprintf("the SLOs themselves held up to %s", d.level(d.steps[len(d.steps)-1].Level))},
	}
}

// rssSpan returns the target's RSS at the first and last step that know it.
func (d *data) rssSpan() (first, last float64, ok bool) {
	var vals []float64
	for _, s := range d.ordered {
		if w := firstWindow(s.R); w != nil && w.RSSBytes != nil {
			vals = append(vals, *w.RSSBytes)
		}
	}
	if len(vals) < 3 {
		return 0, 0, false
	}
	return vals[0], vals[len(vals)-1], true
}

// rssGrowth is how the target's RSS moved over the run: by step in the
// order they ran, with the requests each served, and the last step's own
// growth inside its window.
type rssGrowth struct {
	vals     []float64 // RSS at each step that knows it
	requests int64     // served by those steps
	// last step: its growth within its window (when the probe says) and
	// its requests
	lastDelta    float64
	lastRequests int64
	lastKnown    bool
}

func (d *data) rssGrowth() rssGrowth {
	var g rssGrowth
	for _, s := range d.ordered {
		w := firstWindow(s.R)
		if w == nil || w.RSSBytes == nil {
			continue
		}
		g.vals = append(g.vals, *w.RSSBytes)
		g.requests += s.R.Summary.Requests
		g.lastKnown = w.RSSDeltaBytes != nil && s.R.Summary.Requests > 0
		if g.lastKnown {
			g.lastDelta, g.lastRequests = *w.RSSDeltaBytes, s.R.Summary.Requests
		}
	}
	return g
}

// grew reports growth that is large and steady over the run: higher
// after nearly every step, by at least memoryGrowthBytes and by
// memoryGrowthShare of where it began.
func (g rssGrowth) grew() bool {
	if len(g.vals) < 3 {
		return false
	}
	up := 0
	for i := 1; i < len(g.vals); i++ {
		if g.vals[i] > g.vals[i-1] {
			up++
		}
	}
	growth := g.vals[len(g.vals)-1] - g.vals[0]
	return growth >= memoryGrowthBytes && growth >= memoryGrowthShare*g.vals[0] && float64(up) >= 0.75*float64(len(g.vals)-1)
}

// settled reports growth that levelled off: the last step, which ran at
// the top load (often the confirmation hold, the longest), grew less than
// memorySettledShare of the run's growth per request. A leak keeps
// growing with every request served; a heap that sizes itself up to the
// load (a JVM's, V8's, a runtime's arenas) or a cache that fills to its
// bound grows fast at first and then stops.
func (g rssGrowth) settled() bool {
	if !g.lastKnown || g.requests == 0 {
		return false
	}
	perRequest := (g.vals[len(g.vals)-1] - g.vals[0]) / float64(g.requests)
	return g.lastDelta/float64(g.lastRequests) < memorySettledShare*perRequest
}

// memoryGrew reports the growth of a leak: large, steady, and still
// going at the end of the run.
func (d *data) memoryGrew() bool {
	g := d.rssGrowth()
	return g.grew() && !g.settled()
}

// memorySettledLine says that the target's memory grew and then levelled
// off, when it did: the evidence that a large growth is not a leak.
func (d *data) memorySettledLine() (string, bool) {
	g := d.rssGrowth()
	if !g.grew() || !g.settled() {
		return "", false
	}
	perRequest := (g.vals[len(g.vals)-1] - g.vals[0]) / float64(g.requests)
	return fmt.Sprintf("target RSS grew from %s to %s, then levelled off: %s per request over the last step, %s over the run (a heap or cache sizing itself to the load, not a leak)",
		bytes(g.vals[0]), bytes(g.vals[len(g.vals)-1]), bytes(g.lastDelta/float64(g.lastRequests)), bytes(perRequest)), true
}

func (d *data) memoryEvidence() string {
	first, last, _ := d.rssSpan()
	return fmt.Sprintf("target RSS grew from %s to %s over %d steps, higher after almost every step", bytes(first), bytes(last), len(d.ordered))
}
