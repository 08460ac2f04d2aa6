package scenario

import (
	"errors"
	"testing"
)

func TestParseCheck(t *testing.T) {
	good := []struct {
		src  string
		want Check
	}{
		{"status==200", Check{Kind: CheckStatus, Op: "==", Value: "200", Code: 200}},
		{" status != 500 ", Check{Kind: CheckStatus, Op: "!=", Value: "500", Code: 500}},
		{"status>=300", Check{Kind: CheckStatus, Op: ">=", Value: "300", Code: 300}},
		{"body~hello world", Check{Kind: CheckBody, Op: "~", Value: "hello world"}},
		{"body!~error", Check{Kind: CheckBody, Op: "!~", Value: "error"}},
		{"json:token", Check{Kind: CheckJSON, Path: "token"}},
		{"json:order>0", Check{Kind: CheckJSON, Path: "order", Op: ">", Value: "0"}},
		{"json:user.name==alice", Check{Kind: CheckJSON, Path: "user.name", Op: "==", Value: "alice"}},
		{"json:friends.#(age>=30)#.name!=bob", Check{Kind: CheckJSON, Path: "friends.#(age>=30)#.name", Op: "!=", Value: "bob"}},
		{"json:n <= 2.5", Check{Kind: CheckJSON, Path: "n", Op: "<=", Value: "2.5"}},
		{"header:X-Cache", Check{Kind: CheckHeader, Path: "X-Cache"}},
		{"header:Content-Type==application/json", Check{Kind: CheckHeader, Path: "Content-Type", Op: "==", Value: "application/json"}},
		{"header:Server!~nginx", Check{Kind: CheckHeader, Path: "Server", Op: "!~", Value: "nginx"}},
	}
	for _, c := range good {
		got, err := ParseCheck(c.src)
		if err != nil {
			t.Errorf("ParseCheck(%q): %v", c.src, err)
			continue
		}
		c.want.Src = c.src
		if got != c.want {
			t.Errorf("ParseCheck(%q) = %+v, want %+v", c.src, got, c.want)
		}
	}
	bad := []struct {
		src    string
		offset int
		msg    string
	}{
		{"", 0, "empty check (want " + checkForms + ")"},
		{"stat==200", 0, `unknown check "stat==200" (want ` + checkForms + ")"},
		{"status=200", 6, "status check: want status==CODE (or !=, <, <=, >, >=), e.g. status==200"},
		{"status==", 8, "status check: missing the status code after =="},
		{"status==OK", 8, `status check: "OK" is not a status code`},
		{"status<99", 7, "status check: 99 is not a status code (100-599)"},
		{"body==x", 4, "body check: want body~TEXT (the body contains TEXT) or body!~TEXT (it does not)"},
		{"body~", 5, "body check: missing the TEXT after ~"},
		{"json:", 5, "json check: missing the PATH after json:"},
		{"json:a~b", 6, `json check: want ==, !=, <, <=, > or >= after the path, found "~"`},
		{"json:a==", 8, "json check: missing the value after =="},
		{"json:a<b", 7, `json check: < compares numbers, and "b" is not a number`},
		{"header:", 7, "header check: missing the header NAME after header:"},
		{"header:X Y", 7, `header check: "X Y" is not a header name`},
		{"header:X<1", 8, `header check: want ==, !=, ~ or !~ after the name, found "<"`},
		{"header:X~", 9, "header check: missing the TEXT after ~"},
		{"  json:a<b", 9, `json check: < compares numbers, and "b" is not a number`},
	}
	for _, c := range bad {
		_, err := ParseCheck(c.src)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("ParseCheck(%q) = %v, want a *SyntaxError", c.src, err)
			continue
		}
		if se.Offset != c.offset || se.Msg != c.msg {
			t.Errorf("ParseCheck(%q): at %d %q, want at %d %q", c.src, se.Offset, se.Msg, c.offset, c.msg)
		}
	}
}

