package e2e

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// layers says which of surge's own packages each package may import: data
// flows down, from the command line to the engine, never up. A package
// missing here, or an import missing from its list, fails the test: adding
// one is a decision, to be made here, where the whole house shows.
var layers = map[string][]string{
	"cmd/surge":      {"cli"},
	"bench/target":   {},
	"bench/tlsfloor": {},
	"e2e":            {},
	"cli":            {"buildinfo", "capacity", "client", "compare", "expr", "find", "htmlreport", "importer", "lab", "load", "probe", "report", "result", "runner", "scenario", "selfcheck", "tmpl"},
	"find":           {"capacity", "client", "diagnose", "expr", "load", "metrics", "probe", "result", "runner", "scenario"},
	"runner":         {"buildinfo", "client", "expr", "hist", "load", "metrics", "probe", "result", "scenario", "selfcheck"},
	"load":           {"client", "metrics"},
	"scenario":       {"client", "expr", "tmpl"},
	"client":         {"buildinfo", "tmpl"},
	"metrics":        {"client", "hist"},
	"capacity":       {"result"},
	"diagnose":       {"result"},
	"compare":        {"hist", "result"},
	"report":         {"compare", "metrics", "result"},
	"htmlreport":     {"compare", "hist", "report", "result"},
	"selfcheck":      {"hist"},
	"lab":            {}, // the target under test shares nothing with the tool
	"importer":       {}, // a pure conversion: it knows nothing of the tool
	"probe":          {},
	"result":         {},
	"hist":           {},
	"expr":           {},
	"tmpl":           {},
	"buildinfo":      {},
}

func TestPackageLayers(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}:{{join .Imports \" \"}}", "../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/surgeload/surge/"
	short := func(p string) string { return strings.TrimPrefix(strings.TrimPrefix(p, mod), "internal/") }
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, ":")
		name := short(pkg)
		allowed, ok := layers[name]
		if !ok {
			t.Errorf("package %s has no place in the layers: add it to e2e/deps_test.go", name)
			continue
		}
		for _, imp := range strings.Fields(imports) {
			if !strings.HasPrefix(imp, mod) {
				continue
			}
			if dep := short(imp); !slices.Contains(allowed, dep) {
				t.Errorf("%s imports %s, which its layer does not allow", name, dep)
			}
		}
	}
}
