package htmlreport_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/surgeload/surge/internal/compare"
	"github.com/surgeload/surge/internal/htmlreport"
	"github.com/surgeload/surge/internal/result"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// load reads a result written by surge itself (testdata holds real runs
// and searches against the lab).
func load(t testing.TB, name string) *result.Result {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := result.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// reports renders one report of each kind.
func reports(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, kind := range []string{"run", "find", "scenario"} {
		var b bytes.Buffer
		if err := htmlreport.Result(&b, sample(t, kind)); err != nil {
			t.Fatal(err)
		}
		out[kind] = b.Bytes()
	}
	for _, pair := range [][3]string{{"compare", "run-before.json", "run-after.json"}, {"compare-find", "find-before.json", "find-after.json"}} {
		a, b := load(t, pair[1]), load(t, pair[2])
		c, err := compare.Compare(compare.Input{Name: pair[1], R: a}, compare.Input{Name: pair[2], R: b})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := htmlreport.Compare(&buf, c, a, b); err != nil {
			t.Fatal(err)
		}
		out[pair[0]] = buf.Bytes()
	}
	return out
}

// sample returns a result of the kind: a real run, a real find, or a run
// given scenario fields by hand (scenario runs are new; their keys are
// what the result package documents).
func sample(t testing.TB, kind string) *result.Result {
	switch kind {
	case "find":
		return load(t, "find-after.json")
	case "scenario":
		r := load(t, "run-after.json")
		r.StepNames = []string{"login", "order"}
		r.ByStep = map[string]result.Summary{
			"login": {Requests: 5400, RPS: 359, Latency: result.Latency{P50: 60, P95: 75, P99: 120}, Errors: result.Errors{Count: 0}},
			"order": {Requests: 5400, RPS: 359, Latency: result.Latency{P50: 70, P95: 88, P99: 140}, Errors: result.Errors{Count: 54, Rate: 0.01, ByClass: map[string]int64{"check": 54}}},
		}
		r.Iterations = &result.Iterations{Count: 5400, Completed: 5346, Failed: 54, Rate: 359}
		return r
	}
	return load(t, "run-before.json")
}

func TestGolden(t *testing.T) {
	defer htmlreport.StubAssets()()
	for kind, got := range reports(t) {
		path := filepath.Join("testdata", kind+".html.golden")
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./internal/htmlreport -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s report differs from %s (check, then run with -update)", kind, path)
		}
	}
}

var external = regexp.MustCompile(`(?i)(<script[^>]+src=|<link[^>]+href=|<img[^>]+src=|url\(\s*['"]?(https?:)?//|@import)`)

// A report is one file: uPlot is inside it, and nothing points outside.
func TestSelfContained(t *testing.T) {
	for kind, page := range reports(t) {
		s := string(page)
		if !strings.Contains(s, "uPlot") || !strings.Contains(s, "surgeCharts(") || len(page) < 50_000 {
			t.Errorf("%s: uPlot or the chart code is not embedded (%d bytes)", kind, len(page))
		}
		if m := external.FindString(s); m != "" {
			t.Errorf("%s: refers to an outside resource: %q", kind, m)
		}
	}
}

// Without JavaScript the verdict and the key figures are in the markup.
func TestVerdictWithoutJavaScript(t *testing.T) {
	r := reports(t)
	want := map[string][]string{
		"run":          {`id="verdict"`, "No thresholds were set", "p95", "147ms"},
		"find":         {`id="verdict"`, "Capacity:", "Bottleneck:", "Evidence", "Levels tried"},
		"scenario":     {"<h2>Steps</h2>", "login", "order"},
		"compare":      {`id="verdict"`, "better", "no real change"},
		"compare-find": {"capacity", "Bottleneck</b>: A"},
	}
	for kind, subs := range want {
		for _, s := range subs {
			if !strings.Contains(string(r[kind]), s) {
				t.Errorf("%s report lacks %q", kind, s)
			}
		}
	}
}
