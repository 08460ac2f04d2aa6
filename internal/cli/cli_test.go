package cli

import (
	"bytes"
	"context"
	"flag"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the README's usage blocks from --help")

// testEnv returns an Env with in-memory streams and no signals.
func testEnv() (Env, *bytes.Buffer, *bytes.Buffer) {
	var stdout, stderr bytes.Buffer
	return Env{
		Stdin:      strings.NewReader(""),
		Stdout:     &stdout,
		Stderr:     &stderr,
		Getenv:     func(string) string { return "" },
		Notify:     func(chan<- os.Signal) func() { return func() {} },
		IsTerminal: func(io.Writer) bool { return false },
		Executable: os.Executable,
		Exit:       func(code int) { panic("exit called") },
	}, &stdout, &stderr
}

// usageBlock is a README block of `surge CMD --help`; CMD may be a
// subcommand path (<!-- usage:import curl -->).
var usageBlock = regexp.MustCompile("(?s)<!-- usage:([a-z][a-z ]*) -->\n```\n(.*?)```\n<!-- end -->")

// TestREADMEUsageMatchesHelp keeps the README's flag lists equal to what
// `surge CMD --help` prints. Run with -update to rewrite them.
func TestREADMEUsageMatchesHelp(t *testing.T) {
	const path = "../../README.md"
	readme, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blocks := usageBlock.FindAllSubmatchIndex(readme, -1)
	if len(blocks) == 0 {
		t.Fatal("README has no usage block")
	}
	var out bytes.Buffer
	last := 0
	for _, m := range blocks {
		name := string(readme[m[2]:m[3]])
		env, stdout, _ := testEnv()
		if code := Main(context.Background(), env, append(strings.Fields(name), "--help")); code != 0 {
			t.Fatalf("surge %s --help exited %d", name, code)
		}
		help := stdout.String()
		i := strings.Index(help, "Usage:")
		if i < 0 {
			t.Fatalf("surge %s --help has no Usage section", name)
		}
		want := help[i:]
		out.Write(readme[last:m[4]])
		out.WriteString(want)
		last = m[5]
		if got := string(readme[m[4]:m[5]]); got != want && !*update {
			t.Errorf("README usage for %q differs from --help (run go test ./internal/cli -update):\n--- README\n%s\n--- help\n%s", name, got, want)
		}
	}
	out.Write(readme[last:])
	if *update {
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPanicBecomesExitOne(t *testing.T) {
	env, _, stderr := testEnv()
	env.Stdout = panicWriter{}
	code := Main(context.Background(), env, []string{"version"})
	if code != ExitFailure || !strings.Contains(stderr.String(), "surge: internal error: boom") {
		t.Fatalf("exit %d, stderr %q: want 1 and an internal-error line", code, stderr.String())
	}
}

type panicWriter struct{}

func (panicWriter) Write([]byte) (int, error) { panic("boom") }

// A bad scenario file is refused with its problem at FILE:LINE:COL and
// the line it is on, exit 2, for run and find alike; nothing else is said.
func TestBadScenarioFileIsRefusedClearly(t *testing.T) {
	file := t.TempDir() + "/scenario.yaml"
	if err := os.WriteFile(file, []byte("requests: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"run", "find"} {
		env, _, stderr := testEnv()
		code := Main(context.Background(), env, []string{cmd, "-q", file})
		lines := strings.Split(strings.TrimRight(stderr.String(), "\n"), "\n")
		if code != ExitUsage || len(lines) != 3 || !strings.HasPrefix(lines[0], file+":1:1: unknown key \"requests\"") ||
			lines[1] != "    requests: []" || lines[2] != "    ^" {
			t.Errorf("surge %s FILE: exit %d, stderr %q: want 2, FILE:1:1: and the line with a caret", cmd, code, stderr.String())
		}
	}
	env, _, stderr := testEnv()
	if code := Main(context.Background(), env, []string{"run", "nosuch.example"}); code != ExitUsage || !strings.Contains(stderr.String(), "neither a URL nor a scenario file") {
		t.Errorf("a bare host: exit %d, %q", code, stderr.String())
	}
}
