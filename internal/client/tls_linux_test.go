//go:build linux

package client_test

import (
	"context"
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/surgeload/surge/internal/client"
)

// tlsServer is an HTTPS test server that counts the connections it
// accepted, the requests over resumed sessions and the ALPN protocols
// clients offered.
type tlsServer struct {
	*httptest.Server
	accepted atomic.Int64
	resumed  atomic.Int64
	requests atomic.Int64
	mu       sync.Mutex
	offered  map[string]int
}

func newTLSServer(t *testing.T, h http.HandlerFunc) *tlsServer {
	t.Helper()
	s := &tlsServer{offered: map[string]int{}}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		if r.TLS != nil && r.TLS.DidResume {
			s.resumed.Add(1)
		}
		h(w, r)
	}))
	s.EnableHTTP2 = true // the server would speak HTTP/2 if offered it
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.accepted.Add(1)
		}
	}
	s.StartTLS()
	s.TLS.GetConfigForClient = func(hi *tls.ClientHelloInfo) (*tls.Config, error) {
		s.mu.Lock()
		s.offered[strings.Join(hi.SupportedProtos, ",")]++
		s.mu.Unlock()
		return nil, nil
	}
	t.Cleanup(s.Close)
	return s
}

func TestHTTPSOnTheLoopsOneConnectionPerUser(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, leaks) }) // after the server's cleanup
	srv := newTLSServer(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello "+r.URL.Path)
	})
	c, err := client.New(client.Config{Timeout: 5 * time.Second, Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r, err := client.NewRequest("GET", srv.URL+"/x", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.KeepBody = true
	const users, each = 40, 25
	var wg sync.WaitGroup
	var bad atomic.Int64
	for u := range users {
		b := client.Bind(c, r, u)
		if !b.Starter() {
			t.Fatal("an https:// sender is not on the event loops")
		}
		wg.Go(func() {
			for range each {
				res := b.Do(context.Background())
				if res.Class != client.OK || res.Proto != 1 || string(res.Body) != "hello /x" {
					bad.Add(1)
					t.Errorf("result %+v body %q", res, res.Body)
					return
				}
			}
		})
	}
	wg.Wait()
	if bad.Load() > 0 {
		return
	}
	if got := srv.requests.Load(); got != users*each {
		t.Fatalf("server saw %d requests, want %d", got, users*each)
	}
	if got := srv.accepted.Load(); got != users {
		t.Fatalf("server accepted %d connections for %d users, want exactly one each", got, users)
	}
	st := c.Conns()
	if st.Open != users || st.Dials != users {
		t.Fatalf("client stats %+v: want %d open, %d dials", st, users, users)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.offered) != 1 || srv.offered["http/1.1"] != users {
		t.Fatalf("ALPN offers %v: want http/1.1 alone, from every connection", srv.offered)
	}
}

func TestHTTPSResumesSessionsAndVerifies(t *testing.T) {
	srv := newTLSServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close") // every request on a new connection
		io.WriteString(w, "ok")
	})
	r, err := client.NewRequest("POST", srv.URL+"/", nil, []byte("body"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(client.Config{Timeout: 5 * time.Second, Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b := client.Bind(c, r, 0)
	const n = 6
	for range n {
		if res := b.Do(context.Background()); res.Class != client.OK || res.Code != 200 {
			t.Fatalf("result %+v", res)
		}
	}
	if srv.accepted.Load() != n {
		t.Fatalf("%d connections, want %d (the server closes each)", srv.accepted.Load(), n)
	}
	if srv.resumed.Load() < n-1 {
		t.Fatalf("%d of %d requests over resumed sessions, want at least %d", srv.resumed.Load(), n, n-1)
	}

	// Verified by default: the test server's certificate is unknown.
	v, err := client.New(client.Config{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	before := srv.requests.Load()
	if res := client.Bind(v, r, 0).Do(context.Background()); res.Class != client.TLS {
		t.Fatalf("unverified certificate: result %+v, want class tls", res)
	}
	if srv.requests.Load() != before {
		t.Fatal("a request reached the server over an unverified connection")
	}
}

func TestHTTPSLargeBodiesAndTimeouts(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 64<<10) // 1 MiB, many records
	srv := newTLSServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-r.Context().Done()
			return
		}
		body, _ := io.ReadAll(r.Body)
		io.WriteString(w, big[:len(big)-len(body)])
		w.Write(body)
	})
	c, err := client.New(client.Config{Timeout: 5 * time.Second, Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	up := strings.Repeat("u", 300<<10) // a request larger than a socket buffer
	r, _ := client.NewRequest("POST", srv.URL+"/", nil, []byte(up))
	r.KeepBody = true
	c2, _ := client.New(client.Config{Timeout: 5 * time.Second, Insecure: true, MaxBody: 2 << 20})
	defer c2.Close()
	b := client.Bind(c2, r, 0)
	for range 3 {
		res := b.Do(context.Background())
		if res.Class != client.OK || len(res.Body) != len(big) || string(res.Body[len(big)-len(up):]) != up {
			t.Fatalf("result class %v code %d body %d bytes, want %d", res.Class, res.Code, len(res.Body), len(big))
		}
	}
	slow, _ := client.NewRequest("GET", srv.URL+"/slow", nil, nil)
	slow.Timeout = 200 * time.Millisecond
	if res := client.Bind(c, slow, 1).Do(context.Background()); res.Class != client.Timeout {
		t.Fatalf("slow answer: %+v, want a timeout", res)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan client.Result, 1)
	client.Bind(c, slow, 2).Start(ctx, func(r client.Result) { done <- r })
	time.AfterFunc(50*time.Millisecond, cancel)
	if res := <-done; res.Class != client.Canceled {
		t.Fatalf("canceled: %+v", res)
	}
}
