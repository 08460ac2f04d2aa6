package diagnose

import (
	"fmt"

	"github.com/surgeload/surge/internal/result"
)

func (d *data) incorrect(f Step) result.Bottleneck {
	low := d.steps[0]
	ev := []string{
		fmt.Sprintf("responses failing their checks: %s at %s, %s at %s",
			pct(checkShare(low.R)), d.level(low.Level), pct(checkShare(f.R)), d.level(f.Level)),
		fmt.Sprintf("the status codes look fine (%s): only the content is wrong", codes(f.R.Summary.StatusCodes)),
	}
	summary := fmt.Sprintf("Responses go wrong only under concurrency (%s failed their checks at %s, none at %s): a race condition serves one request another's data; look for shared mutable state.",
		pct(checkShare(f.R)), d.level(f.Level), d.level(low.Level))
	if checkFailures(low.R) > 0 {
		summary = fmt.Sprintf("Responses fail their checks even at the lowest load (%s at %s): the answers are wrong, whatever the load.", pct(checkShare(low.R)), d.level(low.Level))
	}
	return result.Bottleneck{Class: IncorrectResponses, Summary: summary, Evidence: ev}
}

func checkFailures(r *result.Result) int64 { return r.Summary.Errors.ByClass["check"] }

func checkShare(r *result.Result) float64 {
	if r.Summary.Requests == 0 {
		return 0
	}
	return float64(checkFailures(r)) / float64(r.Summary.Requests)
}
