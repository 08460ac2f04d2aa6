package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// shutdownGrace bounds how long Serve waits for requests in flight when
// its context is done; after it, they are cancelled.
const shutdownGrace = 5 * time.Second

// errShuttingDown is the cancel cause of requests cut short by Serve's
// shutdown; they answer 503 instead of 499.
var errShuttingDown = errors.New("lab is shutting down")

// Server is the lab target. Build it with New; it is safe for concurrent
// use, and all its endpoints share its state (the /lock lock, the /pool
// pools, the /quota buckets, the /race slot and the /leak list).
type Server struct {
	cfg     Config
	m       *metrics
	stats   map[string]*endpointStats // by endpoint name; fixed after New
	handler http.Handler
	table   *table

	now   func() time.Time // clock of /quota's token buckets
	grace time.Duration    // Serve's shutdown bound

	burners  chan struct{} // /cpu requests burning now, at most maxBurners
	lock     lockState
	gil      chan struct{} // /gil's interpreter lock
	threads  connThreads   // /gil's connections locked to a thread
	pools    poolSet
	buckets  bucketSet
	overload overloadState
	race     raceState
	leak     leakState
	loop     loopState
	retro    retroState
	backend  *http.Client // calls cfg.Backend; nil without one
	shop     *shop
}

// route is one endpoint as served: its metric name and its handler.
type route struct {
	name, path string
	h          http.HandlerFunc
}

// New validates c, builds the table behind /scan and /lookup, and
// registers the lab's metrics on a registry of its own, so that several
// Servers can live in one process.
func New(c Config) (*Server, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("lab config: %w", err)
	}
	m, err := newMetrics(c.NoGoMetrics)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:   c,
		m:     m,
		stats: map[string]*endpointStats{},
		table: newTable(c.Rows),
		now:   time.Now,
		grace: shutdownGrace,

		burners: make(chan struct{}, maxBurners),
		gil:     make(chan struct{}, 1),
		threads: connThreads{slots: make(chan struct{}, maxGILThreads)},
	}
	s.lock.init()
	s.retro.init()
	if c.Backend != "" {
		s.backend = &http.Client{
			Timeout:   time.Minute,
			Transport: &http.Transport{MaxIdleConnsPerHost: 1024, MaxConnsPerHost: 1024, IdleConnTimeout: 30 * time.Second},
		}
	}
	s.pools.init()
	s.buckets.init()
	s.m.lockWaiters.Set(0)
	s.m.leakBytes.Set(0)
	// The default pool exists from the start, so that lab_pool_waiters and
	// lab_pool_in_use are on /metrics before the first /pool request.
	if _, err := s.pool(defaultPoolN); err != nil {
		return nil, err
	}

	metricsHandler := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	routes := []route{
		{"index", "/{$}", s.handleIndex},
		{"metrics", "/metrics", metricsHandler.ServeHTTP},
		{"fast", "/fast", s.handleFast},
		{"cpu", "/cpu", s.handleCPU},
		{"lock", "/lock", s.handleLock},
		{"pool", "/pool", s.handlePool},
		{"nagle", "/nagle", s.handleNagle},
		{"quota", "/quota", s.handleQuota},
		{"slow", "/slow", s.handleSlow},
		{"overload", "/overload", s.handleOverload},
		{"race", "/race", s.handleRace},
		{"leak", "/leak", s.handleLeak},
		{"scan", "/scan", s.handleScan},
		{"lookup", "/lookup", s.handleLookup},
		{"single", "/single", s.handleSingle},
		{"gil", "/gil", s.handleGIL},
		{"retro", "/retro", s.handleRetro},
		{"backend", "/backend", s.handleBackend},
	}
	if s.shop, err = newShop(m.reg); err != nil {
		return nil, err
	}
	routes = append(routes, s.shopRoutes()...)
	mux := http.NewServeMux()
	for _, rt := range routes {
		s.stats[rt.name] = &endpointStats{}
		pattern := rt.path
		if !strings.Contains(pattern, " ") {
			pattern = "GET " + pattern
		}
		mux.Handle(pattern, s.instrument(rt.name, rt.h))
	}
	s.handler = mux
	return s, nil
}

