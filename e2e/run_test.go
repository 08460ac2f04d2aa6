package e2e

import (
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestClosedModelSendsExactlyWhatTheServerHandles(t *testing.T) {
	c := newCounter(t)
	r, o := runJSON(t, "run", "-q", "-u", "8", "-n", "3000", c.url("/"))
	if o.code != 0 {
		t.Fatalf("exit %d, stderr %q", o.code, o.stderr)
	}
	if got := c.hits.Load(); got != 3000 || r.Summary.Requests != 3000 || r.Summary.Sent != 3000 {
		t.Fatalf("server handled %d, result says requests %d sent %d; want 3000 each", got, r.Summary.Requests, r.Summary.Sent)
	}
	if r.Summary.StatusCodes["200"] != 3000 || r.Summary.Errors.Count != 0 {
		t.Fatalf("status %v errors %d, want 3000×200 and none", r.Summary.StatusCodes, r.Summary.Errors.Count)
	}
	if r.Version != 1 || r.Model != "users" || r.Histogram == "" {
		t.Fatalf("version %d model %q histogram %q", r.Version, r.Model, r.Histogram)
	}
	// Every request is ~60 bytes out and the response ~120 in: the wire
	// counts must be in that range, not zero or doubled.
	if r.Summary.BytesOut < 3000*40 || r.Summary.BytesOut > 3000*200 || r.Summary.BytesIn < 3000*80 || r.Summary.BytesIn > 3000*400 {
		t.Fatalf("bytes in %d out %d for 3000 small requests", r.Summary.BytesIn, r.Summary.BytesOut)
	}
}

func TestTimedRunCountsEveryRequest(t *testing.T) {
	c := newCounter(t)
	r, o := runJSON(t, "run", "-q", "-u", "4", "-d", "2s", c.url("/?ms=2"))
	if o.code != 0 {
		t.Fatalf("exit %d, stderr %q", o.code, o.stderr)
	}
	if got := c.hits.Load(); got == 0 || r.Summary.Sent != got || r.Summary.Requests != got {
		t.Fatalf("server handled %d, result says sent %d requests %d", got, r.Summary.Sent, r.Summary.Requests)
	}
	if r.DurationS < 2 || r.DurationS > 2.5 {
		t.Fatalf("duration %.3fs for -d 2s", r.DurationS)
	}
	if n := len(r.Timeline); n < 2 || n > 3 {
		t.Fatalf("timeline has %d points for a 2 s run, want 2–3", n)
	}
}

func TestOpenModelHoldsItsRate(t *testing.T) {
	c := newCounter(t)
	r, o := runJSON(t, "run", "-q", "-r", "2000", "-d", "5s", c.url("/?ms=1"))
	if o.code != 0 {
		t.Fatalf("exit %d, stderr %q", o.code, o.stderr)
	}
	got := c.hits.Load()
	if got < 9900 || got > 10100 {
		t.Fatalf("server handled %d requests at 2000/s for 5 s, want 10000 ± 1%%", got)
	}
	if r.Summary.Requests != got {
		t.Fatalf("result says %d requests, server handled %d", r.Summary.Requests, got)
	}
	if r.Summary.RPS < 1980 || r.Summary.RPS > 2020 {
		t.Fatalf("rps %.1f, want 2000 ± 1%%", r.Summary.RPS)
	}
	if r.Model != "rate" {
		t.Fatalf("model %q, want rate", r.Model)
	}
}

func TestLatencyOfA10msHandler(t *testing.T) {
	c := newCounter(t)
	r, o := runJSON(t, "run", "-q", "-u", "2", "-d", "3s", c.url("/?ms=10"))
	if o.code != 0 {
		t.Fatalf("exit %d, stderr %q", o.code, o.stderr)
	}
	if p50 := r.Summary.Latency.P50; p50 < 10 || p50 > 11 {
		t.Fatalf("p50 %.3f ms for a 10 ms handler, want 10–11 ms", p50)
	}
	// Throughput follows: 2 users / ~10 ms.
	if r.Summary.RPS < 150 || r.Summary.RPS > 200 {
		t.Fatalf("rps %.1f for 2 users on a 10 ms handler, want ~190", r.Summary.RPS)
	}
}

func TestTimeoutsAreClassified(t *testing.T) {
	c := newCounter(t)
	r, o := runJSON(t, "run", "-q", "-u", "2", "-d", "1s", "--timeout", "200ms", "--slo", "errors<1%", c.url("/?ms=3000"))
	if o.code != 3 {
		t.Fatalf("exit %d, want 3 (the errors SLO fails); stderr %q", o.code, o.stderr)
	}
	if r.Summary.Errors.ByClass["timeout"] != r.Summary.Requests || r.Summary.Requests < 4 {
		t.Fatalf("requests %d, by class %v: want every request a timeout", r.Summary.Requests, r.Summary.Errors.ByClass)
	}
	// A timed-out request's latency is at least the timeout.
	if r.Summary.Latency.P50 < 200 {
		t.Fatalf("p50 %.1f ms for requests that timed out at 200 ms", r.Summary.Latency.P50)
	}
}

func TestRefusedConnectionsAreClassified(t *testing.T) {
	r, o := runJSON(t, "run", "-q", "-u", "2", "-d", "500ms", "http://"+closedPort(t)+"/")
	if o.code != 0 {
		t.Fatalf("exit %d (no threshold, so a failing target is data): %q", o.code, o.stderr)
	}
	if r.Summary.Requests == 0 || r.Summary.Errors.ByClass["refused"] != r.Summary.Requests {
		t.Fatalf("requests %d, by class %v: want every request refused", r.Summary.Requests, r.Summary.Errors.ByClass)
	}
	if !strings.Contains(o.stderr, "every request failed (refused)") {
		t.Fatalf("stderr %q should say every request was refused", o.stderr)
	}
}

func TestHTTPErrorsAreClassified(t *testing.T) {
	c := newCounter(t)
	r, _ := runJSON(t, "run", "-q", "-u", "2", "-n", "50", c.url("/?status=503"))
	if r.Summary.Errors.ByClass["http_5xx"] != 50 || r.Summary.StatusCodes["503"] != 50 {
		t.Fatalf("by class %v, status %v: want 50 × http_5xx / 503", r.Summary.Errors.ByClass, r.Summary.StatusCodes)
	}
	r, _ = runJSON(t, "run", "-q", "-u", "2", "-n", "50", c.url("/?status=404"))
	if r.Summary.Errors.ByClass["http_4xx"] != 50 {
		t.Fatalf("by class %v: want 50 × http_4xx", r.Summary.Errors.ByClass)
	}
}

func TestResetConnectionsAreClassified(t *testing.T) {
	// A server that accepts and closes at once, before answering.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 512)
			conn.Read(buf)
			conn.(*net.TCPConn).SetLinger(0) // RST rather than FIN
			conn.Close()
		}
	}()
	r, _ := runJSON(t, "run", "-q", "-u", "2", "-n", "20", "http://"+l.Addr().String()+"/")
	if r.Summary.Errors.ByClass["reset"] != 20 {
		t.Fatalf("by class %v: want 20 × reset", r.Summary.Errors.ByClass)
	}
}

