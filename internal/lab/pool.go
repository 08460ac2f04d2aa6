package lab

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// defaultPoolN is /pool's default size, the pool of 20 from seed 001.
const defaultPoolN = 20

// poolSet holds /pool's semaphores, one per distinct size n, created
// lazily and at most maxPools of them.
type poolSet struct {
	mu sync.Mutex
	m  map[int64]*pool
}

func (ps *poolSet) init() { ps.m = map[int64]*pool{} }

// pool is a semaphore of size n, like a database connection pool. Waiters
// are served in FIFO order (a Go channel queues blocked senders).
type pool struct {
	sem     chan struct{}
	inUse   atomic.Int64 // slots held now: never more than n
	max     atomic.Int64 // most slots held at once
	waiters prometheus.Gauge
	held    prometheus.Gauge
}

// pool returns the pool of size n, creating it when there are fewer than
// maxPools.
func (s *Server) pool(n int64) (*pool, error) {
	ps := &s.pools
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if p := ps.m[n]; p != nil {
		return p, nil
	}
	if len(ps.m) >= maxPools {
		return nil, fmt.Errorf("bad knob n: at most %d distinct pool sizes per lab, and %d would be one more", maxPools, n)
	}
	label := strconv.FormatInt(n, 10)
	p := &pool{
		sem:     make(chan struct{}, n),
		waiters: s.m.poolWaiters.WithLabelValues(label),
		held:    s.m.poolInUse.WithLabelValues(label),
	}
	p.waiters.Set(0)
	p.held.Set(0)
	ps.m[n] = p
	return p, nil
}

// handlePool acquires a slot of the pool of size n, holds it while
// sleeping ms, and releases it.
func (s *Server) handlePool(w http.ResponseWriter, r *http.Request) {
	if s.pooled(w, r) {
		okText(w)
	}
}

// pooled reads the knobs of /pool (and /nagle), n and ms, and holds a
// slot as holdSlot does. It reports false, having answered, when the
// knobs are wrong or the slot could not be had.
func (s *Server) pooled(w http.ResponseWriter, r *http.Request) bool {
	k := parseKnobs(r, "n", "ms")
	n := k.int("n", defaultPoolN, 1, maxPoolN)
	ms := k.int("ms", 10, 0, maxMS)
	return k.ok(w) && s.holdSlot(w, r, n, ms)
}

// holdSlot acquires a slot of the pool of size n, holds it while sleeping
// ms, and releases it. It reports false, having answered, when the pool
// cannot be had or the client went away.
func (s *Server) holdSlot(w http.ResponseWriter, r *http.Request, n, ms int64) bool {
	p, err := s.pool(n)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return false
	}
	ctx := r.Context()
	p.waiters.Inc()
	select {
	case p.sem <- struct{}{}:
		p.waiters.Dec()
	case <-ctx.Done():
		p.waiters.Dec()
		abort(w, r)
		return false
	}
	storeMax(&p.max, p.inUse.Add(1))
	p.held.Inc()
	slept := sleep(ctx, time.Duration(ms)*time.Millisecond)
	p.held.Dec()
	p.inUse.Add(-1)
	<-p.sem
	if !slept {
		abort(w, r)
		return false
	}
	return true
}
