package e2e

import (
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// counter is a loopback HTTP target that counts the requests it handles.
// Query knobs: ms= holds the request that long (precisely: the last 2 ms
// are spun, so Go's timer slack does not blur latency checks); status=
// answers with that code.
type counter struct {
	srv  *httptest.Server
	hits atomic.Int64
}

func (c *counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.hits.Add(1)
	q := r.URL.Query()
	if ms, err := strconv.Atoi(q.Get("ms")); err == nil && ms > 0 {
		holdPrecisely(r, time.Duration(ms)*time.Millisecond)
	}
	if s, err := strconv.Atoi(q.Get("status")); err == nil && s >= 200 && s < 600 {
		w.WriteHeader(s)
	}
	w.Write([]byte("ok\n"))
}

func holdPrecisely(r *http.Request, d time.Duration) {
	end := time.Now().Add(d)
	if d > 2*time.Millisecond {
		t := time.NewTimer(d - 2*time.Millisecond)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	for time.Now().Before(end) {
		runtime.Gosched()
	}
}

// newCounter starts a counting target on 127.0.0.1.
func newCounter(t *testing.T) *counter {
	t.Helper()
	c := &counter{}
	c.srv = httptest.NewServer(c)
	t.Cleanup(c.srv.Close)
	return c
}

func (c *counter) url(path string) string { return c.srv.URL + path }

// closedPort returns a loopback address where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