func TestHTTP2OverTLS(t *testing.T) {
	c := &counter{}
	srv := httptest.NewUnstartedServer(c)
	srv.EnableHTTP2 = true
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the rejected handshakes are expected
	srv.StartTLS()
	defer srv.Close()

	r, o := runJSON(t, "run", "-q", "-k", "--http2", "-u", "4", "-n", "400", srv.URL+"/")
	if o.code != 0 || r.Summary.Protocols["HTTP/2"] != 400 {
		t.Fatalf("exit %d, protocols %v: want 400 over HTTP/2 (stderr %q)", o.code, r.Summary.Protocols, o.stderr)
	}
	// HTTP/2 multiplexes: far fewer connections than requests.
	if c.hits.Load() != 400 {
		t.Fatalf("server handled %d, want 400", c.hits.Load())
	}
	// Certificates are verified unless --insecure: the test CA is unknown.
	r, _ = runJSON(t, "run", "-q", "-u", "1", "-n", "5", srv.URL+"/")
	if r.Summary.Errors.ByClass["tls"] != 5 {
		t.Fatalf("by class %v without -k: want 5 × tls", r.Summary.Errors.ByClass)
	}
	// Without --http2, and with --http1, HTTPS stays on HTTP/1.1 even
	// when the server offers h2.
	for _, flag := range []string{"--http1", "-k"} {
		r, _ = runJSON(t, "run", "-q", "-k", flag, "-u", "2", "-n", "50", srv.URL+"/")
		if r.Summary.Protocols["HTTP/1.1"] != 50 {
			t.Fatalf("protocols %v with %s, want 50 × HTTP/1.1", r.Summary.Protocols, flag)
		}
	}
}

func TestH2CPriorKnowledge(t *testing.T) {
	c := &counter{}
	srv := httptest.NewUnstartedServer(c)
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	defer srv.Close()
	r, o := runJSON(t, "run", "-q", "--http2", "-u", "2", "-n", "100", srv.URL+"/")
	if o.code != 0 || r.Summary.Protocols["HTTP/2"] != 100 || c.hits.Load() != 100 {
		t.Fatalf("exit %d protocols %v hits %d: want 100 over h2c (stderr %q)", o.code, r.Summary.Protocols, c.hits.Load(), o.stderr)
	}
}

