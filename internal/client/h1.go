package client

import (
	"bytes"
	"net"
	"net/http"
	"strconv"
)

// h1Wire holds a request serialized for HTTP/1.1: the bytes are rendered
// once when the request uses no template variable (and shared by every
// sender of it), else for each request into the sender's own buffers.
type h1Wire struct {
	r       *Request
	wire    []byte // the serialized request, when not templated
	head    tmpl   // the request head without Content-Length, when templated
	buf     []byte // a templated request, rendered
	bodyBuf []byte
}

// newH1Wire prepares r's bytes. All senders of one request share its
// serialized bytes, unless it uses template variables.
func (c *Client) newH1Wire(r *Request) h1Wire {
	w := h1Wire{r: r}
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

// next returns the bytes of the next request, rendered with v.
func (w *h1Wire) next(v *vars) []byte {
	if !w.r.templated {
		return w.wire
	}
	w.buf = w.head.appendTo(w.buf[:0], v)
	w.bodyBuf = w.r.body.appendTo(w.bodyBuf[:0], v)
	if len(w.bodyBuf) > 0 || hasBodyMethod(w.r.Method) {
		w.buf = append(w.buf, "Content-Length: "...)
		w.buf = strconv.AppendInt(w.buf, int64(len(w.bodyBuf)), 10)
		w.buf = append(w.buf, "\r\n"...)
	}
	w.buf = append(w.buf, "\r\n"...)
	w.buf = append(w.buf, w.bodyBuf...)
	return w.buf
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
