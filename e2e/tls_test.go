package e2e

import (
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// connCounter starts a counting HTTPS target (HTTP/2 on offer) that also
// counts the connections it accepted.
func connCounter(t *testing.T) (*counter, *atomic.Int64) {
	t.Helper()
	c := &counter{}
	var accepted atomic.Int64
	srv := httptest.NewUnstartedServer(c)
	srv.EnableHTTP2 = true
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			accepted.Add(1)
		}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	c.srv = srv
	return c, &accepted
}

func TestHTTPSClosedModelOpensOneConnectionPerUser(t *testing.T) {
	c, accepted := connCounter(t)
	r, o := runJSON(t, "run", "-q", "-k", "-u", "200", "-n", "2000", c.url("/"))
	if o.code != 0 || r.Summary.Protocols["HTTP/1.1"] != 2000 || c.hits.Load() != 2000 {
		t.Fatalf("exit %d, protocols %v, hits %d: want 2000 over HTTP/1.1 (stderr %q)", o.code, r.Summary.Protocols, c.hits.Load(), o.stderr)
	}
	if accepted.Load() != 200 {
		t.Fatalf("200 users opened %d connections, want exactly 200", accepted.Load())
	}
}

func TestHTTP2ConnectionsAndStreams(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want int64
	}{
		{[]string{"--connections", "3", "--streams", "4", "-u", "12"}, 3},
		{[]string{"--http2", "--connections", "1", "--streams", "50", "-u", "50"}, 1},
		{[]string{"--streams", "5", "-u", "20"}, 4}, // 20 users at 5 streams each
		{[]string{"--http2", "-u", "250"}, 3},       // the default: 100 streams per connection
	} {
		c, accepted := connCounter(t)
		args := append([]string{"run", "-q", "-k", "-n", "600"}, tc.args...)
		r, o := runJSON(t, append(args, c.url("/"))...)
		if o.code != 0 || r.Summary.Protocols["HTTP/2"] != 600 || c.hits.Load() != 600 {
			t.Fatalf("%v: exit %d, protocols %v, hits %d: want 600 over HTTP/2 (stderr %q)", tc.args, o.code, r.Summary.Protocols, c.hits.Load(), o.stderr)
		}
		if accepted.Load() != tc.want {
			t.Fatalf("%v: %d connections, want exactly %d", tc.args, accepted.Load(), tc.want)
		}
	}
	o := surge(t, "run", "-n", "5", "--http1", "--connections", "2", "http://127.0.0.1:1/")
	if o.code != 2 || o.stderr == "" {
		t.Fatalf("--http1 with --connections: exit %d stderr %q, want a usage error", o.code, o.stderr)
	}
}
