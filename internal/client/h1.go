package client

import (
	"bytes"
	"net/http"
	"strconv"

	"github.com/surgeload/surge/internal/tmpl"
)

// h1Form is a request in its HTTP/1.1 form for one Client: the bytes of
// the whole request when they never change, and the template of its head
// otherwise. Each Client makes it once per request and every sender of the
// request shares it.
type h1Form struct {
	r    *Request
	wire []byte        // the serialized request, when not templated
	head tmpl.Template // the head without Cookie, Content-Length and the blank line
	// cookie is the value of the request's own Cookie headers, joined
	// ("a=1; b=2"); empty without one. The jar's cookies join it on one
	// line: RFC 6265 allows a request a single Cookie header.
	cookie tmpl.Template
	to     *target // where to connect (event loops only)
}

// h1FormOf returns r's form, making it on first use.
func (c *Client) h1FormOf(r *Request) *h1Form {
	if f, ok := c.forms.Load(r); ok {
		return f.(*h1Form)
	}
	f := &h1Form{r: r, head: c.headTemplate(r), cookie: cookieTemplate(r)}
	if !r.templated {
		f.wire, _, _ = f.render(&Exchange{Req: r, Vals: &tmpl.Values{}}, nil, nil)
	}
	f.to = c.targetOf(r)
	actual, _ := c.forms.LoadOrStore(r, f)
	return actual.(*h1Form)
}

// render returns the bytes of one exchange: the shared wire when nothing
// varies, else rendered into the sender's buffers (returned for reuse).
func (f *h1Form) render(x *Exchange, buf, bodyBuf []byte) (wire, buf2, body2 []byte) {
	if f.fixed(x) {
		return f.wire, buf, bodyBuf
	}
	buf = f.head.Render(buf[:0], x.Vals)
	if own := !f.cookie.Empty(); own || len(x.Cookie) > 0 {
		buf = append(buf, "Cookie: "...)
		if own {
			buf = f.cookie.Render(buf, x.Vals)
			if len(x.Cookie) > 0 {
				buf = append(buf, "; "...)
			}
		}
		buf = append(buf, x.Cookie...)
		buf = append(buf, "\r\n"...)
	}
	bodyBuf = f.r.body.Render(bodyBuf[:0], x.Vals)
	if len(bodyBuf) > 0 || hasBodyMethod(f.r.Method) {
		buf = append(buf, "Content-Length: "...)
		buf = strconv.AppendInt(buf, int64(len(bodyBuf)), 10)
		buf = append(buf, "\r\n"...)
	}
	buf = append(buf, "\r\n"...)
	buf = append(buf, bodyBuf...)
	return buf, buf, bodyBuf
}

// fixed reports whether x's request is f.wire as it is: nothing in it
// differs from one user to the next.
func (f *h1Form) fixed(x *Exchange) bool { return f.wire != nil && len(x.Cookie) == 0 }

// headTemplate is the request head of r, up to (not including) Cookie,
// Content-Length and the blank line.
func (c *Client) headTemplate(r *Request) tmpl.Template {
	var b bytes.Buffer
	var parts []tmpl.Template
	flush := func() {
		if b.Len() > 0 {
			parts = append(parts, tmpl.Literal(b.String()))
			b.Reset()
		}
	}
	b.WriteString(r.Method + " ")
	flush()
	parts = append(parts, r.uri)
	b.WriteString(" HTTP/1.1\r\nHost: " + hostHeader(r) + "\r\n")
	if r.Header.Get("User-Agent") == "" {
		b.WriteString("User-Agent: " + userAgent + "\r\n")
	}
	for _, h := range r.headers {
		if k := http.CanonicalHeaderKey(h.name); k == "Host" || k == "Content-Length" || k == "Cookie" || k == "Connection" && c.cfg.NoKeepAlive {
			continue
		}
		b.WriteString(h.name + ": ")
		flush()
		parts = append(parts, h.value)
		b.WriteString("\r\n")
	}
	if c.cfg.NoKeepAlive {
		b.WriteString("Connection: close\r\n")
	}
	flush()
	return tmpl.Join(parts...)
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

// cookieTemplate joins the values of r's own Cookie headers into one
// ("a=1; b=2").
func cookieTemplate(r *Request) tmpl.Template {
	var parts []tmpl.Template
	for _, h := range r.headers {
		if http.CanonicalHeaderKey(h.name) != "Cookie" {
			continue
		}
		if len(parts) > 0 {
			parts = append(parts, tmpl.Literal("; "))
		}
		parts = append(parts, h.value)
	}
	return tmpl.Join(parts...)
}

// protoIf returns 1 when a status line was read.
func protoIf(code int) int {
	if code > 0 {
		return 1
	}
	return 0
}

func idempotent(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// capped collects up to max bytes of a body and drops the rest.
type capped struct {
	buf []byte
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - len(c.buf); room > 0 {
		c.buf = append(c.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}
