package client

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/surgeload/surge/internal/tmpl"
)

// stdWorker sends HTTP/1.1 through net/http's Transport, where the event
// loops do not: other systems, hosts that did not resolve.
type stdWorker struct {
	c       *Client
	last    *Request
	req     *http.Request // last's prepared request, when not templated
	body    capped
	hdr     []byte
	scratch []byte

	dialFails int       // dials failed in a row
	notBefore time.Time // no request before: see dialBackoff
}

func (c *Client) newStdWorker() *stdWorker {
	return &stdWorker{c: c, body: capped{max: c.maxBody()}}
}

// prepare builds an *http.Request from rendered parts.
func (c *Client) prepare(r *Request, rawURL string, h http.Header, body []byte) *http.Request {
	req, err := http.NewRequest(r.Method, rawURL, nil)
	if err != nil {
		// Build validated the template; a rendering cannot break it
		// but in the query, which url.Parse accepts as is.
		req, _ = http.NewRequest(r.Method, r.URL.String(), nil)
	}
	req.URL.User = nil // sent as Basic auth (see takeUserinfo), never in the URL
	req.Header = h
	if host := h.Get("Host"); host != "" {
		req.Host = host
		h.Del("Host")
	}
	if h.Get("User-Agent") == "" {
		h.Set("User-Agent", userAgent)
	}
	if len(body) > 0 {
		req.ContentLength = int64(len(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	return req
}

// headerValues renders the request's headers, its Cookie headers joined
// into one (RFC 6265 5.4).
func headerValues(r *Request, v *tmpl.Values) http.Header {
	h := make(http.Header, len(r.headers)+1)
	for _, ht := range r.headers {
		h.Add(ht.name, ht.value.String(v))
	}
	if own := h.Values("Cookie"); len(own) > 1 {
		h.Set("Cookie", strings.Join(own, "; "))
	}
	return h
}

// request returns the *http.Request of one exchange.
func (w *stdWorker) request(x *Exchange) *http.Request {
	r := x.Req
	if !r.templated && len(x.Cookie) == 0 {
		if w.last != r {
			w.last, w.req = r, w.c.prepare(r, r.URL.String(), headerValues(r, x.Vals), r.Body)
		}
		return w.req
	}
	u := r.URL.Scheme + "://" + r.URL.Host + r.uri.String(x.Vals)
	h := headerValues(r, x.Vals)
	if len(x.Cookie) > 0 {
		// One Cookie line (RFC 6265): the request's own, then the jar's.
		if own := h.Get("Cookie"); own != "" {
			h.Set("Cookie", own+"; "+string(x.Cookie))
		} else {
			h.Set("Cookie", string(x.Cookie))
		}
	}
	return w.c.prepare(r, u, h, r.body.Render(nil, x.Vals))
}

// Do implements Sender.
func (w *stdWorker) Do(ctx context.Context, x *Exchange) Result {
	if d := time.Until(w.notBefore); d > 0 { // the last dial failed: back off
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return Result{Class: Canceled}
		}
	}
	req := w.request(x)
	timeout := x.Req.Timeout
	if timeout <= 0 {
		timeout = w.c.cfg.Timeout
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tr := w.c.tr
	r := req.WithContext(rctx)
	if r.GetBody != nil {
		r.Body, _ = r.GetBody()
	}
	resp, err := tr.RoundTrip(r)
	if err != nil {
		if op := (*net.OpError)(nil); errors.As(err, &op) && op.Op == "dial" {
			w.dialFails++
			w.notBefore = time.Now().Add(dialBackoff(w.dialFails))
		}
		return Result{Class: classify(err, ctx.Err() != nil)}
	}
	w.dialFails = 0
	var sink io.Writer = io.Discard
	if x.Req.KeepBody {
		w.body.buf = w.body.buf[:0]
		sink = &w.body
	}
	_, err = io.Copy(sink, resp.Body)
	resp.Body.Close()
	res := Result{Code: resp.StatusCode, Class: ClassOfStatus(resp.StatusCode), Proto: resp.ProtoMajor, RetryAfter: resp.Header.Get("Retry-After") != ""}
	if err != nil {
		res.Class = classify(err, ctx.Err() != nil)
		return res
	}
	if x.Req.KeepBody {
		res.Body = w.body.buf
	}
	if x.Req.KeepHeaders {
		w.hdr = w.hdr[:0]
		for name, values := range resp.Header {
			for _, v := range values {
				w.hdr = append(append(append(append(w.hdr, name...), ": "...), v...), "\r\n"...)
			}
		}
		res.Header = w.hdr
	}
	return res
}
