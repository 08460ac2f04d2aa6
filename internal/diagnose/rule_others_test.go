package diagnose_test

import "testing"

func TestRuleLatencyFloor(t *testing.T) {
	runReplays(t, []replayCase{{
		name: "slow dependency", file: "latency-floor-slow", class: "latency-floor",
		summary: []string{"does not depend on it"},
	}})
}

func TestRuleIncorrectResponses(t *testing.T) {
	runReplays(t, []replayCase{{
		name: "race", file: "incorrect-race", checks: true, class: "incorrect-responses",
		summary: []string{"only under concurrency"},
	}})
}

func TestRuleMemory(t *testing.T) {
	runReplays(t, []replayCase{{
		name: "leak", file: "memory-leak", class: "memory",
		evidence: []string{"target RSS grew"},
	}})
}

func TestRuleNone(t *testing.T) {
	runReplays(t, []replayCase{{
		name: "fast", file: "none-fast", class: "none",
		evidence: []string{"target CPU", "at the top"},
	}})
}
