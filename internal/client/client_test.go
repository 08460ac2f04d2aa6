package client_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/client"
)

func newClient(t *testing.T, cfg client.Config) *client.Client {
	t.Helper()
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Second
	}
	c, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func mustRequest(t *testing.T, method, url string, h http.Header, body string) *client.Request {
	t.Helper()
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	r, err := client.NewRequest(method, url, h, b)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// rawServer answers every connection with handle, for exchanges net/http's
// server would never produce.
func rawServer(t testing.TB, handle func(c net.Conn, br *bufio.Reader)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c, bufio.NewReader(c))
			}()
		}
	}()
	return "http://" + l.Addr().String()
}

// readRequest reads one request head (and its body, if it has a length).
func readRequest(br *bufio.Reader) (*http.Request, error) {
	req, err := http.ReadRequest(br)
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, req.Body)
	return req, nil
}

func TestSendersAgree(t *testing.T) {
	// The fast HTTP/1.1 path and net/http must see and report the same.
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got.Store(fmt.Sprintf("%s %s host=%s ua=%s x=%s body=%s", r.Method, r.URL.RequestURI(), r.Host, r.UserAgent(), r.Header.Get("X-Test"), b))
		w.WriteHeader(201)
		w.Write([]byte(strings.Repeat("z", 5000)))
	}))
	defer srv.Close()
	h := http.Header{"X-Test": {"yes"}, "Host": {"api.example"}}
	for _, p := range []client.Protocol{client.Auto, client.HTTP1} {
		c := newClient(t, client.Config{Protocol: p})
		s := client.Bind(c, mustRequest(t, "POST", srv.URL+"/a/b?q=1", h, `{"k":1}`), 0)
		for range 3 {
			res := s.Do(context.Background())
			if res.Code != 201 || res.Class != client.OK || res.Proto != 1 {
				t.Fatalf("protocol %v: result %+v", p, res)
			}
		}
		want := `POST /a/b?q=1 host=api.example ua=surge/`
		if g := got.Load().(string); !strings.HasPrefix(g, want) || !strings.HasSuffix(g, `x=yes body={"k":1}`) {
			t.Fatalf("server saw %q", g)
		}
		cs := c.Conns()
		if cs.Dials != 1 || cs.BytesIn < 3*5000 || cs.BytesOut < 3*50 {
			t.Fatalf("conns %+v: want one keep-alive connection, ≥15000 bytes in", cs)
		}
	}
}

func TestFastPathParsesOddResponses(t *testing.T) {
	cases := []struct {
		name   string
		answer string // raw response; the connection closes after it if close
		close  bool
		code   int
		class  client.Class
	}{
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", false, 200, client.OK},
		{"no length, http/1.0", "HTTP/1.0 200 OK\r\n\r\nuntil close", true, 200, client.OK},
		{"connection close", "HTTP/1.1 503 Busy\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno", true, 503, client.HTTP5xx},
		{"no content", "HTTP/1.1 204 No Content\r\n\r\n", false, 204, client.OK},
		{"garbage", "SMTP ready\r\n\r\n", true, 0, client.ProtocolError},
		{"truncated body", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", true, 200, client.ProtocolError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var served atomic.Int64
			url := rawServer(t, func(c net.Conn, br *bufio.Reader) {
				for {
					if _, err := readRequest(br); err != nil {
						return
					}
					served.Add(1)
					io.WriteString(c, tc.answer)
					if tc.close {
						return
					}
				}
			})
			c := newClient(t, client.Config{})
			s := client.Bind(c, mustRequest(t, "GET", url+"/", nil, ""), 0)
			for i := range 3 {
				res := s.Do(context.Background())
				if res.Code != tc.code || res.Class != tc.class {
					t.Fatalf("request %d: %+v, want code %d class %v", i, res, tc.code, tc.class)
				}
			}
			if served.Load() != 3 {
				t.Fatalf("server answered %d requests, want 3", served.Load())
			}
			wantDials := int64(1)
			if tc.close {
				wantDials = 3
			}
			if d := c.Conns().Dials; d != wantDials {
				t.Fatalf("%d dials, want %d", d, wantDials)
			}
		})
	}
}

func TestFastPathRetriesAClosedIdleConnection(t *testing.T) {
	// The server closes each connection after one answer without saying
	// so: the next request on it fails before any response byte, and must
	// be retried on a new connection rather than counted as an error.
	var served atomic.Int64
	url := rawServer(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := readRequest(br); err != nil {
			return
		}
		served.Add(1)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	})
	c := newClient(t, client.Config{})
	s := client.Bind(c, mustRequest(t, "GET", url+"/", nil, ""), 0)
	for i := range 5 {
		if res := s.Do(context.Background()); res.Class != client.OK {
			t.Fatalf("request %d: %+v", i, res)
		}
		time.Sleep(5 * time.Millisecond) // let the server's close arrive
	}
	if served.Load() != 5 {
		t.Fatalf("server answered %d, want 5", served.Load())
	}
}

