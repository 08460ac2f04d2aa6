package client

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/surgeload/surge/internal/buildinfo"
)

// Protocol selects the HTTP versions a Client may speak.
type Protocol int

// The protocol choices.
const (
	// Auto speaks HTTP/1.1, over TLS for https:// URLs (offering only
	// http/1.1 through ALPN), each user on a connection of its own.
	Auto Protocol = iota
	// HTTP1 speaks HTTP/1.1 only.
	HTTP1
	// HTTP2 speaks HTTP/2 only: over TLS for https://, and cleartext with
	// prior knowledge (h2c) for http://.
	HTTP2
)

// Config configures a Client.
type Config struct {
	// Timeout bounds each request, from sending it to reading the last
	// byte of the response body.
	Timeout time.Duration
	// Insecure skips TLS certificate verification. TLS is verified by
	// default.
	Insecure bool
	// Protocol selects HTTP/1.1, HTTP/2 or both.
	Protocol Protocol
	// Conns is the number of idle connections kept per host: set it to
	// the expected concurrency so that keep-alive connections are reused
	// rather than closed and redialed.
	Conns int
	// NoKeepAlive opens a new connection for every request.
	NoKeepAlive bool
	// H2Conns and H2Streams shape HTTP/2 (Protocol HTTP2): exactly
	// H2Conns connections to each host, which the users share (user i
	// takes connection i mod H2Conns), each carrying at most H2Streams
	// requests at once; a request beyond waits for a stream, and the wait
	// counts in its latency (a server that allows fewer streams lowers
	// the cap). When only one is set, the other follows from Conns (the
	// expected concurrency); when neither is, DefaultH2Streams streams per
	// connection and as many connections as Conns needs.
	H2Conns   int
	H2Streams int
	// MaxBody caps how many bytes of a response body are kept for
	// response checks (default 1 MiB); bodies are always read to the end
	// and counted.
	MaxBody int
}

// Client sends requests and classifies their outcomes. It is safe for
// concurrent use.
type Client struct {
	cfg   Config
	tr    *http.Transport
	conns *connStats
	dial  *dialer

	runID string // distinguishes this client's {{id}} values

	sessions tls.ClientSessionCache // TLS sessions, shared by every connection

	forms sync.Map // *Request → *h1Form: requests in their HTTP/1.1 form

	h2      h2Hosts  // HTTP/2's connections, by origin
	h2forms sync.Map // *Request → *h2Form: requests in their HTTP/2 form

	lp      loopSet // the event loops of the fast path, where there are some
	targets targets // the fast path's resolved addresses
}

// New builds a Client.
func New(cfg Config) (*Client, error) {
	if cfg.Timeout <= 0 {
		return nil, errors.New("request timeout must be positive")
	}
	sessions := tls.NewLRUClientSessionCache(256)
	stats := newConnStats()
	dialer := newDialer(cfg.Timeout)
	tr := newTransport(cfg, stats, dialer, sessions)
	c := &Client{cfg: cfg, tr: tr, conns: stats, dial: dialer, runID: newRunID(), sessions: sessions}
	return c, nil
}

// newTransport makes the net/http Transport of the HTTP/1.1 requests the
// event loops do not carry: other systems, hosts that did not resolve.
func newTransport(cfg Config, stats *connStats, dialer *dialer, sessions tls.ClientSessionCache) *http.Transport {
	tr := &http.Transport{
		Proxy: nil, // load goes straight to the target, never through a proxy
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			stats.dials.Add(1)
			c, err := dialer.dial(ctx, network, addr)
			if err != nil {
				stats.dialErrors.Add(1)
				return nil, err
			}
			return stats.wrap(c), nil
		},
		TLSClientConfig: &tls.Config{
			InsecureSkipVerify: cfg.Insecure, //nolint:gosec // only with --insecure
			MinVersion:         tls.VersionTLS12,
			ClientSessionCache: sessions,
		},
		TLSHandshakeTimeout: cfg.Timeout,
		MaxIdleConns:        0, // no global cap
		MaxIdleConnsPerHost: max(cfg.Conns, 2),
		IdleConnTimeout:     90 * time.Second,
		DisableKeepAlives:   cfg.NoKeepAlive,
		// Bytes are counted as sent by the server: no transparent gzip.
		DisableCompression: true,
	}
	var p http.Protocols
	p.SetHTTP1(true)
	tr.Protocols = &p
	return tr
}

