package lab_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/lab"
)

// hammer sends path from clients goroutines, each perClient times, all
// released together, and returns the answers and the elapsed time.
func hammer(t *testing.T, ts getter, clients, perClient int, path func(client, i int) string) ([]answer, time.Duration) {
	t.Helper()
	answers := make([]answer, clients*perClient)
	errs := make([]error, clients)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			<-start
			for i := range perClient {
				a, err := ts.get(t.Context(), path(c, i))
				if err != nil {
					errs[c] = err
					return
				}
				answers[c*perClient+i] = a
			}
		})
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	el := time.Since(t0)
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return answers, el
}

func TestFast(t *testing.T) {
	s, ts := newLab(t, testConfig())
	if a := get(t, ts, "/fast"); a.code != http.StatusOK || a.body != "ok" {
		t.Errorf("/fast = %d %q, want 200 \"ok\"", a.code, a.body)
	}
	if a := get(t, ts, "/fast?size=0"); a.code != http.StatusOK || a.body != "" {
		t.Errorf("/fast?size=0 = %d %q, want 200 and no body", a.code, a.body)
	}
	a := get(t, ts, "/fast?size=100000")
	if a.code != http.StatusOK || len(a.body) != 100000 || a.header.Get("Content-Length") != "100000" {
		t.Errorf("/fast?size=100000 = %d, %d bytes, Content-Length %q", a.code, len(a.body), a.header.Get("Content-Length"))
	}
	if got := s.Count("fast"); got != 3 {
		t.Errorf("Count(fast) = %d, want 3", got)
	}
}

// TestSlowIsConcurrentAndCancellable holds 10 /slow requests at once
// (unlimited concurrency, seen server-side), then lets the clients go
// away: every handler must stop at once and count a 499.
func TestSlowIsConcurrentAndCancellable(t *testing.T) {
	s, ts := newLab(t, testConfig())
	start := time.Now()
	if a := get(t, ts, "/slow?ms=50"); a.code != http.StatusOK {
		t.Fatalf("/slow?ms=50 = %d", a.code)
	}
	if el := time.Since(start); el < 50*time.Millisecond {
		t.Fatalf("/slow?ms=50 answered in %v, before its 50 ms", el)
	}

	const users = 10
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var wg sync.WaitGroup
	for range users {
		wg.Go(func() { _, _ = getCtx(ctx, ts, "/slow?ms=60000") })
	}
	waitFor(t, "10 /slow requests in flight at once", func() bool { return s.InFlight("slow") == users })
	cancel()
	wg.Wait()
	waitFor(t, "the /slow handlers to stop", func() bool { return s.InFlight("slow") == 0 })
	if v := metric(t, ts, `lab_requests_total{code="499",endpoint="slow"}`); v != users {
		t.Errorf("499s on /slow = %v, want %d", v, users)
	}
}

// TestLockSerializes: the one global lock, shared by every ms, is never
// held by 2 requests, and throughput cannot beat 1000/ms.
func TestLockSerializes(t *testing.T) {
	s, ts := newLab(t, testConfig())
	const clients, each = 6, 5
	answers, el := hammer(t, labGetter{ts}, clients, each, func(c, i int) string {
		return fmt.Sprintf("/lock?ms=%d", 5+2*(c%2)) // 5 and 7 ms share the lock
	})
	for _, a := range answers {
		if a.code != http.StatusOK {
			t.Fatalf("/lock answered %d %q", a.code, a.body)
		}
	}
	if got := s.MaxLockHolders(); got != 1 {
		t.Fatalf("most /lock holders at once = %d, want exactly 1", got)
	}
	if got := s.Count("lock"); got != clients*each {
		t.Errorf("Count(lock) = %d, want %d", got, clients*each)
	}
	// 15 holds of 5 ms and 15 of 7 ms, one after the other.
	if min := 15 * 12 * time.Millisecond; el < min {
		t.Errorf("30 /lock requests took %v, less than the %v the lock allows", el, min)
	}
	if v := metric(t, ts, "lab_lock_waiters"); v != 0 {
		t.Errorf("lab_lock_waiters = %v after the load, want 0", v)
	}
}

