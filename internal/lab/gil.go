package lab

import (
	"net/http"
	"runtime"
	"time"
)

// handleGIL burns ms of CPU while holding one lock that every /gil
// request shares, each request on an OS thread of its own: an interpreter
// lock (CPython's GIL) in a server with a thread per connection, such as
// Flask's or ThreadingHTTPServer. Requests are served one at a time, one
// core is busy, and it is spread over as many threads as there are
// requests, so that no single thread looks busy.
func (s *Server) handleGIL(w http.ResponseWriter, r *http.Request) {
	k := parseKnobs(r, "ms")
	ms := k.int("ms", 5, 0, maxMS)
	if !k.ok(w) {
		return
	}
	if !acquire(w, r, s.gil) {
		return
	}
	done := make(chan bool, 1)
	go func() {
		// Never unlocked: the thread ends with this goroutine, as a
		// request's thread does in a thread-per-connection server.
		runtime.LockOSThread()
		done <- burnCtx(r.Context(), time.Duration(ms)*time.Millisecond)
	}()
	ok := <-done
	<-s.gil
	if !ok {
		abort(w, r)
		return
	}
	okText(w)
}
