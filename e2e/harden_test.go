package e2e

import (
	"encoding/base64"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// acceptCounter is a loopback listener that counts the connections it
// accepts and closes them: bad input must never reach it.
type acceptCounter struct {
	l net.Listener
	n atomic.Int64
}

func newAcceptCounter(t *testing.T) *acceptCounter {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := &acceptCounter{l: l}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			a.n.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { l.Close() })
	return a
}

func (a *acceptCounter) url(path string) string { return "http://" + a.l.Addr().String() + path }

// oneUsageLine fails unless o is exit 2 with exactly one stderr line
// holding want.
func oneUsageLine(t *testing.T, args []string, o outcome, want string) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(o.stderr, "\n"), "\n")
	if o.code != 2 || len(lines) != 1 || !strings.HasPrefix(lines[0], "surge: ") || !strings.Contains(lines[0], want) {
		t.Errorf("surge %q: exit %d stderr %q: want exit 2 and one line with %q", args, o.code, o.stderr, want)
	}
	if strings.Contains(o.stderr, "panic") || strings.Contains(o.stderr, "goroutine ") {
		t.Errorf("surge %q panicked: %s", args, o.stderr)
	}
}

func TestHeaderInjectionIsRefused(t *testing.T) {
	a := newAcceptCounter(t)
	for _, cmd := range []string{"run", "find"} {
		for _, h := range []string{
			"A: b\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x",
			"A: b\r\nX-Injected: y",
			"A: b\nX-Injected: y",
			"A: b\x01",
			"A(b): c",
			"Ä: c",
		} {
			args := []string{cmd, "-d", "2s", "-H", h, a.url("/")}
			oneUsageLine(t, args, surge(t, args...), "--header")
		}
	}
	if n := a.n.Load(); n != 0 {
		t.Fatalf("bad headers opened %d connections, want 0", n)
	}
}

func TestSecretsAreNeverShown(t *testing.T) {
	const password, token = "pAssW0rd-42", "tok-SECRET-99"
	var mu sync.Mutex
	auths := map[string]int{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auths[r.Header.Get("Authorization")]++
		mu.Unlock()
		w.Write([]byte("ok"))
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	tlsSrv := httptest.NewUnstartedServer(h)
	tlsSrv.EnableHTTP2 = true
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	withUser := strings.Replace(srv.URL, "://", "://alice:"+password+"@", 1)
	dir := t.TempDir()
	for i, args := range [][]string{
		{"run", "-u", "2", "-d", "500ms", withUser + "/a"},
		{"run", "-u", "2", "-d", "500ms", "-k", strings.Replace(tlsSrv.URL, "://", "://alice:"+password+"@", 1) + "/h2"},
		{"run", "-r", "20", "-d", "500ms", "-H", "Authorization: Bearer " + token, withUser + "/b"},
		{"run", "-u", "1", "-d", "500ms", "--check", "body~nope", withUser + "/c"},
		{"run", "-u", "1", "-d", "500ms", "http://alice:" + password + "@" + closedPort(t) + "/down"},
		{"find", "-u", "1", "-d", "300ms", "--warmup", "0s", "--hold", "400ms", withUser + "/f"},
		{"find", "-u", "1", "-d", "300ms", "--warmup", "0s", "--hold", "400ms", "--probe", "prom=" + withUser + "/metrics", withUser + "/p"},
		{"run", "-u", "1", "-d", "1s", "--rate", "0", withUser + "/bad"},
		{"run", "-H", "Authorization: Bearer " + token + "\r\nX: y", withUser + "/bad"},
	} {
		path := filepath.Join(dir, "r.json")
		os.Remove(path)
		o := surge(t, append([]string{"--json", path}, args...)...)
		b, _ := os.ReadFile(path)
		for what, text := range map[string]string{"stdout": o.stdout, "stderr": o.stderr, "JSON": string(b)} {
			for _, secret := range []string{password, token} {
				if strings.Contains(text, secret) {
					t.Errorf("case %d (%q): the secret %q appears in %s:\n%s", i, args, secret, what, text)
				}
			}
		}
		if (i < 4 || i == 6) && !strings.Contains(string(b), `://alice:xxxxx@`) {
			t.Errorf("case %d: JSON target not redacted as url.URL.Redacted does:\n%.400s", i, b)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:"+password))
	if auths[basic] == 0 || auths["Bearer "+token] == 0 {
		t.Fatalf("server saw Authorization values %v: want the userinfo as Basic auth, and the explicit header", auths)
	}
	for v := range auths {
		if v != basic && v != "Bearer "+token {
			t.Errorf("server saw Authorization %q", v)
		}
	}
}

func TestRangesAreRefused(t *testing.T) {
	a := newAcceptCounter(t)
	u := a.url("/")
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"run", "-n", "0", u}, "--requests must be at least 1"},
		{[]string{"run", "-u", "100000000", u}, "--users must be from 1 to"},
		{[]string{"run", "http://127.0.0.1:99999/"}, "port 99999 is out of range"},
		{[]string{"run", "http://alice:pw@/"}, "has no host"},
		{[]string{"run", "http://alice:pw@:8080/"}, "has no host"},
		{[]string{"find", "--max", "Inf", u}, "--min and --max must be numbers"},
		{[]string{"find", "--min", "NaN", u}, "--min and --max must be numbers"},
		{[]string{"find", "--precision", "NaN", u}, "--precision"},
		{[]string{"find", "-u", "0", u}, "-u/--users"},
		{[]string{"find", "-u", "5000000", u}, "-u/--users"},
		{[]string{"find", "--max", "1e300", u}, "--max counts users"},
		{[]string{"find", "-r", "-5", u}, "-r/--rate"},
		{[]string{"find", "-r", "NaN", u}, "-r/--rate"},
		{[]string{"find", "--probe", "prom=" + u, "--probe-metric", "bad{", u}, `surge: --probe-metric "bad{"`},
	} {
		o := surge(t, tc.args...)
		oneUsageLine(t, tc.args, o, tc.msg)
		if strings.Contains(o.stderr, "----") {
			t.Errorf("surge %q: %q", tc.args, o.stderr)
		}
	}
	if n := a.n.Load(); n != 0 {
		t.Fatalf("bad input opened %d connections, want 0", n)
	}
}
