package diagnose

import (
	"fmt"

	"github.com/surgeload/surge/internal/result"
)

func (d *data) errorsFirst(f Step) result.Bottleneck {
	low := d.steps[0]
	ev := []string{
		fmt.Sprintf("errors: %s at %s, %s at %s (%s)", pct(low.R.Summary.Errors.Rate), d.level(low.Level), pct(f.R.Summary.Errors.Rate), d.level(f.Level), classes(f.R.Summary.Errors.ByClass)),
		fmt.Sprintf("latency stayed where it was: p50 %s at %s, %s at %s", ms(low.R.Summary.Latency.P50), d.level(low.Level), ms(f.R.Summary.Latency.P50), d.level(f.Level)),
	}
	ev = append(ev, d.cpuFlatEvidence()...)
	if d.probed() {
		ev = append(ev, d.cpuLine(f, "at "+d.level(f.Level)))
	}
	summary := fmt.Sprintf("The target starts failing above ~%s (%s errors at %s) before its latency grows: it sheds load with errors instead of queueing; find the limit it enforces (in-flight cap, worker crash, pool exhaustion).",
		d.level(d.in.Capacity), pct(f.R.Summary.Errors.Rate), d.level(f.Level))
	if !d.in.MetAtMin {
		summary = fmt.Sprintf("The target fails even at the lowest load (%s errors at %s, %s): it is broken or overloaded before surge adds anything.",
			pct(low.R.Summary.Errors.Rate), d.level(low.Level), classes(low.R.Summary.Errors.ByClass))
	}
	return result.Bottleneck{Class: Errors, Summary: summary, Evidence: ev}
}
