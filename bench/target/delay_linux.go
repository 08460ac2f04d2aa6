//go:build linux

package main

import (
	"time"

	"golang.org/x/sys/unix"
)

// hold waits d precisely: on Go's timer (which may fire up to a
// millisecond late) until 1.5 ms before the end, then in the kernel.
func hold(d time.Duration) {
	end := time.Now().Add(d)
	if d > 1500*time.Microsecond {
		time.Sleep(d - 1500*time.Microsecond)
	}
	if left := time.Until(end); left > 0 {
		ts := unix.NsecToTimespec(int64(left))
		unix.Nanosleep(&ts, nil)
	}
}
