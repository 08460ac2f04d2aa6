package importer

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/surgeload/surge/internal/scenario"
)

// FuzzSplitShell feeds the curl command-line splitter anything: it never
// panics, places every error at a line and column of the input, and what
// it splits, quoted back with '...', splits into the same words. Any curl
// command it imports writes a scenario that loads.
func FuzzSplitShell(f *testing.F) {
	files, _ := filepath.Glob("testdata/curl/*.sh")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(string(b))
		}
	}
	for _, s := range []string{
		`curl 'http://127.0.0.1:8080/a' -H $'X: \x41\u00e9\101\cA\'' --data-raw "a\"b\$c\\d"`,
		"curl -sSLXPOST http://127.0.0.1:8080/ \\\n -d 'a=1' ; curl 127.0.0.1:8080 && curl --json '[1,2]' 127.0.0.1",
		`curl "unterminated`, `curl $'\`, `curl $HOME`, `curl ${X}`, "curl `id`", `# only a comment`,
		"curl -H 'X: {{a}}' http://127.0.0.1/", "curl -d 'a=%zz' http://127.0.0.1/", "curl -G -d x http://[::1]:1/?",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		cmds, err := splitShell(src)
		if err != nil {
			var se *shellError
			if !errors.As(err, &se) || se.line < 1 || se.col < 1 || se.line > strings.Count(src, "\n")+1 {
				t.Fatalf("error %v (%T) is not placed in the input", err, err)
			}
		} else {
			var quoted []string
			for _, c := range cmds {
				var ws []string
				for _, w := range c {
					ws = append(ws, "'"+strings.ReplaceAll(w.text, "'", `'\''`)+"'")
				}
				quoted = append(quoted, strings.Join(ws, " "))
			}
			again, err := splitShell(strings.Join(quoted, "\n"))
			if err != nil {
				t.Fatalf("quoted back, the words do not split: %v", err)
			}
			if !slices.EqualFunc(cmds, again, func(a, b []word) bool {
				return slices.EqualFunc(a, b, func(x, y word) bool { return x.text == y.text })
			}) {
				t.Fatalf("quoted back, the words split differently:\n%q\n%q", texts(cmds), texts(again))
			}
		}
		doc, err := Curl("fuzz.sh", []byte(src))
		if err != nil {
			return
		}
		out, err := doc.YAML()
		if err != nil {
			t.Fatal(err)
		}
		sc, err := scenario.Parse("fuzz.yaml", out)
		if err != nil {
			t.Fatalf("the scenario imported from %q does not load: %v\n%s", src, err, out)
		}
		if err := SameRequests(doc, sc); err != nil {
			t.Fatalf("the scenario imported from %q differs from the import: %v\n%s", src, err, out)
		}
	})
}

func texts(cmds [][]word) [][]string {
	var out [][]string
	for _, c := range cmds {
		var ws []string
		for _, w := range c {
			ws = append(ws, w.text)
		}
		out = append(out, ws)
	}
	return out
}

// FuzzHAR and FuzzOpenAPI feed the other importers anything: they never
// panic, and what they import loads as a scenario.
func FuzzHAR(f *testing.F) {
	files, _ := filepath.Glob("testdata/har/*.har")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"log":{"entries":[{"startedDateTime":"x","request":{"method":"post","url":"http://127.0.0.1/a b?c d#e","headers":[{"name":"A","value":"é"}],"postData":{"mimeType":"application/x-www-form-urlencoded","params":[{"name":"a b","value":"c"}]}},"response":{"status":200}}]}}`))
	f.Fuzz(func(t *testing.T, src []byte) {
		loads(t, src, func() (*Doc, error) { return HAR("fuzz.har", src, HAROptions{KeepStatic: true}) })
	})
}

func FuzzOpenAPI(f *testing.F) {
	files, _ := filepath.Glob("testdata/openapi/*.*")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil && !strings.Contains(name, "golden") {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		loads(t, src, func() (*Doc, error) {
			return OpenAPI("fuzz.yaml", src, OpenAPIOptions{AllMethods: true, Base: "http://127.0.0.1:8080"})
		})
	})
}

func loads(t *testing.T, src []byte, conv func() (*Doc, error)) {
	doc, err := conv()
	if err != nil {
		var ie *Error
		if !errors.As(err, &ie) {
			t.Fatalf("error %v (%T) is not an *Error", err, err)
		}
		return
	}
	out, err := doc.YAML()
	if err != nil {
		t.Fatal(err)
	}
	sc, err := scenario.Parse("fuzz.yaml", out)
	if err != nil {
		t.Fatalf("the scenario imported from %q does not load: %v\n%s", src, err, out)
	}
	if err := SameRequests(doc, sc); err != nil {
		t.Fatalf("the scenario imported from %q differs from the import: %v\n%s", src, err, out)
	}
}
