//go:build linux

package client

import (
	"context"
	"errors"
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
	c      *Client // whose loop this is
	epfd   int
	wakefd int // an eventfd that post writes to wake the loop
	buf    []byte
	events []unix.EpollEvent
	byFd   []*h1Sender // the sender that owns each adopted fd
	batch  []loopMsg
	// now is when the last epoll_wait returned: the time the events it
	// reported arrived, to the precision of one round of the loop (one
	// clock read for up to len(events) responses).
	now mono

	// The deadline queue: senders connecting or with an exchange on the
	// wire, by deadline (see enqueue).
	first, last *h1Sender

	in, out atomic.Int64 // bytes read and written
	open    atomic.Int64 // connections adopted and not closed

	ctx     context.Context // the run's stop signal, watched once per loop
	unwatch func() bool

	// Connects under way, at most maxConnecting; the senders beyond wait.
	connects      int
	maxConnecting int
	waiting       fifo
	backoff       sleepers // senders waiting to connect again after a failure

	// TLS handshakes under way (see handshake), at most maxHandshaking;
	// the senders beyond wait in hsWaiting.
	handshakes int
	hsWaiting  fifo

	mu       sync.Mutex
	inbox    []loopMsg
	sleeping bool // the loop is (about to be) in epoll_wait
	stopping bool
	done     chan struct{}
}

type msgKind uint8

const (
	msgStart     msgKind = iota // start an exchange
	msgCancel                   // ctx ended: cancel the exchanges on the wire
	msgHandshook                // a TLS connect ended: see handshake
)

type loopMsg struct {
	kind msgKind
	s    *h1Sender
	x    *Exchange
	ctx  context.Context
	done func(Result)
	hs   *handshaken
}

// keepMsgs is the most messages a loop's emptied inbox keeps room for.
const keepMsgs = 1024

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
		switch m.kind {
		case msgStart:
			m.done(Result{Class: Canceled}) // the Client was closed
		case msgHandshook:
			if m.hs.err == nil {
				unix.Close(m.hs.w.fd)
			}
			if m.s.done != nil {
				m.s.finish(Result{Class: Canceled})
			}
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
		// The inbox becomes the batch, and the spent batch the inbox: no
		// copy. Users starting by thousands at once fill it far beyond
		// its usual few messages; that room is not kept (see keepMsgs).
		l.batch, l.inbox = l.inbox, l.batch[:0]
		if cap(l.inbox) > keepMsgs {
			l.inbox = nil
		}
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
		l.now = monoNow()
		l.mu.Lock()
		l.sleeping = false
		l.mu.Unlock()
		if err != nil && !errors.Is(err, unix.EINTR) {
			// Only a broken epoll descriptor, which would be a bug, fails
			// here: fail what is on the wire, and back off rather than spin.
			l.expire(0, true)
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
		l.expire(monoNow(), false)
	}
}

// waitMillis is how long epoll_wait may sleep: until the first deadline,
// rounded up, or for ever when nothing is on the wire.
func (l *loop) waitMillis() int {
	var next mono
	switch {
	case l.first != nil && l.backoff.len() > 0:
		next = l.first.deadline
		if w := l.backoff.peek().notBefore; w < next {
			next = w
		}
	case l.first != nil:
		next = l.first.deadline
	case l.backoff.len() > 0:
		next = l.backoff.peek().notBefore
	default:
		return -1
	}
	d := next.sub(monoNow())
	if d <= 0 {
		return 0
	}
	return int((d + time.Millisecond - 1) / time.Millisecond)
}

// expire fails the exchanges whose deadline has passed (all of them when
// all is true).
func (l *loop) expire(now mono, all bool) {
	for l.first != nil && (all || now >= l.first.deadline) {
		l.first.fail(Timeout)
	}
	for l.backoff.len() > 0 && now >= l.backoff.peek().notBefore {
		l.connect(l.backoff.pop())
	}
}

