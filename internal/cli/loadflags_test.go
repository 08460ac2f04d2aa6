package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
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
