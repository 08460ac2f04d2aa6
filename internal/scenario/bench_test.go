package scenario_test

import (
	"regexp"
	"testing"

	"github.com/surgeload/surge/internal/client"
	"github.com/surgeload/surge/internal/scenario"
)

// BenchmarkJourneyStep measures what a user's journey costs per request
// on top of sending it: choosing the step, rendering nothing yet (the
// sender renders), then judging a response: status and JSON checks, a
// JSON, a header and a regexp extraction, and the cookie jar. The
// response is canned: no network.
func BenchmarkJourneyStep(b *testing.B) {
	mustCheck := func(src string) scenario.Check {
		c, err := scenario.ParseCheck(src)
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	s := &scenario.Scenario{
		Base:    "http://127.0.0.1:1",
		Cookies: true,
		Flows: []*scenario.Flow{{Name: "f", Weight: 1, Steps: []*scenario.Step{{
			Name: "login", Method: "POST", URL: "/login", Body: `{"user":"{{user}}"}`, BodyFmt: scenario.BodyJSON,
			Extract: []scenario.Extract{
				{Var: "token", Kind: scenario.FromJSON, Expr: "token"},
				{Var: "rid", Kind: scenario.FromHeader, Expr: "X-Request-Id"},
				{Var: "n", Kind: scenario.FromRegex, Expr: `"n":(\d+)`, Regex: regexp.MustCompile(`"n":(\d+)`)},
			},
			Checks: []scenario.Check{mustCheck("status==200"), mustCheck("json:n>0")},
		}}}},
	}
	plan, err := scenario.Compile(s, scenario.Options{})
	if err != nil {
		b.Fatal(err)
	}
	u := plan.NewUser(0, "r")
	res := client.Result{Code: 200, Class: client.OK, Proto: 1,
		Body:   []byte(`{"token":"abcdefghijklmnopqrstuvwxyz0123456789","n":42,"user":{"name":"ann"}}`),
		Header: []byte("Content-Type: application/json\r\nX-Request-Id: 7f3a9c\r\nSet-Cookie: sid=s-ann; Path=/; HttpOnly\r\n")}
	b.ReportAllocs()
	for b.Loop() {
		if err := u.Begin(); err != nil {
			b.Fatal(err)
		}
		for x, _ := u.Next(); x != nil; x, _ = u.Next() {
			if r, _ := u.Done(res); r.Class != client.OK {
				b.Fatalf("class %v", r.Class)
			}
		}
	}
}
