package diagnose

import "fmt"

// ackStall returns the mean time, in ms, between a response's first byte
// and its last at step s, when it is the stall of a delayed ACK: within
// 0.9 to 1.5 times delayedACK. A body that takes that long for its own
// sake (a stream, a large download) would not sit so close to the
// kernel's timer at the lowest load, nor would a body sent whole with its
// head take that long at all on the networks surge runs on. Steps from
// clients that do not time the first byte (HTTP/2, net/http) never stall.
func ackStall(s Step) (float64, bool) {
	l := s.R.Summary.Latency
	if l.TTFB <= 0 {
		return 0, false
	}
	stall := l.Mean - l.TTFB
	return stall, stall >= 0.9*delayedACK && stall <= 1.5*delayedACK
}

// ackStallLine says that responses stalled for a delayed ACK at the
// lowest load, when they did: a fault of the server that every client
// pays, whatever the bottleneck under load.
func (d *data) ackStallLine() (string, bool) {
	low := d.steps[0]
	stall, ok := ackStall(low)
	if !ok {
		return "", false
	}
	return fmt.Sprintf("responses stalled %s between their first byte and their last at %s (mean latency %s): the server writes the head and the body apart with Nagle's algorithm on, and the body waits for the client's delayed ACK (40ms on Linux), as it will for most clients; set TCP_NODELAY on its sockets, or write each response in one piece",
		ms(stall), d.level(low.Level), ms(low.R.Summary.Latency.Mean)), true
}
