package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every bad scenario file of the scenario package's corpus, given to run,
// find and validate, is refused: exit 2, its first problem at
// FILE:LINE:COL on the first line, the rest of stderr only problems and
// their indented source lines, no panic, and not one connection to the
// target its base names.
func TestBadScenarioFilesSendNothing(t *testing.T) {
	a := newAcceptCounter(t)
	src := "../internal/scenario/testdata/bad"
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	base := strings.TrimSuffix(a.url("/"), "/")
	var files []string
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		// Point every base at the listener that counts connections.
		b = regexp.MustCompile(regexp.QuoteMeta("http://127.0.0.1:")+`\d+`).ReplaceAll(b, []byte(base))
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(e.Name(), ".yaml") {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	if len(files) < 30 {
		t.Fatalf("%d bad scenario files, want at least 30", len(files))
	}
	problem := regexp.MustCompile(`^` + regexp.QuoteMeta(dir) + `/[^:]+:\d+:\d+: `)
	n := 0
	for _, f := range files {
		for _, cmd := range [][]string{{"run", "-d", "1s"}, {"find", "--step-duration", "2s"}, {"validate"}} {
			args := append(append([]string{}, cmd...), f)
			o := surgeNoFatal(t, args...)
			n++
			lines := strings.Split(strings.TrimRight(o.stderr, "\n"), "\n")
			if o.code != 2 || !problem.MatchString(lines[0]) || strings.Contains(o.stderr, "panic") {
				t.Errorf("surge %q: exit %d, stderr %q: want 2 and FILE:LINE:COL first", args, o.code, o.stderr)
				continue
			}
			for _, l := range lines[1:] {
				if !problem.MatchString(l) && !strings.HasPrefix(l, "    ") {
					t.Errorf("surge %q: stderr line %q is neither a problem nor its source", args, l)
				}
			}
		}
	}
	if c := a.n.Load(); c != 0 {
		t.Fatalf("bad scenario files opened %d connections, want 0", c)
	}
	t.Logf("%d invocations with bad scenario files refused", n)
}

// Bad input to compare and report is one line and exit 2.
func TestBadCompareInputs(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good, _ := json.Marshal(map[string]any{"version": 1, "target": "http://127.0.0.1:1/", "model": "users", "summary": map[string]any{"requests": 1}})
	ok := write("ok.json", string(good))
	for _, tc := range []struct {
		want string
		args []string
	}{
		{"no-such", []string{"compare", filepath.Join(dir, "no-such.json"), ok}},
		{"not-json", []string{"compare", write("not-json.json", "{"), ok}},
		{"not a surge result", []string{"compare", write("other.json", `{"a":1}`), ok}},
		{"newer", []string{"compare", write("newer.json", `{"version":99}`), ok}},
		{"--fail-on", []string{"compare", "--fail-on", "p95>", ok, ok}},
		{"--fail-on", []string{"compare", "--fail-on", "bogus+10%", ok, ok}},
		{"--fail-on", []string{"compare", "--fail-on", "p95>+abc%", ok, ok}},
		{"compare", []string{"compare", ok}},
		{"no-such", []string{"report", filepath.Join(dir, "no-such.json")}},
		{"not a surge result", []string{"report", filepath.Join(dir, "other.json")}},
	} {
		o := surgeNoFatal(t, tc.args...)
		oneUsageLine(t, tc.args, o, tc.want)
	}
}

// Flags that do not go with a scenario file, or bad values of those that
// do, are refused before anything is sent.
func TestBadFlagsWithAScenarioFile(t *testing.T) {
	a := newAcceptCounter(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(file, []byte("base: "+strings.TrimSuffix(a.url("/"), "/")+"\nsteps: [{name: x, url: /x}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		want string
		args []string
	}{
		{"--base", []string{"--base", "ftp://127.0.0.1:1"}},
		{"--base", []string{"--base", "nonsense"}},
		{"--base", []string{"--base", "http://127.0.0.1:1/?q=1"}},
		{"-X/--method", []string{"-X", "POST"}},
		{"-H/--header", []string{"-H", "A: b"}},
		{"--body", []string{"--body", "x"}},
		{"--check", []string{"--check", "bogus"}},
		{"--slo", []string{"--slo", "step.nope.p95<1s"}},
		{"--stage", []string{"--stage", "1s:10", "-r", "5"}},
	} {
		for _, cmd := range []string{"run", "find"} {
			if cmd == "find" && strings.HasPrefix(tc.want, "--stage") {
				continue
			}
			args := append(append([]string{cmd}, tc.args...), file)
			oneUsageLine(t, args, surgeNoFatal(t, args...), tc.want)
		}
	}
	if n := a.n.Load(); n != 0 {
		t.Fatalf("bad flags with a scenario file opened %d connections, want 0", n)
	}
}
