package diagnose

import (
	"fmt"

	"github.com/surgeload/surge/internal/result"
)

func (d *data) failedAtMin() result.Bottleneck {
	low := d.steps[0]
	if failed(low.R, "%") {
		switch {
		case d.in.Checks && checkFailures(low.R) > 0:
			return d.incorrect(low)
		case throttledShareOf(low.R) >= throttledShare:
			return d.throttled(low)
		}
		return d.errorsFirst(low)
	}
	if len(d.steps) > 1 && failed(low.R, "ms") {
		next := d.steps[1]
		a, b := low.R.Summary.Latency.P95, next.R.Summary.Latency.P95
		if a > 0 && b/a < floorFlatness {
			return result.Bottleneck{
				Class: LatencyFloor,
				Summary: fmt.Sprintf("Latency is already %s (p95) at the lowest load and does not depend on it: no capacity can meet %s; a slow dependency, a remote call or the network sets the floor.",
					ms(a), sloList(d.in.SLO)),
				Evidence: []string{
					fmt.Sprintf("p95 %s at %s and %s at %s: high and flat, not load-dependent", ms(a), d.level(low.Level), ms(b), d.level(next.Level)),
					fmt.Sprintf("throughput followed the load: %s → %s req/s", rate(low.R.Summary.RPS), rate(next.R.Summary.RPS)),
					fmt.Sprintf("mean latency %s with almost no spread (p50 %s, p99 %s)", ms(low.R.Summary.Latency.Mean), ms(low.R.Summary.Latency.P50), ms(low.R.Summary.Latency.P99)),
				},
			}
		}
	}
	v := d.plateau()
	v.Evidence = append(v.Evidence, fmt.Sprintf("the SLO failed even at the lowest load tried (%s): the capacity is below it; try a lower --min", d.level(low.Level)))
	return v
}
