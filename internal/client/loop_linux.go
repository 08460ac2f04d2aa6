//go:build linux

package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// loop runs the plain-text HTTP/1.1 exchanges of many senders on one
// goroutine, over an epoll instance of its own, the way wrk's threads do.
// A sender waiting for an answer holds no goroutine and no buffer: only
// its connection, its parser's state and its place in the loop's deadline
// queue. Every field of a sender that carries an exchange is touched only
// by its loop's goroutine; other goroutines reach a loop through post.
//
// The sockets are registered edge-triggered for reading and writing once,
// when their connection is adopted, so an exchange costs one write and
// one or two reads, and no epoll_ctl.
type loop struct {
	c      *Client
	epfd   int
	wakefd int // an eventfd that post writes to wake the loop
	buf    []byte
	events []unix.EpollEvent
	byFd   []*h1Sender // the sender that owns each adopted fd
	batch  []loopMsg

	// The deadline queue: senders with an exchange on the wire, by
	// deadline. Every request has the same timeout, so appending in the
	// order they are sent keeps it sorted.
	first, last *h1Sender

	in, out atomic.Int64 // bytes read and written
	open    atomic.Int64 // connections adopted and not closed

	ctx     context.Context // the run's stop signal, watched once per loop
	unwatch func() bool

	// Connects under way, at most maxConnecting; the senders beyond wait.
	connects      int
	maxConnecting int
	waiting       fifo

	mu       sync.Mutex
	inbox    []loopMsg
	sleeping bool // the loop is (about to be) in epoll_wait
	stopping bool
	done     chan struct{}
}

type msgKind uint8

const (
	msgStart  msgKind = iota // start an exchange
	msgCancel                // ctx ended: cancel the exchanges on the wire
)

type loopMsg struct {
	kind msgKind
	s    *h1Sender
	ctx  context.Context
	done func(Result)
}

// readBufSize is each loop's read buffer: one per loop, not per user.
const readBufSize = 64 << 10

func newLoop(c *Client, maxConnecting int) (*loop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, err
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wakefd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wakefd, &ev); err != nil {
		unix.Close(epfd)
		unix.Close(wakefd)
		return nil, err
	}
	l := &loop{c: c, epfd: epfd, wakefd: wakefd, buf: make([]byte, readBufSize), maxConnecting: maxConnecting,
		events: make([]unix.EpollEvent, 256), done: make(chan struct{})}
	go l.run()
	return l, nil
}

// post hands m to the loop, waking it if it sleeps. Safe from any
// goroutine, the loop's included.
func (l *loop) post(m loopMsg) {
	l.mu.Lock()
	if l.stopping {
		l.mu.Unlock()
		if m.kind == msgStart {
			m.done(Result{Class: Canceled}) // the Client was closed
		}
		return
	}
	l.inbox = append(l.inbox, m)
	wake := l.sleeping
	l.sleeping = false
	l.mu.Unlock()
	if wake {
		l.wake()
	}
}

func (l *loop) wake() {
	one := [8]byte{1}
	unix.Write(l.wakefd, one[:])
}

// stop ends the loop and closes its connections. Call it when no exchange
// is under way.
func (l *loop) stop() {
	l.mu.Lock()
	l.stopping = true
	l.mu.Unlock()
	l.wake()
	<-l.done
}