func TestThresholdFailureExitsThree(t *testing.T) {
	c := newCounter(t)
	o := surge(t, "run", "-u", "2", "-n", "100", "--slo", "p50<1ms", "--threshold", "errors<1%", c.url("/?ms=5"))
	if o.code != 3 {
		t.Fatalf("exit %d, want 3; stderr %q", o.code, o.stderr)
	}
	if !strings.Contains(o.stdout, "✗ p50<1ms") || !strings.Contains(o.stdout, "✓ errors<1%") {
		t.Fatalf("summary should mark p50<1ms failed and errors<1%% held:\n%s", o.stdout)
	}
}

func TestBadInputSendsNothing(t *testing.T) {
	c := newCounter(t)
	url := c.url("/")
	cases := []struct {
		name string
		args []string
		msg  string // expected in the one-line error
	}{
		{"bad users", []string{"run", "-u", "abc", url}, `invalid argument "abc" for "-u, --users"`},
		{"zero users", []string{"run", "-u", "0", url}, "--users must be from 1 to"},
		{"both models", []string{"run", "-u", "5", "-r", "10", url}, "exclude each other"},
		{"bad rate", []string{"run", "-r", "-5", url}, "--rate must be a positive number"},
		{"bad duration", []string{"run", "-d", "forever", url}, `invalid argument "forever" for "-d, --duration"`},
		{"bad expression", []string{"run", "--slo", "p95<100xs", url}, `--slo "p95<100xs": column 8: unknown unit "xs"`},
		{"bad metric", []string{"run", "--threshold", "latency<1s", url}, `column 1: unknown metric "latency"`},
		{"no scheme", []string{"run", "127.0.0.1:1/x"}, "has no scheme"},
		{"bad scheme", []string{"run", "ftp://127.0.0.1/"}, `unsupported scheme "ftp"`},
		{"bad header", []string{"run", "-H", "NoColon", url}, `--header "NoColon": want 'Name: value'`},
		{"no url", []string{"run"}, "surge run takes one URL or scenario file, got 0"},
		{"unknown flag", []string{"run", "--frobnicate", url}, "unknown flag: --frobnicate"},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"ramp too long", []string{"run", "-d", "1s", "--ramp", "2s", url}, "--ramp must be between 0 and --duration"},
		{"bad json path", []string{"run", "--json", filepath.Join(t.TempDir(), "no", "such", "dir.json"), url}, "--json:"},
		{"think in open model", []string{"run", "-r", "10", "--think", "1s", url}, "--think applies to the closed model"},
		{"bad think", []string{"run", "--think", "2s-1s", url}, "--think"},
		{"bad body file", []string{"run", "--body", "@/no/such/file", url}, "--body:"},
		{"http1 and http2", []string{"run", "--http1", "--http2", url}, "exclude each other"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := surge(t, tc.args...)
			if o.code != 2 {
				t.Fatalf("exit %d, want 2; stderr %q", o.code, o.stderr)
			}
			lines := strings.Split(strings.TrimSpace(o.stderr), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "surge: ") || !strings.Contains(lines[0], tc.msg) {
				t.Fatalf("stderr %q: want one line 'surge: …%s…'", o.stderr, tc.msg)
			}
		})
	}
	if n := c.hits.Load(); n != 0 {
		t.Fatalf("bad input sent %d requests, want 0", n)
	}
}

func TestInterruptWritesPartialResult(t *testing.T) {
	c := newCounter(t)
	path := filepath.Join(t.TempDir(), "partial.json")
	cmd := exec.Command(surgeBin, "run", "-q", "-u", "2", "-d", "60s", "--json", path, c.url("/?ms=5"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Interrupt once the target has seen traffic (bounded wait).
	deadline := time.Now().Add(10 * time.Second)
	for c.hits.Load() < 20 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("surge took %v to stop after Ctrl-C", took)
	}
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 1 {
		t.Fatalf("exit error %v, want exit code 1", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no partial result written: %v", err)
	}
	if !strings.Contains(string(b), `"partial": true`) {
		t.Fatalf("result not marked partial:\n%.300s", b)
	}
	r, _ := decode(b)
	// Requests in flight at Ctrl-C are canceled: the server may or may not
	// have seen them, and they are counted as unfinished, not as requests.
	hits := c.hits.Load()
	if r.Summary.Requests < 18 || r.Summary.Requests > hits || hits > r.Summary.Requests+r.Summary.Unfinished {
		t.Fatalf("partial result: %d requests + %d unfinished, server saw %d", r.Summary.Requests, r.Summary.Unfinished, hits)
	}
}

func TestVersion(t *testing.T) {
	o := surge(t, "version")
	if o.code != 0 || !strings.HasPrefix(o.stdout, "surge v") {
		t.Fatalf("version: exit %d stdout %q", o.code, o.stdout)
	}
}
