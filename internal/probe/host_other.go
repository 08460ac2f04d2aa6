//go:build !linux

package probe

import "math"

// hostCPU needs /proc/stat: unknown here.
func hostCPU() (busy, cores float64) { return math.NaN(), math.NaN() }
