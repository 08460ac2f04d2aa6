package lab_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
)

// shopCall sends one shop request with c (which keeps cookies).
func shopCall(t *testing.T, c *http.Client, method, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func shopClient(t *testing.T, ts *httptest.Server) *http.Client {
	jar, _ := cookiejar.New(nil)
	c := *ts.Client()
	c.Jar = jar
	return &c
}

func TestShopJourney(t *testing.T) {
	s, ts := newLab(t, testConfig())
	ann, bob := shopClient(t, ts), shopClient(t, ts)
	login := func(c *http.Client, user, pw string) (int, string) {
		code, body := shopCall(t, c, "POST", ts.URL+"/shop/login", "", `{"user":"`+user+`","password":"`+pw+`"}`)
		tok := ""
		if i := strings.Index(body, `"token":"`); i >= 0 {
			tok = body[i+9:]
			tok = tok[:strings.IndexByte(tok, '"')]
		}
		return code, tok
	}
	if code, _ := login(ann, "ann", "nope"); code != 401 {
		t.Fatalf("wrong password: %d", code)
	}
	code, annTok := login(ann, "ann", "pw-ann")
	if code != 200 || annTok == "" {
		t.Fatalf("login: %d %q", code, annTok)
	}
	_, bobTok := login(bob, "bob", "pw-bob")
	if code, body := shopCall(t, ann, "GET", ts.URL+"/shop/items", annTok, ""); code != 200 || !strings.Contains(body, `"items"`) {
		t.Fatalf("items: %d %s", code, body)
	}
	if code, _ := shopCall(t, ann, "GET", ts.URL+"/shop/items", "forged.1.x", ""); code != 401 {
		t.Fatalf("items with a forged token: %d", code)
	}
	for _, c := range []struct {
		name   string
		client *http.Client
		token  string
		body   string
		want   int
	}{
		{"own token", ann, annTok, `{"user":"ann","item":2}`, 201},
		{"another user's token", ann, bobTok, `{"user":"ann","item":2}`, 403},
		{"another user's cookie", bob, annTok, `{"user":"ann","item":2}`, 403},
		{"no token", ann, "", `{"user":"ann","item":2}`, 401},
		{"bad body", ann, annTok, `{"user":"ann"}`, 400},
	} {
		if code, body := shopCall(t, c.client, "POST", ts.URL+"/shop/orders?ms=0", c.token, c.body); code != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, code, body, c.want)
		}
	}
	if s.Count("/shop/orders") != 5 || s.Count("/shop/login") != 3 {
		t.Errorf("counts: orders %d, logins %d", s.Count("/shop/orders"), s.Count("/shop/login"))
	}
	_, metrics := shopCall(t, ann, "GET", ts.URL+"/metrics", "", "")
	for _, want := range []string{`lab_shop_total{event="order"} 1`, `lab_shop_total{event="login"} 2`, `lab_shop_rejected_total{reason="wrong_user"} 1`, `lab_shop_rejected_total{reason="no_session"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// The cart cookie is scoped to /shop/cart and logout clears the session
// as Express does; a browser's jar (net/http/cookiejar) sees them so, and
// the shop counts the cookies each endpoint received.
func TestShopCartAndLogoutCookies(t *testing.T) {
	_, ts := newLab(t, testConfig())
	ann := shopClient(t, ts)
	_, body := shopCall(t, ann, "POST", ts.URL+"/shop/login", "", `{"user":"ann","password":"pw-ann"}`)
	tok := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(body), `{"token":"`), `"}`)
	steps := []struct {
		method, path, token, body string
		want                      int
		wantBody                  string
	}{
		{"GET", "/shop/cart/items", "", "", 200, `{"items":[]}`},
		{"POST", "/shop/cart", "", `{"item":3}`, 401, ""},
		{"POST", "/shop/cart", tok, `{"item":3}`, 200, `{"cart":[3]}`},
		{"GET", "/shop/cart/items", "", "", 200, `{"items":[3]}`},
		{"POST", "/shop/orders?ms=0", tok, `{"user":"ann","item":3}`, 201, ""},
		{"POST", "/shop/logout", "", "", 200, `{"ok":true}`},
		{"POST", "/shop/orders?ms=0", tok, `{"user":"ann","item":3}`, 403, `{"error":"no_session"}`},
	}
	for i, st := range steps {
		code, body := shopCall(t, ann, st.method, ts.URL+st.path, st.token, st.body)
		if code != st.want || st.wantBody != "" && body != st.wantBody {
			t.Fatalf("step %d %s %s: %d %s, want %d %s", i, st.method, st.path, code, body, st.want, st.wantBody)
		}
	}
	resp, err := ts.Client().Post(ts.URL+"/shop/logout", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Values("Set-Cookie"); len(got) != 1 || got[0] != "shop_session=; Path=/shop; Expires=Thu, 01 Jan 1970 00:00:00 GMT" {
		t.Fatalf("logout sets %q, want Express's clearCookie", got)
	}
	_, metrics := shopCall(t, ann, "GET", ts.URL+"/metrics", "", "")
	for _, want := range []string{
		`lab_shop_cookies_total{cookie="shop_cart",endpoint="shop_cart_items"} 1`,
		`lab_shop_cookies_total{cookie="shop_session",endpoint="shop_cart_items"} 2`,
		`lab_shop_cookies_total{cookie="shop_session",endpoint="shop_orders"} 1`,
		`lab_shop_cookies_total{cookie="shop_session",endpoint="shop_logout"} 1`,
		`lab_shop_total{event="logout"} 2`,
		`lab_shop_rejected_total{reason="no_session"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(metrics, `cookie="shop_cart",endpoint="shop_orders"`) {
		t.Errorf("the cart cookie reached /shop/orders")
	}
}
