package client

import (
	"errors"
	"syscall"
	"time"
)

// Failed dials back off: a user whose connects fail waits before its next
// one, 10 ms after the first failure, doubling up to 1 s, so that a down
// target or a generator out of descriptors costs little CPU and the
// counts stay meaningful instead of spinning at millions of failures a
// second. A connect that succeeds resets it.
const (
	minDialBackoff = 10 * time.Millisecond
	maxDialBackoff = time.Second
)

// dialBackoff is the wait after the n-th consecutive failed dial (n ≥ 1).
func dialBackoff(n int) time.Duration {
	if n < 1 {
		return 0
	}
	d := minDialBackoff << min(n-1, 10)
	return min(d, maxDialBackoff)
}

// localExhaustion reports whether err says the generator itself ran out
// of something (descriptors, buffers, local ports) before a connection
// could be tried: no fault of the target's.
func localExhaustion(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM) ||
		errors.Is(err, syscall.EADDRNOTAVAIL)
}
