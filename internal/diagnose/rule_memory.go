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

// memoryGrew reports steady growth of the target's RSS over the run.
func (d *data) memoryGrew() bool {
	var vals []float64
	for _, s := range d.ordered {
		if w := firstWindow(s.R); w != nil && w.RSSBytes != nil {
			vals = append(vals, *w.RSSBytes)
		}
	}
	if len(vals) < 3 {
		return false
	}
	up := 0
	for i := 1; i < len(vals); i++ {
		if vals[i] > vals[i-1] {
			up++
		}
	}
	growth := vals[len(vals)-1] - vals[0]
	return growth >= memoryGrowthBytes && growth >= memoryGrowthShare*vals[0] && float64(up) >= 0.75*float64(len(vals)-1)
}

func (d *data) memoryEvidence() string {
	first, last, _ := d.rssSpan()
	return fmt.Sprintf("target RSS grew from %s to %s over %d steps, higher after almost every step", bytes(first), bytes(last), len(d.ordered))
}
