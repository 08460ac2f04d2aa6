package lab

import (
	"context"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// handleGIL burns ms of CPU while holding one lock that every /gil
// request shares, on an OS thread per connection: an interpreter lock
// (CPython's GIL) in a server with a thread per connection, such as
// Flask's or ThreadingHTTPServer. Requests are served one at a time, one
// core is busy, and it is spread over as many threads as there are
// connections, so that no single thread looks busy once several users
// are in. An HTTP/1 connection's requests all run on the thread of its
// serving goroutine (up to maxGILThreads connections); elsewhere (HTTP/2
// streams, a handler served without Serve) each request borrows a thread
// for its burn.
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
	if s.lockConnThread(r) {
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

// maxGILThreads bounds the connections whose goroutine /gil locks to an
// OS thread of its own; beyond it (a client with thousands of
// connections), a request borrows a thread for its burn, as before, so
// that the lab never nears the Go runtime's limit of threads.
const maxGILThreads = 256

// connThreads tracks the connections /gil locked to a thread.
type connThreads struct {
	slots  chan struct{} // one per locked connection
	byConn sync.Map      // net.Conn -> *connThread, while the connection lives
}

// connThread is the state of one connection's serving goroutine: whether
// /gil locked it to its OS thread.
type connThread struct{ locked atomic.Bool }

// connThreadKey keys a connection's *connThread in its context.
type connThreadKey struct{}

// connContext gives each connection its connThread, and the connection
// itself for /nagle (http.Server's ConnContext).
func (s *Server) connContext(ctx context.Context, c net.Conn) context.Context {
	ct := new(connThread)
	s.threads.byConn.Store(c, ct)
	return context.WithValue(context.WithValue(ctx, connThreadKey{}, ct), connKey{}, c)
}

// connState frees a closed connection's thread slot (http.Server's
// ConnState). Its thread ends with its goroutine.
func (s *Server) connState(c net.Conn, st http.ConnState) {
	if st != http.StateClosed && st != http.StateHijacked {
		return
	}
	if v, ok := s.threads.byConn.LoadAndDelete(c); ok && v.(*connThread).locked.Load() {
		<-s.threads.slots
	}
}

// lockConnThread locks the calling goroutine, the serving goroutine of
// r's HTTP/1 connection, to its OS thread for the connection's life, once
// and while slots last. It reports whether the goroutine is so locked.
func (s *Server) lockConnThread(r *http.Request) bool {
	ct, ok := r.Context().Value(connThreadKey{}).(*connThread)
	if !ok || r.ProtoMajor != 1 {
		return false
	}
	if ct.locked.Load() {
		return true
	}
	select {
	case s.threads.slots <- struct{}{}:
	default:
		return false
	}
	// Never unlocked: the thread ends with the connection's goroutine, as
	// a connection's thread does in Python.
	runtime.LockOSThread()
	ct.locked.Store(true)
	return true
}
