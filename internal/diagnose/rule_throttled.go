package diagnose

import (
	"fmt"

	"github.com/surgeload/surge/internal/result"
)

// throttled is a quota: 429s, or 503s that say when to come back
// (Retry-After), while the successful rate stays flat. 503 without
// Retry-After is load shedding, the errors class.
func (d *data) throttled(f Step) result.Bottleneck {
	n429, n503ra := status(f.R, "429"), quota503(f.R)
	limit := d.capacityRPS()
	what := fmt.Sprintf("429 Too Many Requests (%d)", n429)
	if n503ra > 0 {
		what = fmt.Sprintf("429 Too Many Requests or 503 with Retry-After (%d and %d)", n429, n503ra)
	}
	ev := []string{
		fmt.Sprintf("at %s: %s of responses were %s", d.level(f.Level), pct(float64(n429+n503ra)/float64(max(1, f.R.Summary.Requests))), what),
	}
	if first := d.firstWith(func(s Step) bool { return status(s.R, "429")+quota503(s.R) > 0 }); first != nil {
		ev = append(ev, fmt.Sprintf("they first appeared at %s and rose with the load", d.level(first.Level)))
	}
	if limit > 0 {
		ev = append(ev, fmt.Sprintf("successful throughput tops out at ~%s req/s", rate(limit)))
	}
	ev = append(ev, d.cpuFlatEvidence()...)
	if late := f.R.Client.LateSends; late > 0 && float64(late) >= 0.01*float64(max(1, f.R.Summary.Requests)) {
		ev = append(ev, fmt.Sprintf("warning: at %s, %d requests were sent late and then at up to twice the scheduled rate to catch up: a rate limiter may have refused some of them because of surge, not of the load asked for", d.level(f.Level), late))
	}
	return result.Bottleneck{
		Class:    Throttled,
		Summary:  fmt.Sprintf("A quota throttles the target at ~%s req/s: above it, requests are refused with %s; raise the quota, or spread the load under it (honour Retry-After).", rate(limit), codesOf(n429, n503ra)),
		Evidence: ev,
	}
}

func codesOf(n429, n503 int64) string {
	switch {
	case n429 > 0 && n503 > 0:
		return "429/503"
	case n503 > 0:
		return "503"
	}
	return "429"
}

// quota503 counts the 503 responses that carried Retry-After: the responses
// with Retry-After that are not 429s, at most the 503s.
func quota503(r *result.Result) int64 {
	return min(status(r, "503"), max(0, r.Summary.RetryAfter-status(r, "429")))
}

// throttledShareOf is the share of errors that a quota explains.
func throttledShareOf(r *result.Result) float64 {
	if r.Summary.Errors.Count == 0 {
		return 0
	}
	return float64(status(r, "429")+quota503(r)) / float64(r.Summary.Errors.Count)
}