// TestLockWaiterLeaves checks that a request waiting for the lock stops
// waiting when its client goes away.
func TestLockWaiterLeaves(t *testing.T) {
	s, ts := newLab(t, testConfig())
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() { _, _ = getCtx(ctx, ts, "/lock?ms=60000") })
	}
	waitFor(t, "3 /lock requests in flight", func() bool { return s.InFlight("lock") == 3 })
	if v := metric(t, ts, "lab_lock_waiters"); v != 2 {
		t.Errorf("lab_lock_waiters = %v with one holder and two waiting, want 2", v)
	}
	cancel()
	wg.Wait()
	waitFor(t, "the /lock handlers to stop", func() bool { return s.InFlight("lock") == 0 })
	if v := metric(t, ts, "lab_lock_waiters"); v != 0 {
		t.Errorf("lab_lock_waiters = %v after the clients left, want 0", v)
	}
	if a := get(t, ts, "/lock?ms=0"); a.code != http.StatusOK {
		t.Errorf("the lock was not released: %d", a.code)
	}
}

// TestPoolLimitsConcurrency: 12 clients on a pool of 3 never see more than
// 3 holders, and throughput stays at n x 1000/ms.
func TestPoolLimitsConcurrency(t *testing.T) {
	s, ts := newLab(t, testConfig())
	const n, ms, clients, each = 3, 20, 12, 5
	answers, el := hammer(t, labGetter{ts}, clients, each, func(int, int) string {
		return fmt.Sprintf("/pool?n=%d&ms=%d", n, ms)
	})
	for _, a := range answers {
		if a.code != http.StatusOK {
			t.Fatalf("/pool answered %d %q", a.code, a.body)
		}
	}
	if got := s.MaxPoolInUse(n); got != n {
		t.Fatalf("most /pool slots held at once = %d, want exactly %d", got, n)
	}
	if got := s.Count("pool"); got != clients*each {
		t.Errorf("Count(pool) = %d, want %d", got, clients*each)
	}
	theory := float64(n) * 1000 / ms // 150 req/s
	rate := float64(clients*each) / el.Seconds()
	t.Logf("/pool?n=%d&ms=%d: %.1f req/s, theory %.0f", n, ms, rate, theory)
	if rate > theory*1.01 || rate < theory/2 {
		t.Errorf("/pool?n=%d&ms=%d ran at %.1f req/s, theory %.0f", n, ms, rate, theory)
	}
	for _, series := range []string{`lab_pool_in_use{n="3"}`, `lab_pool_waiters{n="3"}`} {
		if v := metric(t, ts, series); v != 0 {
			t.Errorf("%s = %v after the load, want 0", series, v)
		}
	}
}

// TestPoolWaiters holds the whole pool and checks the waiters gauge.
func TestPoolWaiters(t *testing.T) {
	s, ts := newLab(t, testConfig())
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() { _, _ = getCtx(ctx, ts, "/pool?n=2&ms=60000") })
	}
	waitFor(t, "5 /pool requests in flight", func() bool { return s.InFlight("pool") == 5 })
	if v := metric(t, ts, `lab_pool_in_use{n="2"}`); v != 2 {
		t.Errorf("lab_pool_in_use = %v, want 2", v)
	}
	if v := metric(t, ts, `lab_pool_waiters{n="2"}`); v != 3 {
		t.Errorf("lab_pool_waiters = %v, want 3", v)
	}
	cancel()
	wg.Wait()
	waitFor(t, "the /pool handlers to stop", func() bool { return s.InFlight("pool") == 0 })
	if v := metric(t, ts, `lab_pool_waiters{n="2"}`); v != 0 {
		t.Errorf("lab_pool_waiters = %v after the clients left, want 0", v)
	}
	if got := s.MaxPoolInUse(2); got != 2 {
		t.Errorf("most slots held = %d, want 2", got)
	}
}

