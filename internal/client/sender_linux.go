//go:build linux

package client

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"time"

	"golang.org/x/sys/unix"
)

// h1Sender sends one user's plain-text HTTP/1.1 requests over one
// keep-alive connection run by a loop. Start may be called from any
// goroutine, one exchange at a time.
type h1Sender struct {
	// Every user holds one for the whole run: what most runs do not need
	// lives behind pointers (more, w), so that ten thousand users cost a
	// few megabytes. The Client is the loop's (l.c).
	l    *loop
	x    *Exchange   // the exchange under way
	f    *h1Form     // its request's form
	to   *target     // where the connection goes
	more *senderBufs // nil until a request is rendered per user, keeps its answer, or Do is called

	// Owned by the loop's goroutine.
	wire       []byte // the bytes of the exchange under way
	sent       int32  // of wire (a request is far below 2 GiB)
	fd         int32  // -1: no connection
	began      mono   // when the exchange under way started
	notBefore  mono   // no connect before: see dialBackoff
	deadline   mono   // of the connect or the exchange: see loop.first
	dialFails  int32  // connects failed in a row
	reused     bool   // the connection carried a request before this one
	wasReused  bool   // ... before the exchange under way
	retried    bool
	state      sendState
	prev, next *h1Sender
	p          h1Parser
	w          *tlsWire // on a TLS connection: the socket under w.tc
	done       func(Result)
	ctx        context.Context
}

// doWaiter is how Do waits for the outcome Start delivers.
type doWaiter struct {
	res     chan Result
	deliver func(Result)
}

// senderBufs are a sender's buffers for requests rendered per user
// (templates, cookies) and for the answers a request keeps.
type senderBufs struct {
	buf     []byte    // a rendered request
	bodyBuf []byte    // its rendered body
	body    capped    // the response body, when the request keeps it
	hdr     []byte    // the response header lines, when the request keeps them
	waiter  *doWaiter // Do's, made on its first call
}

// bufs returns s's buffers, making them on first use.
func (s *h1Sender) bufs() *senderBufs {
	if s.more == nil {
		s.more = &senderBufs{body: capped{max: s.l.c.maxBody()}}
	}
	return s.more
}

// sendState is where a sender's exchange is.
type sendState uint8

const (
	idle        sendState = iota // no exchange, or one waiting to connect
	connecting                   // connecting, in the deadline queue
	exchanging                   // sending or waiting for the answer, in the deadline queue
	handshaking                  // connecting over TLS on a goroutine: see handshake
)

// newLoopSender returns a sender run by one of the Client's loops, or nil
// when they cannot be had.
func (c *Client) newLoopSender(worker int) Sender {
	ls := c.loops()
	if len(ls) == 0 {
		return nil
	}
	return &h1Sender{l: ls[uint(worker)%uint(len(ls))], fd: -1}
}

// Start implements Starter: it begins one exchange, and done is called
// with its outcome on the loop's goroutine. ctx is the run's stop signal.
func (s *h1Sender) Start(ctx context.Context, x *Exchange, done func(Result)) {
	s.l.post(loopMsg{kind: msgStart, s: s, x: x, ctx: ctx, done: done})
}

// Do implements Sender, for callers that wait.
func (s *h1Sender) Do(ctx context.Context, x *Exchange) Result {
	b := s.bufs()
	if b.waiter == nil {
		res := make(chan Result, 1)
		b.waiter = &doWaiter{res: res, deliver: func(r Result) { res <- r }}
	}
	s.Start(ctx, x, b.waiter.deliver)
	return <-b.waiter.res
}

// timeout is the limit of the exchange under way: its request's, else
// the client's.
func (s *h1Sender) timeout() time.Duration {
	if t := s.x.Req.Timeout; t > 0 {
		return t
	}
	return s.l.c.cfg.Timeout
}