func (l *loop) run() {
	defer close(l.done)
	for {
		l.mu.Lock()
		l.batch = append(l.batch[:0], l.inbox...)
		clear(l.inbox)
		l.inbox = l.inbox[:0]
		stopping := l.stopping
		if len(l.batch) == 0 && !stopping {
			l.sleeping = true
		}
		l.mu.Unlock()
		if stopping {
			l.shutdown()
			return
		}
		for i := range l.batch {
			l.handle(&l.batch[i])
		}
		if len(l.batch) > 0 {
			clear(l.batch)
			continue // handling may have posted more: look before sleeping
		}
		n, err := unix.EpollWait(l.epfd, l.events, l.waitMillis())
		l.mu.Lock()
		l.sleeping = false
		l.mu.Unlock()
		if err != nil && !errors.Is(err, unix.EINTR) {
			// Only a broken epoll descriptor, which would be a bug, fails
			// here: fail what is on the wire, and back off rather than spin.
			l.expire(time.Time{}, true)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		for _, ev := range l.events[:max(n, 0)] {
			fd := int(ev.Fd)
			if fd == l.wakefd {
				var b [8]byte
				unix.Read(l.wakefd, b[:])
				continue
			}
			if fd < len(l.byFd) && l.byFd[fd] != nil {
				l.byFd[fd].onEvent(ev.Events)
			}
		}
		l.expire(time.Now(), false)
	}
}

// waitMillis is how long epoll_wait may sleep: until the first deadline,
// rounded up, or for ever when nothing is on the wire.
func (l *loop) waitMillis() int {
	if l.first == nil {
		return -1
	}
	d := time.Until(l.first.deadline)
	if d <= 0 {
		return 0
	}
	return int((d + time.Millisecond - 1) / time.Millisecond)
}

// expire fails the exchanges whose deadline has passed (all of them when
// all is true).
func (l *loop) expire(now time.Time, all bool) {
	for l.first != nil && (all || !now.Before(l.first.deadline)) {
		l.first.fail(Timeout)
	}
}

func (l *loop) enqueue(s *h1Sender) {
	s.prev, s.next = l.last, nil
	if l.last != nil {
		l.last.next = s
	} else {
		l.first = s
	}
	l.last = s
}

func (l *loop) dequeue(s *h1Sender) {
	if s.prev != nil {
		s.prev.next = s.next
	} else if l.first == s {
		l.first = s.next
	}
	if s.next != nil {
		s.next.prev = s.prev
	} else if l.last == s {
		l.last = s.prev
	}
	s.prev, s.next = nil, nil
}

func (l *loop) handle(m *loopMsg) {
	s := m.s
	switch m.kind {
	case msgStart:
		s.start(m.ctx, m.done)
	case msgCancel:
		if m.ctx != l.ctx {
			return
		}
		for l.first != nil {
			l.first.fail(Canceled)
		}
		for l.waiting.len() > 0 {
			s := l.waiting.pop()
			s.finish(Result{Class: Canceled})
		}
	}
}

// connect starts connecting s, or queues it when maxConnecting connects
// are under way: thousands of SYNs at once overflow a server's accept
// queue, and the retransmissions cost a second each.
func (l *loop) connect(s *h1Sender) {
	if s.ctx.Err() != nil { // the run ended while s waited its turn
		s.finish(Result{Class: Canceled})
		return
	}
	if l.connects >= l.maxConnecting {
		l.waiting.push(s)
		return
	}
	s.c.conns.dials.Add(1)
	fd, err := unix.Socket(s.to.family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err == nil {
		// Requests are written whole: no reason to wait for more.
		unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		if err = unix.Connect(fd, s.to.sockaddr()); errors.Is(err, unix.EINPROGRESS) {
			err = nil
		}
		if err == nil {
			err = l.adopt(s, fd)
		}
		if err != nil {
			unix.Close(fd)
		}
	}
	if err != nil {
		// Failed at once (refused, or out of descriptors): no slot taken.
		l.connectFailed(s, Other, err)
		return
	}
	l.connects++
	s.fd = fd
	s.state = connecting
	s.deadline = time.Now().Add(s.c.cfg.Timeout)
	l.enqueue(s)
}

// connectDone learns how s's connect went, when its socket says so.
func (l *loop) connectDone(s *h1Sender) {
	errno, err := unix.GetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err == nil && errno != 0 {
		err = syscall.Errno(errno)
	}
	if err != nil {
		l.connectFailed(s, Other, err)
		return
	}
	l.dequeue(s)
	s.state = idle
	l.connectEnded()
	s.reused = false
	s.send()
}

// connectFailed ends s's exchange after its connect failed: with err's
// class, or with class when err is nil (a timeout, a cancel).
func (l *loop) connectFailed(s *h1Sender, class Class, err error) {
	if s.state == connecting {
		l.dequeue(s)
		s.state = idle
		s.closeConn()
		l.connectEnded()
	}
	if err != nil {
		class = classify(err, false)
	}
	if s.ctx.Err() != nil {
		class = Canceled // surge gave up on it: not the target's failure
	} else {
		s.c.conns.dialErrors.Add(1)
	}
	s.finish(Result{Class: class})
}

// connectEnded frees a connect slot for the senders waiting for one. (A
// connect that fails at once takes no slot, so this loops rather than
// recurse through the queue.)
func (l *loop) connectEnded() {
	l.connects--
	for l.connects < l.maxConnecting && l.waiting.len() > 0 {
		l.connect(l.waiting.pop())
	}
}

// watch makes the end of ctx cancel the exchanges on the wire. (Those
// being dialed end with their dial, which ctx also bounds.)
func (l *loop) watch(ctx context.Context) {
	if ctx == l.ctx {
		return
	}
	if l.unwatch != nil {
		l.unwatch()
	}
	l.ctx = ctx
	l.unwatch = context.AfterFunc(ctx, func() { l.post(loopMsg{kind: msgCancel, ctx: ctx}) })
}

// adopt registers fd, a connected non-blocking socket, for s.
func (l *loop) adopt(s *h1Sender, fd int) error {
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET, Fd: int32(fd)}
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return err
	}
	for fd >= len(l.byFd) {
		l.byFd = append(l.byFd, make([]*h1Sender, len(l.byFd)+64)...)
	}
	l.byFd[fd] = s
	l.open.Add(1)
	return nil
}

