package diagnose_test

import "testing"

func TestRuleErrors(t *testing.T) {
	runReplays(t, []replayCase{{
		name: "500 above an in-flight limit", file: "errors-overload-500", class: "errors",
		summary: []string{"sheds load with errors"},
	}, {
		// /overload?code=503: a shedder, not a quota (case 6).
		name: "503 shedding", file: "errors-shed-503", class: "errors",
		evidence: []string{"http_5xx"},
	}, {
		// --slo 'p95<1s' alone keeps errors<1% (case 7): the shedding is
		// found, not a capacity at the top with 97 % 503s.
		name: "a latency SLO keeps the error SLO", file: "errors-shed-slo-p95-1s", class: "errors",
	}})
}