func TestTimeoutAndCancel(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	for _, p := range []client.Protocol{client.Auto, client.HTTP2} {
		if p == client.HTTP2 {
			continue // h2c needs a server that speaks it; covered end to end
		}
		c := newClient(t, client.Config{Timeout: 100 * time.Millisecond, Protocol: p})
		s := client.Bind(c, mustRequest(t, "GET", srv.URL, nil, ""), 0)
		start := time.Now()
		if res := s.Do(context.Background()); res.Class != client.Timeout {
			t.Fatalf("result %+v, want a timeout", res)
		}
		if d := time.Since(start); d < 100*time.Millisecond || d > 2*time.Second {
			t.Fatalf("timeout took %v", d)
		}
		// Canceling the run's context interrupts a request in flight and
		// is not the target's fault.
		c2 := newClient(t, client.Config{Timeout: time.Minute, Protocol: p})
		s2 := client.Bind(c2, mustRequest(t, "GET", srv.URL, nil, ""), 0)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		if res := s2.Do(ctx); res.Class != client.Canceled {
			t.Fatalf("result %+v, want canceled", res)
		}
	}
}

func TestNewRequestRejectsBadInput(t *testing.T) {
	cases := map[string][2]string{
		"no scheme":   {"GET", "127.0.0.1:8080/"},
		"bad scheme":  {"GET", "ftp://127.0.0.1/"},
		"no host":     {"GET", "http:///x"},
		"bad method":  {"GE T", "http://127.0.0.1/"},
		"bad escape":  {"GET", "http://127.0.0.1/%zz"},
		"bad port":    {"GET", "http://127.0.0.1:port/"},
		"empty url":   {"GET", ""},
		"method ctrl": {"G\x01T", "http://127.0.0.1/"},
	}
	for name, c := range cases {
		if _, err := client.NewRequest(c[0], c[1], nil, nil); err == nil {
			t.Errorf("%s: NewRequest(%q, %q) accepted", name, c[0], c[1])
		}
	}
}

func TestClassNames(t *testing.T) {
	for c := client.Class(0); c < client.NumClasses; c++ {
		if c.String() == "" || c.String() == "unknown" {
			t.Errorf("class %d has no name", c)
		}
	}
	if client.OK.IsError() || client.Canceled.IsError() || !client.Timeout.IsError() {
		t.Error("IsError: OK and Canceled are not errors, Timeout is")
	}
	if client.Refused.HasLatency() || !client.Timeout.HasLatency() || !client.HTTP5xx.HasLatency() {
		t.Error("HasLatency: refused has none; timeouts and responses do")
	}
}

// shapeServer counts the connections an HTTP/2 server accepted and the
// most requests it had under way at once on one connection.
type shapeServer struct {
	*httptest.Server
	accepted atomic.Int64
	mu       sync.Mutex
	now, top map[string]int // by remote address
	requests atomic.Int64
}

func newShapeServer(t *testing.T, tlsOn bool) *shapeServer {
	t.Helper()
	s := &shapeServer{now: map[string]int{}, top: map[string]int{}}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		s.mu.Lock()
		s.now[r.RemoteAddr]++
		s.top[r.RemoteAddr] = max(s.top[r.RemoteAddr], s.now[r.RemoteAddr])
		s.mu.Unlock()
		time.Sleep(2 * time.Millisecond) // the handler's work: requests overlap
		s.mu.Lock()
		s.now[r.RemoteAddr]--
		s.mu.Unlock()
		if r.ProtoMajor != 2 {
			w.WriteHeader(http.StatusHTTPVersionNotSupported)
		}
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.accepted.Add(1)
		}
	}
	if tlsOn {
		s.EnableHTTP2 = true
		s.StartTLS()
	} else {
		s.Config.Protocols = new(http.Protocols)
		s.Config.Protocols.SetUnencryptedHTTP2(true)
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

func TestHTTP2ShapeOpensExactlyTheConnectionsAsked(t *testing.T) {
	for _, tc := range []struct {
		name           string
		tls            bool
		users, conns   int
		streams, calls int
	}{
		{"tls 3x4", true, 20, 3, 4, 10},
		{"tls 1x50", true, 50, 1, 50, 4},
		{"tls 50x1", true, 50, 50, 1, 4},
		{"h2c 2x5", false, 16, 2, 5, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newShapeServer(t, tc.tls)
			c, err := client.New(client.Config{Timeout: 10 * time.Second, Insecure: true, Protocol: client.HTTP2,
				Conns: tc.users, H2Conns: tc.conns, H2Streams: tc.streams})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			r, _ := client.NewRequest("GET", srv.URL+"/", nil, nil)
			var wg sync.WaitGroup
			for u := range tc.users {
				b := client.Bind(c, r, u)
				wg.Go(func() {
					for range tc.calls {
						if res := b.Do(context.Background()); res.Class != client.OK || res.Proto != 2 {
							t.Errorf("result %+v", res)
							return
						}
					}
				})
			}
			wg.Wait()
			if got := srv.requests.Load(); got != int64(tc.users*tc.calls) {
				t.Fatalf("server handled %d requests, want %d", got, tc.users*tc.calls)
			}
			if got := srv.accepted.Load(); got != int64(tc.conns) {
				t.Fatalf("server accepted %d connections, want exactly %d", got, tc.conns)
			}
			srv.mu.Lock()
			defer srv.mu.Unlock()
			for addr, top := range srv.top {
				if top > tc.streams {
					t.Fatalf("connection %s carried %d requests at once, want at most %d", addr, top, tc.streams)
				}
			}
		})
	}
}
