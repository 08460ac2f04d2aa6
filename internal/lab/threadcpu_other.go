//go:build !(linux || darwin || freebsd)

package lab

import "time"

// threadCPU reports that this system has no per-thread CPU clock; /cpu then
// spins for ms of wall-clock time instead.
func threadCPU() (time.Duration, bool) { return 0, false }
