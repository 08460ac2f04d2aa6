package lab

import (
	"context"
	"crypto/sha256"
	"net/http"
	"runtime"
	"time"
)

// cpuChunk is the work done between two reads of the thread's CPU clock:
// hashing this many bytes takes some microseconds.
const cpuChunk = 4 << 10

// maxBurners bounds the /cpu requests burning at once. Each one holds an
// OS thread (LockOSThread), and the Go runtime dies beyond 10000 threads;
// the rest wait in FIFO order. Only GOMAXPROCS of them run at a time
// anyway, so throughput and CPU use are the same either way.
const maxBurners = 1024

// handleCPU burns ms of CPU time on its own OS thread, then answers.
func (s *Server) handleCPU(w http.ResponseWriter, r *http.Request) {
	k := parseKnobs(r, "ms")
	ms := k.int("ms", 5, 0, maxMS)
	if !k.ok(w) {
		return
	}
	if !acquire(w, r, s.burners) {
		return
	}
	done := burn(r, time.Duration(ms)*time.Millisecond)
	<-s.burners
	if !done {
		abort(w, r)
		return
	}
	okText(w)
}

// acquire takes a slot of sem for r, waiting as long as r lasts; when r
// ends first it aborts r and reports false.
func acquire(w http.ResponseWriter, r *http.Request, sem chan struct{}) bool {
	select {
	case sem <- struct{}{}:
		return true
	case <-r.Context().Done():
		abort(w, r)
		return false
	}
}

// burn does real work (SHA-256 hashing) until the calling thread's CPU
// time has advanced by d, with the goroutine locked to its OS thread so
// that the thread's clock is the request's. The wall clock is only a
// safety cap, far above what a fair share of the CPU takes even with
// maxBurners requests burning at once: (100 + maxBurners/GOMAXPROCS) x d,
// and at least 10 s. It reports false when the request's context ended
// first.
func burn(r *http.Request, d time.Duration) bool {
	return burnCtx(r.Context(), d)
}

// burnCtx is burn for a context of its own.
func burnCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start, ok := threadCPU()
	wallStart := time.Now()
	wallCap := max((100+time.Duration(maxBurners/runtime.GOMAXPROCS(0)))*d, 10*time.Second)
	var buf [cpuChunk]byte
	for {
		sum := sha256.Sum256(buf[:])
		copy(buf[:], sum[:])
		if ctx.Err() != nil {
			return false
		}
		wall := time.Since(wallStart)
		if ok {
			var now time.Duration
			if now, ok = threadCPU(); ok && now-start >= d {
				return true
			}
		}
		if !ok && wall >= d { // no thread CPU clock on this system
			return true
		}
		if wall >= wallCap {
			return true
		}
	}
}