// start begins an exchange on the loop.
func (s *h1Sender) start(ctx context.Context, x *Exchange, done func(Result)) {
	s.done, s.ctx = done, ctx
	s.l.watch(ctx)
	if ctx.Err() != nil {
		s.finish(Result{Class: Canceled})
		return
	}
	if s.f == nil || s.f.r != x.Req {
		s.f = s.l.c.h1FormOf(x.Req)
	}
	if s.f.to != s.to {
		// A step to another host: the connection cannot carry it.
		s.closeConn()
		s.to = s.f.to
	}
	s.x = x
	if s.f.fixed(x) {
		s.wire = s.f.wire
	} else {
		b := s.bufs()
		s.wire, b.buf, b.bodyBuf = s.f.render(x, b.buf, b.bodyBuf)
	}
	s.retried = false
	s.began = monoNow()
	if len(s.wire) > maxWire {
		// Offsets into the request are 32 bits (see sent).
		s.finish(Result{Class: Other})
		return
	}
	s.begin()
}

// maxWire bounds a request on the event loops: 1 GiB, far above any body
// a load test sends (the CLI refuses larger --body files).
const maxWire = 1 << 30

// begin sends the request, connecting first when there is no connection.
func (s *h1Sender) begin() {
	if s.fd >= 0 {
		s.send()
		return
	}
	s.l.connect(s)
}

// send puts the exchange on the wire.
func (s *h1Sender) send() {
	s.wasReused, s.reused = s.reused, true
	s.sent = 0
	var sink io.Writer
	if s.x.Req.KeepBody {
		b := s.bufs()
		b.body.buf = b.body.buf[:0]
		sink = &b.body
	}
	var hdr *[]byte
	if s.x.Req.KeepHeaders {
		b := s.bufs()
		b.hdr = b.hdr[:0]
		hdr = &b.hdr
	}
	s.p.reset(s.x.Req.Method == http.MethodHead, sink)
	s.p.hdr = hdr
	s.deadline = monoNow().add(s.timeout())
	s.state = exchanging
	s.l.enqueue(s)
	s.write()
}

// write writes what is left of the request; the rest, if the socket is
// full, when it becomes writable.
func (s *h1Sender) write() {
	if s.w != nil {
		s.writeTLS()
		return
	}
	for int(s.sent) < len(s.wire) {
		n, err := unix.Write(int(s.fd), s.wire[s.sent:])
		if n > 0 {
			s.sent += int32(n)
			s.l.out.Add(int64(n))
		}
		switch {
		case err == nil:
		case errors.Is(err, unix.EINTR):
		case errors.Is(err, unix.EAGAIN):
			return
		default:
			s.failBeforeAnswer(err)
			return
		}
	}
}

// writeTLS hands the request to TLS, once, and writes what the socket
// has not taken yet.
func (s *h1Sender) writeTLS() {
	if int(s.sent) < len(s.wire) {
		s.sent = int32(len(s.wire))
		if _, err := s.w.tc.Write(s.wire); err != nil {
			s.failBeforeAnswer(err)
			return
		}
	}
	if err := s.w.flush(); err != nil {
		s.failBeforeAnswer(err)
	}
}

// unsent reports that part of the exchange's request is not written yet.
func (s *h1Sender) unsent() bool {
	return int(s.sent) < len(s.wire) || s.w != nil && len(s.w.pend) > 0
}

// read reads from the connection as unix.Read does: (0, EAGAIN) when
// there is nothing to read, (0, nil) at the end of the stream. On TLS it
// returns the plaintext of the records read.
func (s *h1Sender) read(buf []byte) (int, error) {
	if s.w == nil {
		n, err := unix.Read(int(s.fd), buf)
		if n > 0 {
			s.l.in.Add(int64(n))
		}
		return n, err
	}
	if s.w.eof {
		return 0, nil
	}
	n, err := s.w.tc.Read(buf)
	switch {
	case err == nil:
		return n, nil
	case errors.Is(err, errWouldBlock):
		if n > 0 {
			return n, nil
		}
		return 0, unix.EAGAIN
	case errors.Is(err, io.EOF):
		if n > 0 {
			s.w.eof = true
			return n, nil
		}
		return 0, nil
	}
	return 0, err
}

func (s *h1Sender) onEvent(ev uint32) {
	const writable = unix.EPOLLOUT | unix.EPOLLERR | unix.EPOLLHUP
	if s.state == connecting {
		if ev&writable == 0 {
			return
		}
		s.l.connectDone(s)
	}
	if ev&writable != 0 && s.state == exchanging && s.unsent() {
		s.write()
	}
	// A failed write may have ended the exchange, or started it again on
	// a new connection (which must not be read before it is connected).
	if s.fd >= 0 && s.state != connecting && ev&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLERR|unix.EPOLLHUP) != 0 {
		s.readable(ev&(unix.EPOLLRDHUP|unix.EPOLLHUP) != 0)
	}
}

