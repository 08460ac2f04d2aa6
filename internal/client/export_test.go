package client

import (
	"bufio"
	"context"
	"errors"
	"io"

	"github.com/surgeload/surge/internal/tmpl"
)

// ReadResponse exposes the HTTP/1.x response parser to the black-box
// tests: it feeds the parser what br holds, piece by piece, and consumes
// exactly the bytes of one response.
func ReadResponse(br *bufio.Reader, head bool, body io.Writer) (code int, close bool, bodyLen int64, err error) {
	var p h1Parser
	p.reset(head, body)
	for {
		if _, err := br.Peek(1); err != nil {
			if errors.Is(err, io.EOF) {
				err = p.end()
			}
			return int(p.resp.code), p.resp.close, p.resp.bodyLen, err
		}
		piece, _ := br.Peek(br.Buffered())
		n, done, err := p.feed(piece)
		br.Discard(n)
		if err != nil || done {
			return int(p.resp.code), p.resp.close, p.resp.bodyLen, err
		}
	}
}

// Bound is a Sender bound to one request and the built-in variables of one
// user, the way the tests drive senders: {{n}} counts its exchanges.
type Bound struct {
	s Sender
	v tmpl.Values
	x Exchange
}

// Bind returns worker's sender for r, bound to it.
func Bind(c *Client, r *Request, worker int) *Bound {
	b := &Bound{s: c.NewSender(worker, r), v: tmpl.Values{Run: c.RunID(), User: worker}}
	b.x = Exchange{Req: r, Vals: &b.v}
	return b
}

// SetCookie sets the Cookie value (a jar's) the next exchanges carry.
func (b *Bound) SetCookie(v string) { b.x.Cookie = []byte(v) }

// Do sends the next exchange and waits for it.
func (b *Bound) Do(ctx context.Context) Result {
	b.v.N++
	return b.s.Do(ctx, &b.x)
}

// Starter reports whether the sender runs on the event loops.
func (b *Bound) Starter() bool { _, ok := b.s.(Starter); return ok }

// Start starts the next exchange; the sender must be a Starter.
func (b *Bound) Start(ctx context.Context, done func(Result)) {
	b.v.N++
	b.s.(Starter).Start(ctx, &b.x, done)
}

// SetH2Windows sets the receive windows HTTP/2 connections grant servers
// from now on, and returns a func that restores them.
func SetH2Windows(stream, conn uint32) (restore func()) {
	s, c := h2StreamWindow, h2ConnWindow
	h2StreamWindow, h2ConnWindow = stream, conn
	return func() { h2StreamWindow, h2ConnWindow = s, c }
}
