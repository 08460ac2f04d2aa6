package client

import "time"

// mono is a point on the monotonic clock: nanoseconds since monoBase. It
// is a third of a time.Time's size, which counts in structures every
// virtual user holds.
type mono int64

// monoBase is the origin of mono times.
var monoBase = time.Now()

// monoNow returns the mono time now.
func monoNow() mono { return mono(time.Since(monoBase)) }

// add returns m plus d.
func (m mono) add(d time.Duration) mono { return m + mono(d) }

// sub returns the time from o to m.
func (m mono) sub(o mono) time.Duration { return time.Duration(m - o) }