func TestSplitStepExpr(t *testing.T) {
	cases := []struct {
		src, step, rest string
		ok              bool
	}{
		{"p95<200ms", "", "", false},
		{"step.order.p95<300ms", "order", "p95<300ms", true},
		{"step.GET /a.json.p99.9<1s", "GET /a.json", "p99.9<1s", true},
		{"step.a.b.errors<1%", "a.b", "errors<1%", true},
		{"step.order.p95<<3", "order", "p95<<3", true},   // a known metric: the expression's error is reported
		{"step.order.bogus<3", "order", "bogus<3", true}, // no metric: the last dot
		{"step.order", "", "order", true},
		{"  step.x.rps>5", "x", "rps>5", true},
	}
	for _, c := range cases {
		step, rest, ok := SplitStepExpr(c.src)
		if step != c.step || rest != c.rest || ok != c.ok {
			t.Errorf("SplitStepExpr(%q) = %q, %q, %v; want %q, %q, %v", c.src, step, rest, ok, c.step, c.rest, c.ok)
		}
	}
}

func TestSnippet(t *testing.T) {
	_, err := Parse("s.yaml", []byte("steps:\n\t- url: /a\n"))
	var es Errors
	if !errors.As(err, &es) || len(es) == 0 {
		t.Fatalf("want errors, got %v", err)
	}
	src := []byte("base: http://127.0.0.1:8080\nsteps:\n  - url: /a\n    timeout: 5\n")
	_, err = Parse("s.yaml", src)
	if !errors.As(err, &es) || len(es) != 1 {
		t.Fatalf("want one error, got %v", err)
	}
	if got, want := es[0].Error(), `s.yaml:4:14: timeout: "5" has no unit (write e.g. 5ms or 5s)`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got, want := es[0].Snippet(), "    timeout: 5\n             ^"; got != want {
		t.Errorf("Snippet() =\n%s\nwant\n%s", got, want)
	}
	tabbed := &InputError{File: "f", Line: 1, Col: 3, Msg: "m", src: "\tab"}
	if got, want := tabbed.Snippet(), "\tab\n\t ^"; got != want {
		t.Errorf("Snippet() with a tab = %q, want %q", got, want)
	}
}

// TestTemplatePositions checks that an unknown variable is reported at
// its own line and column, wherever the template is written.
func TestTemplatePositions(t *testing.T) {
	cases := []struct {
		name, src, want string
	}{
		{"plain", "steps:\n  - url: http://127.0.0.1/{{x}}\n", "2:27"},
		{"double quoted", "steps:\n  - url: \"http://127.0.0.1/{{x}}\"\n", "2:28"},
		{"single quoted", "steps:\n  - url: 'http://127.0.0.1/{{x}}'\n", "2:28"},
		{"literal block", "steps:\n  - url: http://127.0.0.1/\n    body: |\n      one\n        two {{x}}\n", "5:13"},
		{"json string", "steps:\n  - url: http://127.0.0.1/\n    json: {a: [1, {b: \"v={{x}}\"}]}\n", "3:26"},
		{"after wide characters", "steps:\n  - url: http://127.0.0.1/\n    json: {üü: \"{{x}}\"}\n", "3:17"},
		{"form value", "steps:\n  - url: http://127.0.0.1/\n    form:\n      a: \"{{x}}\"\n", "4:11"},
		{"header", "steps:\n  - url: http://127.0.0.1/\n    headers: {H: 'a {{x}}'}\n", "3:21"},
		{"body check", "steps:\n  - url: http://127.0.0.1/\n    check: ['body~{{x}}']\n", "3:19"},
		{"header check", "steps:\n  - url: http://127.0.0.1/\n    check: ['header:H=={{x}}']\n", "3:24"},
	}
	for _, c := range cases {
		_, err := Parse("t.yaml", []byte(c.src))
		var es Errors
		if !errors.As(err, &es) || len(es) != 1 {
			t.Errorf("%s: want one error, got %v", c.name, err)
			continue
		}
		want := "t.yaml:" + c.want + ": unknown variable {{x}}"
		if es[0].Error() != want {
			t.Errorf("%s: %q, want %q", c.name, es[0].Error(), want)
		}
	}
}
