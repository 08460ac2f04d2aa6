//go:build linux

package probe

import (
	"math"

	"github.com/prometheus/procfs"
)

// hostCPU reads the machine's CPU from /proc/stat: the seconds all its
// CPUs spent busy so far (neither idle nor waiting for I/O), and how many
// CPUs it has. NaN, NaN when unreadable.
func hostCPU() (busy, cores float64) {
	fs, err := procfs.NewDefaultFS()
	if err != nil {
		return math.NaN(), math.NaN()
	}
	st, err := fs.Stat()
	if err != nil || len(st.CPU) == 0 {
		return math.NaN(), math.NaN()
	}
	t := st.CPUTotal
	return t.User + t.Nice + t.System + t.IRQ + t.SoftIRQ + t.Steal, float64(len(st.CPU))
}
