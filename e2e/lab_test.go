package e2e

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// startLab runs `surge lab` on a free loopback port and returns its base
// URL. The lab is stopped (Ctrl-C) when the test ends.
func startLab(t *testing.T, args ...string) string {
	t.Helper()
	return startLabEnv(t, nil, args...)
}

// startLabEnv is startLab with extra environment variables (GOMAXPROCS=1
// gives the lab exactly one core).
func startLabEnv(t *testing.T, env []string, args ...string) string {
	t.Helper()
	return startLabProc(t, env, args...).url
}

// labCount reads lab_requests_total for an endpoint and status code from
// the lab's /metrics (0 when the lab has not counted any).
func labCount(t *testing.T, base, endpoint, code string) int64 {
	t.Helper()
	n, _ := labMetric(t, base, "lab_requests_total", `code="`+code+`",endpoint="`+endpoint+`"`)
	return n
}

// labMetric reads one series of the lab's /metrics: its name and labels
// as they are printed; ok is false when the lab does not print it.
func labMetric(t *testing.T, base, name, labels string) (n int64, ok bool) {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(regexp.QuoteMeta(name+"{"+labels+"}") + ` (\d+)`).FindSubmatch(b)
	if m == nil {
		return 0, false
	}
	n, _ = strconv.ParseInt(string(m[1]), 10, 64)
	return n, true
}

func TestRunAgainstTheLabPool(t *testing.T) {
	lab := startLab(t)
	// 8 users on a pool of 4 slots held 10 ms: 400 req/s, and each request
	// waits for a slot: latency ≈ 8/4 × 10 ms = 20 ms (Little's law).
	r, o := runJSON(t, "run", "-q", "-u", "8", "-d", "3s", lab+"/pool?n=4&ms=10")
	if o.code != 0 {
		t.Fatalf("exit %d: %s", o.code, o.stderr)
	}
	if got := labCount(t, lab, "pool", "200"); got != r.Summary.Requests {
		t.Fatalf("lab answered %d, surge counted %d", got, r.Summary.Requests)
	}
	if r.Summary.RPS < 320 || r.Summary.RPS > 410 {
		t.Fatalf("rps %.1f on a pool of 4 × 10 ms, want ≤ 400 and within 20 %%", r.Summary.RPS)
	}
	if p50 := r.Summary.Latency.P50; p50 < 19 || p50 > 26 {
		t.Fatalf("p50 %.1f ms, want ≈ 20 ms (8 users queueing for 4 slots)", p50)
	}
}

// The same pool answered as Java's HttpServer answers (/nagle): each
// response's body waits ~40 ms for surge's delayed ACK. The result keeps
// the time to the first byte apart from the latency: about the pool's
// 5 ms on /nagle, the whole latency on /pool.
func TestRunTimesTheFirstByte(t *testing.T) {
	lab := startLab(t)
	for _, c := range []struct {
		path      string
		stallLo   float64
		stallHigh float64
	}{{"/nagle?n=4&ms=5", 30, 120}, {"/pool?n=4&ms=5", 0, 3}} {
		r, o := runJSON(t, "run", "-q", "-u", "1", "-d", "2s", lab+c.path)
		if o.code != 0 {
			t.Fatalf("%s: exit %d: %s", c.path, o.code, o.stderr)
		}
		l := r.Summary.Latency
		if l.TTFB < 4 || l.TTFB > l.Mean {
			t.Fatalf("%s: ttfb_mean %.2f ms, mean %.2f ms: want the pool's 5 ms at least, and no more than the mean", c.path, l.TTFB, l.Mean)
		}
		if stall := l.Mean - l.TTFB; stall < c.stallLo || stall > c.stallHigh {
			t.Errorf("%s: %.2f ms from first byte to last (mean %.2f, ttfb %.2f), want %v to %v", c.path, stall, l.Mean, l.TTFB, c.stallLo, c.stallHigh)
		}
	}
}

func TestLabRefusesOtherAddresses(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:8080", "10.0.0.1:80", ":8080"} {
		o := surge(t, "lab", "--listen", addr)
		if o.code != 2 || !strings.Contains(o.stderr, "only listens on loopback") {
			t.Errorf("lab --listen %s: exit %d stderr %q, want 2 and a loopback message", addr, o.code, o.stderr)
		}
	}
}
