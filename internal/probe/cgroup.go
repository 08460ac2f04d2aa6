package probe

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// cgroup reads a cgroup v2 directory: cpu.stat, memory.current, cpu.max.
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
	s := Sample{CPU: math.NaN(), RSS: math.NaN(), Cores: math.NaN()}
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
	if b, err := os.ReadFile(filepath.Join(c.dir, "memory.current")); err == nil {
		if v, err := strconv.ParseFloat(strings.TrimSpace(string(b)), 64); err == nil {
			s.RSS = v
		}
	}
	if b, err := os.ReadFile(filepath.Join(c.dir, "cpu.max")); err == nil {
		s.Cores = cgroupCores(string(b))
	}
	return s, nil
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
