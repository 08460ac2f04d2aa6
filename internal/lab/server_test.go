package lab_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/lab"
)

// serve runs s.Serve in the background and returns the bound address, a
// stop function, and a channel closed once Serve has returned; Serve's
// result is then in *res.
func serve(t *testing.T, s *lab.Server) (addr string, stop context.CancelFunc, done <-chan struct{}, res *error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	ready := make(chan net.Addr, 1)
	finished := make(chan struct{})
	var err error
	go func() {
		defer close(finished)
		err = s.Serve(ctx, func(a net.Addr) { ready <- a })
	}()
	t.Cleanup(func() {
		cancel()
		<-finished
	})
	select {
	case a := <-ready:
		return a.String(), cancel, finished, &err
	case <-finished:
		t.Fatalf("Serve: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not call ready in 10 s")
	}
	return "", nil, nil, nil
}

func TestServeAndShutdown(t *testing.T) {
	s, err := lab.New(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	addr, stop, done, res := serve(t, s)
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !ap.Addr().IsLoopback() || ap.Port() == 0 {
		t.Fatalf("ready got %q, want 127.0.0.1 and a real port", addr)
	}

	client := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	resp, err := client.Get("http://" + addr + "/fast?size=5")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "okoko" {
		t.Fatalf("/fast?size=5 = %d %q, want 200 \"okoko\"", resp.StatusCode, body)
	}
	if got := s.Count("/fast"); got != 1 {
		t.Errorf("Count(/fast) = %d, want 1", got)
	}

	stop()
	select {
	case <-done:
		if *res != nil {
			t.Fatalf("Serve returned %v after ctx done, want nil", *res)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return 10 s after ctx was done")
	}
	client.CloseIdleConnections()
	if _, err := client.Get("http://" + addr + "/fast"); err == nil {
		t.Fatal("the lab still answers after Serve returned")
	}
}

func TestServeListenError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c := testConfig()
	c.Listen = ln.Addr().String() // taken
	s, err := lab.New(c)
	if err != nil {
		t.Fatal(err)
	}
	called := false
	err = s.Serve(t.Context(), func(net.Addr) { called = true })
	if err == nil || called {
		t.Fatalf("Serve on a taken port = %v (ready called: %v), want an error and no ready", err, called)
	}
}

// TestServeCutsShortAfterGrace holds a request far longer than the grace
// period: Serve must still return, after cancelling it with a 503.
func TestServeCutsShortAfterGrace(t *testing.T) {
	s, err := lab.New(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	s.SetGrace(100 * time.Millisecond)
	addr, stop, done, res := serve(t, s)

	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	type result struct {
		code int
		err  error
	}
	held := make(chan result, 1)
	go func() {
		resp, err := client.Get("http://" + addr + "/slow?ms=60000")
		if err != nil {
			held <- result{err: err}
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		held <- result{code: resp.StatusCode}
	}()
	waitFor(t, "the /slow request to be in flight", func() bool { return s.InFlight("/slow") == 1 })

	start := time.Now()
	stop()
	select {
	case <-done:
		if *res != nil {
			t.Fatalf("Serve = %v, want nil", *res)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return with a request held for 60 s")
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("Serve took %v to return with a 100 ms grace", el)
	}
	r := <-held
	if r.err == nil && r.code != http.StatusServiceUnavailable {
		t.Errorf("held request got %d, want 503 or a closed connection", r.code)
	}
	if got := s.InFlight("/slow"); got != 0 {
		t.Errorf("/slow still has %d in flight after Serve returned", got)
	}
}

func TestIndex(t *testing.T) {
	_, ts := newLab(t, testConfig())
	a := get(t, ts, "/")
	if a.code != http.StatusOK || !strings.HasPrefix(a.header.Get("Content-Type"), "application/json") {
		t.Fatalf("/ = %d %s", a.code, a.header.Get("Content-Type"))
	}
	var got []lab.Endpoint
	if err := json.Unmarshal([]byte(a.body), &got); err != nil {
		t.Fatalf("/ is not a JSON list of endpoints: %v", err)
	}
	want := append(lab.Endpoints(), lab.Shop()...)
	if len(got) != len(want) {
		t.Fatalf("/ lists %d endpoints, Endpoints() and Shop() %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("/ [%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	if a := get(t, ts, "/nope"); a.code != http.StatusNotFound {
		t.Errorf("/nope = %d, want 404", a.code)
	}
}

// TestEndpointsDescribeServedPaths checks the index against the handler:
// every listed path is served, with a known class and a theory.
func TestEndpointsDescribeServedPaths(t *testing.T) {
	classes := map[string]bool{
		"cpu": true, "serialized": true, "concurrency-limit": true, "throttled": true, "errors": true,
		"latency-floor": true, "incorrect-responses": true, "memory": true, "client": true, "none": true,
	}
	s, ts := newLab(t, testConfig())
	eps := lab.Endpoints()
	eps[0].Path = "/changed" // a copy: must not change the index
	if lab.Endpoints()[0].Path == "/changed" {
		t.Fatal("Endpoints() returns shared state")
	}
	seen := map[string]bool{}
	for _, ep := range lab.Endpoints() {
		if !classes[ep.Class] {
			t.Errorf("%s: class %q is not a bottleneck class", ep.Path, ep.Class)
		}
		if ep.Knobs == "" || ep.Theory == "" {
			t.Errorf("%s: knobs or theory missing", ep.Path)
		}
		if seen[ep.Path] {
			t.Errorf("%s listed twice", ep.Path)
		}
		seen[ep.Path] = true
		path := ep.Path + "?ms=0"
		switch ep.Path {
		case "/race":
			path = "/race?id=x&ms=0"
		case "/fast", "/quota", "/leak", "/scan", "/lookup":
			path = ep.Path
		}
		before := s.Count(ep.Path)
		want := http.StatusOK
		if ep.Path == "/backend" {
			want = http.StatusNotFound // no backend in this lab
		}
		if a := get(t, ts, path); a.code != want {
			t.Errorf("GET %s = %d %q, want %d", path, a.code, a.body, want)
		}
		if got := s.Count(ep.Path); got != before+1 {
			t.Errorf("Count(%s) went from %d to %d, want +1", ep.Path, before, got)
		}
	}
	if len(seen) != 16 {
		t.Errorf("Endpoints() lists %d paths, want the 16 load endpoints", len(seen))
	}
}

func TestMethodNotAllowed(t *testing.T) {
	_, ts := newLab(t, testConfig())
	resp, err := ts.Client().Post(ts.URL+"/fast", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST /fast = %d, want 405", resp.StatusCode)
	}
}

func TestMetrics(t *testing.T) {
	_, ts := newLab(t, testConfig())
	get(t, ts, "/fast")
	get(t, ts, "/pool?n=3&ms=0")
	for _, series := range []string{
		`process_cpu_seconds_total`,
		`process_resident_memory_bytes`,
		`go_goroutines`,
		`lab_inflight{endpoint="pool"}`,
		`lab_pool_waiters{n="20"}`,
		`lab_pool_waiters{n="3"}`,
		`lab_pool_in_use{n="3"}`,
		`lab_lock_waiters`,
		`lab_quota_rejected_total`,
		`lab_overload_rejected_total`,
		`lab_race_wrong_total`,
		`lab_leak_bytes`,
		`lab_request_duration_seconds_count{endpoint="fast"}`,
	} {
		metric(t, ts, series)
	}
	if v := metric(t, ts, `lab_requests_total{code="200",endpoint="fast"}`); v != 1 {
		t.Errorf("lab_requests_total for /fast = %v, want 1", v)
	}
	if v := metric(t, ts, `lab_request_duration_seconds_count{endpoint="pool"}`); v != 1 {
		t.Errorf("duration count for /pool = %v, want 1", v)
	}
	// The scrape itself is in flight while it is written.
	if v := metric(t, ts, `lab_inflight{endpoint="metrics"}`); v != 1 {
		t.Errorf("lab_inflight for /metrics during a scrape = %v, want 1", v)
	}
}

// TestTwoServers checks that each Server has its own registry and state.
func TestTwoServers(t *testing.T) {
	s1, ts1 := newLab(t, testConfig())
	s2, ts2 := newLab(t, testConfig())
	get(t, ts1, "/fast")
	get(t, ts1, "/fast")
	get(t, ts2, "/fast")
	if s1.Count("fast") != 2 || s2.Count("fast") != 1 {
		t.Fatalf("counts %d and %d, want 2 and 1", s1.Count("fast"), s2.Count("fast"))
	}
	if v := metric(t, ts2, `lab_requests_total{code="200",endpoint="fast"}`); v != 1 {
		t.Fatalf("second lab's lab_requests_total = %v, want 1", v)
	}
	if got := s1.Count("nope"); got != 0 {
		t.Errorf("Count(nope) = %d, want 0", got)
	}
}
