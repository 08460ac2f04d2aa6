package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A result written by today's binary renders again, as text and as HTML;
// run --html writes the same kind of report at the end of the run.
func TestReportOfTodaysResult(t *testing.T) {
	c := newCounter(t)
	dir := t.TempDir()
	res, page := filepath.Join(dir, "r.json"), filepath.Join(dir, "run.html")
	o := surge(t, "run", "-q", "-u", "4", "-d", "3s", "--slo", "p95<1s", "--json", res, "--html", page, c.url("/?ms=2"))
	if o.code != 0 {
		t.Fatalf("run: exit %d, stderr %q", o.code, o.stderr)
	}
	out := filepath.Join(dir, "report.html")
	if o := surge(t, "report", res, "--html", out); o.code != 0 || o.stdout != "" {
		t.Fatalf("report: exit %d, stdout %q, stderr %q", o.code, o.stdout, o.stderr)
	}
	for _, p := range []string{page, out} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		html := string(b)
		for _, want := range []string{`id="verdict"`, "Every threshold held (1)", "surgeCharts(", `id="throughput"`, `id="spectrum"`, "uPlot"} {
			if !strings.Contains(html, want) {
				t.Errorf("%s lacks %q", filepath.Base(p), want)
			}
		}
		if strings.Contains(html, "<script src=") || strings.Contains(html, "<link ") {
			t.Errorf("%s loads an outside resource", filepath.Base(p))
		}
	}
	if o := surge(t, "report", res); o.code != 0 || !strings.Contains(o.stdout, "p95") {
		t.Fatalf("report as text: exit %d, stdout %q", o.code, o.stdout)
	}
}

func TestReportAndHTMLBadInput(t *testing.T) {
	c := newCounter(t)
	dir := t.TempDir()
	nowhere := filepath.Join(dir, "no", "such", "dir", "r.html")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"run", "-q", "-n", "10", "--html", nowhere, c.url("/")}, "--html"},
		{[]string{"find", "-q", "--html", nowhere, c.url("/")}, "--html"},
		{[]string{"report", filepath.Join(dir, "missing.json"), "--html", filepath.Join(dir, "x.html")}, "missing.json: no such file"},
		{[]string{"report"}, "one result file"},
	}
	for _, tc := range cases {
		o := surge(t, tc.args...)
		if o.code != 2 || !strings.Contains(o.stderr, tc.want) || strings.Count(strings.TrimSpace(o.stderr), "\n") != 0 {
			t.Errorf("surge %v: exit %d, stderr %q: want 2 and one line with %q", tc.args, o.code, o.stderr, tc.want)
		}
	}
	if n := c.hits.Load(); n != 0 {
		t.Errorf("the target saw %d requests; bad input must send nothing", n)
	}
}

// A run whose threshold fails (exit 3) still writes its report, which says so.
func TestHTMLOfAFailedThreshold(t *testing.T) {
	c := newCounter(t)
	page := filepath.Join(t.TempDir(), "run.html")
	if o := surge(t, "run", "-q", "-u", "2", "-n", "40", "--slo", "p50<1us", "--html", page, c.url("/?ms=2")); o.code != 3 {
		t.Fatalf("exit %d, stderr %q: want 3", o.code, o.stderr)
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "1 of 1 thresholds failed") {
		t.Errorf("the report does not say the threshold failed")
	}
}
