package lab

import (
	"fmt"
	"net/http"
	"sync"
	"time"
)

// bucketSet holds /quota's token buckets, one per distinct rps, created
// lazily and at most maxBuckets of them.
type bucketSet struct {
	mu sync.Mutex
	m  map[int64]*bucket
}

func (bs *bucketSet) init() { bs.m = map[int64]*bucket{} }

// nanoToken is one token in the bucket's fixed-point unit: counting in
// token-nanoseconds keeps the refill exact (no float rounding).
const nanoToken = int64(time.Second)

// bucket is a token bucket refilled continuously at rate tokens per second
// up to burst tokens. It starts full.
type bucket struct {
	mu     sync.Mutex
	rate   int64 // tokens per second
	cap    int64 // burst x nanoToken
	tokens int64 // in nanoToken units
	last   time.Time
}

func newBucket(rps int64, now time.Time) *bucket {
	burst := max(1, rps/10)
	return &bucket{rate: rps, cap: burst * nanoToken, tokens: burst * nanoToken, last: now}
}

// take refills the bucket up to now and takes one token if there is one.
func (b *bucket) take(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if el := now.Sub(b.last); el > 0 {
		b.last = now
		// el x rate token-ns are added; stop at the cap without overflowing.
		if missing := b.cap - b.tokens; int64(el) >= missing/b.rate+1 {
			b.tokens = b.cap
		} else {
			b.tokens += int64(el) * b.rate
		}
	}
	if b.tokens >= nanoToken {
		b.tokens -= nanoToken
		return true
	}
	return false
}

// bucket returns the token bucket for rps, creating it when there are
// fewer than maxBuckets.
func (s *Server) bucket(rps int64) (*bucket, error) {
	bs := &s.buckets
	bs.mu.Lock()
	defer bs.mu.Unlock()
	if b := bs.m[rps]; b != nil {
		return b, nil
	}
	if len(bs.m) >= maxBuckets {
		return nil, fmt.Errorf("bad knob rps: at most %d distinct rates per lab, and %d would be one more", maxBuckets, rps)
	}
	b := newBucket(rps, s.now())
	bs.m[rps] = b
	return b, nil
}

// handleQuota answers 200 at once while the bucket for rps has a token,
// and 429 with Retry-After: 1 when it is empty: a platform quota.
func (s *Server) handleQuota(w http.ResponseWriter, r *http.Request) {
	k := parseKnobs(r, "rps")
	rps := k.int("rps", 100, 1, maxRPS)
	if !k.ok(w) {
		return
	}
	b, err := s.bucket(rps)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if !b.take(s.now()) {
		s.m.quotaRejected.Inc()
		w.Header().Set("Retry-After", "1")
		http.Error(w, fmt.Sprintf("quota exceeded: %d requests per second", rps), http.StatusTooManyRequests)
		return
	}
	okText(w)
}
