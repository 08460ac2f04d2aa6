package diagnose_test

import (
	"testing"

	"github.com/surgeload/surge/internal/result"
)

func TestRuleThrottled(t *testing.T) {
	runReplays(t, []replayCase{{
		// /quota?rps=100 in the open model: 429 with Retry-After.
		name: "429 quota", file: "throttled-quota-429", class: "throttled",
		summary: []string{"refused with 429"},
	}, {
		// /overload?code=503&retry=1: 503 that says when to come back.
		name: "503 with Retry-After", file: "throttled-503-retry-after", class: "throttled",
		summary:  []string{"refused with 503"},
		evidence: []string{"503 with Retry-After"},
	}, {
		// Late sends caught up at twice the rate may have tripped the
		// limiter: the verdict says so (case 9).
		name: "late sends", file: "throttled-quota-429", class: "throttled",
		edit:     eachStep(func(s *result.Step) { s.Client.LateSends = s.Requests / 20 }),
		evidence: []string{"were sent late and then at up to twice the scheduled rate"},
	}, {
		// The same 503s without Retry-After are shedding (case 6).
		name: "503 without Retry-After", file: "throttled-503-retry-after",
		edit: eachStep(func(s *result.Step) { s.RetryAfter = 0 }), class: "errors",
	}})
}
