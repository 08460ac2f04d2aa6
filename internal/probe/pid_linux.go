//go:build linux

package probe

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/procfs"
)

// pid reads a local process and its descendants (a pre-fork server's
// workers, a child the app calls) from /proc: their CPU and memory summed,
// and the CPU of their busiest thread.
type pid struct {
	name string
	proc procfs.Proc

	mu      sync.Mutex
	prevAt  time.Time
	threads map[int]float64 // CPU seconds of each thread at prevAt
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
	return &pid{name: spec, proc: p}, nil
}

func (p *pid) Name() string { return p.name }

func (p *pid) Sample(context.Context) (Sample, error) {
	s := Sample{CPU: math.NaN(), RSS: math.NaN(), Cores: math.NaN(), BusiestThread: math.NaN()}
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
	s.BusiestThread = p.busiestThread(tree, now)
	return s, nil
}

// busiestThread returns the CPU rate (cores) of the busiest thread of the
// tree since the previous sample, NaN on the first.
func (p *pid) busiestThread(tree []int, now time.Time) float64 {
	cur := map[int]float64{}
	for _, id := range tree {
		ts, err := procfs.AllThreads(id)
		if err != nil {
			continue
		}
		for _, t := range ts {
			if len(cur) >= maxTracked {
				break
			}
			if tst, err := t.Stat(); err == nil {
				cur[t.PID] = tst.CPUTime()
			}
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	busiest := math.NaN()
	if dt := now.Sub(p.prevAt).Seconds(); p.threads != nil && dt > 0.05 {
		busiest = 0
		for tid, c := range cur {
			if prev, ok := p.threads[tid]; ok {
				busiest = math.Max(busiest, (c-prev)/dt)
			}
		}
	}
	p.threads, p.prevAt = cur, now
	return busiest
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
