package e2e

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/hist"
	sres "github.com/surgeload/surge/internal/result"
)

// writeResult writes a result as today's surge would: 5000 log-normal
// latencies around 20 ms × slow, 20 seconds at about rps, errRate errors.
func writeResult(t *testing.T, dir, name string, seed uint64, slow, rps, errRate float64) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	h := hist.New()
	var errs int64
	const n = 5000
	for range n {
		h.Record(time.Duration(20 * slow * math.Exp(0.4*rng.NormFloat64()) * float64(time.Millisecond)))
		if rng.Float64() < errRate {
			errs++
		}
	}
	enc, err := h.Encode()
	if err != nil {
		t.Fatal(err)
	}
	r := &sres.Result{Version: sres.Version, Target: "http://127.0.0.1:8080/x", Method: "GET", Model: "users", Users: 10,
		DurationS: 20, Histogram: enc,
		Summary: sres.Summary{Requests: n, RPS: rps,
			Latency:     sres.Latency{Mean: sres.Ms(h.Mean()), P50: sres.Ms(h.Quantile(.5)), P95: sres.Ms(h.Quantile(.95)), P99: sres.Ms(h.Quantile(.99)), Max: sres.Ms(h.Max())},
			Errors:      sres.Errors{Count: errs, Rate: float64(errs) / n, ByClass: map[string]int64{"http_5xx": errs}},
			StatusCodes: map[string]int64{"200": n - errs, "500": errs}},
	}
	for s := 1; s <= 20; s++ {
		r.Timeline = append(r.Timeline, sres.Point{T: float64(s), RPS: rps * (1 + 0.03*rng.NormFloat64()), Users: 10})
	}
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := sres.Write(f, r); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCompareExitCodes(t *testing.T) {
	dir := t.TempDir()
	base := writeResult(t, dir, "base.json", 1, 1, 1000, 0.01)
	same := writeResult(t, dir, "same.json", 2, 1, 1000, 0.01)
	slow := writeResult(t, dir, "slow.json", 3, 1.3, 900, 0.03)
	old := filepath.Join(dir, "old.json")
	// A result of an older surge: version 1, none of the newer keys.
	if err := os.WriteFile(old, []byte(`{"version":1,"target":"http://127.0.0.1:8080/x","summary":{"requests":4000,"rps":200,"latency_ms":{"p50":20,"p95":40},"errors":{"count":40,"rate":0.01}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	notResult := filepath.Join(dir, "other.json")
	if err := os.WriteFile(notResult, []byte(`{"name":"not surge"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		args   []string
		code   int
		stderr string // a line stderr must contain
	}{
		{"noise is no regression", []string{"--fail-on", "p95>+5%", "--fail-on", "rps<-5%", base, same}, 0, ""},
		{"a real p95 regression", []string{"--fail-on", "p95>+10%", base, slow}, 3, "--fail-on p95>+10%: B moved +"},
		{"within the bound", []string{"--fail-on", "p95>+50%", base, slow}, 0, ""},
		{"errors in points", []string{"--fail-on", "errors>+0.5pp", base, slow}, 3, "errors>+0.5pp"},
		{"throughput", []string{"--fail-on", "rps<-5%", base, slow}, 3, "rps<-5%"},
		{"an improvement breaks no upper bound", []string{"--fail-on", "p95>+10%", slow, base}, 0, ""},
		{"older result", []string{old, base}, 0, ""},
		{"bad --fail-on", []string{"--fail-on", "p95>10", base, slow}, 2, "--fail-on"},
		{"unknown metric", []string{"--fail-on", "latency>+1%", base, slow}, 2, "unknown metric"},
		{"capacity of runs", []string{"--fail-on", "capacity<-10%", base, slow}, 2, "capacity needs two find results"},
		{"missing file", []string{base, filepath.Join(dir, "nope.json")}, 2, "nope.json: no such file"},
		{"not a surge result", []string{base, notResult}, 2, "not a surge result"},
		{"one file", []string{base}, 2, "two result files"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := surge(t, append([]string{"compare"}, tc.args...)...)
			if o.code != tc.code || !strings.Contains(o.stderr, tc.stderr) {
				t.Fatalf("exit %d, stderr %q: want %d and %q\nstdout:\n%s", o.code, o.stderr, tc.code, tc.stderr, o.stdout)
			}
			if tc.code == 2 && strings.Count(strings.TrimSpace(o.stderr), "\n") != 0 {
				t.Errorf("bad input got more than one line: %q", o.stderr)
			}
			if tc.code != 2 && !strings.Contains(o.stdout, "p95") {
				t.Errorf("no table on stdout:\n%s", o.stdout)
			}
		})
	}
}

func TestCompareWritesJSON(t *testing.T) {
	dir := t.TempDir()
	a := writeResult(t, dir, "a.json", 1, 1, 1000, 0.01)
	b := writeResult(t, dir, "b.json", 3, 1.3, 900, 0.03)
	out := filepath.Join(dir, "cmp.json")
	if o := surge(t, "compare", "-q", "--json", out, a, b); o.code != 0 || o.stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", o.code, o.stdout, o.stderr)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Rows []struct {
			Section, Name, Verdict string
			A, B                   float64
			Real                   bool
		} `json:"rows"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	for _, r := range c.Rows {
		if r.Section == "latency" && r.Name == "p95" {
			if !r.Real || r.Verdict != "worse" || r.B <= r.A {
				t.Fatalf("p95 row %+v: want a real change for the worse", r)
			}
			return
		}
	}
	t.Fatalf("no p95 row in %s", raw)
}
