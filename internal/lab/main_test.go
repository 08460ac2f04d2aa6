package lab_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/surgeload/surge/internal/lab"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testConfig is the config of the tests' labs: a small table, a small leak
// cap, any free port on 127.0.0.1.
func testConfig() lab.Config {
	c := lab.DefaultConfig()
	c.Listen = "127.0.0.1:0"
	c.Rows = 1000
	c.LeakMax = 1 << 20
	return c
}

// newLab starts a lab with c behind an httptest server on 127.0.0.1.
func newLab(t *testing.T, c lab.Config) (*lab.Server, *httptest.Server) {
	t.Helper()
	return newLabWith(t, c, nil)
}

// newLabWith is newLab with prep run on the Server before it serves.
func newLabWith(t *testing.T, c lab.Config, prep func(*lab.Server)) (*lab.Server, *httptest.Server) {
	t.Helper()
	s, err := lab.New(c)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if prep != nil {
		prep(s)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	if !strings.HasPrefix(ts.URL, "http://127.0.0.1:") {
		t.Fatalf("test server on %s, want 127.0.0.1", ts.URL)
	}
	return s, ts
}

// answer is one response, read whole.
type answer struct {
	code   int
	body   string
	header http.Header
}

// get sends GET base+path with a 30 s bound and reads the whole answer.
func get(t *testing.T, ts *httptest.Server, path string) answer {
	t.Helper()
	a, err := getCtx(t.Context(), ts, path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return a
}

// getCtx is get for use off the test goroutine: it returns its error.
func getCtx(ctx context.Context, ts *httptest.Server, path string) (answer, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+path, nil)
	if err != nil {
		return answer{}, err
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	return answer{code: resp.StatusCode, body: string(b), header: resp.Header}, nil
}

// metric scrapes /metrics and returns the value of the sample written
// exactly as series (e.g. `lab_pool_in_use{n="3"}`), or fails the test.
func metric(t *testing.T, ts *httptest.Server, series string) float64 {
	t.Helper()
	v, ok := metricOK(t, ts, series)
	if !ok {
		t.Fatalf("/metrics has no sample %s", series)
	}
	return v
}

// metricOK is metric that reports a missing sample instead of failing.
func metricOK(t *testing.T, ts *httptest.Server, series string) (float64, bool) {
	t.Helper()
	a := get(t, ts, "/metrics")
	if a.code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", a.code, a.body)
	}
	for line := range strings.SplitSeq(a.body, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err != nil {
				t.Fatalf("/metrics: %q: %v", line, err)
			}
			return v, true
		}
	}
	return 0, false
}

// waitFor polls cond every millisecond until it holds, for at most 5 s.
// It waits for server-side state, never to make a race pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// getter sends one GET to the lab; hammer uses it off the test goroutine.
type getter interface {
	get(ctx context.Context, path string) (answer, error)
}

// labGetter is a getter on an httptest server.
type labGetter struct{ ts *httptest.Server }

func (g labGetter) get(ctx context.Context, path string) (answer, error) {
	return getCtx(ctx, g.ts, path)
}

// urlQueryEscape escapes s for a query-string value.
func urlQueryEscape(s string) string { return url.QueryEscape(s) }