// release closes fd (which drops it from the epoll set).
func (l *loop) release(fd int) {
	l.byFd[fd] = nil
	unix.Close(fd)
	l.open.Add(-1)
}

// shutdown closes every connection and the loop's own descriptors.
func (l *loop) shutdown() {
	if l.unwatch != nil {
		l.unwatch()
	}
	for fd, s := range l.byFd {
		if s != nil {
			s.fd = -1
			l.release(fd)
		}
	}
	unix.Close(l.epfd)
	unix.Close(l.wakefd)
}

// totals returns the bytes read and written and the connections open.
func (l *loop) totals() (in, out int64, open int) {
	return l.in.Load(), l.out.Load(), int(l.open.Load())
}

// h1Sender sends plain-text HTTP/1.1 requests over one keep-alive
// connection run by a loop. Start may be called from any goroutine, one
// exchange at a time.
type h1Sender struct {
	c      *Client
	l      *loop
	r      *Request
	to     *target // where to connect
	isHead bool
	w      h1Wire
	v      vars
	body   capped // the response body, when a check reads it

	// Owned by the loop's goroutine.
	wire       []byte // the bytes of the exchange under way
	sent       int    // of wire
	fd         int    // -1: no connection
	reused     bool   // the connection carried a request before this one
	wasReused  bool   // ... before the exchange under way
	retried    bool
	state      sendState
	deadline   time.Time // of the connect or the exchange: see loop.first
	prev, next *h1Sender
	p          h1Parser
	done       func(Result)
	ctx        context.Context
	scratch    []byte

	res     chan Result // Do's
	deliver func(Result)
}

// sendState is where a sender's exchange is.
type sendState uint8

const (
	idle       sendState = iota // no exchange, or one waiting to connect
	connecting                  // connecting, in the deadline queue
	exchanging                  // sending or waiting for the answer, in the deadline queue
)

