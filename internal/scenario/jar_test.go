package scenario_test

import (
	"testing"
	"time"

	"github.com/surgeload/surge/internal/client"
	"github.com/surgeload/surge/internal/scenario"
)

// A user's cookies follow each step's rendered URL (scheme, host, path)
// and the user's clock, across iterations. Responses are canned: nothing
// is sent.
func TestUserCookiesFollowTheStepsURLsAndClock(t *testing.T) {
	now := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	s := &scenario.Scenario{
		Base:    "http://shop.test",
		Cookies: true,
		Flows: []*scenario.Flow{{Name: "f", Weight: 1, Steps: []*scenario.Step{
			{Name: "login", Method: "POST", URL: "/api/login"},
			{Name: "item", Method: "GET", URL: "/api/items/{{user}}?n={{n}}"},
			{Name: "home", Method: "GET", URL: "/"},
			{Name: "cdn", Method: "GET", URL: "http://cdn.test/api/x"},
			{Name: "vhost", Method: "GET", URL: "http://127.0.0.1:1/api/v", Headers: []scenario.Header{{Name: "Host", Value: "shop.test"}}},
			{Name: "tls", Method: "GET", URL: "https://shop.test/api/s"},
			{Name: "logout", Method: "POST", URL: "/api/logout"},
		}}},
	}
	plan, err := scenario.Compile(s, scenario.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	setCookies := map[string]string{
		"login":  "Set-Cookie: sid=1; Path=/api; Max-Age=60\r\nSet-Cookie: pref=dark; Path=/\r\nSet-Cookie: tok=t; Secure; Path=/\r\n",
		"item":   "Set-Cookie: seen=1\r\n", // default path: /api/items
		"logout": "Set-Cookie: pref=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT\r\n",
	}
	want := [][]string{
		// The Cookie header of each step in the first iteration; then in
		// a second one, 61 s later: sid has expired (until the login sets
		// it again), pref was cleared, tok is Secure (https only).
		{"", "sid=1; pref=dark", "pref=dark", "", "sid=1; pref=dark", "sid=1; pref=dark; tok=t", "sid=1; pref=dark"},
		{"", "seen=1; sid=1", "", "", "sid=1", "sid=1; tok=t", "sid=1"},
	}
	u := plan.NewUser(7, "r")
	for it := range want {
		if err := u.Begin(); err != nil {
			t.Fatal(err)
		}
		k := 0
		for x, i := u.Next(); x != nil; x, i = u.Next() {
			name := plan.Steps[i].Step.Name
			if string(x.Cookie) != want[it][k] {
				t.Errorf("iteration %d, step %s sends Cookie %q, want %q", it, name, x.Cookie, want[it][k])
			}
			k++
			u.Done(client.Result{Code: 200, Class: client.OK, Proto: 1, Header: []byte(setCookies[name])})
		}
		now = now.Add(61 * time.Second)
		setCookies["login"] = "Set-Cookie: sid=1; Path=/api; Max-Age=60\r\n"
	}
}

// Without cookies: true, no Cookie header, whatever the server sets.
func TestNoJarSendsNoCookie(t *testing.T) {
	s := &scenario.Scenario{Base: "http://shop.test", Flows: []*scenario.Flow{{Name: "f", Weight: 1, Steps: []*scenario.Step{
		{Name: "a", Method: "GET", URL: "/"}, {Name: "b", Method: "GET", URL: "/"},
	}}}}
	plan, err := scenario.Compile(s, scenario.Options{})
	if err != nil {
		t.Fatal(err)
	}
	u := plan.NewUser(0, "r")
	if err := u.Begin(); err != nil {
		t.Fatal(err)
	}
	for x, _ := u.Next(); x != nil; x, _ = u.Next() {
		if len(x.Cookie) != 0 {
			t.Fatalf("Cookie %q without a jar", x.Cookie)
		}
		u.Done(client.Result{Code: 200, Class: client.OK, Proto: 1, Header: []byte("Set-Cookie: a=1\r\n")})
	}
}
