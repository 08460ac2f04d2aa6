//go:build unix

package client

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
)

// tryRead returns a read of cc's socket that never waits: ok is false when
// the socket holds nothing yet. Nil when cc is not a TCP socket.
func tryRead(cc *countConn) func(p []byte) (n int, err error, ok bool) {
	tc, isTCP := cc.Conn.(*net.TCPConn)
	if !isTCP {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	var (
		buf  []byte
		n    int
		rerr error
	)
	read := func(fd uintptr) bool {
		for {
			n, rerr = syscall.Read(int(fd), buf)
			if !errors.Is(rerr, syscall.EINTR) {
				return true // done, whatever it read: never wait here
			}
		}
	}
	return func(p []byte) (int, error, bool) {
		buf = p
		err := rc.Read(read)
		buf = nil
		switch {
		case err != nil:
			return 0, err, true // closed
		case errors.Is(rerr, syscall.EAGAIN):
			return 0, nil, false
		case rerr != nil:
			return 0, &net.OpError{Op: "read", Net: "tcp", Source: tc.LocalAddr(), Addr: tc.RemoteAddr(), Err: os.NewSyscallError("read", rerr)}, true
		case n == 0 && len(p) > 0:
			return 0, io.EOF, true
		}
		cc.in.Add(int64(n))
		return n, nil, true
	}
}
