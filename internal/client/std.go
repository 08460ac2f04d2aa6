package client

import (
	"bytes"
	"context"
	"io"
	"net/http"
)

// stdWorker sends through net/http's Transport: TLS, HTTP/2, h2c.
type stdWorker struct {
	c       *Client
	r       *Request
	req     *http.Request // the prepared request, when not templated
	v       vars
	body    capped
	scratch []byte
}

func (c *Client) newStdWorker(r *Request, worker int) *stdWorker {
	w := &stdWorker{c: c, r: r, v: vars{run: c.runID, user: worker}, body: capped{max: c.maxBody()}}
	if !r.templated {
		w.req = c.prepare(r, r.URL.String(), headerValues(r, nil), r.Body)
	}
	return w
}

// prepare builds an *http.Request from rendered parts.
func (c *Client) prepare(r *Request, rawURL string, h http.Header, body []byte) *http.Request {
	req, err := http.NewRequest(r.Method, rawURL, nil)
	if err != nil {
		// NewRequest validated the template; a rendering cannot break it
		// but in the query, which url.Parse accepts as is.
		req, _ = http.NewRequest(r.Method, r.URL.String(), nil)
	}
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

// headerValues renders the request's headers (v nil: as given).
func headerValues(r *Request, v *vars) http.Header {
	if v == nil {
		return r.Header.Clone()
	}
	h := http.Header{}
	for _, ht := range r.headers {
		h.Add(ht.name, string(ht.value.appendTo(nil, v)))
	}
	return h
}

// Do implements Sender.
func (w *stdWorker) Do(ctx context.Context) Result {
	w.v.n++
	req := w.req
	if req == nil {
		u := w.r.URL.Scheme + "://" + w.r.URL.Host + string(w.r.uri.appendTo(nil, &w.v))
		req = w.c.prepare(w.r, u, headerValues(w.r, &w.v), w.r.body.appendTo(nil, &w.v))
	}
	rctx, cancel := context.WithTimeout(ctx, w.c.cfg.Timeout)
	defer cancel()
	r := req.WithContext(rctx)
	if r.GetBody != nil {
		r.Body, _ = r.GetBody()
	}
	resp, err := w.c.tr.RoundTrip(r)
	if err != nil {
		return Result{Class: classify(err, ctx.Err() != nil)}
	}
	var sink io.Writer = io.Discard
	if w.r.needsBody {
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
	if res.Class == OK && len(w.r.Checks) > 0 {
		var ok bool
		if ok, w.scratch = w.r.checkResponse(res.Code, w.body.buf, &w.v, w.scratch); !ok {
			res.Class = CheckFailed
		}
	}
	return res
}
