package tmpl_test

import (
	"errors"
	"testing"

	"github.com/surgeload/surge/internal/tmpl"
)

func names(m map[string]int) tmpl.Names {
	return func(n string) (int, bool) { k, ok := m[n]; return k, ok }
}

func TestRenderEscapes(t *testing.T) {
	v := &tmpl.Values{Run: "r1", User: 3, N: 7, Slots: [][]byte{[]byte(`a "b"` + "\n"), []byte("x y/ü")}}
	ns := names(map[string]int{"tok": 0, "acc.user": 1})
	for _, c := range []struct {
		text string
		esc  tmpl.Escape
		want string
	}{
		{"{{id}}|{{ user }}|{{n}}", tmpl.Raw, "r1-3-7|3|7"},
		{`{"t":"{{tok}}"}`, tmpl.JSON, `{"t":"a \"b\"\n"}`},
		{"/u/{{acc.user}}?q={{acc.user}}", tmpl.URL, "/u/x%20y%2F%C3%BC?q=x%20y%2F%C3%BC"},
		{"plain", tmpl.URL, "plain"},
		{"Bearer {{tok}}", tmpl.Header, `Bearer a "b"`},
	} {
		tp, err := tmpl.Compile(c.text, ns, c.esc)
		if err != nil {
			t.Fatalf("%q: %v", c.text, err)
		}
		if got := tp.String(v); got != c.want {
			t.Errorf("%q: got %q, want %q", c.text, got, c.want)
		}
	}
	// Join keeps each part's escape.
	a, _ := tmpl.Compile("{{tok}}", ns, tmpl.Raw)
	b, _ := tmpl.Compile("{{tok}}", ns, tmpl.URL)
	if got := tmpl.Join(a, tmpl.Literal("|"), b).String(v); got != "a \"b\"\n|a%20%22b%22%0A" {
		t.Errorf("Join: %q", got)
	}
}

func TestCompileErrorsHaveOffsets(t *testing.T) {
	for _, c := range []struct {
		text   string
		offset int
		name   string
	}{
		{"abc {{nope}}", 4, "nope"},
		{"{{id}}{{x}}", 6, "x"},
		{"ab {{id", 3, ""},
	} {
		_, err := tmpl.Compile(c.text, nil, tmpl.Raw)
		var te *tmpl.Error
		if !errors.As(err, &te) || te.Offset != c.offset || te.Name != c.name {
			t.Errorf("%q: %v (%+v), want offset %d name %q", c.text, err, te, c.offset, c.name)
		}
	}
}

func TestRenderDoesNotAllocate(t *testing.T) {
	tp, _ := tmpl.Compile(`{"user":"{{u}}","id":"{{id}}"}`, names(map[string]int{"u": 0}), tmpl.JSON)
	v := &tmpl.Values{Run: "r", Slots: [][]byte{[]byte("alice")}}
	buf := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(100, func() { buf = tp.Render(buf[:0], v) }); n != 0 {
		t.Fatalf("Render allocates %v times", n)
	}
}
