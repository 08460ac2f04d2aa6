package client

import (
	"net"
	"sync"
	"sync/atomic"
)

// connStats counts connections and the bytes that cross them. Each
// connection counts into its own fields, so the hot path never touches a
// shared cache line; totals are summed when asked for.
type connStats struct {
	dials      atomic.Int64
	dialErrors atomic.Int64

	mu        sync.Mutex
	live      map[*countConn]struct{}
	closedIn  int64
	closedOut int64
}

func newConnStats() *connStats {
	return &connStats{live: make(map[*countConn]struct{})}
}

func (s *connStats) wrap(c net.Conn) *countConn {
	cc := &countConn{Conn: c, stats: s}
	s.mu.Lock()
	s.live[cc] = struct{}{}
	s.mu.Unlock()
	return cc
}

func (s *connStats) closed(c *countConn) {
	s.mu.Lock()
	if _, ok := s.live[c]; ok {
		delete(s.live, c)
		s.closedIn += c.in.Load()
		s.closedOut += c.out.Load()
	}
	s.mu.Unlock()
}

// closeAll closes every live connection.
func (s *connStats) closeAll() {
	s.mu.Lock()
	live := make([]*countConn, 0, len(s.live))
	for c := range s.live {
		live = append(live, c)
	}
	s.mu.Unlock()
	for _, c := range live {
		c.Close()
	}
}

// totals returns the bytes read and written over all connections so far,
// and the number of connections open now.
func (s *connStats) totals() (in, out int64, open int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, out = s.closedIn, s.closedOut
	for c := range s.live {
		in += c.in.Load()
		out += c.out.Load()
	}
	return in, out, len(s.live)
}

// countConn is a net.Conn that counts the bytes read and written on it.
type countConn struct {
	net.Conn
	stats   *connStats
	in, out atomic.Int64
	once    sync.Once
}

func (c *countConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.in.Add(int64(n))
	return n, err
}

func (c *countConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.out.Add(int64(n))
	return n, err
}

func (c *countConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.stats.closed(c) })
	return err
}
