package client

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/surgeload/surge/internal/tmpl"
)

// wireOf renders the first request of r as HTTP/1.1 bytes, as the event
// loops send it.
func wireOf(t *testing.T, r *Request) []byte {
	c, err := New(Config{Timeout: 1e9})
	if err != nil {
		t.Fatal(err)
	}
	wire, _, _ := c.h1FormOf(r).render(&Exchange{Req: r, Vals: &tmpl.Values{Run: "abc", User: 3, N: 7}}, nil, nil)
	return append([]byte(nil), wire...)
}

// readsAsOneRequest fails unless wire is exactly one well-formed request.
func readsAsOneRequest(t *testing.T, what string, wire []byte) *http.Request {
	br := bufio.NewReader(bytes.NewReader(wire))
	req, err := http.ReadRequest(br)
	if err != nil {
		t.Fatalf("%s: net/http cannot read the request %q: %v", what, wire, err)
	}
	io.Copy(io.Discard, req.Body)
	if rest, _ := br.Peek(1); len(rest) > 0 {
		t.Fatalf("%s: bytes after the request (smuggling): %q", what, wire)
	}
	line, _, _ := strings.Cut(string(wire), "\r\n")
	for _, b := range []byte(line) {
		if b < ' ' || b >= 0x7f {
			t.Fatalf("%s: raw byte %#x in the request line %q", what, b, line)
		}
	}
	if strings.Count(line, " ") != 2 {
		t.Fatalf("%s: request line %q", what, line)
	}
	return req
}

// FuzzHeader: a header NewRequest accepts goes on the wire as exactly one
// header line, with the same value, and nothing else.
func FuzzHeader(f *testing.F) {
	for _, s := range [][2]string{{"X-A", "b"}, {"A", "b\r\nX: y"}, {"A", "b\nc"}, {"A b", "c"}, {"Accept", "*/*"}, {"X", "\t ü {{id}}"}, {"Host", "x\x00y"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, name, value string) {
		r, err := NewRequest("GET", "http://127.0.0.1:1/", http.Header{name: {value}}, nil)
		if err != nil {
			return
		}
		if !ValidHeaderName(name) || !ValidHeaderValue(value) {
			t.Fatalf("NewRequest accepted header %q: %q", name, value)
		}
		req := readsAsOneRequest(t, "header", wireOf(t, r))
		k := http.CanonicalHeaderKey(name)
		if k == "Host" || k == "Content-Length" || k == "Transfer-Encoding" || k == "Connection" || strings.Contains(value, "{{") {
			return // handled apart, or rendered
		}
		got := req.Header.Values(k)
		if want := strings.Trim(value, " \t"); len(got) != 1 || got[0] != want {
			t.Fatalf("header %q: %q went on the wire as %q", name, value, got)
		}
	})
}

// FuzzURL: NewRequest never panics; a URL it accepts gives one valid
// request, whose URL net/http takes too, and never shows a password.
func FuzzURL(f *testing.F) {
	for _, s := range []string{"http://127.0.0.1:8080/a?b=c", "http://127.0.0.1/ünï?q=ä x", "http://u:p@127.0.0.1/", "https://[::1]:443/x#frag", "http://127.0.0.1/{{id}}?n={{n}}", "http://127.0.0.1:99999/", "http://h/%zz", "http://h/a b\x01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		r, err := NewRequest("GET", raw, nil, nil)
		if err != nil {
			if u, perr := url.Parse(raw); perr == nil && u.User != nil {
				if p, ok := u.User.Password(); ok && len(p) > 5 && strings.Contains(err.Error(), p) && !strings.Contains(RedactURL(raw), p) {
					t.Fatalf("the error for %q shows the password: %v", raw, err)
				}
			}
			return
		}
		if p, ok := r.URL.User.Password(); ok && p != "xxxxx" {
			t.Fatalf("%q: URL keeps the password: %v", raw, r.URL)
		}
		readsAsOneRequest(t, raw, wireOf(t, r))
		if _, err := http.NewRequest("GET", r.URL.String(), nil); err != nil {
			t.Fatalf("%q: net/http refuses the URL %q: %v", raw, r.URL, err)
		}
	})
}
