//go:build linux

package client

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"time"

	"golang.org/x/sys/unix"
)

// HTTPS over the event loops.
//
// crypto/tls cannot resume a handshake that a non-blocking socket
// interrupted: the handshake's state lives on the stack of the goroutine
// that runs it. So each TLS connection is made in two halves:
//
//   - the handshake runs on a short-lived goroutine, over a connection of
//     Go's own (its poller waits for the socket), at most maxHandshaking
//     at once per loop;
//   - then the socket is handed to the loop (its descriptor duplicated,
//     Go's copy closed) and crypto/tls runs over tlsWire, a net.Conn that
//     never blocks: a read with nothing to read returns a temporary
//     net.Error, which crypto/tls passes up without marking the connection
//     broken (the bytes of a partial record stay in its buffer), and a
//     write takes every byte at once, keeping what the socket could not
//     for the loop to write when it becomes writable.
//
// A user's exchange then costs what a plain one does plus the record
// encryption: one write, one or two reads, no goroutine, no allocation.

// maxHandshaking bounds the TLS handshakes each loop runs at once. A
// handshake is CPU work on both sides, which more of them at once does not
// speed up, and each holds a goroutine whose stack grows deep in
// crypto/tls: a thousand users connecting at once would otherwise hold a
// thousand such stacks (and leave the memory behind).
const maxHandshaking = 16

// errWouldBlock is tlsWire's "nothing to read yet".
var errWouldBlock error = wouldBlock{}

type wouldBlock struct{}

func (wouldBlock) Error() string   { return "resource temporarily unavailable" }
func (wouldBlock) Timeout() bool   { return true }
func (wouldBlock) Temporary() bool { return true }

// tlsWire is the connection under a loop sender's tls.Conn: Go's own
// connection during the handshake (nc), the loop's non-blocking socket
// after it (fd).
type tlsWire struct {
	tc   *tls.Conn // over this wire, once the handshake is done
	nc   net.Conn
	fd   int
	l    *loop
	pend []byte // encrypted bytes the socket did not take yet
	eof  bool   // the last Read of the tls.Conn returned data and io.EOF
}

func (w *tlsWire) Read(p []byte) (int, error) {
	if w.nc != nil {
		n, err := w.nc.Read(p)
		w.l.in.Add(int64(n))
		return n, err
	}
	for {
		n, err := unix.Read(w.fd, p)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EAGAIN):
			return 0, errWouldBlock
		case err != nil:
			return 0, err
		case n == 0:
			return 0, io.EOF
		}
		w.l.in.Add(int64(n))
		return n, nil
	}
}

// Write takes all of p: what the socket does not take now waits in pend.
func (w *tlsWire) Write(p []byte) (int, error) {
	if w.nc != nil {
		n, err := w.nc.Write(p)
		w.l.out.Add(int64(n))
		return n, err
	}
	total := len(p)
	if len(w.pend) == 0 {
		for len(p) > 0 {
			n, err := unix.Write(w.fd, p)
			if n > 0 {
				w.l.out.Add(int64(n))
				p = p[n:]
			}
			if err == nil || errors.Is(err, unix.EINTR) {
				continue
			}
			if errors.Is(err, unix.EAGAIN) {
				break
			}
			return total - len(p), err
		}
	}
	w.pend = append(w.pend, p...)
	return total, nil
}

// flush writes what is pending, as far as the socket takes it.
func (w *tlsWire) flush() error {
	for len(w.pend) > 0 {
		n, err := unix.Write(w.fd, w.pend)
		if n > 0 {
			w.l.out.Add(int64(n))
			w.pend = w.pend[:copy(w.pend, w.pend[n:])]
		}
		switch {
		case err == nil, errors.Is(err, unix.EINTR):
		case errors.Is(err, unix.EAGAIN):
			return nil
		default:
			return err
		}
	}
	return nil
}

func (w *tlsWire) Close() error {
	if w.nc != nil {
		return w.nc.Close()
	}
	return nil // the loop closes its socket itself
}

func (w *tlsWire) LocalAddr() net.Addr {
	if w.nc != nil {
		return w.nc.LocalAddr()
	}
	return nil
}

func (w *tlsWire) RemoteAddr() net.Addr {
	if w.nc != nil {
		return w.nc.RemoteAddr()
	}
	return nil
}

func (w *tlsWire) SetDeadline(t time.Time) error {
	if w.nc != nil {
		return w.nc.SetDeadline(t)
	}
	return nil
}

func (w *tlsWire) SetReadDeadline(t time.Time) error {
	if w.nc != nil {
		return w.nc.SetReadDeadline(t)
	}
	return nil
}

func (w *tlsWire) SetWriteDeadline(t time.Time) error {
	if w.nc != nil {
		return w.nc.SetWriteDeadline(t)
	}
	return nil
}

// handshaken is the outcome of a TLS connect, posted to the loop.
type handshaken struct {
	tc  *tls.Conn
	w   *tlsWire
	err error
}

// handshake connects s over TLS on a goroutine of its own and posts the
// outcome to the loop. Called on the loop, with a handshake slot taken.
func (l *loop) handshake(s *h1Sender) {
	ctx, to, timeout := s.ctx, s.to, s.timeout()
	dial := s.l.c.dial
	go func() {
		hctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		h := handshaken{}
		nc, err := dial.dial(hctx, "tcp", to.ap.String())
		if err == nil {
			h.w = &tlsWire{nc: nc, l: l, fd: -1}
			h.tc = tls.Client(h.w, to.tls)
			err = h.tc.HandshakeContext(hctx)
			if err == nil {
				h.w.fd, err = takeFd(nc)
			}
			nc.Close()
			h.w.nc = nil
		}
		if err != nil && hctx.Err() != nil && ctx.Err() == nil {
			err = context.DeadlineExceeded // timed out, not canceled
		}
		h.err = err
		l.post(loopMsg{kind: msgHandshook, s: s, hs: &h})
	}()
}

// takeFd returns a duplicate of nc's socket, for the loop to run once
// Go's copy is closed. The duplicate shares the socket's non-blocking
// mode.
func takeFd(nc net.Conn) (int, error) {
	raw, ok := nc.(*net.TCPConn)
	if !ok {
		return -1, errors.New("not a TCP connection")
	}
	rc, err := raw.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	var derr error
	if err := rc.Control(func(f uintptr) {
		fd, derr = unix.FcntlInt(f, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return -1, err
	}
	if derr != nil {
		return -1, derr
	}
	return fd, nil
}

// handshook adopts the socket of a TLS connect that succeeded and sends
// the exchange waiting for it, or fails the exchange.
func (l *loop) handshook(s *h1Sender, h *handshaken) {
	l.handshakes--
	for l.handshakes < maxHandshaking && l.hsWaiting.len() > 0 {
		l.connect(l.hsWaiting.pop())
	}
	s.state = idle
	if h.err == nil {
		if err := l.adopt(s, h.w.fd); err != nil {
			unix.Close(h.w.fd)
			h.err = err
		}
	}
	if h.err != nil {
		class := classify(h.err, s.ctx.Err() != nil)
		if s.ctx.Err() == nil {
			s.l.c.conns.dialErrors.Add(1)
			s.dialFails++
			s.notBefore = monoNow().add(dialBackoff(int(s.dialFails)))
		}
		s.finish(Result{Class: class})
		return
	}
	h.w.tc = h.tc
	s.fd, s.w = int32(h.w.fd), h.w
	s.reused = false
	s.dialFails = 0
	if s.ctx.Err() != nil {
		s.closeConn()
		s.finish(Result{Class: Canceled})
		return
	}
	s.send()
}
