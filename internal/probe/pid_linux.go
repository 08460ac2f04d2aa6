//go:build linux

package probe

import (
	"context"
	"fmt"
	"math"
	"strconv"

	"github.com/prometheus/procfs"
)

// pid reads a local process from /proc.
type pid struct {
	name string
	proc procfs.Proc
}

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
	s := Sample{CPU: math.NaN(), RSS: math.NaN(), Cores: math.NaN()}
	st, err := p.proc.Stat()
	if err != nil {
		return s, fmt.Errorf("read /proc/%d/stat: %w", p.proc.PID, err)
	}
	s.CPU = st.CPUTime()
	s.RSS = float64(st.ResidentMemory())
	if status, err := p.proc.NewStatus(); err == nil && len(status.CpusAllowedList) > 0 {
		s.Cores = float64(len(status.CpusAllowedList))
	}
	return s, nil
}
