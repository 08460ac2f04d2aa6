package runner_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/surgeload/surge/internal/client"
	"github.com/surgeload/surge/internal/expr"
	"github.com/surgeload/surge/internal/load"
	"github.com/surgeload/surge/internal/result"
	"github.com/surgeload/surge/internal/runner"
	"github.com/surgeload/surge/internal/scenario"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func target(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte("hello"))
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func options(t *testing.T, url string, p load.Plan, thresholds ...string) runner.Options {
	plan, err := scenario.Compile(scenario.URL("GET", url, nil, "", nil), scenario.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var exprs []*expr.Expr
	for _, s := range thresholds {
		e, err := expr.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		exprs = append(exprs, e)
	}
	return runner.Options{
		Journeys:   plan,
		Target:     url,
		Client:     client.Config{Timeout: 5 * time.Second, Conns: 4},
		Plan:       p,
		Thresholds: exprs,
	}
}

func TestRunLeavesNoGoroutines(t *testing.T) {
	srv, hits := target(t)
	for _, p := range []load.Plan{
		{Users: load.RampUsers{N: 4}, Duration: 300 * time.Millisecond, Grace: time.Second},
		{Arrivals: load.ConstantRate{Rate: 500}, Duration: 300 * time.Millisecond, MaxInflight: 50, Grace: time.Second},
	} {
		var progress atomic.Int64
		o := options(t, srv.URL, p)
		o.Progress = func(runner.Progress) { progress.Add(1) }
		r, err := runner.Run(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		if r.Summary.Requests == 0 {
			t.Fatal("no request completed")
		}
	}
	if hits.Load() == 0 {
		t.Fatal("server saw nothing")
	}
	srv.Close()
	goleak.VerifyNone(t)
}

// TestResultHasContractKeys checks every key PRODUCT.md promises scripts.
func TestResultHasContractKeys(t *testing.T) {
	srv, _ := target(t)
	o := options(t, srv.URL, load.Plan{Users: load.RampUsers{N: 2}, Duration: 1100 * time.Millisecond, Grace: time.Second}, "p95<100ms", "errors<1%")
	r, err := runner.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := result.Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		"version", "target", "model", "started", "duration_s",
		"summary.requests", "summary.rps",
		"summary.latency_ms.mean", "summary.latency_ms.p50", "summary.latency_ms.p90", "summary.latency_ms.p95",
		"summary.latency_ms.p99", "summary.latency_ms.p999", "summary.latency_ms.max",
		"summary.errors.count", "summary.errors.rate", "summary.errors.by_class",
		"summary.status_codes.200", "summary.bytes_in", "summary.bytes_out",
		"thresholds", "timeline", "probes", "histogram",
		"client.cpu_percent", "client.sched_lag_ms.p99", "client.warnings",
	} {
		if _, ok := lookup(m, path); !ok {
			t.Errorf("result has no %q", path)
		}
	}
	th := m["thresholds"].([]any)
	if len(th) != 2 {
		t.Fatalf("thresholds %v, want 2", th)
	}
	for _, x := range th {
		for _, k := range []string{"expr", "ok", "value"} {
			if _, ok := x.(map[string]any)[k]; !ok {
				t.Errorf("threshold %v has no %q", x, k)
			}
		}
	}
	tl := m["timeline"].([]any)
	if len(tl) == 0 {
		t.Fatal("empty timeline")
	}
	for _, k := range []string{"t", "rps", "p50_ms", "p95_ms", "p99_ms", "errors", "users"} {
		if _, ok := tl[0].(map[string]any)[k]; !ok {
			t.Errorf("timeline point has no %q", k)
		}
	}
	if _, err := time.Parse(time.RFC3339, m["started"].(string)); err != nil {
		t.Errorf("started %q is not RFC 3339: %v", m["started"], err)
	}
	back, err := result.Read(&buf)
	if err != nil {
		t.Fatalf("reading the result back: %v", err)
	}
	if back.Summary.Requests != r.Summary.Requests || back.Summary.Latency != r.Summary.Latency || back.Histogram != r.Histogram {
		t.Fatalf("round trip changed the result: %+v vs %+v", back.Summary, r.Summary)
	}
}

func TestThresholdsWithoutDataFail(t *testing.T) {
	// A target that refuses everything: no latency was measured, so a
	// latency SLO must fail rather than pass on nothing.
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	o := options(t, url, load.Plan{Users: load.RampUsers{N: 1}, Duration: 200 * time.Millisecond}, "p95<100ms", "errors<100%")
	r, err := runner.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if r.Summary.Errors.ByClass["refused"] == 0 {
		t.Fatalf("by class %v, want refused", r.Summary.Errors.ByClass)
	}
	if th := r.Thresholds[0]; th.OK || th.Value != nil {
		t.Fatalf("p95 threshold %+v: want failed with no value", th)
	}
	if th := r.Thresholds[1]; th.OK || th.Value == nil || *th.Value != 100 {
		t.Fatalf("errors threshold %+v: want failed at 100%%", th)
	}
}

func TestInterval(t *testing.T) {
	for _, c := range []struct{ d, want time.Duration }{
		{10 * time.Second, time.Second},
		{time.Hour, time.Second},
		{2 * time.Hour, 2 * time.Second},
		{24 * time.Hour, 24 * time.Second},
	} {
		if got := runner.Interval(c.d); got != c.want {
			t.Errorf("Interval(%v) = %v, want %v", c.d, got, c.want)
		}
	}
}

func lookup(m map[string]any, path string) (any, bool) {
	var cur any = m
	for _, k := range strings.Split(path, ".") {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = mm[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// A scenario run counts each step and each journey, and leaves no
// goroutine behind, in both models.
func TestScenarioRunByStepAndIterations(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" {
			w.Write([]byte(`{"token":"t1"}`))
			return
		}
		if r.Header.Get("Authorization") != "Bearer t1" {
			w.WriteHeader(401)
		}
	}))
	defer srv.Close()
	sc := &scenario.Scenario{File: "s.yaml", Base: srv.URL, Flows: []*scenario.Flow{{Name: "f", Weight: 1, Steps: []*scenario.Step{
		{Name: "login", Method: "POST", URL: "/login", Extract: []scenario.Extract{{Var: "token", Kind: scenario.FromJSON, Expr: "token"}}},
		{Name: "items", Method: "GET", URL: "/items", Headers: []scenario.Header{{Name: "Authorization", Value: "Bearer {{token}}"}}},
	}}}}
	plan, err := scenario.Compile(sc, scenario.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []load.Plan{
		{Users: load.RampUsers{N: 3}, Duration: 400 * time.Millisecond, Grace: time.Second},
		{Arrivals: load.ConstantRate{Rate: 200}, Duration: 400 * time.Millisecond, MaxInflight: 20, Grace: time.Second},
	} {
		r, err := runner.Run(context.Background(), runner.Options{Journeys: plan, Target: "s.yaml",
			Client: client.Config{Timeout: 5 * time.Second}, Plan: p})
		if err != nil {
			t.Fatal(err)
		}
		login, items := r.ByStep["login"], r.ByStep["items"]
		if strings.Join(r.StepNames, ",") != "login,items" || login.Requests == 0 || items.Errors.Count != 0 || login.Histogram == "" {
			t.Fatalf("steps %v: login %+v, items errors %+v", r.StepNames, login.Requests, items.Errors)
		}
		if it := r.Iterations; it == nil || it.Completed == 0 || it.Failed != 0 || it.Completed > items.Requests {
			t.Fatalf("iterations %+v for %d item requests", it, items.Requests)
		}
		if login.Requests+items.Requests != r.Summary.Requests {
			t.Fatalf("steps %d + %d, summary %d", login.Requests, items.Requests, r.Summary.Requests)
		}
	}
	srv.Close()
	goleak.VerifyNone(t)
}
