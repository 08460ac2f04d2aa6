//go:build linux

package lab_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// processCPU returns the CPU time (user + system) used by this process.
func processCPU(t *testing.T) time.Duration {
	t.Helper()
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		t.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestCPUBurnsExactly: n requests of /cpu?ms=m raise the process's CPU
// time by n x m, within 25 %.
func TestCPUBurnsExactly(t *testing.T) {
	_, ts := newLab(t, testConfig())
	get(t, ts, "/cpu?ms=1") // warm up connections and code paths
	const clients, each, ms = 2, 4, 25
	before := processCPU(t)
	answers, el := hammer(t, labGetter{ts}, clients, each, func(int, int) string { return "/cpu?ms=25" })
	used := processCPU(t) - before
	for _, a := range answers {
		if a.code != http.StatusOK {
			t.Fatalf("/cpu = %d %q", a.code, a.body)
		}
	}
	want := clients * each * ms * time.Millisecond
	t.Logf("%d x /cpu?ms=%d: %v of process CPU (theory %v) in %v", clients*each, ms, used, want, el)
	if used < want*3/4 || used > want*5/4 {
		t.Errorf("%d x /cpu?ms=%d used %v of CPU, want %v within 25 %%", clients*each, ms, used, want)
	}
	// Each client's requests are sequential, and each burns 25 ms.
	if min := each * ms * time.Millisecond; el < min {
		t.Errorf("%d sequential /cpu?ms=%d took %v, less than %v", each, ms, el, min)
	}
}

// TestCPUStopsWhenClientLeaves: a /cpu request whose client goes away
// stops burning at once instead of running its 60 s.
func TestCPUStopsWhenClientLeaves(t *testing.T) {
	s, ts := newLab(t, testConfig())
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = getCtx(ctx, ts, "/cpu?ms=60000") })
	waitFor(t, "the /cpu request to be in flight", func() bool { return s.InFlight("cpu") == 1 })
	cancel()
	wg.Wait()
	waitFor(t, "the /cpu handler to stop", func() bool { return s.InFlight("cpu") == 0 })
}
