package client

import (
	"context"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2Sender sends one user's requests as streams on the HTTP/2 connection
// of its slot (see h2Slot). It is a Starter: done is called on the
// connection's reader goroutine, or on a timer's when the request times
// out or the run ends. Its exchange fields are guarded by the mutex of
// the slot the exchange runs on.
type h2Sender struct {
	c      *Client
	worker int
	f      *h2Form
	sl     *h2Slot

	x       *Exchange
	ctx     context.Context
	done    func(Result)
	fields  []hpack.HeaderField // the header list of a varying request
	bodyBuf []byte              // the body of a varying request

	// The exchange under way, under sl.mu.
	state     h2State
	conn      *h2Conn
	id        uint32
	fieldsOut []hpack.HeaderField
	static    bool // fieldsOut is the form's, which never varies
	enc       struct {
		block []byte // fieldsOut encoded on conn, when gen was conn's encGen
		conn  *h2Conn
		gen   uint64
		form  *h2Form
	}
	body       []byte // the request body to send
	sent       int    // of body
	sendWin    int64
	blocked    bool   // waits for window to send its body
	unacked    uint32 // body bytes received since the stream's last WINDOW_UPDATE
	code       int
	headed     bool // the final response's header block was read
	interim    int  // 1xx responses read
	listSize   int  // of the header list being read, as HTTP/2 counts it
	contentLen int64
	bodyLen    int64
	retryAfter bool
	keep       capped // the response body, when the request keeps it
	hdr        []byte // the response header lines, when the request keeps them
	timer      *time.Timer
	writes     uint64    // the connection's writes ended when the stream opened
	stale      int       // firings of timer due to exchanges already over: see stopTimer
	prev, next *h2Sender // in the slot's wait queue

	watched context.Context
	unwatch func() bool

	res     chan Result // Do's
	deliver func(Result)
}

// h2State is where a sender's exchange is.
type h2State uint8

const (
	h2Idle   h2State = iota // no exchange
	h2Queued                // waiting for a connection or a stream
	h2Open                  // a stream on conn
)

func (c *Client) newH2Sender(worker int) *h2Sender {
	return &h2Sender{c: c, worker: worker, keep: capped{max: c.maxBody()}}
}

// Start implements Starter: it begins one exchange, and done is called
// with its outcome on a goroutine of the Client's. ctx is the run's stop
// signal.
func (s *h2Sender) Start(ctx context.Context, x *Exchange, done func(Result)) {
	if ctx.Err() != nil {
		go done(Result{Class: Canceled})
		return
	}
	if s.f == nil || s.f.r != x.Req {
		s.f = s.c.h2FormOf(x.Req)
		s.sl = s.f.host.slots[uint(s.worker)%uint(len(s.f.host.slots))]
	}
	fields, body := s.headerFields(x)
	if s.watched != ctx {
		if s.unwatch != nil {
			s.unwatch()
		}
		s.watched, s.unwatch = ctx, context.AfterFunc(ctx, s.canceled)
	}
	timeout := x.Req.Timeout
	if timeout <= 0 {
		timeout = s.c.cfg.Timeout
	}
	sl := s.sl
	sl.mu.Lock()
	if sl.closed {
		sl.mu.Unlock()
		go done(Result{Class: Canceled})
		return
	}
	s.x, s.ctx, s.done = x, ctx, done
	s.fieldsOut, s.body, s.sent = fields, body, 0
	s.unacked, s.code, s.headed, s.contentLen, s.bodyLen, s.retryAfter = 0, 0, false, -1, 0, false
	s.interim, s.listSize = 0, 0
	if x.Req.KeepBody {
		s.keep.buf = s.keep.buf[:0]
	}
	s.hdr = s.hdr[:0]
	if s.timer == nil {
		s.timer = time.AfterFunc(timeout, s.expired)
	} else {
		s.timer.Reset(timeout)
	}
	if c := sl.conn; c.canOpen() && sl.wait.len() == 0 {
		c.open(s)
		c.kick()
	} else {
		s.state = h2Queued
		sl.wait.push(s)
		sl.pump()
	}
	sl.mu.Unlock()
}

// Do implements Sender, for callers that wait.
func (s *h2Sender) Do(ctx context.Context, x *Exchange) Result {
	if s.res == nil {
		s.res = make(chan Result, 1)
		s.deliver = func(r Result) { s.res <- r }
	}
	s.Start(ctx, x, s.deliver)
	return <-s.res
}

// expired ends the exchange when its timeout has passed.
func (s *h2Sender) expired() { s.abort(Timeout) }

// canceled ends the exchange under way when the run's context ends.
func (s *h2Sender) canceled() { s.abort(Canceled) }

// abort ends the exchange under way, if there is one, with class: a
// stream is reset (CANCEL), a waiting request leaves the queue.
func (s *h2Sender) abort(class Class) {
	sl := s.sl
	if sl == nil {
		return
	}
	sl.mu.Lock()
	if class == Timeout && s.stale > 0 {
		s.stale--
		sl.mu.Unlock() // the timer of an exchange already over
		return
	}
	if class == Canceled && (s.ctx == nil || s.ctx.Err() == nil) {
		sl.mu.Unlock() // the context of an exchange already over
		return
	}
	var res Result
	switch s.state {
	case h2Idle:
		sl.mu.Unlock()
		return
	case h2Queued:
		sl.wait.remove(s)
		s.state = h2Idle
		res = Result{Class: class}
	case h2Open:
		c := s.conn
		if class == Timeout && c.flushing && c.writes == s.writes {
			// No write has ended since the stream opened, and one is under
			// way: the server no longer reads. The connection is dropped
			// (its other streams fail, the next request dials).
			c.dead = true
			c.nc.Close()
		}
		c.fr.WriteRSTStream(s.id, http2.ErrCodeCancel)
		res = s.partial(class)
		c.drop(s)
		sl.pump()
		c.kick()
	}
	if class != Timeout {
		s.stopTimer()
	}
	sl.mu.Unlock()
	s.finish(res)
}

// partial is the result of an exchange cut short with class, keeping the
// status of a response begun.
func (s *h2Sender) partial(class Class) Result {
	if s.headed {
		return Result{Code: s.code, Class: class, Proto: 2}
	}
	return Result{Class: class}
}

// stopTimer stops the timer of an exchange that ends before its timeout.
// Called at most once per exchange, and never after the timer ended it,
// so a timer that will not stop has fired and its call is on its way,
// blocked on the slot's mutex: abort will know it by stale. Locked.
func (s *h2Sender) stopTimer() {
	if s.timer != nil && !s.timer.Stop() {
		s.stale++
	}
}

// keepField appends a response header line.
func (s *h2Sender) keepField(f hpack.HeaderField) {
	s.hdr = append(append(append(append(s.hdr, f.Name...), ": "...), f.Value...), "\r\n"...)
}

func (s *h2Sender) finish(r Result) {
	done := s.done
	s.done = nil
	done(r)
}

// h2Queue is a FIFO of senders, linked through their prev and next.
type h2Queue struct {
	first, last *h2Sender
	n           int
}

func (q *h2Queue) len() int { return q.n }

func (q *h2Queue) push(s *h2Sender) {
	s.prev, s.next = q.last, nil
	if q.last != nil {
		q.last.next = s
	} else {
		q.first = s
	}
	q.last = s
	q.n++
}

func (q *h2Queue) pop() *h2Sender {
	s := q.first
	q.remove(s)
	return s
}

func (q *h2Queue) remove(s *h2Sender) {
	if s.prev != nil {
		s.prev.next = s.next
	} else {
		q.first = s.next
	}
	if s.next != nil {
		s.next.prev = s.prev
	} else {
		q.last = s.prev
	}
	s.prev, s.next = nil, nil
	q.n--
}
