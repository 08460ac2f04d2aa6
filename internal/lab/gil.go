package lab

import (
	"context"
	"net"
	"net/http"
	"runtime"
	"time"
)

// handleGIL burns ms of CPU while holding one lock that every /gil
// request shares, on an OS thread per connection: an interpreter lock
// (CPython's GIL) in a server with a thread per connection, such as
// Flask's or ThreadingHTTPServer. Requests are served one at a time, one
// core is busy, and it is spread over as many threads as there are
// connections, so that no single thread looks busy once several users
// are in. An HTTP/1 connection's requests all run on the thread of its
// serving goroutine; elsewhere (HTTP/2 streams, a handler served without
// Serve) each request has a thread of its own.
func (s *Server) handleGIL(w http.ResponseWriter, r *http.Request) {
	k := parseKnobs(r, "ms")
	ms := k.int("ms", 5, 0, maxMS)
	if !k.ok(w) {
		return
	}
	if !acquire(w, r, s.gil) {
		return
	}
	d := time.Duration(ms) * time.Millisecond
	var ok bool
	if ct, isConn := r.Context().Value(connThreadKey{}).(*connThread); isConn && r.ProtoMajor == 1 {
		if !ct.locked {
			// Never unlocked: the thread ends with the connection's
			// goroutine, as a connection's thread does in Python.
			runtime.LockOSThread()
			ct.locked = true
		}
		ok = burnCtx(r.Context(), d)
	} else {
		done := make(chan bool, 1)
		go func() {
			// Never unlocked: the thread ends with this goroutine.
			runtime.LockOSThread()
			done <- burnCtx(r.Context(), d)
		}()
		ok = <-done
	}
	<-s.gil
	if !ok {
		abort(w, r)
		return
	}
	okText(w)
}

// connThread is the state of one connection's serving goroutine: whether
// /gil locked it to its OS thread. Only that goroutine touches it.
type connThread struct{ locked bool }

// connThreadKey keys a connection's *connThread in its context.
type connThreadKey struct{}

// withConnThread gives each connection its connThread (http.Server's
// ConnContext).
func withConnThread(ctx context.Context, _ net.Conn) context.Context {
	return context.WithValue(ctx, connThreadKey{}, new(connThread))
}
