//go:build !linux

package probe

import (
	"context"
	"fmt"
)

type pid struct{}

func newPID(spec, _ string) (*pid, error) {
	return nil, fmt.Errorf("probe %q: pid probes read /proc and need Linux; use prom=URL", spec)
}

func (*pid) Name() string                           { return "" }
func (*pid) Sample(context.Context) (Sample, error) { return Sample{}, nil }
