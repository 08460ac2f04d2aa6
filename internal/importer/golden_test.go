package importer_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/surgeload/surge/internal/importer"
	"github.com/surgeload/surge/internal/scenario"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// goldenCases are the inputs under testdata and the options each is
// imported with; the output is testdata/KIND/NAME.golden.yaml.
var goldenCases = []struct {
	name, input string
	conv        func(file string, src []byte) (*importer.Doc, error)
}{
	{"chrome-copy-all", "curl/chrome-copy-all.sh", importer.Curl},
	{"handwritten", "curl/handwritten.sh", importer.Curl},
	{"firefox-shop", "har/firefox-shop.har", har(importer.HAROptions{})},
	{"firefox-shop.only-8080.static.no-think", "har/firefox-shop.har", har(importer.HAROptions{IncludeHosts: []string{"127.0.0.1:8080"}, KeepStatic: true, NoThink: true})},
	{"firefox-shop.exclude-ipv6", "har/firefox-shop.har", har(importer.HAROptions{ExcludeHosts: []string{"::1"}})},
	{"chrome-h2", "har/chrome-h2.har", har(importer.HAROptions{})},
	{"petstore-3.0", "openapi/petstore-3.0.yaml", openapi(importer.OpenAPIOptions{})},
	{"petstore-3.0.all-methods", "openapi/petstore-3.0.yaml", openapi(importer.OpenAPIOptions{AllMethods: true})},
	{"petstore-3.0.tag-store.base", "openapi/petstore-3.0.yaml", openapi(importer.OpenAPIOptions{Tags: []string{"store"}, Base: "http://127.0.0.1:9000/v2/"})},
	{"shop-3.1", "openapi/shop-3.1.json", openapi(importer.OpenAPIOptions{Base: "http://127.0.0.1:8080", AllMethods: true})},
	{"shop-3.1.operations", "openapi/shop-3.1.json", openapi(importer.OpenAPIOptions{Base: "http://127.0.0.1:8080", Operations: []string{"putCategory", "login"}})},
}

func har(o importer.HAROptions) func(string, []byte) (*importer.Doc, error) {
	return func(f string, src []byte) (*importer.Doc, error) { return importer.HAR(f, src, o) }
}

func openapi(o importer.OpenAPIOptions) func(string, []byte) (*importer.Doc, error) {
	return func(f string, src []byte) (*importer.Doc, error) { return importer.OpenAPI(f, src, o) }
}

// TestGolden imports every input and compares the scenario with its
// golden file (go test -update rewrites them); every output must load and
// compile as a scenario, unchanged.
func TestGolden(t *testing.T) {
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join("testdata", c.input))
			if err != nil {
				t.Fatal(err)
			}
			doc, err := c.conv(c.input, src)
			if err != nil {
				t.Fatalf("import: %v", err)
			}
			got, err := doc.YAML()
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", filepath.Dir(c.input), c.name+".golden.yaml")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("%s differs from the import (go test -update rewrites it):\n%s", golden, diff(string(want), string(got)))
			}
			sc, err := scenario.Parse(golden, got)
			if err != nil {
				t.Fatalf("the imported scenario does not load:\n%v\n%s", err, got)
			}
			if err := importer.SameRequests(doc, sc); err != nil {
				t.Errorf("the loaded scenario differs from the import: %v", err)
			}
			if _, err := scenario.Compile(sc, scenario.Options{}); err != nil {
				t.Fatalf("the imported scenario does not compile: %v", err)
			}
			steps := 0
			for _, f := range sc.Flows {
				steps += len(f.Steps)
			}
			if steps != len(doc.Steps) || sc.Load.Users != importer.DefaultUsers || sc.Load.Duration != importer.DefaultDuration {
				t.Errorf("loaded %d steps and load %+v; want %d steps, %d user for %v", steps, sc.Load, len(doc.Steps), importer.DefaultUsers, importer.DefaultDuration)
			}
		})
	}
}

// diff shows the first line where two texts differ.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return "line " + itoa(i+1) + ":\n  want " + a + "\n  got  " + b
		}
	}
	return ""
}

func itoa(i int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + fmtInt(i)) }

func fmtInt(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return fmtInt(i/10) + string(rune('0'+i%10))
}
