package client_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/surgeload/surge/internal/client"
	"github.com/surgeload/surge/internal/tmpl"
)

// echo answers with what it received: the id query value, the X-N header
// and the body; if stale is set it answers with the previous request's id.
type echo struct {
	mu     sync.Mutex
	seen   []string
	stale  bool
	lastID string
}

func (e *echo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	id := r.URL.Query().Get("id")
	e.mu.Lock()
	e.seen = append(e.seen, fmt.Sprintf("%s %s %s %d", id, r.Header.Get("X-N"), b, r.ContentLength))
	answer := id
	if e.stale && e.lastID != "" {
		answer = e.lastID
	}
	e.lastID = id
	e.mu.Unlock()
	fmt.Fprintf(w, `{"id":%q}`, answer)
}

func TestTemplatesRenderPerRequest(t *testing.T) {
	for _, tc := range []struct{ tls, h2 bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
		tls := tc.tls
		e := &echo{}
		srv := httptest.NewUnstartedServer(e)
		cfg := client.Config{Insecure: true}
		if tc.h2 {
			cfg.Protocol = client.HTTP2
			srv.EnableHTTP2 = true
			srv.Config.Protocols = new(http.Protocols)
			srv.Config.Protocols.SetHTTP1(true)
			srv.Config.Protocols.SetHTTP2(true)
			srv.Config.Protocols.SetUnencryptedHTTP2(true)
		}
		if tls {
			srv.StartTLS()
		} else {
			srv.Start()
		}
		c := newClient(t, cfg)
		h := http.Header{"X-N": {"n={{n}}"}}
		req := mustRequest(t, "POST", srv.URL+"/echo?id={{id}}", h, `{"user":{{user}},"n":{{n}}}`)
		s := client.Bind(c, req, 7)
		for i := 1; i <= 3; i++ {
			if res := s.Do(context.Background()); res.Class != client.OK || tc.h2 != (res.Proto == 2) {
				t.Fatalf("tls=%v h2=%v request %d: %+v", tls, tc.h2, i, res)
			}
		}
		srv.Close()
		if len(e.seen) != 3 {
			t.Fatalf("tls=%v: server saw %d requests", tls, len(e.seen))
		}
		ids := map[string]bool{}
		for i, got := range e.seen {
			f := strings.Fields(got)
			body := fmt.Sprintf(`{"user":7,"n":%d}`, i+1)
			if f[1] != fmt.Sprintf("n=%d", i+1) || f[2] != body || f[3] != fmt.Sprint(len(body)) {
				t.Fatalf("tls=%v request %d: server saw %q", tls, i+1, got)
			}
			if !strings.HasSuffix(f[0], fmt.Sprintf("-7-%d", i+1)) || ids[f[0]] {
				t.Fatalf("tls=%v: id %q not unique or not <run>-7-%d", tls, f[0], i+1)
			}
			ids[f[0]] = true
		}
	}
}

func TestTemplateErrors(t *testing.T) {
	for _, c := range []struct{ url, header, body, msg string }{
		{"http://127.0.0.1/{{nope}}", "", "", "unknown variable {{nope}}"},
		{"http://{{id}}.example/", "", "", "not in the scheme or host"},
		{"http://127.0.0.1/{{id", "", "", "opens {{ without closing }}"},
		{"http://127.0.0.1/", "{{x}}", "", "unknown variable {{x}}"},
		{"http://127.0.0.1/", "", "{{user}", "opens {{ without closing }}"},
	} {
		h := http.Header{}
		if c.header != "" {
			h.Set("X-T", c.header)
		}
		_, err := client.NewRequest("GET", c.url, h, []byte(c.body))
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("NewRequest(%q, %q, %q) = %v, want %q", c.url, c.header, c.body, err, c.msg)
		}
	}
}

// AppendURI renders the request-URI an exchange sends, as the server
// receives it: variables rendered and escaped, the fragment dropped.
func TestAppendURIIsWhatIsSent(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.RequestURI)
		mu.Unlock()
	}))
	defer srv.Close()
	c := newClient(t, client.Config{})
	for _, u := range []string{"/static/a b", "/u/{{user}}/n/{{n}}?id={{id}}#frag", "?q={{n}}"} {
		req := mustRequest(t, "GET", srv.URL+u, nil, "")
		v := &tmpl.Values{Run: c.RunID(), User: 7, N: 3}
		if res := c.NewSender(0, req).Do(context.Background(), &client.Exchange{Req: req, Vals: v}); res.Class != client.OK {
			t.Fatalf("%s: %+v", u, res)
		}
		mu.Lock()
		sent := got[len(got)-1]
		mu.Unlock()
		if uri := string(req.AppendURI([]byte("x"), v)); uri != "x"+sent || !strings.HasPrefix(sent, "/") || strings.Contains(sent, "{{") {
			t.Errorf("%s: AppendURI %q, the server received %q", u, uri, sent)
		}
	}
}

// A request's own Cookie headers and the jar's cookies go out on one
// Cookie line, the request's first (RFC 6265 5.4: one Cookie header), on
// the event loops and on net/http's path alike; and a request with its
// own Cookie and no jar cookie sends it as written.
func TestOneCookieLine(t *testing.T) {
	var mu sync.Mutex
	var seen [][]string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Values("Cookie"))
		mu.Unlock()
	}))
	defer srv.Close()
	c := newClient(t, client.Config{})
	h := http.Header{"Cookie": {"own=1", "mine={{user}}"}}
	req := mustRequest(t, "GET", srv.URL+"/", h, "")
	for _, b := range []*client.Bound{client.Bind(c, req, 3), client.BindStd(c, req, 3)} {
		if res := b.Do(context.Background()); res.Class != client.OK {
			t.Fatalf("%+v", res)
		}
		b.SetCookie("sid=abc; cart=2")
		if res := b.Do(context.Background()); res.Class != client.OK {
			t.Fatalf("%+v", res)
		}
	}
	want := []string{"own=1; mine=3", "own=1; mine=3; sid=abc; cart=2", "own=1; mine=3", "own=1; mine=3; sid=abc; cart=2"}
	if len(seen) != len(want) {
		t.Fatalf("server saw %d requests, want %d", len(seen), len(want))
	}
	for i, w := range want {
		if len(seen[i]) != 1 || seen[i][0] != w {
			t.Errorf("request %d: Cookie lines %q, want one: %q", i+1, seen[i], w)
		}
	}

	// HTTP/2 may split cookies over several fields (RFC 9113 8.2.3): the
	// server joins them, and none is lost or replaced.
	seen = nil
	h2 := h2cServer(t, srv.Config.Handler, nil)
	c2 := newClient(t, client.Config{Protocol: client.HTTP2})
	b := client.Bind(c2, mustRequest(t, "GET", h2.URL+"/", h, ""), 3)
	b.SetCookie("sid=abc; cart=2")
	if res := b.Do(context.Background()); res.Class != client.OK || res.Proto != 2 {
		t.Fatalf("h2c: %+v", res)
	}
	if len(seen) != 1 || strings.Join(seen[0], "; ") != "own=1; mine=3; sid=abc; cart=2" {
		t.Errorf("h2c: Cookie %q, want own=1; mine=3; sid=abc; cart=2", seen)
	}
}
