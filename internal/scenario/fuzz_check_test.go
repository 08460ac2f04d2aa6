package scenario_test

import (
	"testing"

	"github.com/surgeload/surge/internal/client"
	"github.com/surgeload/surge/internal/scenario"
)

// FuzzCheck: ParseCheck never panics, an accepted check parses again from
// its own text, and judges any response without panicking.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{"status==200", "status<400", "body~ok", "body!~error", "body~{{id}}", "json:a.b>3", "json:x", "header:X-A~b", "status=200", "body~", "status>=abc", "json:", "header:"} {
		f.Add(s, []byte(`{"a":{"b":4},"x":true}`), "X-A: abc\r\n", 200)
	}
	f.Fuzz(func(t *testing.T, src string, body []byte, header string, code int) {
		c, err := scenario.ParseCheck(src)
		if err != nil {
			return
		}
		if again, err := scenario.ParseCheck(c.Src); err != nil || again != c {
			t.Fatalf("ParseCheck(%q) accepted, but its text does not parse again the same: %v", src, err)
		}
		plan, err := scenario.Compile(scenario.URL("GET", "http://127.0.0.1:1/", nil, "", []scenario.Check{c}), scenario.Options{})
		if err != nil {
			return // a template in the check that names no variable
		}
		u := plan.NewUser(0, "r")
		if err := u.Begin(); err != nil {
			t.Fatal(err)
		}
		u.Next()
		u.Done(client.Result{Code: code, Class: client.ClassOfStatus(code), Body: body, Header: []byte(header)})
	})
}
