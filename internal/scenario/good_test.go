package scenario

import (
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestGoodFull(t *testing.T) {
	sc, err := LoadFile("testdata/good/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	acceptJSON := Header{Name: "Accept", Value: "application/json"}
	client := Header{Name: "X-Client", Value: "surge"}
	want := &Scenario{
		File:    "testdata/good/full.yaml",
		Base:    "http://127.0.0.1:8080/api/",
		Vars:    []Var{{Name: "tenant", Value: "acme"}, {Name: "page", Value: "3"}},
		Cookies: false,
		Data: []*Feeder{
			{Name: "accounts", File: "testdata/good/accounts.csv", Order: Unique, OnEnd: EndRun,
				Columns: []string{"user", "password"},
				Rows:    [][]string{{"alice", "pw-alice"}, {"bob, jr", "pw-bob"}}},
			{Name: "people", File: "testdata/good/people.jsonl", Order: Random, OnEnd: Wrap,
				Columns: []string{"name", "age", "vip"},
				Rows:    [][]string{{`Ann "A"`, "31", "true"}, {"Bo", "40", "false"}}},
		},
		Load: Load{Users: 10, Duration: 2 * time.Minute,
			Stages: []Stage{{To: 50, Over: 30 * time.Second}, {Hold: time.Minute}},
			Think:  time.Second, ThinkMax: 3 * time.Second},
		Thresholds: []Expr{{Src: "p95<200ms", Pos: Pos{21, 5}}, {Src: "step.GET /a.json.p99.9<1s", Pos: Pos{22, 5}}},
		Flows: []*Flow{
			{Name: "shop", Weight: 3, Pos: Pos{24, 5}, Steps: []*Step{
				{Name: "login", Method: "POST", URL: "login?t={{tenant}}", Pos: Pos{27, 9},
					Headers: []Header{acceptJSON, client, {Name: "Content-Type", Value: "application/json"}},
					Body:    `{"user":"{{accounts.user}}","pass":"{{accounts.password}}","who":{"name":"{{people.name}}","tags":["a","b\"c"],"n":1.5,"ok":true,"none":null}}`,
					BodyFmt: BodyJSON, Timeout: 2 * time.Second,
					Extract: []Extract{{Var: "token", Kind: FromJSON, Expr: "token", Pos: Pos{35, 11}},
						{Var: "sid", Kind: FromHeader, Expr: "X-Session", Pos: Pos{36, 11}}},
					Checks: []Check{{Src: "status==200", Kind: CheckStatus, Op: "==", Value: "200", Code: 200, Pos: Pos{37, 17}},
						{Src: "json:token", Kind: CheckJSON, Path: "token", Pos: Pos{37, 30}},
						{Src: "header:X-Session", Kind: CheckHeader, Path: "X-Session", Pos: Pos{37, 44}}}},
				{Name: "search", Method: "POST", URL: "/search", Pos: Pos{38, 9},
					Headers: []Header{client, {Name: "Accept", Value: "text/html"}, {Name: "Content-Type", Value: "application/x-www-form-urlencoded"}},
					Body:    "q=red%20shoes&user={{accounts.user}}&page={{page}}", BodyFmt: BodyForm,
					Timeout: 500 * time.Millisecond,
					Extract: []Extract{{Var: "first", Kind: FromRegex, Expr: `id="(\d+)"`, Regex: regexp.MustCompile(`id="(\d+)"`), Pos: Pos{47, 11}}},
					Checks: []Check{
						{Src: "status<400", Kind: CheckStatus, Op: "<", Value: "400", Code: 400, Pos: Pos{49, 13}},
						{Src: "body~{{people.name}}", Kind: CheckBody, Op: "~", Value: "{{people.name}}", Pos: Pos{50, 13}},
						{Src: "body!~error", Kind: CheckBody, Op: "!~", Value: "error", Pos: Pos{51, 13}},
						{Src: "json:items.#(price>10)#.id!=0", Kind: CheckJSON, Path: "items.#(price>10)#.id", Op: "!=", Value: "0", Pos: Pos{52, 13}},
						{Src: "header:Content-Type~html", Kind: CheckHeader, Path: "Content-Type", Op: "~", Value: "html", Pos: Pos{53, 13}},
					},
					Think: 200 * time.Millisecond, ThinkMax: 200 * time.Millisecond, OnError: Continue},
			}},
			{Name: "browse", Weight: 1, Pos: Pos{56, 5}, Steps: []*Step{
				{Name: "GET /a.json", Method: "GET", URL: "http://127.0.0.1:9090/a.json?x=1", Pos: Pos{58, 9},
					Headers: []Header{acceptJSON, client, {Name: "Authorization", Value: "Bearer {{n}}-{{id}}-{{user}}"}},
					Body:    "raw {{tenant}}\n", BodyFmt: BodyRaw, Timeout: 2 * time.Second},
			}},
		},
	}
	opts := cmp.Options{
		cmpopts.IgnoreUnexported(Feeder{}),
		cmpopts.IgnoreFields(Feeder{}, "Pos"),
		cmp.Comparer(func(a, b *regexp.Regexp) bool {
			return a == nil && b == nil || a != nil && b != nil && a.String() == b.String()
		}),
	}
	if d := cmp.Diff(want, sc, opts); d != "" {
		t.Errorf("LoadFile mismatch (-want +got):\n%s", d)
	}
	if sc.Data[0].Pos != (Pos{10, 3}) {
		t.Errorf("feeder accounts at %v, want 10:3", sc.Data[0].Pos)
	}
}

func TestGoodMinimal(t *testing.T) {
	sc, err := Parse("min.yaml", []byte("steps:\n  - url: http://127.0.0.1:8080/\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := &Scenario{File: "min.yaml", Cookies: true, Flows: []*Flow{{Name: "default", Weight: 1, Pos: Pos{1, 1},
		Steps: []*Step{{Name: "GET /", Method: "GET", URL: "http://127.0.0.1:8080/", Pos: Pos{2, 5}}}}}}
	if d := cmp.Diff(want, sc); d != "" {
		t.Errorf("Parse mismatch (-want +got):\n%s", d)
	}
}

func TestVarNames(t *testing.T) {
	sc, err := LoadFile("testdata/good/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"tenant", "page", "accounts.user", "accounts.password", "people.name", "people.age", "people.vip", "token", "sid", "first"}
	if d := cmp.Diff(want, sc.VarNames()); d != "" {
		t.Errorf("VarNames (-want +got):\n%s", d)
	}
}

// A threshold naming a step that has a problem of its own is not reported
// as naming an unknown step.
func TestThresholdOnBadStep(t *testing.T) {
	src := "base: http://127.0.0.1:8080\nthresholds: [step.order.p95<1s]\nsteps:\n  - name: order\n    url: /o\n    check: [nope]\n"
	_, err := Parse("t.yaml", []byte(src))
	var es Errors
	if !errors.As(err, &es) || len(es) != 1 || es[0].Line != 6 {
		t.Errorf("want one error, at line 6, got %v", err)
	}
}
