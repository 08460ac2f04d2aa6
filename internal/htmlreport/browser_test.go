package htmlreport_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

var screenshots = flag.String("screenshots", "", "save the screenshots in this directory (default: a temporary one); docs/find-report.png is its find.png")

// chromium finds the browser; under SURGE_BROWSER_TEST=1 (set by .ci/run)
// a missing browser fails the test instead of skipping it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "chromium not found: install it (apt-get install -y --no-install-recommends chromium) to run the browser test of the HTML report"
	if os.Getenv("SURGE_BROWSER_TEST") == "1" {
		t.Fatal(msg + " (SURGE_BROWSER_TEST=1: this run requires it)")
	}
	t.Skip(msg)
	return ""
}

// TestReportsInBrowser opens each kind of report in headless Chromium and
// checks that it shows its verdict, logs no console error, makes no
// network request, and that every chart drew pixels.
func TestReportsInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	exe := chromium(t)
	dir := t.TempDir()
	if *screenshots != "" {
		dir = *screenshots
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.DisableGPU,
		chromedp.WindowSize(1280, 1600))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()

	verdicts := map[string]string{
		"run": "No thresholds were set", "find": "Bottleneck:", "scenario": "Verdict",
		"compare": "better", "compare-find": "capacity",
	}
	for kind, page := range reports(t) {
		t.Run(kind, func(t *testing.T) {
			path := filepath.Join(dir, kind+".html")
			if err := os.WriteFile(path, page, 0o644); err != nil {
				t.Fatal(err)
			}
			url := "file://" + path
			tctx, cancelTab := chromedp.NewContext(actx)
			defer cancelTab()
			if err := chromedp.Do(tctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{})
				return err
			})); err != nil {
				t.Fatalf("start chromium: %v", err)
			}
			// Every request and every console problem, in the order the
			// browser reports them, from before the page loads.
			var mu sync.Mutex
			var requested, problems []string
			if err := chromedp.Listen(tctx, func(ev any) {
				mu.Lock()
				defer mu.Unlock()
				switch e := ev.(type) {
				case *network.EventRequestWillBeSent:
					requested = append(requested, e.Request.URL)
				case *runtime.EventConsoleAPICalled:
					if e.Type == "error" || e.Type == "assert" {
						problems = append(problems, fmt.Sprintf("console.%s (%d arguments)", e.Type, len(e.Args)))
					}
				case *runtime.EventExceptionThrown:
					problems = append(problems, "exception: "+e.ExceptionDetails.Text)
				case *cdplog.EventEntryAdded:
					if e.Entry.Level == cdplog.EntryLevelError {
						problems = append(problems, "log: "+e.Entry.Text)
					}
				}
			}); err != nil {
				t.Fatal(err)
			}
			if err := chromedp.Do(tctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("#verdict"))); err != nil {
				t.Fatalf("open %s: %v", url, err)
			}
			text, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS("#verdict")))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(text, verdicts[kind]) {
				t.Errorf("verdict text %q does not show %q", text, verdicts[kind])
			}
			// Every chart has a canvas, and every canvas has drawn.
			drawn, err := chromedp.Run(tctx, chromedp.Evaluate[[]int](`(function () {
				var plots = document.querySelectorAll(".plot");
				return Array.prototype.map.call(plots, function (p) {
					var c = p.querySelector("canvas");
					if (!c) return -1;
					var d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data, n = 0;
					for (var i = 3; i < d.length; i += 4) if (d[i] !== 0) n++;
					return n;
				});
			})()`))
			if err != nil {
				t.Fatal(err)
			}
			if len(drawn) == 0 {
				t.Errorf("no chart in the %s report", kind)
			}
			for i, n := range drawn {
				if n < 500 {
					t.Errorf("chart %d drew %d pixels (−1: no canvas), want a drawn chart", i, n)
				}
			}
			png, err := chromedp.Run(tctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			shot := filepath.Join(dir, kind+".png")
			if err := os.WriteFile(shot, png, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("screenshot: %s", shot)
			// Make sure every event of the page has arrived: one more
			// round trip after the checks above.
			if _, err := chromedp.Run(tctx, chromedp.Evaluate[int]("1")); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, u := range requested {
				if u != url {
					t.Errorf("network request to %s", u)
				}
			}
			for _, p := range problems {
				t.Errorf("console: %s", p)
			}
		})
	}
}
