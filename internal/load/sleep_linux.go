//go:build linux

package load

import (
	"time"

	"golang.org/x/sys/unix"
)

// preciseSleep sleeps for d (at most a few milliseconds) in the kernel,
// which wakes within the thread's timer slack (50 µs by default), not on
// the Go runtime's millisecond poller.
func preciseSleep(d time.Duration) {
	ts := unix.NsecToTimespec(int64(d))
	unix.Nanosleep(&ts, nil)
}
