package diagnose_test

import (
	"testing"

	"github.com/surgeload/surge/internal/result"
)

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
	}, {
		// A JVM (OpenJDK 17, com.sun.net.httpserver, 32 threads, 2 ms of
		// CPU per request, -Xmx256m) whose RSS grew from 53 to 230 MiB
		// while the load grew, then fell by 6 MiB over the 7,941 requests
		// of the confirmation hold: its heap sized itself up; no leak. The
		// same server, run before the last step's growth was read, was
		// called "memory" (+164 MiB, "a leak or an unbounded cache").
		name: "jvm heap levels off", file: "none-jvm-heap-settles-pid", class: "none",
		evidence:   []string{"levelled off", "not a leak"},
		notSummary: []string{"leak"},
	}, {
		// The same run, had the hold grown as fast as the run did: a leak.
		name: "jvm heap still growing", file: "none-jvm-heap-settles-pid", class: "memory",
		edit: func(r *result.Result) {
			last := &r.Steps[len(r.Steps)-1]
			for _, p := range last.Probes {
				*p.RSSDeltaBytes = 90 << 20
				*p.RSSBytes += 90 << 20
			}
		},
		evidence: []string{"target RSS grew"},
	}})
}

func TestRuleNone(t *testing.T) {
	runReplays(t, []replayCase{{
		name: "fast", file: "none-fast", class: "none",
		evidence: []string{"target CPU", "at the top"},
	}})
}
