package diagnose

import (
	"fmt"

	"github.com/surgeload/surge/internal/result"
)

func (d *data) none() result.Bottleneck {
	top := d.steps[len(d.steps)-1]
	v := result.Bottleneck{
		Class:   None,
		Summary: fmt.Sprintf("Every SLO held up to %s (%s req/s), the largest load tried: raise --max to find the limit.", d.level(top.Level), rate(top.R.Summary.RPS)),
		Evidence: []string{
			fmt.Sprintf("at %s: p95 %s, errors %s, %s req/s", d.level(top.Level), ms(top.R.Summary.Latency.P95), pct(top.R.Summary.Errors.Rate), rate(top.R.Summary.RPS)),
			d.cpuLine(top, "at the top"),
		},
	}
	return v
}
