package diagnose_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/surgeload/surge/internal/diagnose"
	"github.com/surgeload/surge/internal/result"
)

// The files under testdata are results of real `surge find` runs against
// the lab (2-core host shared with other work; see each file's steps),
// reduced to capacity, steps and the bottleneck found then. The tests
// diagnose their steps again, so that a rule change is checked against
// measurements, not against numbers made up to fit it.

// recorded reads a recorded find result.
func recorded(t *testing.T, name string) *result.Result {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var r result.Result
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return &r
}

// replayCase is one recorded run, optionally edited, and what its
// diagnosis must say.
type replayCase struct {
	name string
	file string
	// edit changes the recording first (nil: as recorded), to ask what the
	// rule says when one thing differs.
	edit   func(r *result.Result)
	checks bool
	class  string
	// summary and evidence must contain these; notEvidence must not.
	summary     []string
	evidence    []string
	notEvidence []string
	notSummary  []string
}

func runReplays(t *testing.T, cases []replayCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := recorded(t, c.file)
			if c.edit != nil {
				c.edit(r)
			}
			v := diagnose.Diagnose(diagnose.FromResult(r, c.checks))
			ev := strings.Join(v.Evidence, "\n")
			if v.Class != c.class {
				t.Fatalf("class %s, want %s\nsummary: %s\nevidence:\n%s", v.Class, c.class, v.Summary, ev)
			}
			for _, s := range c.summary {
				if !strings.Contains(v.Summary, s) {
					t.Errorf("summary %q lacks %q", v.Summary, s)
				}
			}
			for _, s := range c.evidence {
				if !strings.Contains(ev, s) {
					t.Errorf("evidence lacks %q:\n%s", s, ev)
				}
			}
			for _, s := range c.notSummary {
				if strings.Contains(v.Summary, s) {
					t.Errorf("summary should not say %q: %s", s, v.Summary)
				}
			}
			for _, s := range c.notEvidence {
				if strings.Contains(ev, s) {
					t.Errorf("evidence should not say %q:\n%s", s, ev)
				}
			}
		})
	}
}

// eachStep applies f to every step of a recording.
func eachStep(f func(s *result.Step)) func(r *result.Result) {
	return func(r *result.Result) {
		for i := range r.Steps {
			f(&r.Steps[i])
		}
	}
}

// dropProbes removes every probe reading.
func dropProbes(s *result.Step) { s.Probes = map[string]*result.ProbeWindow{} }

func ptr(v float64) *float64 { return &v }

// The recorded bottleneck and the one found again agree for every file:
// FromResult loses nothing the rules read.
func TestReplayAgreesWithTheRecording(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no recordings: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		r := recorded(t, name)
		v := diagnose.Diagnose(diagnose.FromResult(r, strings.HasPrefix(name, "incorrect")))
		if v.Class != r.Bottleneck.Class {
			t.Errorf("%s: diagnosed %s again, recorded %s", name, v.Class, r.Bottleneck.Class)
		}
	}
}
