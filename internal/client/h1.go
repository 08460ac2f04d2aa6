package client

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// h1Worker is the fast path for plain-text HTTP/1.1: the worker owns one
// keep-alive connection, writes a request serialized once, and parses the
// response on its own goroutine. net/http's Transport hands every request
// to two connection goroutines and back; skipping those hops more than
// doubles the requests one core can send, which is what lets surge keep up
// with wrk. Responses are parsed by readResponse, which handles chunked
// bodies, Connection: close, HTTP/1.0, interim and bodiless statuses the
// way net/http does, without allocating.
type h1Worker struct {
	c       *Client
	r       *Request
	addr    string // host:port to dial
	method  string
	wire    []byte // the serialized request (shared), when not templated
	head    tmpl   // the request head without Content-Length, when templated
	v       vars
	buf     []byte // a templated request, rendered
	bodyBuf []byte
	body    capped // the response body, when a check reads it
	scratch []byte
	conn    net.Conn
	cc      *countConn   // conn, to count the bytes ready reads around it
	ready   *readyWaiter // nil where unavailable: then br is kept
	first   prefixed     // the first bytes of a response, then conn
	br      *bufio.Reader
	stopped func() bool // unregisters the context watch of conn
	reused  bool        // conn has carried a request before
}

// newH1Worker returns a fast-path worker for r. All workers of one
// request share its serialized bytes, unless it uses template variables.
func (c *Client) newH1Worker(r *Request, worker int) *h1Worker {
	w := &h1Worker{c: c, r: r, addr: canonicalAddr(r), method: r.Method,
		v: vars{run: c.runID, user: worker}, body: capped{max: c.maxBody()}}
	if r.templated {
		w.head = c.headTemplate(r)
		return w
	}
	c.wireMu.Lock()
	wire, ok := c.wires[r]
	if !ok {
		wire = c.serialize(r)
		c.wires[r] = wire
	}
	c.wireMu.Unlock()
	w.wire = wire
	return w
}

// headTemplate is the request head of a templated request, up to (not
// including) Content-Length and the blank line.
func (c *Client) headTemplate(r *Request) tmpl {
	lit := func(s string) seg { return seg{lit: []byte(s)} }
	t := tmpl{lit(r.Method + " ")}
	t = append(t, r.uri...)
	t = append(t, lit(" HTTP/1.1\r\nHost: "+hostHeader(r)+"\r\n"))
	if r.Header.Get("User-Agent") == "" {
		t = append(t, lit("User-Agent: "+userAgent+"\r\n"))
	}
	for _, h := range r.headers {
		if k := http.CanonicalHeaderKey(h.name); k == "Host" || k == "Content-Length" || k == "Connection" && c.cfg.NoKeepAlive {
			continue
		}
		t = append(t, lit(h.name+": "))
		t = append(t, h.value...)
		t = append(t, lit("\r\n"))
	}
	if c.cfg.NoKeepAlive {
		t = append(t, lit("Connection: close\r\n"))
	}
	return t
}

// render renders a templated request into w.buf.
func (w *h1Worker) render() []byte {
	w.buf = w.head.appendTo(w.buf[:0], &w.v)
	w.bodyBuf = w.r.body.appendTo(w.bodyBuf[:0], &w.v)
	if len(w.bodyBuf) > 0 || hasBodyMethod(w.method) {
		w.buf = append(w.buf, "Content-Length: "...)
		w.buf = strconv.AppendInt(w.buf, int64(len(w.bodyBuf)), 10)
		w.buf = append(w.buf, "\r\n"...)
	}
	w.buf = append(w.buf, "\r\n"...)
	return append(w.buf, w.bodyBuf...)
}

func hasBodyMethod(m string) bool {
	return m == http.MethodPost || m == http.MethodPut || m == http.MethodPatch
}

func hostHeader(r *Request) string {
	if h := r.Header.Get("Host"); h != "" {
		return h
	}
	return r.URL.Host
}