// tlsConfig is the TLS configuration of connections to serverName that
// offer the ALPN protocols given: verified unless Config.Insecure, and
// resuming sessions from the Client's shared cache.
func (c *Client) tlsConfig(serverName string, alpn ...string) *tls.Config {
	return &tls.Config{
		ServerName:         serverName,
		InsecureSkipVerify: c.cfg.Insecure, //nolint:gosec // only with --insecure
		MinVersion:         tls.VersionTLS12,
		NextProtos:         alpn,
		ClientSessionCache: c.sessions,
	}
}

// Close closes every connection the Client opened. Call it when no request
// is in flight any more.
func (c *Client) Close() {
	c.stopLoops()
	c.closeH2()
	c.tr.CloseIdleConnections()
	c.conns.closeAll()
}

// ConnStats describes the connections a Client has used.
type ConnStats struct {
	Dials      int64 // connections attempted
	DialErrors int64 // attempts that failed
	Open       int   // connections open now
	BytesIn    int64 // bytes read from all connections (headers, bodies, TLS)
	BytesOut   int64 // bytes written to all connections
}

// Conns returns connection and byte counts so far.
func (c *Client) Conns() ConnStats {
	in, out, open := c.conns.totals()
	li, lo, lopen := c.loopTotals()
	in, out, open = in+li, out+lo, open+lopen
	return ConnStats{
		Dials:      c.conns.dials.Load(),
		DialErrors: c.conns.dialErrors.Load(),
		Open:       open,
		BytesIn:    in,
		BytesOut:   out,
	}
}

// Result is the outcome of one request.
type Result struct {
	Code  int   // HTTP status code, 0 when no response arrived
	Class Class // OK or the failure class
	Proto int   // major HTTP version of the response (1 or 2), 0 without one
	// RetryAfter is true when the response carried Retry-After: a 503
	// with it asks to come back later (a quota), without it sheds load.
	RetryAfter bool
	// Tail is how long the response took from its first byte to its
	// last: its transfer, or a stall in the middle of it (a server that
	// writes its head and its body apart with Nagle's algorithm on waits
	// for the client's delayed ACK, 40 ms on Linux). The latency less the
	// tail is the time to the first byte. HasTail says it was measured:
	// on surge's own HTTP/1.1 path, not on net/http's or HTTP/2's.
	Tail    time.Duration
	HasTail bool
	// Body and Header hold what the request asked to keep of a response
	// (Request.KeepBody, KeepHeaders): the body, up to Config.MaxBody
	// bytes, and the header lines ("Name: value\r\n" each). They belong
	// to the Sender and are valid until its next exchange.
	Body   []byte
	Header []byte
}

// Sender sends one virtual user's requests, one at a time, over the
// user's own connection. Each load worker owns one; a Sender is not safe
// for concurrent use.
type Sender interface {
	// Do sends one exchange and reads the whole response. ctx is the
	// run's stop signal: if it ends first, the request is classified
	// Canceled, not as a failure of the target.
	Do(ctx context.Context, x *Exchange) Result
}

// userAgent is sent unless the request sets its own.
var userAgent = "surge/" + buildinfo.Version

// Starter is a Sender that can also run an exchange without a goroutine
// waiting for it: Start sends one request and returns at once; done is
// called with the outcome, once, on a goroutine of the Client's. Like Do,
// one exchange at a time; x must not change until done is called.
type Starter interface {
	Sender
	Start(ctx context.Context, x *Exchange, done func(Result))
}

// NewSender returns a Sender for one virtual user (worker is its number,
// which picks its event loop) that will send the given requests. On
// Linux, when they are spoken in HTTP/1.1 (over TLS for https:// URLs),
// the user takes a fast path: its sender owns a keep-alive connection run
// by one of the Client's event loops (one per CPU), and is a Starter.
// HTTP/2 (Protocol HTTP2) goes on surge's own client, on every system: the
// sender is a Starter whose requests are streams on the connection it
// shares (see h2Shape). Other HTTP/1.1 requests go through net/http's
// Transport.
func (c *Client) NewSender(worker int, reqs ...*Request) Sender {
	if c.cfg.Protocol == HTTP2 {
		return c.newH2Sender(worker)
	}
	fast := len(reqs) > 0
	for _, r := range reqs {
		fast = fast && c.h1FormOf(r).to != nil
	}
	if fast {
		if s := c.newLoopSender(worker); s != nil {
			return s
		}
	}
	return c.newStdWorker()
}

// RunID returns the first part of this Client's {{id}} values: it differs
// from one Client (one run, or one find step) to the next.
func (c *Client) RunID() string { return c.runID }

// maxBody is the number of body bytes kept for checks.
func (c *Client) maxBody() int {
	if c.cfg.MaxBody > 0 {
		return c.cfg.MaxBody
	}
	return 1 << 20
}

// newRunID returns a short random id, so that {{id}} values differ from one
// run (or find step) to the next.
func newRunID() string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
