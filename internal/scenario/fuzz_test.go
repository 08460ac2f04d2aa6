package scenario

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to the loader: it must not panic, and
// every problem it reports must be at a place inside the file.
func FuzzLoad(f *testing.F) {
	for _, dir := range []string{"testdata/good", "testdata/bad", "../../examples"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		for _, name := range files {
			if b, err := os.ReadFile(name); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte("a: &x [*x, *x]\nsteps: *x\n"))
	f.Add([]byte("steps:\n  - <<: {url: /a}\n    json: {a: &b [1, *b]}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		// the file is named inside testdata/bad, so that feeder files resolve there
		sc, err := Parse("testdata/bad/fuzz.yaml", src)
		if err == nil {
			if sc == nil || len(sc.Flows) == 0 {
				t.Fatalf("no error and no flows: %+v", sc)
			}
			return
		}
		var es Errors
		if !errors.As(err, &es) || len(es) == 0 {
			t.Fatalf("error %T %v, want Errors", err, err)
		}
		lines := splitLines(src)
		for _, e := range es {
			if e.File != "testdata/bad/fuzz.yaml" {
				continue // a feeder file's problem
			}
			if e.Line < 1 || e.Col < 1 || len(lines) > 0 && e.Line > len(lines) || len(lines) == 0 && e.Line != 1 {
				t.Fatalf("%v: outside the file (%d lines)", e, len(lines))
			}
			if e.Line <= len(lines) && e.Col > len([]rune(lines[e.Line-1]))+1 {
				t.Fatalf("%v: column past the end of %q", e, lines[e.Line-1])
			}
			if strings.Contains(e.Msg, "\n") {
				t.Fatalf("%v: a message of more than one line", e)
			}
		}
	})
}