// newLoopSender returns a sender run by one of the Client's loops, or nil
// when they cannot be had (then net/http carries the requests, and reports
// a name that does not resolve as such).
func (c *Client) newLoopSender(r *Request, worker int) Sender {
	ls := c.loops()
	if len(ls) == 0 {
		return nil
	}
	to, err := c.targets.get(canonicalAddr(r), c.dial)
	if err != nil {
		return nil
	}
	return &h1Sender{c: c, l: ls[uint(worker)%uint(len(ls))], r: r, to: to,
		isHead: r.Method == http.MethodHead, w: c.newH1Wire(r),
		v: vars{run: c.runID, user: worker}, body: capped{max: c.maxBody()}, fd: -1}
}

// Start implements Starter: it begins one exchange, and done is called
// with its outcome on the loop's goroutine. ctx is the run's stop signal.
func (s *h1Sender) Start(ctx context.Context, done func(Result)) {
	s.l.post(loopMsg{kind: msgStart, s: s, ctx: ctx, done: done})
}

// Do implements Sender, for callers that wait.
func (s *h1Sender) Do(ctx context.Context) Result {
	if s.res == nil {
		s.res = make(chan Result, 1)
		s.deliver = func(r Result) { s.res <- r }
	}
	s.Start(ctx, s.deliver)
	return <-s.res
}

// start begins an exchange on the loop.
func (s *h1Sender) start(ctx context.Context, done func(Result)) {
	s.done, s.ctx = done, ctx
	s.l.watch(ctx)
	if ctx.Err() != nil {
		s.finish(Result{Class: Canceled})
		return
	}
	s.v.n++
	s.wire = s.w.next(&s.v)
	s.retried = false
	s.begin()
}

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
	if s.r.needsBody {
		s.body.buf = s.body.buf[:0]
		sink = &s.body
	}
	s.p.reset(s.isHead, sink)
	s.deadline = time.Now().Add(s.c.cfg.Timeout)
	s.state = exchanging
	s.l.enqueue(s)
	s.write()
}

