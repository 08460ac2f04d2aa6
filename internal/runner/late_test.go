package runner_test

import (
	"strings"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/hist"
	"github.com/surgeload/surge/internal/load"
	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/runner"
	"github.com/surgeload/surge/internal/selfcheck"
)

// Late open-model sends are counted, and warned about from 1 % of the run.
func TestLateSendsAreWarnedAbout(t *testing.T) {
	tot := metrics.Totals{Latency: hist.New(), Lag: hist.New()}
	plan := load.Plan{Arrivals: load.ConstantRate{Rate: 100}, Duration: 10 * time.Second, MaxInflight: 10}
	for _, c := range []struct {
		late uint64
		warn bool
	}{{0, false}, {5, false}, {50, true}} {
		got := runner.ClientCheck(selfcheck.Report{}, tot, load.Stats{Sent: 1000, Late: c.late}, plan)
		warned := strings.Contains(strings.Join(got.Warnings, "\n"), "sent over 10ms late")
		if got.LateSends != int64(c.late) || warned != c.warn {
			t.Errorf("%d late of 1000: late_sends %d, warned %v; want %d, %v", c.late, got.LateSends, warned, c.late, c.warn)
		}
	}
}
