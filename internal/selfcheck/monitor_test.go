package selfcheck_test

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/selfcheck"
)

func TestMonitorSeesOwnCPU(t *testing.T) {
	m := selfcheck.Start()
	// Burn CPU on this goroutine for a bounded time.
	deadline := time.Now().Add(200 * time.Millisecond)
	x := 0
	for time.Now().Before(deadline) {
		x++
	}
	r := m.Stop()
	if !r.CPUKnown {
		t.Skip("CPU time not available on " + runtime.GOOS)
	}
	// One busy goroutine for 200 ms: at least ~100 ms of CPU on any machine.
	if r.CPU < 100*time.Millisecond {
		t.Fatalf("CPU %v after a 200 ms busy loop, want ≥ 100ms (x=%d)", r.CPU, x)
	}
	if r.Wall < 200*time.Millisecond {
		t.Fatalf("wall %v, want ≥ 200ms", r.Wall)
	}
	if r.SchedLagMax < 0 || r.SchedLagP99 > r.SchedLagMax {
		t.Fatalf("lag p99 %v > max %v", r.SchedLagP99, r.SchedLagMax)
	}
}

func TestWarnings(t *testing.T) {
	busy := selfcheck.Report{Wall: time.Second, Cores: 2, CPU: 1900 * time.Millisecond, CPUKnown: true}
	if u := busy.Utilization(); u < 0.949 || u > 0.951 {
		t.Fatalf("utilization %v, want 0.95", u)
	}
	if w := busy.Warnings(); len(w) != 1 || !strings.Contains(w[0], "95% of its 2 cores") {
		t.Fatalf("warnings %q, want one about 95%% CPU", w)
	}
	late := selfcheck.Report{Wall: time.Second, Cores: 2, CPUKnown: true, SchedLagP99: 25 * time.Millisecond}
	if w := late.Warnings(); len(w) != 1 || !strings.Contains(w[0], "25ms late") {
		t.Fatalf("warnings %q, want one about 25ms lag", w)
	}
	calm := selfcheck.Report{Wall: time.Second, Cores: 2, CPU: 300 * time.Millisecond, CPUKnown: true, SchedLagP99: time.Millisecond}
	if w := calm.Warnings(); len(w) != 0 {
		t.Fatalf("warnings %q for a calm generator, want none", w)
	}
}