// serialize renders r as HTTP/1.1 bytes.
func (c *Client) serialize(r *Request) []byte {
	host := hostHeader(r)
	var b bytes.Buffer
	b.WriteString(r.Method)
	b.WriteByte(' ')
	b.WriteString(r.URL.RequestURI())
	b.WriteString(" HTTP/1.1\r\nHost: ")
	b.WriteString(host)
	b.WriteString("\r\n")
	if r.Header.Get("User-Agent") == "" {
		b.WriteString("User-Agent: " + userAgent + "\r\n")
	}
	for name, values := range r.Header {
		if k := http.CanonicalHeaderKey(name); k == "Host" || k == "Content-Length" || k == "Connection" && c.cfg.NoKeepAlive {
			continue
		}
		for _, v := range values {
			b.WriteString(name)
			b.WriteString(": ")
			b.WriteString(v)
			b.WriteString("\r\n")
		}
	}
	if c.cfg.NoKeepAlive {
		b.WriteString("Connection: close\r\n")
	}
	if len(r.Body) > 0 || hasBodyMethod(r.Method) {
		b.WriteString("Content-Length: ")
		b.WriteString(strconv.Itoa(len(r.Body)))
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	b.Write(r.Body)
	return b.Bytes()
}

// canonicalAddr returns host:port for a URL, adding the default port.
func canonicalAddr(r *Request) string {
	port := r.URL.Port()
	if port == "" {
		port = "80"
	}
	return net.JoinHostPort(r.URL.Hostname(), port)
}

// Do sends one request over the worker's connection, dialing first if it
// has none. A request that fails on a reused connection before any byte
// of a response arrived is retried once on a fresh one, as net/http does:
// the server may have closed an idle keep-alive connection.
func (w *h1Worker) Do(ctx context.Context) Result {
	w.v.n++
	if w.r.templated {
		w.wire = w.render()
	}
	res, retry := w.try(ctx)
	if retry && ctx.Err() == nil {
		res, _ = w.try(ctx)
	}
	return res
}

// try sends the request, waits for the first bytes of the answer and has
// receive parse them.
func (w *h1Worker) try(ctx context.Context) (Result, bool) {
	if w.conn == nil {
		if err := w.dial(ctx); err != nil {
			return Result{Class: classify(err, ctx.Err() != nil)}, false
		}
	}
	reused := w.reused
	w.reused = true
	if err := w.send(); err != nil {
		return w.failBeforeAnswer(ctx, err, reused)
	}
	if w.ready == nil {
		return w.receive(ctx, reused)
	}
	// Wait without a buffer; take one only once the answer is here.
	chunk, n, err := w.ready.read()
	if err != nil {
		return w.failBeforeAnswer(ctx, err, reused)
	}
	w.startReading(chunk, n)
	res, retry := w.receive(ctx, reused)
	w.releaseReader()
	w.first = prefixed{}
	chunks.Put(chunk)
	return res, retry
}

// send writes the request, with the deadline for the whole exchange.
func (w *h1Worker) send() error {
	w.conn.SetDeadline(time.Now().Add(w.c.cfg.Timeout))
	_, err := w.conn.Write(w.wire)
	return err
}

// startReading sets w.br to read the n bytes of chunk, then the connection.
func (w *h1Worker) startReading(chunk *[]byte, n int) {
	w.cc.in.Add(int64(n))
	w.first = prefixed{data: (*chunk)[:n], rest: w.conn}
	w.br = getReader(&w.first)
}

// failBeforeAnswer drops the connection after an error that came before one
// byte of a response. On a reused connection the server most likely closed
// it while idle: an idempotent request may then be retried.
func (w *h1Worker) failBeforeAnswer(ctx context.Context, err error, reused bool) (Result, bool) {
	w.drop()
	return Result{Class: classify(err, ctx.Err() != nil)}, reused && idempotent(w.method)
}

// receive parses the response from w.br and checks it.
func (w *h1Worker) receive(ctx context.Context, reused bool) (Result, bool) {
	if _, err := w.br.Peek(1); err != nil {
		return w.failBeforeAnswer(ctx, err, reused)
	}
	var sink io.Writer
	if w.r.needsBody {
		w.body.buf = w.body.buf[:0]
		sink = &w.body
	}
	resp, err := readResponse(w.br, w.method == http.MethodHead, sink)
	if err != nil {
		w.drop()
		return Result{Code: resp.code, Class: classify(err, ctx.Err() != nil), Proto: protoIf(resp.code)}, false
	}
	if resp.close || w.c.cfg.NoKeepAlive || w.br.Buffered() > 0 {
		// Bytes beyond the response are a server speaking out of turn:
		// the connection cannot be trusted for the next request.
		w.drop()
	}
	res := Result{Code: resp.code, Class: ClassOfStatus(resp.code), Proto: 1}
	if res.Class == OK && len(w.r.Checks) > 0 {
		var ok bool
		if ok, w.scratch = w.r.checkResponse(res.Code, w.body.buf, &w.v, w.scratch); !ok {
			res.Class = CheckFailed
		}
	}
	return res, false
}

// protoIf returns 1 when a status line was read.
func protoIf(code int) int {
	if code > 0 {
		return 1
	}
	return 0
}

// readers holds the buffers workers parse responses with, and chunks the
// buffers the first bytes of a response are read into; a worker holds them
// only while a response is arriving.
var (
	readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4<<10) }}
	chunks  = sync.Pool{New: func() any { b := make([]byte, 4<<10); return &b }}
)

func getReader(r io.Reader) *bufio.Reader {
	br := readers.Get().(*bufio.Reader)
	br.Reset(r)
	return br
}

// prefixed reads data, then rest.
type prefixed struct {
	data []byte
	rest io.Reader
}

func (p *prefixed) Read(b []byte) (int, error) {
	if len(p.data) > 0 {
		n := copy(b, p.data)
		p.data = p.data[n:]
		return n, nil
	}
	return p.rest.Read(b)
}

func (w *h1Worker) releaseReader() {
	if w.br != nil {
		w.br.Reset(nil)
		readers.Put(w.br)
		w.br = nil
	}
}

func (w *h1Worker) dial(ctx context.Context) error {
	w.c.conns.dials.Add(1)
	conn, err := w.c.dial.dial(ctx, "tcp", w.addr)
	if err != nil {
		w.c.conns.dialErrors.Add(1)
		return err
	}
	w.cc = w.c.conns.wrap(conn)
	w.conn = w.cc
	w.ready = newReadyWaiter(conn)
	if w.ready == nil {
		w.br = bufio.NewReaderSize(w.conn, 4<<10)
	}
	w.reused = false
	// Canceling ctx (end of grace, Ctrl-C) interrupts a blocked read.
	c := w.conn
	w.stopped = context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	return nil
}

// drop closes the connection; the next request dials a new one.
func (w *h1Worker) drop() {
	if w.conn != nil {
		w.stopped()
		w.conn.Close()
		w.conn = nil
	}
}

func idempotent(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}