// write writes what is left of the request; the rest, if the socket is
// full, when it becomes writable.
func (s *h1Sender) write() {
	for s.sent < len(s.wire) {
		n, err := unix.Write(s.fd, s.wire[s.sent:])
		if n > 0 {
			s.sent += n
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

func (s *h1Sender) onEvent(ev uint32) {
	const writable = unix.EPOLLOUT | unix.EPOLLERR | unix.EPOLLHUP
	if s.state == connecting {
		if ev&writable == 0 {
			return
		}
		s.l.connectDone(s)
	}
	if ev&writable != 0 && s.state == exchanging && s.sent < len(s.wire) {
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
		n, err := unix.Read(s.fd, buf)
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
		s.l.in.Add(int64(n))
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
	if closeConn || resp.close || s.c.cfg.NoKeepAlive || s.sent < len(s.wire) {
		s.closeConn()
	}
	res := Result{Code: resp.code, Class: ClassOfStatus(resp.code), Proto: 1}
	if res.Class == OK && len(s.r.Checks) > 0 {
		var ok bool
		if ok, s.scratch = s.r.checkResponse(res.Code, s.body.buf, &s.v, s.scratch); !ok {
			res.Class = CheckFailed
		}
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
	s.finish(Result{Code: s.p.resp.code, Class: class, Proto: protoIf(s.p.resp.code)})
}

// failBeforeAnswer drops the connection after an error that came before
// one byte of a response. On a reused connection the server most likely
// closed it while idle: an idempotent request is then sent once more, on
// a fresh connection, as net/http does.
func (s *h1Sender) failBeforeAnswer(err error) {
	s.off()
	s.closeConn()
	if s.wasReused && !s.retried && idempotent(s.r.Method) && s.ctx.Err() == nil {
		s.retried = true
		s.begin()
		return
	}
	s.finish(Result{Class: classify(err, s.ctx.Err() != nil)})
}

func (s *h1Sender) closeConn() {
	if s.fd >= 0 {
		s.l.release(s.fd)
		s.fd = -1
	}
}

func (s *h1Sender) finish(r Result) {
	done := s.done
	s.done = nil
	done(r)
}

// loopSet is a Client's loops, started when its first sender needs them.
type loopSet struct {
	once sync.Once
	list []*loop
}

// loops returns the Client's loops, one per CPU surge may run on.
func (c *Client) loops() []*loop {
	c.lp.once.Do(func() {
		n := runtime.NumCPU()
		for range n {
			l, err := newLoop(c, max(maxDialing/n, 64))
			if err != nil {
				break // fewer loops, or none: then net/http carries the load
			}
			c.lp.list = append(c.lp.list, l)
		}
	})
	return c.lp.list
}

// stopLoops stops the loops and closes their connections.
func (c *Client) stopLoops() {
	c.lp.once.Do(func() {})
	for _, l := range c.lp.list {
		l.stop()
	}
	c.lp.list = nil
}

// loopTotals sums the loops' byte and connection counts.
func (c *Client) loopTotals() (in, out int64, open int) {
	c.lp.once.Do(func() {})
	for _, l := range c.lp.list {
		i, o, n := l.totals()
		in, out, open = in+i, out+o, open+n
	}
	return in, out, open
}

// fifo is a queue of senders.
type fifo struct {
	items []*h1Sender
	head  int
}

func (q *fifo) len() int { return len(q.items) - q.head }

func (q *fifo) push(s *h1Sender) {
	if q.head > 0 && q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	}
	q.items = append(q.items, s)
}

func (q *fifo) pop() *h1Sender {
	s := q.items[q.head]
	q.items[q.head] = nil
	q.head++
	return s
}

// target is where a loop sender connects: an address resolved once per
// Client.
type target struct {
	family int
	ap     netip.AddrPort
}

// sockaddr returns the address for connect; each call its own, as
// unix.Connect writes into it.
func (t *target) sockaddr() unix.Sockaddr {
	if t.family == unix.AF_INET {
		return &unix.SockaddrInet4{Port: int(t.ap.Port()), Addr: t.ap.Addr().As4()}
	}
	return &unix.SockaddrInet6{Port: int(t.ap.Port()), Addr: t.ap.Addr().As16()}
}

// targets resolves each host:port once.
type targets struct {
	mu   sync.Mutex
	byHP map[string]targetOrErr
}

type targetOrErr struct {
	t   *target
	err error
}

// get returns the address to connect to for hostPort. A name that
// resolves to several addresses is tried through d, as net.Dial does, and
// the address that answered is kept; when none does, the first is.
func (ts *targets) get(hostPort string, d *dialer) (*target, error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if r, ok := ts.byHP[hostPort]; ok {
		return r.t, r.err
	}
	t, err := resolveTarget(hostPort, d)
	if ts.byHP == nil {
		ts.byHP = make(map[string]targetOrErr)
	}
	ts.byHP[hostPort] = targetOrErr{t, err}
	return t, err
}

func resolveTarget(hostPort string, d *dialer) (*target, error) {
	host, portStr, err := net.SplitHostPort(hostPort)
	if err != nil {
		return nil, err
	}
	port, err := net.LookupPort("tcp", portStr)
	if err != nil {
		return nil, err
	}
	var ip netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		ip = a
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err != nil || len(ips) == 0 {
			return nil, fmt.Errorf("resolving %s: %v", host, err)
		}
		ip = ips[0]
		if len(ips) > 1 {
			if c, err := d.dial(ctx, "tcp", hostPort); err == nil {
				if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
					ip = a.AddrPort().Addr()
				}
				c.Close()
			}
		}
	}
	ip = ip.Unmap()
	ap := netip.AddrPortFrom(ip, uint16(port))
	if ip.Is4() {
		return &target{family: unix.AF_INET, ap: ap}, nil
	}
	return &target{family: unix.AF_INET6, ap: ap}, nil
}