// fakeClock is a settable clock for /quota's token buckets.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// TestQuotaTokenBucket checks the bucket arithmetic on a fake clock.
func TestQuotaTokenBucket(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	_, ts := newLabWith(t, testConfig(), func(s *lab.Server) { s.SetNow(clock.Now) })
	rejected := 0
	// send asks n times and checks how many got through.
	send := func(path string, n, wantOK int) {
		t.Helper()
		ok := 0
		for range n {
			a := get(t, ts, path)
			switch a.code {
			case http.StatusOK:
				ok++
			case http.StatusTooManyRequests:
				rejected++
				if a.header.Get("Retry-After") != "1" {
					t.Errorf("429 without Retry-After: 1 (got %q)", a.header.Get("Retry-After"))
				}
			default:
				t.Fatalf("%s = %d %q", path, a.code, a.body)
			}
		}
		if ok != wantOK {
			t.Errorf("%s: %d of %d got through, want %d", path, ok, n, wantOK)
		}
	}
	send("/quota?rps=50", 7, 5) // burst 50/10 = 5
	clock.Add(100 * time.Millisecond)
	send("/quota?rps=50", 6, 5) // 100 ms x 50/s = 5 tokens
	clock.Add(20 * time.Millisecond)
	send("/quota?rps=50", 2, 1) // 20 ms x 50/s = 1 token
	clock.Add(10 * time.Millisecond)
	send("/quota?rps=50", 1, 0) // half a token
	clock.Add(10 * time.Millisecond)
	send("/quota?rps=50", 1, 1) // the other half
	clock.Add(time.Hour)
	send("/quota?rps=50", 6, 5) // refill stops at the burst
	send("/quota?rps=5", 2, 1)  // burst max(1, 5/10) = 1, its own bucket
	clock.Add(200 * time.Millisecond)
	send("/quota?rps=5", 1, 1) // 200 ms x 5/s = 1 token
	clock.Add(time.Duration(1<<62) - time.Hour)
	send("/quota?rps=1000000", 10, 10) // no overflow after a very long idle at a high rate
	if v := metric(t, ts, "lab_quota_rejected_total"); int(v) != rejected || rejected != 2+1+1+1+1+1 {
		t.Errorf("lab_quota_rejected_total = %v, 429s seen %d, want both 7", v, rejected)
	}
}

// TestQuotaRealTime checks burst + rps x elapsed on the real clock.
func TestQuotaRealTime(t *testing.T) {
	_, ts := newLab(t, testConfig())
	const rps, burst = 50, 5
	ok, rejected := 0, 0
	t0 := time.Now()
	for i := 0; i < 20_000 && time.Since(t0) < 400*time.Millisecond; i++ {
		a := get(t, ts, "/quota?rps=50")
		switch a.code {
		case http.StatusOK:
			ok++
		case http.StatusTooManyRequests:
			rejected++
		default:
			t.Fatalf("/quota = %d", a.code)
		}
	}
	el := time.Since(t0).Seconds()
	hi := burst + rps*el + 1
	t.Logf("/quota?rps=%d: %d of %d through in %.3f s (theory %.1f)", rps, ok, ok+rejected, el, burst+rps*el)
	lo := burst + rps*el - 5
	if float64(ok) > hi || float64(ok) < lo {
		t.Errorf("%d of %d got through in %.3f s at rps=%d, want %.1f to %.1f", ok, ok+rejected, el, rps, lo, hi)
	}
	if v := metric(t, ts, "lab_quota_rejected_total"); int(v) != rejected || rejected == 0 {
		t.Errorf("lab_quota_rejected_total = %v, 429s seen %d (want equal and > 0)", v, rejected)
	}
}

