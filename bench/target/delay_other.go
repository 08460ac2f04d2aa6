//go:build !linux

package main

import "time"

// hold waits d, on Go's timers.
func hold(d time.Duration) { time.Sleep(d) }
