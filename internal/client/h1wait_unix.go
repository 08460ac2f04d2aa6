//go:build unix

package client

import (
	"errors"
	"io"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// readyWaiter reads the first bytes of a response straight from the
// socket through the poller, into a buffer the caller takes from a pool
// only for the length of the response: a worker waiting for a slow answer
// holds no read buffer, which keeps 10 000 users within tens of MB. (It
// must try a read before waiting, as net.Conn.Read does: the poller forgets
// a readiness that came before the wait, so an answer that is already there
// would otherwise be waited for until the deadline.)
type readyWaiter struct {
	rc  syscall.RawConn
	buf []byte
	n   int
	err error
	fn  func(fd uintptr) bool
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
		n, err := unix.Read(int(fd), w.buf)
		for errors.Is(err, unix.EINTR) {
			n, err = unix.Read(int(fd), w.buf)
		}
		switch {
		case errors.Is(err, unix.EAGAIN):
			return false // woken early: wait again
		case err != nil:
			w.err = err
		case n == 0:
			w.err = io.EOF
		}
		w.n = max(n, 0)
		return true
	}
	return w
}

// read waits for the socket to become readable (or its read deadline to
// pass) and reads what is there into buf.
func (w *readyWaiter) read(buf []byte) (int, error) {
	w.buf, w.n, w.err = buf, 0, nil
	if err := w.rc.Read(w.fn); err != nil {
		return 0, err
	}
	w.buf = nil
	return w.n, w.err
}