// TestOverload holds exactly limit requests, then sends k more: exactly k
// answers are 500, and the counter agrees.
func TestOverload(t *testing.T) {
	s, ts := newLab(t, testConfig())
	const limit, k = 4, 3
	path := fmt.Sprintf("/overload?limit=%d&ms=60000", limit)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var wg sync.WaitGroup
	held := make([]int, limit)
	for i := range limit {
		wg.Go(func() {
			a, err := getCtx(ctx, ts, path)
			if err == nil {
				held[i] = a.code
			}
		})
	}
	waitFor(t, "limit /overload requests in flight", func() bool { return s.InFlight("overload") == limit })
	for range k {
		a := get(t, ts, path) // limit+1 in flight: rejected at once
		if a.code != http.StatusInternalServerError {
			t.Fatalf("/overload over the limit = %d %q, want 500", a.code, a.body)
		}
	}
	if v := metric(t, ts, "lab_overload_rejected_total"); v != k {
		t.Errorf("lab_overload_rejected_total = %v, want %d", v, k)
	}
	if v := metric(t, ts, `lab_requests_total{code="500",endpoint="overload"}`); v != k {
		t.Errorf("500s on /overload = %v, want %d", v, k)
	}
	cancel()
	wg.Wait()
	for i, code := range held {
		if code == http.StatusInternalServerError {
			t.Errorf("held request %d was answered 500 though it was within the limit", i)
		}
	}
	waitFor(t, "the held /overload requests to stop", func() bool { return s.InFlight("overload") == 0 })

	// Within the limit, nothing fails: one at a time with limit 1.
	for range 5 {
		if a := get(t, ts, "/overload?limit=1&ms=1"); a.code != http.StatusOK {
			t.Fatalf("/overload?limit=1 alone = %d, want 200", a.code)
		}
	}
	if a := get(t, ts, "/overload?limit=0&ms=0"); a.code != http.StatusInternalServerError {
		t.Errorf("/overload?limit=0 = %d, want 500", a.code)
	}
	if v := metric(t, ts, "lab_overload_rejected_total"); v != k+1 {
		t.Errorf("lab_overload_rejected_total = %v, want %d", v, k+1)
	}
}

// raceID decodes a /race answer.
func raceID(t *testing.T, a answer) string {
	t.Helper()
	var v struct {
		ID string `json:"id"`
	}
	if a.code != http.StatusOK {
		t.Fatalf("/race = %d %q", a.code, a.body)
	}
	if err := json.Unmarshal([]byte(a.body), &v); err != nil {
		t.Fatalf("/race body %q: %v", a.body, err)
	}
	return v.ID
}

func TestRaceSequentialIsCorrect(t *testing.T) {
	_, ts := newLab(t, testConfig())
	for i := range 20 {
		id := "req-" + strconv.Itoa(i) + `-"quoted" é`
		a := get(t, ts, "/race?id="+urlQueryEscape(id))
		if got := raceID(t, a); got != id {
			t.Fatalf("/race alone answered id %q, want %q", got, id)
		}
	}
	if v := metric(t, ts, "lab_race_wrong_total"); v != 0 {
		t.Errorf("lab_race_wrong_total = %v after sequential calls, want 0", v)
	}
}

// TestRaceOverlapIsWrong: 8 overlapping callers (each holds the slot for
// 300 ms) get at least one wrong id, and the server counts exactly the
// mismatches the clients see.
func TestRaceOverlapIsWrong(t *testing.T) {
	_, ts := newLab(t, testConfig())
	const callers = 8
	answers, _ := hammer(t, labGetter{ts}, callers, 1, func(c, _ int) string {
		return fmt.Sprintf("/race?id=caller-%d&ms=300", c)
	})
	valid := map[string]bool{}
	for c := range callers {
		valid[fmt.Sprintf("caller-%d", c)] = true
	}
	wrong := 0
	for c, a := range answers {
		got := raceID(t, a)
		if !valid[got] {
			t.Fatalf("/race answered %q, which no caller sent", got)
		}
		if got != fmt.Sprintf("caller-%d", c) {
			wrong++
		}
	}
	if wrong == 0 {
		t.Fatal("8 overlapping /race callers all got their own id; want stale data")
	}
	if v := metric(t, ts, "lab_race_wrong_total"); int(v) != wrong {
		t.Errorf("lab_race_wrong_total = %v, clients saw %d wrong ids", v, wrong)
	}
}

