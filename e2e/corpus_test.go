package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// badInput is one invocation that must be refused: exit 2, one stderr
// line holding want (the flag, or what names the input), nothing sent.
type badInput struct {
	args []string
	want string
}

// badInputs is the standing corpus of bad invocations; u is a URL where
// a listener counts connections.
func badInputs(t *testing.T, u string) []badInput {
	dir := t.TempDir()
	var cs []badInput
	add := func(want string, args ...string) { cs = append(cs, badInput{args, want}) }
	// A body over 1 GiB, sparse: it takes no disk.
	big := filepath.Join(dir, "big-body")
	if f, err := os.Create(big); err == nil {
		f.Truncate(1<<30 + 1)
		f.Close()
	}

	// Flags both run and find take.
	for _, cmd := range []string{"run", "find"} {
		for _, m := range []string{"", "GE T", "G\r\nET", "GET\x01", "(x)", "GET/", "ÄÖ", "GET:"} {
			add("--method", cmd, "-X", m, u)
		}
		for _, h := range []string{
			"NoColon", ": empty name", "A B: c", "A\tB: c", "A: b\r\n\r\nGET /smuggled HTTP/1.1", "A: b\r\nX-Injected: y",
			"A: b\nX: y", "A: b\rX: y", "A: \x01", "A: \x7f", "A: b\x1bc", "(A): b", "A/B: c", "Ä: b", "\"B\": c",
		} {
			add("--header", cmd, "-H", h, u)
		}
		add("--body", cmd, "--body", "@"+filepath.Join(dir, "no-such-file"), u)
		add("--body", cmd, "--body", "@"+dir, u)
		add("--body", cmd, "--body", "@"+big, u)
		for _, d := range []string{"0", "-1s", "abc", "1"} {
			add("--timeout", cmd, "--timeout", d, u)
		}
		for _, th := range []string{"abc", "-1s", "2s-1s", "1s-", "-", "1s-abc"} {
			add("--think", cmd, "--think", th, u)
		}
		add("--json", cmd, "--json", filepath.Join(dir, "no", "such", "dir", "r.json"), u)
		add("--json", cmd, "--json", dir, u)
		for _, e := range []string{"p95<100xs", "latency<1s", "p95<", "p95", "<100ms", "p95<<1s", "errors<abc", "rps>", "p101<1s", "p95<1s junk", "errors<1%%", "p95=1s", "", "p-5<1s", "mean>NaN"} {
			add("--slo", cmd, "--slo", e, u)
		}
		add("--threshold", cmd, "--threshold", "bogus", u)
		for _, c := range []string{"status=200", "status==abc", "status==", "body~", "bogus", "status<<400", "body=x", "status==200x", "body~{{nope}}", "body~{{id"} {
			add("--check", cmd, "--check", c, u)
		}
		for _, mi := range []string{"0", "-5", "abc"} {
			add("--max-inflight", cmd, "-r", "10", "--max-inflight", mi, u)
		}
		add("exclude each other", cmd, "--http1", "--http2", u)
		add("--no-keepalive is HTTP/1.1's", cmd, "--http2", "--no-keepalive", u)
		add("--no-keepalive is HTTP/1.1's", cmd, "--streams", "4", "--no-keepalive", u)
		add("exclude each other", cmd, "-u", "5", "-r", "5", u)
		add("unknown flag: --frobnicate", cmd, "--frobnicate", u)
		add("unknown shorthand flag", cmd, "-Z", u)
		add("takes one URL", cmd)
		add("takes one URL", cmd, u, u)
		add("--think applies to the closed model", cmd, "-r", "10", "--think", "1s", u)
		// URLs.
		for _, bad := range []string{
			"127.0.0.1:1/x", "ftp://127.0.0.1/", "http://", "http:///path", "http://127.0.0.1:99999/",
			"http://127.0.0.1:0/", "http://alice:pw@/", "http://[::1/", "http://127.0.0.1:abc/",
			"http://h{{n}}/", "http://127.0.0.1/{{bogus}}", "http://127.0.0.1/{{id", "http://127.0.0.1/%zz",
			"://x", "http://127.0.0.1:-1/", "http://127.0.0.1:65536/", "http://alice:pw@:80/", "mailto:x@y",
		} {
			add("URL", cmd, bad)
		}
	}

	// run only.
	for _, v := range []string{"0", "-1", "abc", "2000000", "1.5"} {
		add("--users", "run", "-u", v, u)
	}
	for _, v := range []string{"0", "-1", "NaN", "Inf", "-Inf", "abc"} {
		add("--rate", "run", "-r", v, u)
	}
	for _, v := range []string{"0", "-1s", "abc", "5"} {
		add("--duration", "run", "-d", v, u)
	}
	for _, v := range []string{"0", "-1", "abc"} {
		add("--requests", "run", "-n", v, u)
	}
	add("--ramp", "run", "--ramp", "-1s", u)
	add("--ramp", "run", "-d", "1s", "--ramp", "2s", u)
	add("--grace", "run", "--grace", "-1s", u)
	add("--grace", "run", "--grace", "abc", u)
	add("--quiet", "run", "--quiet=maybe", u)
	for _, v := range [][]string{{"abc"}, {"1s"}, {"1s:abc"}, {"1s:-1"}, {"1s:1.5"}, {"-1s:10"}, {"1s:0"}, {"1s:10", "1s:5/s"}, {"1s:NaN/s"}} {
		args := []string{"run"}
		for _, st := range v {
			args = append(args, "--stage", st)
		}
		add("--stage", append(args, u)...)
	}
	add("--stage", "run", "--stage", "1s:10", "-u", "5", u)
	add("--base", "run", "--base", "http://127.0.0.1:1", u)
	add("--base", "find", "--base", "http://127.0.0.1:1", u)

	// find only.
	add("--model", "find", "--model", "both", u)
	add("--model", "find", "--model", "", u)
	for _, v := range []string{"0", "-3", "5000000", "abc"} {
		add("--users", "find", "-u", v, u)
	}
	for _, v := range []string{"-5", "0", "NaN", "Inf", "abc"} {
		add("--rate", "find", "-r", v, u)
	}
	for _, v := range [][]string{{"--min", "0"}, {"--min", "-1"}, {"--min", "NaN"}, {"--max", "Inf"}, {"--max", "NaN"}, {"--max", "1e300"}, {"--min", "2.5"}} {
		add(v[0], "find", v[0], v[1], u)
	}
	add("--max", "find", "--min", "5", "--max", "2", u)
	add("--step-duration", "find", "-d", "0", u)
	add("--step-duration", "find", "-d", "abc", u)
	add("--warmup", "find", "--warmup", "-1s", u)
	add("--warmup", "find", "--warmup", "5s", "-d", "2s", u)
	add("--hold", "find", "--hold", "500ms", u)
	for _, v := range []string{"0", "0.5", "NaN", "-0.1", "Inf"} {
		add("--precision", "find", "--precision", v, u)
	}
	add("--probe", "find", "--probe", "ssh=x", u)
	add("--probe", "find", "--probe", "nonsense", u)
	add("--probe", "find", "--probe", "pid=abc", u)
	add("--probe-metric", "find", "--probe-metric", "x", u)
	add("--probe-metric", "find", "--probe", "prom="+u, "--probe-metric", "bad{", u)
	add("--model", "find", "-u", "5", "--model", "rate", u)
	add("--model", "find", "-r", "5", "--model", "users", u)

	// lab.
	for _, v := range []string{"0.0.0.0:0", "10.0.0.1:80", "[::]:0", "nonsense", "127.0.0.1:99999", "example.com:80"} {
		add("--listen", "lab", "--listen", v)
	}
	for _, v := range []string{"-1", "0", "abc", "99999999"} {
		add("--rows", "lab", "--rows", v)
	}
	add("--leak-max", "lab", "--leak-max", "-1")
	add("--leak-max", "lab", "--leak-max", "abc")
	add("takes no arguments", "lab", "extra")
	add("unknown flag", "lab", "--frobnicate")
	add(`unknown command "frobnicate"`, "frobnicate")

	// import: a pure conversion; inputs aimed at the counting listener.
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := file("good.sh", "curl "+u)
	add("-F (multipart/form-data)", "import", "curl", file("form.sh", "curl -F a=b "+u))
	add("unknown curl option --proxy", "import", "curl", file("proxy.sh", "curl --proxy "+u+" "+u))
	add("$TOKEN: importing expands no shell variables", "import", "curl", file("var.sh", "curl -H \"Authorization: Bearer $TOKEN\" "+u))
	add(`unknown kind "wget"`, "import", "wget", good)
	add("takes one input file", "import", "curl")
	add("takes one input file", "import", "curl", good, good)
	add("no such file or directory", "import", "har", filepath.Join(dir, "no-such.har"))
	add("unknown flag: --frobnicate", "import", "har", "--frobnicate", good)
	add("--force", "import", "curl", good, "-o", good)
	add("bad.har:2:3: not valid JSON", "import", "har", file("bad.har", "{\"log\":\n  x}"))
	add("Swagger 2.0", "import", "openapi", file("swagger.yaml", "swagger: '2.0'\n"))
	api := file("api.yaml", "openapi: 3.0.0\nservers: [{url: '"+u+"'}]\npaths:\n  /a:\n    post: {}\n")
	add("--all-methods", "import", "openapi", api)
	add("--base", "import", "openapi", "--base", "127.0.0.1:1", api)
	add("--operation nope", "import", "openapi", "--operation", "nope", api)
	return cs
}

func TestBadInputCorpus(t *testing.T) {
	a := newAcceptCounter(t)
	cases := badInputs(t, a.url("/"))
	if len(cases) < 150 {
		t.Fatalf("the corpus has %d invocations, want at least 150", len(cases))
	}
	work := make(chan badInput)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for tc := range work {
				oneUsageLine(t, tc.args, surgeNoFatal(t, tc.args...), tc.want)
			}
		}()
	}
	for _, tc := range cases {
		work <- tc
	}
	close(work)
	wg.Wait()
	if n := a.n.Load(); n != 0 {
		t.Fatalf("the bad-input corpus opened %d connections, want 0", n)
	}
	t.Logf("%d bad invocations refused", len(cases))
}

// surgeNoFatal is surge for use off the test's goroutine: failures are
// reported with Errorf.
func surgeNoFatal(t *testing.T, args ...string) outcome {
	for _, a := range args {
		if strings.IndexByte(a, 0) >= 0 {
			t.Errorf("argument %q holds a NUL, which exec cannot pass", a)
			return outcome{code: 2, stderr: "surge: skipped\n"}
		}
	}
	o, err := runSurge(60*time.Second, args...)
	if err != nil {
		t.Errorf("surge %q: %v", args, err)
	}
	return o
}
