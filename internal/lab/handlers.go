package lab

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// fastBody holds the bytes /fast answers with: "okok…", cut to size. It is
// made on first use, not in every surge process.
var fastBody = sync.OnceValue(func() []byte {
	b := make([]byte, maxSize)
	for i := range b {
		b[i] = "ok"[i%2]
	}
	return b
})

// handleFast answers at once with size bytes.
func (s *Server) handleFast(w http.ResponseWriter, r *http.Request) {
	k := parseKnobs(r, "size")
	size := k.int("size", 2, 0, maxSize)
	if !k.ok(w) {
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	_, _ = w.Write(fastBody()[:size]) // a client gone away is not the lab's error
}

// handleSlow sleeps ms with unlimited concurrency, then answers 200: a slow
// external dependency.
func (s *Server) handleSlow(w http.ResponseWriter, r *http.Request) {
	k := parseKnobs(r, "ms")
	ms := k.int("ms", 200, 0, maxMS)
	if !k.ok(w) {
		return
	}
	if !sleep(r.Context(), time.Duration(ms)*time.Millisecond) {
		abort(w, r)
		return
	}
	okText(w)
}

// okText answers 200 "ok".
func okText(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// lockState is /lock's one global lock. A channel of capacity 1 rather
// than a sync.Mutex, so that a waiter whose client goes away stops waiting.
type lockState struct {
	sem     chan struct{}
	holders atomic.Int64 // holding now: never more than 1
	max     atomic.Int64 // most holders seen at once
}

func (l *lockState) init() { l.sem = make(chan struct{}, 1) }

// handleLock takes the one global lock (shared by every /lock request,
// whatever its ms), holds it while sleeping ms, then answers: a blocked
// event loop or a global lock.
func (s *Server) handleLock(w http.ResponseWriter, r *http.Request) {
	k := parseKnobs(r, "ms")
	ms := k.int("ms", 10, 0, maxMS)
	if !k.ok(w) {
		return
	}
	ctx := r.Context()
	s.m.lockWaiters.Inc()
	select {
	case s.lock.sem <- struct{}{}:
		s.m.lockWaiters.Dec()
	case <-ctx.Done():
		s.m.lockWaiters.Dec()
		abort(w, r)
		return
	}
	storeMax(&s.lock.max, s.lock.holders.Add(1))
	slept := sleep(ctx, time.Duration(ms)*time.Millisecond)
	s.lock.holders.Add(-1)
	<-s.lock.sem
	if !slept {
		abort(w, r)
		return
	}
	okText(w)
}

// storeMax raises max to v if v is larger.
func storeMax(max *atomic.Int64, v int64) {
	for {
		m := max.Load()
		if v <= m || max.CompareAndSwap(m, v) {
			return
		}
	}
}

// overloadState counts /overload requests in flight, whatever their limit.
type overloadState struct {
	inflight atomic.Int64
}

// handleOverload answers code (500, or 503) at once when more than limit
// /overload requests are in flight (this one included), with Retry-After
// when retry > 0; otherwise it sleeps ms and answers 200: a server that
// fails under overload instead of queueing, or a load shedder (503).
func (s *Server) handleOverload(w http.ResponseWriter, r *http.Request) {
	k := parseKnobs(r, "limit", "ms", "code", "retry")
	limit := k.int("limit", 50, 0, maxLimit)
	ms := k.int("ms", 10, 0, maxMS)
	code := k.int("code", 500, 500, 503)
	retry := k.int("retry", 0, 0, 3600)
	if !k.ok(w) {
		return
	}
	n := s.overload.inflight.Add(1)
	defer s.overload.inflight.Add(-1)
	if n > limit {
		s.m.overloadRejected.Inc()
		if retry > 0 {
			w.Header().Set("Retry-After", strconv.FormatInt(retry, 10))
		}
		http.Error(w, fmt.Sprintf("overloaded: %d in flight, limit %d", n, limit), int(code))
		return
	}
	if !sleep(r.Context(), time.Duration(ms)*time.Millisecond) {
		abort(w, r)
		return
	}
	okText(w)
}

// raceState is /race's one shared "current request" slot. The mutex makes
// it memory-safe; the bug it models is logical, not a data race.
type raceState struct {
	mu   sync.Mutex
	slot string
}

func (rs *raceState) store(id string) {
	rs.mu.Lock()
	rs.slot = id
	rs.mu.Unlock()
}

func (rs *raceState) load() string {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.slot
}

// handleRace stores the caller's id in the shared slot, sleeps ms, reads
// the slot back and answers {"id":"<value read>"}: stale data under
// concurrency. Wrong answers are counted in lab_race_wrong_total.
func (s *Server) handleRace(w http.ResponseWriter, r *http.Request) {
	k := parseKnobs(r, "id", "ms")
	id := k.id("id", maxIDBytes)
	ms := k.int("ms", 1, 0, maxMS)
	if !k.ok(w) {
		return
	}
	s.race.store(id)
	if !sleep(r.Context(), time.Duration(ms)*time.Millisecond) {
		abort(w, r)
		return
	}
	got := s.race.load()
	if got != id {
		s.m.raceWrong.Inc()
	}
	writeJSON(w, http.StatusOK, struct {
		ID string `json:"id"`
	}{got})
}
