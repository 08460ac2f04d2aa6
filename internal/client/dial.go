package client

import (
	"context"
	"net"
	"time"
)

// maxDialing bounds the TCP connections a Client opens at once (through
// net/http, and across all its event loops).
const maxDialing = 1024

// dialer opens the net/http transport's connections (and the probe
// connection that picks among a name's addresses for the event loops,
// which connect on their own), each on a short-lived goroutine of its own,
// at most maxDialing at once.
//
// Dialing is deep in the standard library: a goroutine that dials grows its
// stack to 8 KB, and keeps it until a garbage collection shrinks it, which
// copies it. A user who dialed on its own goroutine would hold that stack
// for the whole run: 10 000 users started at once reached 73 MB of stacks
// and a 160 MB resident peak where 40 MB of stacks carry them afterwards.
// Dialing on a bounded set of goroutines keeps users' stacks small and the
// dialing ones at most maxDialing × 8 KB. Waiting for a slot is part of
// connecting (and so of the first request's latency); on loopback it is
// shorter than the dials it waits for.
type dialer struct {
	connect func(ctx context.Context, network, addr string) (net.Conn, error)
	slots   chan struct{}
}

func newDialer(timeout time.Duration) *dialer {
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	return &dialer{connect: d.DialContext, slots: make(chan struct{}, maxDialing)}
}

type dialed struct {
	conn net.Conn
	err  error
}

// dial connects to addr over network, or fails when ctx ends first.
func (d *dialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	select {
	case d.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	done := make(chan dialed, 1)
	go func() {
		defer func() { <-d.slots }()
		c, err := d.connect(ctx, network, addr)
		done <- dialed{c, err}
	}()
	r := <-done
	return r.conn, r.err
}
