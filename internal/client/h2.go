package client

import (
	"context"
	"crypto/tls"
	"net"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/net/http2/hpack"

	"github.com/surgeload/surge/internal/tmpl"
)

// HTTP/2 (Protocol HTTP2) runs on surge's own client, over the frames and
// HPACK of golang.org/x/net/http2, not net/http's Transport: each
// connection has one goroutine that reads its frames and completes the
// streams they end by calling the senders' done, and the requests started
// meanwhile (most of them from those very calls) are written together when
// it has nothing left to read. See h2conn.go for a connection, h2send.go
// for a user's sender.
//
// The shape is explicit: every host gets exactly N connections, which the
// users share (user i takes connection i mod N), and each carries at most
// M streams at once (fewer if the server allows fewer); a request beyond
// waits for a stream, and the wait counts in its latency. See h2Shape.

// DefaultH2Streams is the streams per HTTP/2 connection when neither
// Config.H2Conns nor Config.H2Streams is set.
const DefaultH2Streams = 100

// h2Shape returns the HTTP/2 connections per host and streams per
// connection of cfg: those it sets, the one not set following from the
// other and cfg.Conns (the expected concurrency); when neither is set,
// DefaultH2Streams streams per connection and as many connections as the
// users need.
func h2Shape(cfg Config) (conns, streams int) {
	conns, streams = cfg.H2Conns, cfg.H2Streams
	want := max(cfg.Conns, 1)
	switch {
	case conns > 0 && streams > 0:
	case conns > 0:
		streams = max((want+conns-1)/conns, 1)
	default:
		if streams <= 0 {
			streams = DefaultH2Streams
		}
		conns = max((want+streams-1)/streams, 1)
	}
	return conns, streams
}

// h2Host is one origin's connections.
type h2Host struct {
	addr  string      // host:port to dial
	tls   *tls.Config // nil for h2c
	slots []*h2Slot
}

// h2Hosts holds the Client's HTTP/2 origins.
type h2Hosts struct {
	mu     sync.Mutex
	byKey  map[string]*h2Host
	closed bool
	wg     sync.WaitGroup  // dialing and reading goroutines
	ctx    context.Context // ends at Close: aborts dials
	stop   context.CancelFunc
}

// h2HostOf returns the connections of r's origin, making them on first use.
func (c *Client) h2HostOf(r *Request) *h2Host {
	hs := &c.h2
	key := r.URL.Scheme + "://" + r.addr
	hs.mu.Lock()
	defer hs.mu.Unlock()
	if h, ok := hs.byKey[key]; ok {
		return h
	}
	if hs.byKey == nil {
		hs.byKey = make(map[string]*h2Host)
		hs.ctx, hs.stop = context.WithCancel(context.Background())
	}
	h := &h2Host{addr: r.addr}
	if r.URL.Scheme == "https" {
		h.tls = c.tlsConfig(r.URL.Hostname(), "h2")
	}
	n, m := h2Shape(c.cfg)
	for range n {
		h.slots = append(h.slots, &h2Slot{c: c, host: h, streams: m, closed: hs.closed})
	}
	hs.byKey[key] = h
	return h
}

// closeH2 closes every HTTP/2 connection and fails what waits for one,
// then waits for the connections' goroutines to end.
func (c *Client) closeH2() {
	hs := &c.h2
	hs.mu.Lock()
	hs.closed = true
	hosts := make([]*h2Host, 0, len(hs.byKey))
	for _, h := range hs.byKey {
		hosts = append(hosts, h)
	}
	if hs.stop != nil {
		hs.stop()
	}
	hs.mu.Unlock()
	for _, h := range hosts {
		for _, sl := range h.slots {
			sl.close()
		}
	}
	hs.wg.Wait()
}

// h2Form is a request's HTTP/2 form for one Client: its origin, and its
// header fields when they never change.
type h2Form struct {
	r      *Request
	host   *h2Host
	fields []hpack.HeaderField // the whole header list, when not templated
}

// h2FormOf returns r's form, making it on first use.
func (c *Client) h2FormOf(r *Request) *h2Form {
	if f, ok := c.h2forms.Load(r); ok {
		return f.(*h2Form)
	}
	f := &h2Form{r: r, host: c.h2HostOf(r)}
	if !r.templated {
		f.fields = f.render(nil, &tmpl.Values{}, nil, len(r.Body))
	}
	actual, _ := c.h2forms.LoadOrStore(r, f)
	return actual.(*h2Form)
}

// render appends the header list of one exchange to dst.
func (f *h2Form) render(dst []hpack.HeaderField, v *tmpl.Values, cookie []byte, bodyLen int) []hpack.HeaderField {
	r := f.r
	dst = append(dst,
		hpack.HeaderField{Name: ":method", Value: r.Method},
		hpack.HeaderField{Name: ":scheme", Value: r.URL.Scheme},
		hpack.HeaderField{Name: ":authority", Value: hostHeader(r)},
		hpack.HeaderField{Name: ":path", Value: r.uri.String(v)})
	if r.Header.Get("User-Agent") == "" {
		dst = append(dst, hpack.HeaderField{Name: "user-agent", Value: userAgent})
	}
	for _, h := range r.headers {
		name := strings.ToLower(h.name)
		switch name {
		case "host", "content-length", "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te":
			// Host is :authority; the others are HTTP/1.1's own, which
			// HTTP/2 forbids.
			continue
		}
		dst = append(dst, hpack.HeaderField{Name: name, Value: h.value.String(v)})
	}
	if len(cookie) > 0 {
		dst = append(dst, hpack.HeaderField{Name: "cookie", Value: string(cookie)})
	}
	if bodyLen > 0 || hasBodyMethod(r.Method) {
		dst = append(dst, hpack.HeaderField{Name: "content-length", Value: strconv.Itoa(bodyLen)})
	}
	return dst
}

// A header list of one exchange is rendered afresh when the request
// varies; headerFields returns the fields to send and the body.
func (s *h2Sender) headerFields(x *Exchange) ([]hpack.HeaderField, []byte) {
	f := s.f
	s.static = !f.r.templated && len(x.Cookie) == 0
	if !f.r.templated {
		if len(x.Cookie) == 0 {
			return f.fields, f.r.Body
		}
		s.fields = append(s.fields[:0], f.fields...)
		s.fields = append(s.fields, hpack.HeaderField{Name: "cookie", Value: string(x.Cookie)})
		return s.fields, f.r.Body
	}
	s.bodyBuf = f.r.body.Render(s.bodyBuf[:0], x.Vals)
	s.fields = f.render(s.fields[:0], x.Vals, x.Cookie, len(s.bodyBuf))
	return s.fields, s.bodyBuf
}

// errNoH2 is a TLS server that did not choose HTTP/2 through ALPN.
var errNoH2 = &net.OpError{Op: "alpn", Net: "tcp", Err: malformedf("the server does not speak HTTP/2 (ALPN chose none)")}

// malformedf is an ErrMalformed error with a message.
func malformedf(msg string) error { return &malformed{msg} }

type malformed struct{ msg string }

func (e *malformed) Error() string { return e.msg }
func (e *malformed) Unwrap() error { return ErrMalformed }
