package lab

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// maxQueued bounds the /single requests waiting for the loop.
const maxQueued = 100_000

// loopState is /single's event loop: one goroutine, locked to one OS
// thread, that does every request's work in arrival order, as a Node or
// uvicorn worker, or an interpreter under one lock, does. It runs while
// there is work and ends when the queue is empty, so no goroutine outlives
// the requests.
type loopState struct {
	mu      sync.Mutex
	queue   []*loopJob
	running bool
}

// loopJob is one request's work for the loop.
type loopJob struct {
	ctx  context.Context
	d    time.Duration
	done chan bool // true when the work was done, false when given up
}

// handleSingle burns ms of CPU on the lab's one event-loop thread, then
// answers: a single-threaded server, at most one core busy whatever the
// host has.
func (s *Server) handleSingle(w http.ResponseWriter, r *http.Request) {
	k := parseKnobs(r, "ms")
	ms := k.int("ms", 5, 0, maxMS)
	if !k.ok(w) {
		return
	}
	j := &loopJob{ctx: r.Context(), d: time.Duration(ms) * time.Millisecond, done: make(chan bool, 1)}
	l := &s.loop
	l.mu.Lock()
	if len(l.queue) >= maxQueued {
		l.mu.Unlock()
		http.Error(w, "the event loop's queue is full", http.StatusServiceUnavailable)
		return
	}
	l.queue = append(l.queue, j)
	start := !l.running
	l.running = true
	l.mu.Unlock()
	if start {
		go l.run()
	}
	if !<-j.done {
		abort(w, r)
		return
	}
	okText(w)
}

// run does the queued work on one OS thread until the queue is empty.
func (l *loopState) run() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for {
		l.mu.Lock()
		if len(l.queue) == 0 {
			l.running = false
			l.queue = nil // give back a large backing array
			l.mu.Unlock()
			return
		}
		j := l.queue[0]
		l.queue[0] = nil
		l.queue = l.queue[1:]
		l.mu.Unlock()
		if j.ctx.Err() != nil {
			j.done <- false
			continue
		}
		j.done <- burnCtx(j.ctx, j.d)
	}
}

// retroState is /retro's lock, whose every hand-off costs work for each
// request waiting on it (a thundering herd: each release wakes them all).
type retroState struct {
	sem     chan struct{}
	waiting atomic.Int64
}

func (r *retroState) init() { r.sem = make(chan struct{}, 1) }

// handleRetro takes the one /retro lock and holds it for ms, plus ms/10
// for every request waiting on it: throughput falls as load grows
// (retrograde scaling), 1000/ms req/s at one user.
func (s *Server) handleRetro(w http.ResponseWriter, r *http.Request) {
	k := parseKnobs(r, "ms")
	ms := k.int("ms", 5, 0, maxMS)
	if !k.ok(w) {
		return
	}
	ctx := r.Context()
	s.retro.waiting.Add(1)
	select {
	case s.retro.sem <- struct{}{}:
		s.retro.waiting.Add(-1)
	case <-ctx.Done():
		s.retro.waiting.Add(-1)
		abort(w, r)
		return
	}
	base := time.Duration(ms) * time.Millisecond
	hold := base + time.Duration(s.retro.waiting.Load())*base/10
	ok := sleep(ctx, hold)
	<-s.retro.sem
	if !ok {
		abort(w, r)
		return
	}
	okText(w)
}

// handleBackend calls the backend lab's /cpu?ms=ms, as an app calls its
// database, and answers with its status: the CPU is spent in another
// process, which a probe of this one does not see.
func (s *Server) handleBackend(w http.ResponseWriter, r *http.Request) {
	k := parseKnobs(r, "ms")
	ms := k.int("ms", 5, 0, maxMS)
	if !k.ok(w) {
		return
	}
	if s.backend == nil {
		http.Error(w, "no backend: start the lab with --backend", http.StatusNotFound)
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, s.cfg.Backend+"/cpu?ms="+strconv.FormatInt(ms, 10), nil)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	resp, err := s.backend.Do(req)
	if err != nil {
		if r.Context().Err() != nil {
			abort(w, r)
			return
		}
		http.Error(w, fmt.Sprintf("backend: %v", err), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		http.Error(w, "backend: "+resp.Status, http.StatusBadGateway)
		return
	}
	okText(w)
}