// Handler returns the lab's HTTP handler, for use in a server of your own
// (httptest, for one). It is the same handler on every call.
func (s *Server) Handler() http.Handler { return s.handler }

// Count returns how many requests the endpoint has answered so far, whatever
// their status. A request counts as soon as its answer starts, so a client
// that has its answer sees it counted. endpoint is a path such as "/pool"
// or its name "pool"; "/" is the index. An unknown endpoint counts 0.
func (s *Server) Count(endpoint string) uint64 {
	if st := s.stats[endpointName(endpoint)]; st != nil {
		return st.handled.Load()
	}
	return 0
}

// endpointName maps "/pool" and "pool" to "pool", "/shop/login" to
// "shop_login", and "/" to "index".
func endpointName(endpoint string) string {
	if endpoint == "/" {
		return "index"
	}
	return strings.ReplaceAll(strings.TrimPrefix(endpoint, "/"), "/", "_")
}

// Serve listens on the configured address, calls ready (when not nil) with
// the bound address once listening, and serves until ctx is done. It then
// stops accepting, waits up to 5 s for requests in flight, cancels those
// still running and closes their connections, waits (as long again at
// most) for their handlers to return, and returns nil. An error to listen, or
// a bound address that is not loopback, is returned at once.
func (s *Server) Serve(ctx context.Context, ready func(addr net.Addr)) error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("lab listen: %w", err)
	}
	if !isLoopbackAddr(ln.Addr()) {
		_ = ln.Close() // the error that matters is the one below
		return fmt.Errorf("lab listen %s: bound to %s, but the lab only listens on loopback", s.cfg.Listen, ln.Addr())
	}

	base, cancelBase := context.WithCancelCause(context.Background())
	defer cancelBase(errShuttingDown)
	var act activity
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !act.enter() {
				http.Error(w, errShuttingDown.Error(), http.StatusServiceUnavailable)
				return
			}
			defer act.leave()
			s.handler.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return base },
		ConnContext:       s.connContext,
		ConnState:         s.connState,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if ready != nil {
		ready(ln.Addr())
	}

	select {
	case err := <-served: // Serve stopped on its own: a real failure
		act.drain()
		cancelBase(errShuttingDown)
		_ = srv.Close() // the error that matters is err
		return fmt.Errorf("lab serve: %w", err)
	case <-ctx.Done():
	}

	sctx, cancel := context.WithTimeout(context.Background(), s.grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		// Requests still in flight after the grace period: cancel them and
		// close their connections.
		cancelBase(errShuttingDown)
		_ = srv.Close() // closing is the fallback; its error adds nothing
	}
	<-served // http.ErrServerClosed, now that Shutdown or Close has run
	cancelBase(errShuttingDown)
	select {
	case <-act.drain():
	case <-time.After(s.grace):
	}
	return nil
}

// activity counts the handlers running under one Serve call, so that
// Serve returns only once they are done.
type activity struct {
	mu       sync.Mutex
	n        int
	draining bool
	idle     chan struct{} // closed once draining and no handler runs
}

// enter registers a handler, or reports false once draining began.
func (a *activity) enter() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.draining {
		return false
	}
	a.n++
	return true
}

// leave unregisters a handler.
func (a *activity) leave() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.n--
	if a.draining && a.n == 0 {
		close(a.idle)
	}
}

// drain refuses new handlers and returns a channel closed once none runs.
func (a *activity) drain() <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.draining {
		a.draining = true
		a.idle = make(chan struct{})
		if a.n == 0 {
			close(a.idle)
		}
	}
	return a.idle
}

// sleep waits d, or until ctx is done; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// abort answers a request whose context ended before its answer: 503 when
// Serve is shutting down, otherwise 499 (the client went away; nobody
// reads it, but the metrics count it).
func abort(w http.ResponseWriter, r *http.Request) {
	if errors.Is(context.Cause(r.Context()), errShuttingDown) {
		http.Error(w, errShuttingDown.Error(), http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(statusAbort)
}
