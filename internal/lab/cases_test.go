package lab_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// /single does every request's work on one thread, in turn: four requests
// of 20 ms of CPU sent at once cannot all finish before 80 ms.
func TestSingleServesOneAtATime(t *testing.T) {
	if took := fourAtOnce(t, "/single?ms=20"); took < 80*time.Millisecond {
		t.Fatalf("4 × 20 ms of CPU took %s: the work was not done one at a time", took)
	}
}

// /gil serves one request at a time like /single, each on a thread of its
// own: four requests of 20 ms of CPU sent at once take 80 ms at least.
func TestGILServesOneAtATime(t *testing.T) {
	if took := fourAtOnce(t, "/gil?ms=20"); took < 80*time.Millisecond {
		t.Fatalf("4 × 20 ms of CPU took %s: the work was not done one at a time", took)
	}
}

// fourAtOnce sends four requests for path at once to a new lab and
// returns how long they took, all answered 200.
func fourAtOnce(t *testing.T, path string) time.Duration {
	t.Helper()
	_, ts := newLab(t, testConfig())
	start := time.Now()
	var wg sync.WaitGroup
	codes := make([]int, 4)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := getCtx(t.Context(), ts, path)
			if err == nil {
				codes[i] = a.code
			}
		}()
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Fatalf("%s request %d: status %d", path, i, c)
		}
	}
	return time.Since(start)
}

// /overload sheds with the status asked for, with Retry-After only when
// asked.
func TestOverloadShedsWithOrWithoutRetryAfter(t *testing.T) {
	_, ts := newLab(t, testConfig())
	for _, c := range []struct {
		query string
		code  int
		retry string
	}{
		{"limit=0", 500, ""},
		{"limit=0&code=503", 503, ""},
		{"limit=0&code=503&retry=2", 503, "2"},
	} {
		a := get(t, ts, "/overload?"+c.query)
		if a.code != c.code || a.header.Get("Retry-After") != c.retry {
			t.Errorf("/overload?%s: %d, Retry-After %q; want %d, %q", c.query, a.code, a.header.Get("Retry-After"), c.code, c.retry)
		}
	}
	if a := get(t, ts, "/overload?code=404"); a.code != http.StatusBadRequest {
		t.Errorf("code=404: %d, want 400", a.code)
	}
}

// /retro holds its lock longer for every request waiting on it.
func TestRetroSlowsDownWithWaiters(t *testing.T) {
	_, ts := newLab(t, testConfig())
	start := time.Now()
	if a := get(t, ts, "/retro?ms=10"); a.code != http.StatusOK {
		t.Fatalf("status %d", a.code)
	}
	alone := time.Since(start)
	start = time.Now()
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() { defer wg.Done(); getCtx(t.Context(), ts, "/retro?ms=10") }()
	}
	wg.Wait()
	// 20 requests at 10 ms each, one at a time, is 200 ms; the waiters
	// add ms/10 each to every hold, so more than that.
	if took := time.Since(start); took < 250*time.Millisecond || alone < 10*time.Millisecond {
		t.Fatalf("one request %s, 20 at once %s: want ≥ 10 ms and ≥ 250 ms", alone, took)
	}
}

// /backend spends its work in the backend lab.
func TestBackendCallsTheOtherLab(t *testing.T) {
	back, bts := newLab(t, testConfig())
	c := testConfig()
	c.Backend = bts.URL
	_, ts := newLab(t, c)
	if a := get(t, ts, "/backend?ms=1"); a.code != http.StatusOK {
		t.Fatalf("status %d %q", a.code, a.body)
	}
	if n := back.Count("/cpu"); n != 1 {
		t.Fatalf("the backend served %d /cpu requests, want 1", n)
	}
}

func TestMetricsWithoutTheGoCollector(t *testing.T) {
	c := testConfig()
	c.NoGoMetrics = true
	_, ts := newLab(t, c)
	body := get(t, ts, "/metrics").body
	if strings.Contains(body, "go_sched_gomaxprocs_threads") || !strings.Contains(body, "process_cpu_seconds_total") {
		t.Fatal("want process metrics and no go_* metrics")
	}
}

func TestBackendMustBeLoopback(t *testing.T) {
	for _, b := range []string{"http://10.0.0.1:80", "https://127.0.0.1:1", "http://127.0.0.1:1/x"} {
		c := testConfig()
		c.Backend = b
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "backend") {
			t.Errorf("backend %q: %v, want an error naming it", b, err)
		}
	}
}
