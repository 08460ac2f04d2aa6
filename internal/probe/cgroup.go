package probe

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// cgroup reads a cgroup v2 directory: cpu.stat, cpu.pressure,
// memory.current, and its cores from cpu.max, else cpuset.cpus.effective,
// else the host's CPUs.
type cgroup struct {
	name string
	dir  string
}

func newCgroup(spec, dir string) (*cgroup, error) {
	if _, err := os.Stat(filepath.Join(dir, "cpu.stat")); err != nil {
		return nil, fmt.Errorf("probe %q: %s is not a cgroup v2 directory (no cpu.stat)", spec, dir)
	}
	return &cgroup{name: spec, dir: dir}, nil
}

func (c *cgroup) Name() string { return c.name }

func (c *cgroup) Sample(context.Context) (Sample, error) {
	s := unknown()
	stat, err := os.ReadFile(filepath.Join(c.dir, "cpu.stat"))
	if err != nil {
		return s, err
	}
	for _, line := range bytes.Split(stat, []byte("\n")) {
		if f := strings.Fields(string(line)); len(f) == 2 && f[0] == "usage_usec" {
			if v, err := strconv.ParseFloat(f[1], 64); err == nil {
				s.CPU = v / 1e6
			}
		}
	}
	s.HostBusy, s.HostCores = hostCPU()
	if b, err := os.ReadFile(filepath.Join(c.dir, "cpu.pressure")); err == nil {
		s.CPUWait = pressureTotal(b)
	}
	if b, err := os.ReadFile(filepath.Join(c.dir, "memory.current")); err == nil {
		if v, err := strconv.ParseFloat(strings.TrimSpace(string(b)), 64); err == nil {
			s.RSS = v
		}
	}
	if b, err := os.ReadFile(filepath.Join(c.dir, "cpu.max")); err == nil {
		s.Cores = cgroupCores(string(b))
	}
	if math.IsNaN(s.Cores) {
		// No quota: the CPUs the cgroup may run on, else the host's.
		if b, err := os.ReadFile(filepath.Join(c.dir, "cpuset.cpus.effective")); err == nil {
			if n := cpuList(string(b)); n > 0 {
				s.Cores = float64(n)
			}
		}
	}
	if math.IsNaN(s.Cores) {
		s.Cores = float64(runtime.NumCPU())
	}
	return s, nil
}

// pressureTotal reads the cumulative "some" stall time of a pressure file
// ("some avg10=… total=USEC"), in seconds: the time at least one task of
// the cgroup was ready to run and waited. NaN when missing.
func pressureTotal(b []byte) float64 {
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "some" {
			continue
		}
		for _, kv := range f[1:] {
			if v, ok := strings.CutPrefix(kv, "total="); ok {
				if n, err := strconv.ParseFloat(v, 64); err == nil {
					return n / 1e6
				}
			}
		}
	}
	return math.NaN()
}

// cpuList counts the CPUs of a list such as "0-3,6,8-9"; 0 when malformed.
func cpuList(s string) int {
	n := 0
	for _, part := range strings.Split(strings.TrimSpace(s), ",") {
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return 0
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return 0
			}
		}
		n += b - a + 1
	}
	return n
}

// cgroupCores reads cpu.max ("QUOTA PERIOD" or "max PERIOD").
func cgroupCores(s string) float64 {
	f := strings.Fields(s)
	if len(f) != 2 || f[0] == "max" {
		return math.NaN()
	}
	q, err1 := strconv.ParseFloat(f[0], 64)
	p, err2 := strconv.ParseFloat(f[1], 64)
	if err1 != nil || err2 != nil || p <= 0 {
		return math.NaN()
	}
	return q / p
}
