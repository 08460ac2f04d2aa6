package e2e

import (
	"fmt"
	"path/filepath"
	"testing"
)

// cookieJourney visits the lab shop's cookie-scoped paths: a cart cookie
// with Path=/shop/cart, and a logout that clears the session cookie as
// Express does (a past Expires, no Max-Age), after which an order must be
// refused.
const cookieJourney = `base: %s
data:
  accounts: {file: accounts.csv}
steps:
  - name: login
    method: POST
    url: /shop/login
    json: {user: "{{accounts.user}}", password: "{{accounts.password}}"}
    extract: {token: {json: token}}
    check: [status==200]
  - name: cart
    method: POST
    url: /shop/cart
    headers: {Authorization: "Bearer {{token}}"}
    json: {item: 2}
    check: [status==200]
  - name: cart_items
    url: /shop/cart/items
    check: ["json:items.0==2"]
  - name: order
    method: POST
    url: /shop/orders?pool=4&ms=1
    headers: {Authorization: "Bearer {{token}}"}
    body: '{"user": "{{accounts.user}}", "item": 2}'
    check: [status==201]
  - name: logout
    method: POST
    url: /shop/logout
    check: [status==200]
  - name: late_order
    method: POST
    url: /shop/orders?pool=4&ms=1
    headers: {Authorization: "Bearer {{token}}"}
    body: '{"user": "{{accounts.user}}", "item": 2}'
    check: [status==403, body~no_session]
`

// The users' cookie jars, counted from the lab's side: the session cookie
// goes to every shop path until logout clears it, the cart cookie only to
// the cart's paths, and the cleared session never comes back.
func TestCookieJarAgainstTheShop(t *testing.T) {
	lab := startLab(t)
	dir := writeFiles(t, map[string]string{
		"cookies.yaml": fmt.Sprintf(cookieJourney, lab),
		"accounts.csv": accountsCSV(20),
	})
	r, o := runScenario(t, "run", "-q", "-u", "4", "-d", "2s", filepath.Join(dir, "cookies.yaml"))
	if o.code != 0 || r.Iterations.Completed < 20 || r.Iterations.Failed != 0 {
		t.Fatalf("exit %d, iterations %+v: %s", o.code, r.Iterations, o.stderr)
	}
	seen := func(endpoint, cookie string) int64 {
		n, _ := labMetric(t, lab, "lab_shop_cookies_total", `cookie="`+cookie+`",endpoint="`+endpoint+`"`)
		return n
	}
	event := func(e string) int64 { return shopMetric(t, lab, "lab_shop_total", `event="`+e+`"`) }
	orders, cartItems, logouts := event("order"), event("cart_items"), event("logout")
	late := shopMetric(t, lab, "lab_shop_rejected_total", `reason="no_session"`)
	t.Logf("lab: %d logins, %d orders, %d cart reads, %d logouts, %d late orders refused", event("login"), orders, cartItems, logouts, late)
	if orders != r.ByStep["order"].StatusCodes["201"] || late != r.ByStep["late_order"].StatusCodes["403"] || late < r.Iterations.Completed {
		t.Fatalf("lab: %d orders, %d refused as no_session; surge: %d and %d, %d journeys",
			orders, late, r.ByStep["order"].StatusCodes["201"], r.ByStep["late_order"].StatusCodes["403"], r.Iterations.Completed)
	}
	for _, c := range []struct {
		endpoint, cookie string
		got, want        int64
	}{
		{"shop_orders", "shop_session", seen("shop_orders", "shop_session"), orders}, // not the late ones
		{"shop_orders", "shop_cart", seen("shop_orders", "shop_cart"), 0},            // Path=/shop/cart
		{"shop_cart_items", "shop_cart", seen("shop_cart_items", "shop_cart"), cartItems},
		{"shop_logout", "shop_session", seen("shop_logout", "shop_session"), logouts},
		{"shop_login", "shop_session", seen("shop_login", "shop_session"), 0}, // cleared at the last logout
	} {
		if c.got != c.want {
			t.Errorf("%s received %s %d times, want %d", c.endpoint, c.cookie, c.got, c.want)
		}
	}
}
