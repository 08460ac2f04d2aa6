//go:build linux

package probe_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/surgeload/surge/internal/probe"
)

// Two threads spinning on one CPU each get half of it and wait for the
// other half: the pid probe reads about a core of waiting (more when the
// machine is busy), where one thread spinning alone reads little.
func TestPIDProbeReadsTheWaitForACPU(t *testing.T) {
	if _, err := os.Stat("/proc/self/schedstat"); err != nil {
		t.Skip("this kernel keeps no schedstat")
	}
	p, err := probe.Parse(fmt.Sprintf("pid=%d", os.Getpid()), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	stop := make(chan struct{})
	done := make(chan error, 2)
	for range 2 {
		go func() {
			// Never unlocked: the thread ends with this goroutine, and
			// its affinity with it.
			runtime.LockOSThread()
			var one unix.CPUSet
			one.Set(0)
			if err := unix.SchedSetaffinity(0, &one); err != nil {
				done <- err
				return
			}
			for {
				select {
				case <-stop:
					done <- nil
					return
				default:
				}
			}
		}()
	}
	a, _ := p.Sample(context.Background())
	start := time.Now()
	time.Sleep(time.Second)
	b, _ := p.Sample(context.Background())
	elapsed := time.Since(start).Seconds()
	close(stop)
	for range 2 {
		if err := <-done; err != nil {
			t.Skipf("cannot pin a thread to CPU 0: %v", err)
		}
	}
	if math.IsNaN(b.CPUWait) {
		t.Fatal("wait unknown though /proc/self/schedstat exists")
	}
	w := (b.CPUWait - a.CPUWait) / elapsed
	t.Logf("waited %.2f cores", w)
	if w < 0.5 || w > 2.5 {
		t.Fatalf("two threads sharing one CPU waited %.2f cores, want about 1", w)
	}
	// CPU 0 was busy all along: the machine shows at least that core.
	if h := (b.HostBusy - a.HostBusy) / elapsed; !(h >= 0.8 && b.HostCores >= 1 && h <= b.HostCores*1.05) {
		t.Fatalf("machine busy %.2f cores of %v, want at least the spinning core", h, b.HostCores)
	}
}