// readable reads what the socket holds and feeds it to the parser. hup
// reports that the server has closed its side: an edge-triggered socket
// will not say so again, so a connection whose response completes before
// the end of the stream is read is closed then.
func (s *h1Sender) readable(hup bool) {
	buf := s.l.buf
	for {
		n, err := s.read(buf)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EAGAIN):
			return
		case s.state != exchanging:
			// Nothing was asked: the server closed an idle connection, or
			// spoke out of turn. Either way it cannot carry a request.
			s.closeConn()
			return
		case err != nil:
			s.failRead(err)
			return
		case n == 0:
			if perr := s.p.end(); perr != nil {
				s.failRead(perr)
			} else {
				s.complete(true)
			}
			return
		}
		if !s.p.seen {
			s.p.firstUS = int32(min(max(s.l.now.sub(s.began)/time.Microsecond, 0), math.MaxInt32))
		}
		k, done, perr := s.p.feed(buf[:n])
		switch {
		case perr != nil:
			s.failRead(perr)
			return
		case done:
			// Bytes beyond the response are a server speaking out of
			// turn: the connection cannot be trusted for the next request.
			s.complete(k < n || hup)
			return
		}
	}
}

// tail is how long the response took to arrive once its first byte had:
// from that byte to the last, read now (in this round of the loop).
func (s *h1Sender) tail() time.Duration {
	first := s.began.add(time.Duration(s.p.firstUS) * time.Microsecond)
	return max(s.l.now.sub(first), 0)
}

// failRead fails the exchange after a read error or a cut response.
func (s *h1Sender) failRead(err error) {
	if !s.p.seen {
		s.failBeforeAnswer(err)
		return
	}
	if errors.Is(err, ErrMalformed) {
		s.fail(ProtocolError)
		return
	}
	s.fail(classify(err, s.ctx.Err() != nil))
}

// off takes the exchange off the wire.
func (s *h1Sender) off() {
	if s.state != idle {
		s.state = idle
		s.l.dequeue(s)
	}
}

// complete ends an exchange whose response was read whole.
func (s *h1Sender) complete(closeConn bool) {
	s.off()
	resp := s.p.resp
	// A server may answer before it has read the whole request (a 413,
	// say): what is left of it cannot go on this connection.
	if closeConn || resp.close || s.l.c.cfg.NoKeepAlive || s.unsent() {
		s.closeConn()
	}
	res := Result{Code: int(resp.code), Class: ClassOfStatus(int(resp.code)), Proto: 1, RetryAfter: resp.retryAfter, Tail: s.tail(), HasTail: true}
	if s.x.Req.KeepBody {
		res.Body = s.more.body.buf
	}
	if s.x.Req.KeepHeaders {
		res.Header = s.more.hdr
	}
	s.finish(res)
}

// fail ends the exchange with class and drops the connection. A request
// surge canceled is Canceled whatever happened to it.
func (s *h1Sender) fail(class Class) {
	if s.state == connecting {
		s.l.connectFailed(s, class, nil)
		return
	}
	s.off()
	s.closeConn()
	if s.ctx.Err() != nil {
		class = Canceled
	}
	code := int(s.p.resp.code)
	s.finish(Result{Code: code, Class: class, Proto: protoIf(code)})
}

// failBeforeAnswer drops the connection after an error that came before
// one byte of a response. On a reused connection the server most likely
// closed it while idle: an idempotent request is then sent once more, on
// a fresh connection, as net/http does.
func (s *h1Sender) failBeforeAnswer(err error) {
	s.off()
	s.closeConn()
	if s.wasReused && !s.retried && idempotent(s.x.Req.Method) && s.ctx.Err() == nil {
		s.retried = true
		s.begin()
		return
	}
	s.finish(Result{Class: classify(err, s.ctx.Err() != nil)})
}

func (s *h1Sender) closeConn() {
	if s.fd >= 0 {
		s.l.release(int(s.fd))
		s.fd = -1
	}
	s.w = nil
}

func (s *h1Sender) finish(r Result) {
	done := s.done
	s.done = nil
	done(r)
}
