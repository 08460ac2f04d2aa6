package tmpl_test

import (
	"strings"
	"testing"

	"github.com/surgeload/surge/internal/tmpl"
)

// FuzzTemplate: any text either fails to compile, or renders without
// panicking, and only variables are replaced; an error points into the
// text.
func FuzzTemplate(f *testing.F) {
	for _, s := range []string{"plain", "{{id}}", "a{{ user }}b{{n}}", "{{", "}}{{", "{{nope}}", "{{id}}{{id", "{{v}}é"} {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, text string, esc uint8) {
		names := func(n string) (int, bool) { return 0, n == "v" }
		tm, err := tmpl.Compile(text, names, tmpl.Escape(esc%4))
		if err != nil {
			var te *tmpl.Error
			if !strings.Contains(text, "{{") {
				t.Fatalf("Compile(%q) failed without a {{: %v", text, err)
			}
			if e, ok := err.(*tmpl.Error); !ok || e.Offset < 0 || e.Offset >= len(text) {
				t.Fatalf("Compile(%q): error %v (%v) points outside the text", text, err, te)
			}
			return
		}
		out := tm.String(&tmpl.Values{Run: "r", User: 1, N: 2, Slots: [][]byte{[]byte("x\r\ny")}})
		if !strings.Contains(text, "{{") && out != text {
			t.Fatalf("Compile(%q) renders %q", text, out)
		}
		if tmpl.Escape(esc%4) == tmpl.Header && strings.ContainsAny(strings.ReplaceAll(out, text, ""), "\r\n") && !strings.ContainsAny(text, "\r\n") {
			t.Fatalf("Compile(%q) as a header value renders a line break: %q", text, out)
		}
	})
}
