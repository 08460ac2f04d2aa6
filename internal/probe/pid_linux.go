//go:build linux

package probe

import (
	"context"
	"fmt"
	"math"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/procfs"
)

// pid reads a local process and its descendants (a pre-fork server's
// workers, a child the app calls) from /proc: their CPU and memory summed,
// the CPU of their busiest thread, and the time their threads waited for
// a CPU.
type pid struct {
	name string
	proc procfs.Proc

	mu     sync.Mutex
	prevAt time.Time
	prev   map[int]threadTimes // each thread at prevAt
	waited float64             // seconds waited for a CPU, summed so far
	noWait bool                // the kernel keeps no schedstat
}

// maxTracked bounds the processes and threads one sample reads.
const maxTracked = 4096

func newPID(spec, arg string) (*pid, error) {
	n, err := strconv.Atoi(arg)
	if err != nil || n <= 0 {
		return nil, fmt.Errorf("probe %q: want pid=N with N a process id", spec)
	}
	p, err := procfs.NewProc(n)
	if err != nil {
		return nil, fmt.Errorf("probe %q: no such process: %v", spec, err)
	}
	// Run-queue delays need the kernel's schedstat (CONFIG_SCHED_INFO).
	_, noSched := os.Stat("/proc/self/schedstat")
	return &pid{name: spec, proc: p, noWait: noSched != nil}, nil
}

func (p *pid) Name() string { return p.name }

func (p *pid) Sample(context.Context) (Sample, error) {
	s := unknown()
	st, err := p.proc.Stat()
	if err != nil {
		return s, fmt.Errorf("read /proc/%d/stat: %w", p.proc.PID, err)
	}
	now := time.Now()
	s.CPU = st.CPUTime()
	s.RSS = float64(st.ResidentMemory())
	if status, err := p.proc.NewStatus(); err == nil && len(status.CpusAllowedList) > 0 {
		s.Cores = float64(len(status.CpusAllowedList))
	}
	tree := []int{p.proc.PID}
	for _, c := range descendants(p.proc.PID) {
		cp, err := procfs.NewProc(c)
		if err != nil {
			continue
		}
		cst, err := cp.Stat()
		if err != nil {
			continue // it ended between the scan and now
		}
		s.CPU += cst.CPUTime()
		s.RSS += float64(cst.ResidentMemory())
		tree = append(tree, c)
	}
	s.BusiestThread, s.CPUWait = p.threads(tree, now)
	s.HostBusy, s.HostCores = hostCPU()
	return s, nil
}

// threadTimes is what one sample read of a thread.
type threadTimes struct {
	cpu  float64 // CPU seconds
	wait float64 // seconds waited for a CPU; NaN when schedstat is missing
}

// threads reads every thread of the tree and returns the CPU rate (cores)
// of the busiest one since the previous sample, and the total time they
// waited for a CPU so far (the sum of each thread's wait since the sample
// before it, over threads seen in both). The rate is NaN on the first
// sample, the wait NaN when the kernel keeps no schedstat.
func (p *pid) threads(tree []int, now time.Time) (busiest, wait float64) {
	cur := map[int]threadTimes{}
	for _, id := range tree {
		ts, err := procfs.AllThreads(id)
		if err != nil {
			continue
		}
		for _, t := range ts {
			if len(cur) >= maxTracked {
				break
			}
			tst, err := t.Stat()
			if err != nil {
				continue
			}
			tt := threadTimes{cpu: tst.CPUTime(), wait: math.NaN()}
			if ss, err := t.Schedstat(); err == nil {
				tt.wait = float64(ss.WaitingNanoseconds) / 1e9
			}
			cur[t.PID] = tt
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	busiest = math.NaN()
	if dt := now.Sub(p.prevAt).Seconds(); p.prev != nil && dt > 0.05 {
		busiest = 0
		for tid, c := range cur {
			if prev, ok := p.prev[tid]; ok {
				busiest = math.Max(busiest, (c.cpu-prev.cpu)/dt)
				if d := c.wait - prev.wait; d > 0 {
					p.waited += d
				}
			}
		}
	}
	p.prev, p.prevAt = cur, now
	if p.noWait {
		return busiest, math.NaN()
	}
	return busiest, p.waited
}

// descendants lists the processes below root (children, their children…).
func descendants(root int) []int {
	procs, err := procfs.AllProcs()
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, pr := range procs {
		st, err := pr.Stat()
		if err != nil {
			continue
		}
		children[st.PPID] = append(children[st.PPID], pr.PID)
	}
	var out []int
	queue := children[root]
	for len(queue) > 0 && len(out) < maxTracked {
		c := queue[0]
		queue = queue[1:]
		out = append(out, c)
		queue = append(queue, children[c]...)
	}
	return out
}