// enqueue puts s in the deadline queue, in order. Most requests of a run
// share one timeout, so s nearly always goes last; a step with a shorter
// timeout of its own walks back to its place.
func (l *loop) enqueue(s *h1Sender) {
	after := l.last
	for after != nil && after.deadline > s.deadline {
		after = after.prev
	}
	s.prev = after
	if after != nil {
		s.next = after.next
		after.next = s
	} else {
		s.next = l.first
		l.first = s
	}
	if s.next != nil {
		s.next.prev = s
	} else {
		l.last = s
	}
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
		s.start(m.ctx, m.x, m.done)
	case msgHandshook:
		l.handshook(s, m.hs)
	case msgCancel:
		if m.ctx != l.ctx {
			return
		}
		for l.first != nil {
			l.first.fail(Canceled)
		}
		for l.waiting.len() > 0 {
			l.waiting.pop().finish(Result{Class: Canceled})
		}
		for l.hsWaiting.len() > 0 {
			l.hsWaiting.pop().finish(Result{Class: Canceled})
		}
		for l.backoff.len() > 0 {
			l.backoff.pop().finish(Result{Class: Canceled})
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
	if monoNow() < s.notBefore { // the last connect failed: back off
		l.backoff.push(s)
		return
	}
	if s.to.tls == nil && l.connects >= l.maxConnecting {
		l.waiting.push(s)
		return
	}
	if s.to.tls != nil {
		if l.handshakes >= maxHandshaking {
			l.hsWaiting.push(s)
			return
		}
		s.l.c.conns.dials.Add(1)
		l.handshakes++
		s.state = handshaking
		l.handshake(s)
		return
	}
	s.l.c.conns.dials.Add(1)
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
	if err != nil && localExhaustion(err) {
		// Out of descriptors or buffers: nothing reached the target. The
		// request waits and tries again (backing off) until its timeout.
		s.l.c.conns.dialErrors.Add(1)
		s.dialFails++
		s.notBefore = monoNow().add(dialBackoff(int(s.dialFails)))
		if s.notBefore.sub(s.began) > s.timeout() {
			s.finish(Result{Class: Local})
			return
		}
		l.backoff.push(s)
		return
	}
	if err != nil {
		// Failed at once (refused, or out of descriptors): no slot taken.
		l.connectFailed(s, Other, err)
		return
	}
	l.connects++
	s.fd = int32(fd)
	s.state = connecting
	s.deadline = monoNow().add(s.timeout())
	l.enqueue(s)
}

// connectDone learns how s's connect went, when its socket says so.
func (l *loop) connectDone(s *h1Sender) {
	errno, err := unix.GetsockoptInt(int(s.fd), unix.SOL_SOCKET, unix.SO_ERROR)
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
	s.dialFails = 0
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
		s.l.c.conns.dialErrors.Add(1)
		s.dialFails++
		s.notBefore = monoNow().add(dialBackoff(int(s.dialFails)))
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

// watch makes the end of ctx cancel the connects and exchanges under way,
// and the connects still waiting for a slot.
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

// sleepers is a min-heap of senders by notBefore: those backing off after
// a failed connect.
type sleepers struct{ items []*h1Sender }

func (h *sleepers) len() int           { return len(h.items) }
func (h *sleepers) peek() *h1Sender    { return h.items[0] }
func (h *sleepers) less(i, j int) bool { return h.items[i].notBefore < h.items[j].notBefore }

func (h *sleepers) swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }

func (h *sleepers) push(s *h1Sender) {
	h.items = append(h.items, s)
	for i := len(h.items) - 1; i > 0; {
		p := (i - 1) / 2
		if !h.less(i, p) {
			break
		}
		h.swap(i, p)
		i = p
	}
}

func (h *sleepers) pop() *h1Sender {
	s := h.items[0]
	last := len(h.items) - 1
	h.swap(0, last)
	h.items[last] = nil
	h.items = h.items[:last]
	for i := 0; ; {
		c := 2*i + 1
		if c >= len(h.items) {
			break
		}
		if c+1 < len(h.items) && h.less(c+1, c) {
			c++
		}
		if !h.less(c, i) {
			break
		}
		h.swap(i, c)
		i = c
	}
	return s
}
