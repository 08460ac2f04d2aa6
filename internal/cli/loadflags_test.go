package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// -u on the command line replaces a scenario file's model, not its think
// time or duration: counted on the server, 10 users thinking 1 s between
// iterations for the file's 1.5 s send 2 requests each (one at the start,
// one after the pause), not the thousands of users that never pause.
func TestUsersFlagKeepsTheFilesThinkAndDuration(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { n.Add(1) }))
	defer srv.Close()
	dir := t.TempDir()
	file := filepath.Join(dir, "s.yaml")
	yaml := "base: " + srv.URL + "\nload:\n  users: 2\n  duration: 1500ms\n  think: 1s\nsteps:\n  - url: /\n"
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "r.json")
	env, _, stderr := testEnv()
	start := time.Now()
	if code := Main(context.Background(), env, []string{"run", "-q", "-u", "10", "--json", out, file}); code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	took := time.Since(start)
	var r struct {
		Users int `json:"users"`
	}
	b, err := os.ReadFile(out)
	if err != nil || json.Unmarshal(b, &r) != nil {
		t.Fatalf("result: %v %s", err, b)
	}
	if got := n.Load(); r.Users != 10 || got < 10 || got > 20 {
		t.Fatalf("server counted %d requests from %d users: want 10 to 20 (10 users, a 1 s think, 1.5 s)", got, r.Users)
	}
	if took < 1500*time.Millisecond || took > 10*time.Second {
		t.Fatalf("the run took %s: want the file's 1.5 s (and its grace)", took)
	}
}

// A --body file over 1 GiB is refused before anything is sent: one line
// naming the flag, exit 2, no connection. (The file is sparse: it takes no
// disk.)
func TestBodyFileTooLarge(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { n.Add(1) }))
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "big")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1<<30 + 1); err != nil {
		t.Skipf("cannot make a sparse file: %v", err)
	}
	f.Close()
	env, _, stderr := testEnv()
	code := Main(context.Background(), env, []string{"run", "-q", "-d", "1s", "--body", "@" + file, srv.URL})
	if code != ExitUsage || !strings.Contains(stderr.String(), "--body") || !strings.Contains(stderr.String(), "1 GiB at most") || strings.Count(stderr.String(), "\n") != 1 {
		t.Fatalf("exit %d, stderr %q: want exit 2 and one line about --body", code, stderr.String())
	}
	if n.Load() != 0 {
		t.Fatalf("%d requests sent for a refused body", n.Load())
	}
}
