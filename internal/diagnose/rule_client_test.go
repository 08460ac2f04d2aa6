package diagnose_test

import (
	"testing"

	"github.com/surgeload/surge/internal/result"
)

// generator sets surge's CPU and timer lag in every step.
func generator(cpu, lagP99 float64) func(s *result.Step) {
	return func(s *result.Step) {
		s.Client.CPUPercent = cpu
		s.Client.SchedLag.P99 = lagP99
	}
}

func TestRuleClient(t *testing.T) {
	runReplays(t, []replayCase{{
		name: "surge's CPU saturated", file: "concurrency-limit-pool", edit: eachStep(generator(95, 2)), class: "client",
		evidence: []string{"surge used 95% of its 2 cores"},
	}, {
		name: "lag with a busy surge", file: "concurrency-limit-pool", edit: eachStep(generator(60, 30)), class: "client",
		evidence: []string{"30.0ms late"},
	}, {
		// Late timers on an idle surge: the host is busy, the target's
		// verdict stands, with a warning (case 8).
		name: "lag alone on an idle surge", file: "concurrency-limit-pool", edit: eachStep(generator(3, 30)), class: "concurrency-limit",
		evidence: []string{"warning: surge's timers fired up to 30.0ms late (p99) at 17 users while surge used only 3% CPU"},
	}})
}
