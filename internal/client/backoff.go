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
// of something (descriptors, buffers) before a connect could be tried: no
// fault of the target's, and worth retrying.
func localExhaustion(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM)
}

// localFailure reports whether err can only come from opening a
// connection on this host, and says the host could not: out of
// descriptors, or no local address to connect from (every local port in
// use, TIME_WAIT after many short connections; or an address family the
// host cannot use, such as ::1 without IPv6). ENOBUFS and ENOMEM are left
// out: a read or a write mid-exchange may return them too.
func localFailure(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.EADDRNOTAVAIL)
}