func TestLeak(t *testing.T) {
	c := testConfig()
	c.LeakMax = 5 * 64 << 10
	s, ts := newLab(t, c)
	for i := 1; i <= 7; i++ {
		a := get(t, ts, "/leak?kb=64")
		var v struct {
			RetainedBytes int64 `json:"retained_bytes"`
			Full          bool  `json:"full"`
		}
		if err := json.Unmarshal([]byte(a.body), &v); err != nil || a.code != http.StatusOK {
			t.Fatalf("/leak #%d = %d %q (%v)", i, a.code, a.body, err)
		}
		want := int64(min(i, 5)) * 64 << 10
		full := i > 5
		if v.RetainedBytes != want || v.Full != full || (a.header.Get("X-Lab-Leak") == "full") != full {
			t.Errorf("/leak #%d: retained %d full %v header %q; want %d, %v", i, v.RetainedBytes, v.Full, a.header.Get("X-Lab-Leak"), want, full)
		}
		if got := metric(t, ts, "lab_leak_bytes"); int64(got) != want {
			t.Errorf("after /leak #%d lab_leak_bytes = %v, want %d", i, got, want)
		}
	}
	if got := s.Count("leak"); got != 7 {
		t.Errorf("Count(leak) = %d, want 7", got)
	}

	c.LeakMax = 0
	_, ts0 := newLab(t, c)
	if a := get(t, ts0, "/leak"); a.header.Get("X-Lab-Leak") != "full" {
		t.Errorf("/leak with LeakMax 0: header %q, want full", a.header.Get("X-Lab-Leak"))
	}
}

func TestScanEqualsLookup(t *testing.T) {
	s, ts := newLab(t, testConfig())
	qs := []string{"", "?q=" + strconv.FormatInt(s.DefaultQ(), 10), "?q=0", "?q=-1", "?q=9223372036854775807", "?q=-9223372036854775808"}
	for _, i := range []int{0, 1, 17, 500, 999} {
		qs = append(qs, "?q="+strconv.FormatInt(s.LastLogin(i), 10), "?q="+strconv.FormatInt(s.LastLogin(i)+1, 10))
	}
	for _, q := range qs {
		scan, lookup := get(t, ts, "/scan"+q), get(t, ts, "/lookup"+q)
		if scan.code != http.StatusOK || scan.body != lookup.body {
			t.Errorf("q %q: /scan %d %q, /lookup %d %q; want the same 200", q, scan.code, scan.body, lookup.code, lookup.body)
		}
	}
	// Every row is counted once: the counts of the distinct values add up
	// to Rows, through both paths.
	distinct := map[int64]bool{}
	for i := range 1000 {
		distinct[s.LastLogin(i)] = true
	}
	sumScan, sumLookup := 0, 0
	for q := range distinct {
		if n := s.Scan(q); n < 1 {
			t.Fatalf("scan(%d) = %d for a value in the table", q, n)
		} else {
			sumScan += n
		}
		sumLookup += s.Lookup(q)
	}
	if sumScan != 1000 || sumLookup != 1000 {
		t.Errorf("counts add up to %d (scan) and %d (lookup), want 1000", sumScan, sumLookup)
	}
	var v struct{ Q, Count, Rows int64 }
	if err := json.Unmarshal([]byte(get(t, ts, "/scan").body), &v); err != nil || v.Q != s.DefaultQ() || v.Count < 1 || v.Rows != 1000 {
		t.Errorf("/scan default = %+v (%v), want q %d, count >= 1, rows 1000", v, err, s.DefaultQ())
	}
}
