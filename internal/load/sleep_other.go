//go:build !linux

package load

import "time"

// preciseSleep sleeps for d: on other systems, on Go's timers.
func preciseSleep(d time.Duration) { time.Sleep(d) }
