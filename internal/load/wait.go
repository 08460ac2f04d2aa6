package load

import (
	"runtime"
	"time"
)

// Go's timers may fire up to a millisecond late (the runtime's poller
// sleeps in whole milliseconds), which would make every open-model
// arrival late by a uniform 0–1 ms. The dispatcher therefore sleeps on a
// timer only until shortly before an arrival is due, then in short
// system-level sleeps (precise to tens of microseconds) and, for the last
// stretch, yields until the due time.
const (
	coarseWake = 2 * time.Millisecond   // a timer wakes this much before the due time
	spinWindow = 150 * time.Microsecond // yield, do not sleep, this close to it
)

// waitUntil waits until at (from the start of the run), and reports false
// if the run stopped first. precise is false where the clock is not the
// wall clock's (see wallClock): then it waits on a timer alone.
func (e *Engine) waitUntil(timer *time.Timer, at time.Duration, precise bool) bool {
	wait := at - time.Since(e.start)
	early := coarseWake
	if !precise {
		early = 0
	}
	if wait > early {
		timer.Reset(wait - early)
		select {
		case <-timer.C:
		case <-e.stop:
			timer.Stop()
			return false
		}
		wait = at - time.Since(e.start)
	}
	for precise && wait > spinWindow {
		if e.halted.Load() {
			return false
		}
		preciseSleep(wait - spinWindow)
		wait = at - time.Since(e.start)
	}
	for precise && wait > 0 {
		if e.halted.Load() {
			return false
		}
		runtime.Gosched()
		wait = at - time.Since(e.start)
	}
	return true
}

// wallClock reports whether time moves while a goroutine sleeps in the
// kernel: it does not in a testing/synctest bubble, whose clock moves only
// when every goroutine waits on it.
func wallClock() bool {
	t0 := time.Now()
	preciseSleep(20 * time.Microsecond)
	return time.Since(t0) > 0
}
