package lab

import "time"

// This file bridges the black-box tests (package lab_test) to the
// server-side state they check behaviour against.

// MaxLockHolders returns the most /lock holders seen at once.
func (s *Server) MaxLockHolders() int64 { return s.lock.max.Load() }

// MaxPoolInUse returns the most slots of the pool of size n held at once.
func (s *Server) MaxPoolInUse(n int64) int64 {
	s.pools.mu.Lock()
	defer s.pools.mu.Unlock()
	if p := s.pools.m[n]; p != nil {
		return p.max.Load()
	}
	return -1
}

// InFlight returns the requests in flight now on an endpoint ("pool").
func (s *Server) InFlight(endpoint string) int64 {
	if st := s.stats[endpointName(endpoint)]; st != nil {
		return st.inflight.Load()
	}
	return -1
}

// SetNow replaces the clock of /quota's token buckets; call it before the
// Server serves.
func (s *Server) SetNow(now func() time.Time) { s.now = now }

// SetGrace replaces Serve's shutdown bound; call it before Serve.
func (s *Server) SetGrace(d time.Duration) { s.grace = d }

// LastLogin returns row i's last_login (i from 0).
func (s *Server) LastLogin(i int) int64 { return s.table.rows[i].lastLogin }

// Scan counts the rows with last_login q by a full scan.
func (s *Server) Scan(q int64) int { return s.table.scan(q) }

// Lookup counts the rows with last_login q through the index.
func (s *Server) Lookup(q int64) int { return s.table.lookup(q) }

// DefaultQ is /scan's and /lookup's default q.
func (s *Server) DefaultQ() int64 { return s.table.defaultQ() }

// GILThreads returns the connections /gil holds locked to a thread now.
func (s *Server) GILThreads() int { return len(s.threads.slots) }

// FillGILThreads takes every free thread slot, as if that many
// connections held one.
func (s *Server) FillGILThreads() {
	for len(s.threads.slots) < cap(s.threads.slots) {
		s.threads.slots <- struct{}{}
	}
}
