package scenario_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/client"
	"github.com/surgeload/surge/internal/scenario"
)

// shop is a small journey API: login gives a token (and a cookie), an
// order needs the token of the user it names and the cookie.
type shop struct {
	mu     sync.Mutex
	tokens map[string]string // token → user
	orders []string
	bad    int
}

func (s *shop) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r.URL.Path {
	case "/login":
		var in struct{ User string }
		json.NewDecoder(r.Body).Decode(&in)
		tok := fmt.Sprintf("t-%s-%d", in.User, len(s.tokens))
		s.tokens[tok] = in.User
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: "s-" + in.User})
		w.Header().Set("X-Token", tok)
		fmt.Fprintf(w, `{"token":%q,"n":%d}`, tok, len(s.tokens))
	case "/orders":
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		user := r.URL.Query().Get("user")
		c, err := r.Cookie("sid")
		if s.tokens[tok] != user || err != nil || c.Value != "s-"+user {
			s.bad++
			w.WriteHeader(403)
			return
		}
		s.orders = append(s.orders, user)
		w.WriteHeader(201)
		fmt.Fprintf(w, `{"order":%d}`, len(s.orders))
	default:
		w.WriteHeader(404)
	}
}

func check(t *testing.T, src string) scenario.Check {
	t.Helper()
	c, err := scenario.ParseCheck(src)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestJourneyExtractsChecksAndKeepsCookies(t *testing.T) {
	sh := &shop{tokens: map[string]string{}}
	srv := httptest.NewServer(sh)
	defer srv.Close()
	accounts := &scenario.Feeder{Name: "acc", Columns: []string{"user"}, Rows: [][]string{{"ann"}, {"bob"}, {"cy"}}, Order: scenario.Unique, OnEnd: scenario.EndRun}
	s := &scenario.Scenario{
		Base:    srv.URL,
		Cookies: true,
		Data:    []*scenario.Feeder{accounts},
		Flows: []*scenario.Flow{{Name: "buy", Weight: 1, Steps: []*scenario.Step{
			{Name: "login", Method: "POST", URL: "/login", Body: `{"user":"{{acc.user}}"}`, BodyFmt: scenario.BodyJSON,
				Extract: []scenario.Extract{
					{Var: "token", Kind: scenario.FromJSON, Expr: "token"},
					{Var: "htok", Kind: scenario.FromHeader, Expr: "x-token"},
					{Var: "num", Kind: scenario.FromRegex, Expr: `"n":(\d+)`, Regex: regexp.MustCompile(`"n":(\d+)`)},
				},
				Checks: []scenario.Check{check(t, "status==200"), check(t, "json:n>0"), check(t, "header:X-Token~t-")}},
			{Name: "order", Method: "POST", URL: "/orders?user={{acc.user}}",
				Headers: []scenario.Header{{Name: "Authorization", Value: "Bearer {{htok}}"}},
				Checks:  []scenario.Check{check(t, "status==201"), check(t, "body~order")}},
		}}},
	}
	plan, err := scenario.Compile(s, scenario.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(client.Config{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, user := range []int{0, 1} {
		u := plan.NewUser(user, c.RunID())
		sender := c.NewSender(user, plan.Requests()...)
		for {
			if err := u.Begin(); err != nil {
				if !errors.Is(err, scenario.ErrDataExhausted) || !strings.Contains(err.Error(), "acc") {
					t.Fatalf("Begin: %v", err)
				}
				break
			}
			for x, step := u.Next(); x != nil; x, step = u.Next() {
				res, _ := u.Done(sender.Do(context.Background(), x))
				if res.Class != client.OK {
					t.Fatalf("user %d step %d: %+v", user, step, res)
				}
			}
			if u.Failed() {
				t.Fatal("iteration failed")
			}
		}
	}
	// Three rows, each used once across both users: three orders, each
	// with its own login's token and cookie.
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if len(sh.orders) != 3 || sh.bad != 0 || len(sh.tokens) != 3 {
		t.Fatalf("orders %v, bad %d, logins %d", sh.orders, sh.bad, len(sh.tokens))
	}
}

func TestFailedStepEndsIterationUnlessContinue(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fail" {
			w.WriteHeader(500)
		}
	}))
	defer srv.Close()
	for _, onErr := range []scenario.OnError{scenario.Stop, scenario.Continue} {
		s := &scenario.Scenario{Base: srv.URL, Flows: []*scenario.Flow{{Name: "f", Weight: 1, Steps: []*scenario.Step{
			{Name: "a", Method: "GET", URL: "/fail", OnError: onErr},
			{Name: "b", Method: "GET", URL: "/ok"},
		}}}}
		plan, err := scenario.Compile(s, scenario.Options{})
		if err != nil {
			t.Fatal(err)
		}
		c, _ := client.New(client.Config{Timeout: 2 * time.Second})
		u := plan.NewUser(0, "r")
		sender := c.NewSender(0, plan.Requests()...)
		u.Begin()
		var steps []int
		for x, step := u.Next(); x != nil; x, step = u.Next() {
			steps = append(steps, step)
			u.Done(sender.Do(context.Background(), x))
		}
		c.Close()
		want := 1
		if onErr == scenario.Continue {
			want = 2
		}
		if len(steps) != want || !u.Failed() {
			t.Fatalf("on_error %d: steps %v, failed %v", onErr, steps, u.Failed())
		}
	}
}

func TestExpectedStatusIsNotAnError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(401) }))
	defer srv.Close()
	for _, tc := range []struct {
		checks []scenario.Check
		want   client.Class
	}{
		{nil, client.HTTP4xx},
		{[]scenario.Check{check(t, "status==401")}, client.OK},
		{[]scenario.Check{check(t, "status==200")}, client.CheckFailed},
	} {
		plan, err := scenario.Compile(scenario.URL("GET", srv.URL+"/x", nil, "", tc.checks), scenario.Options{})
		if err != nil {
			t.Fatal(err)
		}
		c, _ := client.New(client.Config{Timeout: 2 * time.Second})
		u := plan.NewUser(0, "r")
		u.Begin()
		x, _ := u.Next()
		res, _ := u.Done(c.NewSender(0, plan.Requests()...).Do(context.Background(), x))
		c.Close()
		if res.Class != tc.want {
			t.Errorf("checks %v: class %v, want %v", tc.checks, res.Class, tc.want)
		}
	}
}
