//go:build unix

package client

import (
	"errors"
	"io"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// readyWaiter waits until a connection has something to read, without a
// read buffer: a worker waiting for a slow response then holds no buffer,
// which is what keeps 10 000 users within a few tens of MB.
type readyWaiter struct {
	rc   syscall.RawConn
	peek [1]byte
	err  error
	fn   func(fd uintptr) bool
}

func newReadyWaiter(c net.Conn) *readyWaiter {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	w := &readyWaiter{rc: rc}
	w.fn = func(fd uintptr) bool {
		n, err := peek(int(fd), w.peek[:])
		switch {
		case errors.Is(err, unix.EAGAIN):
			return false // nothing yet: let the poller wait
		case err != nil:
			w.err = err
		case n == 0:
			w.err = io.EOF
		}
		return true
	}
	return w
}

// wait blocks until at least one byte (or EOF, or an error) is ready, or
// the connection's read deadline passes.
func (w *readyWaiter) wait() error {
	w.err = nil
	if err := w.rc.Read(w.fn); err != nil {
		return err
	}
	return w.err
}
