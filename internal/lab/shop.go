package lab

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// The shop is a small stateful journey API: log in, list the items, order
// one. Its state is bounded: tokens are signed, not stored. An order goes
// through a pool (like a database connection pool), its bottleneck knob.
//
//	POST /shop/login   {"user": U, "password": "pw-" + U} → 200 {"token": T}, a shop_session cookie
//	GET  /shop/items   Authorization: Bearer T → 200 {"items": [...]}
//	POST /shop/orders  Authorization: Bearer T, shop_session cookie, {"user": U, "item": ID}
//	                   → 201 {"order": N}; ?pool=N (default 8) &ms=M (default 5): the order pool
//	POST /shop/cart    Authorization: Bearer T, {"item": ID} → 200 {"cart": [ID]}, a shop_cart
//	                   cookie scoped to Path=/shop/cart
//	GET  /shop/cart/items → 200 {"items": [ID]}: the item of the shop_cart cookie, if any
//	POST /shop/logout  → 200, clearing shop_session as Express's res.clearCookie does
//
// Each endpoint counts the shop's cookies it received, so that a client's
// cookie jar can be checked from the server's side.
const (
	defaultOrderPool = 8
	defaultOrderMS   = 5
	maxShopBody      = 4 << 10
)

// shopItems is the catalogue /shop/items lists.
var shopItems = []byte(`{"items":[{"id":1,"name":"kettle","price":25},{"id":2,"name":"teapot","price":30},{"id":3,"name":"mug","price":8},{"id":4,"name":"tray","price":12}]}`)

// shop holds the shop's key and counters.
type shop struct {
	key      []byte
	logins   atomic.Uint64
	orders   atomic.Uint64
	rejected *prometheus.CounterVec // lab_shop_rejected_total{reason}
	counted  *prometheus.CounterVec // lab_shop_total{event}
	cookies  *prometheus.CounterVec // lab_shop_cookies_total{endpoint,cookie}
}

// shopCookies are the cookies the shop sets, and counts when it gets them.
var shopCookies = []string{"shop_session", "shop_cart"}

func newShop(reg prometheus.Registerer) (*shop, error) {
	sh := &shop{
		key: make([]byte, 32),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lab_shop_rejected_total",
			Help: "Shop requests refused, by reason: bad_password, no_token (missing or forged), wrong_user (a token used for another user's order), no_session (no or another user's cookie), bad_body.",
		}, []string{"reason"}),
		counted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lab_shop_total",
			Help: "Shop events that succeeded: login, items, order, cart, cart_items, logout.",
		}, []string{"event"}),
		cookies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lab_shop_cookies_total",
			Help: "Shop requests that carried a shop cookie (shop_session, shop_cart), by endpoint and cookie.",
		}, []string{"endpoint", "cookie"}),
	}
	_, _ = rand.Read(sh.key)
	for _, c := range []prometheus.Collector{sh.rejected, sh.counted, sh.cookies} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	for _, r := range []string{"bad_password", "no_token", "wrong_user", "no_session", "bad_body"} {
		sh.rejected.WithLabelValues(r)
	}
	for _, e := range []string{"login", "items", "order", "cart", "cart_items", "logout"} {
		sh.counted.WithLabelValues(e)
	}
	return sh, nil
}

// sawCookies counts the shop cookies a request to endpoint carried.
func (sh *shop) sawCookies(r *http.Request, endpoint string) {
	for _, name := range shopCookies {
		if _, err := r.Cookie(name); err == nil {
			sh.cookies.WithLabelValues(endpoint, name).Inc()
		}
	}
}

// shopRoutes are the shop's endpoints.
func (s *Server) shopRoutes() []route {
	return []route{
		{"shop_login", "POST /shop/login", s.handleShopLogin},
		{"shop_items", "GET /shop/items", s.handleShopItems},
		{"shop_orders", "POST /shop/orders", s.handleShopOrders},
		{"shop_cart", "POST /shop/cart", s.handleShopCart},
		{"shop_cart_items", "GET /shop/cart/items", s.handleShopCartItems},
		{"shop_logout", "POST /shop/logout", s.handleShopLogout},
	}
}

// sign returns the token of login number n of user.
func (sh *shop) sign(user string, n uint64) string {
	m := hmac.New(sha256.New, sh.key)
	fmt.Fprintf(m, "%s\x00%d", user, n)
	return base64.RawURLEncoding.EncodeToString([]byte(user)) + "." + strconv.FormatUint(n, 10) + "." +
		base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// userOf checks a token and returns whose it is.
func (sh *shop) userOf(token string) (string, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", false
	}
	u, err := base64.RawURLEncoding.DecodeString(parts[0])
	n, err2 := strconv.ParseUint(parts[1], 10, 64)
	if err != nil || err2 != nil {
		return "", false
	}
	return string(u), hmac.Equal([]byte(sh.sign(string(u), n)), []byte(token))
}

// bearer returns the user of the request's bearer token.
func (sh *shop) bearer(r *http.Request) (string, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return "", false
	}
	return sh.userOf(strings.TrimSpace(tok))
}

func readJSON(r *http.Request, v any) bool {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxShopBody+1))
	return err == nil && len(b) <= maxShopBody && json.Unmarshal(b, v) == nil
}

// writeRaw writes body, already JSON, with code.
func writeRaw(w http.ResponseWriter, code int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

func (sh *shop) refuse(w http.ResponseWriter, code int, reason string) {
	sh.rejected.WithLabelValues(reason).Inc()
	writeRaw(w, code, []byte(`{"error":"`+reason+`"}`))
}

// handleShopLogin checks a user's password and hands out a token and a
// session cookie.
func (s *Server) handleShopLogin(w http.ResponseWriter, r *http.Request) {
	sh := s.shop
	sh.sawCookies(r, "shop_login")
	var in struct{ User, Password string }
	if !readJSON(r, &in) || in.User == "" {
		sh.refuse(w, http.StatusBadRequest, "bad_body")
		return
	}
	if in.Password != "pw-"+in.User {
		sh.refuse(w, http.StatusUnauthorized, "bad_password")
		return
	}
	n := sh.logins.Add(1)
	tok := sh.sign(in.User, n)
	http.SetCookie(w, &http.Cookie{Name: "shop_session", Value: sh.sign("session:"+in.User, n), Path: "/shop", HttpOnly: true})
	sh.counted.WithLabelValues("login").Inc()
	writeJSON(w, http.StatusOK, map[string]string{"token": tok})
}

// handleShopItems lists the catalogue to a logged-in user.
func (s *Server) handleShopItems(w http.ResponseWriter, r *http.Request) {
	sh := s.shop
	sh.sawCookies(r, "shop_items")
	if _, ok := sh.bearer(r); !ok {
		sh.refuse(w, http.StatusUnauthorized, "no_token")
		return
	}
	sh.counted.WithLabelValues("items").Inc()
	writeRaw(w, http.StatusOK, shopItems)
}

// handleShopOrders places an order for the token's own user, through the
// order pool.
func (s *Server) handleShopOrders(w http.ResponseWriter, r *http.Request) {
	sh := s.shop
	sh.sawCookies(r, "shop_orders")
	k := parseKnobs(r, "pool", "ms")
	n := k.int("pool", defaultOrderPool, 1, maxPoolN)
	ms := k.int("ms", defaultOrderMS, 0, maxMS)
	if !k.ok(w) {
		return
	}
	user, ok := sh.bearer(r)
	if !ok {
		sh.refuse(w, http.StatusUnauthorized, "no_token")
		return
	}
	var in struct {
		User string
		Item int
	}
	if !readJSON(r, &in) || in.Item < 1 {
		sh.refuse(w, http.StatusBadRequest, "bad_body")
		return
	}
	if in.User != user {
		sh.refuse(w, http.StatusForbidden, "wrong_user")
		return
	}
	c, err := r.Cookie("shop_session")
	if err != nil {
		sh.refuse(w, http.StatusForbidden, "no_session")
		return
	}
	if su, ok := sh.userOf(c.Value); !ok || su != "session:"+user {
		sh.refuse(w, http.StatusForbidden, "no_session")
		return
	}
	if !s.holdSlot(w, r, n, ms) {
		return
	}
	id := sh.orders.Add(1)
	sh.counted.WithLabelValues("order").Inc()
	writeRaw(w, http.StatusCreated, []byte(`{"order":`+strconv.FormatUint(id, 10)+`}`))
}

// handleShopCart puts an item in the logged-in user's cart, which lives in
// a cookie scoped to the cart's own paths (Path=/shop/cart), as many
// frameworks scope a cookie to the part of a site that reads it.
func (s *Server) handleShopCart(w http.ResponseWriter, r *http.Request) {
	sh := s.shop
	sh.sawCookies(r, "shop_cart")
	if _, ok := sh.bearer(r); !ok {
		sh.refuse(w, http.StatusUnauthorized, "no_token")
		return
	}
	var in struct{ Item int }
	if !readJSON(r, &in) || in.Item < 1 {
		sh.refuse(w, http.StatusBadRequest, "bad_body")
		return
	}
	item := strconv.Itoa(in.Item)
	http.SetCookie(w, &http.Cookie{Name: "shop_cart", Value: item, Path: "/shop/cart", HttpOnly: true})
	sh.counted.WithLabelValues("cart").Inc()
	writeRaw(w, http.StatusOK, []byte(`{"cart":[`+item+`]}`))
}

// handleShopCartItems lists the cart of the request's shop_cart cookie.
func (s *Server) handleShopCartItems(w http.ResponseWriter, r *http.Request) {
	sh := s.shop
	sh.sawCookies(r, "shop_cart_items")
	items := "[]"
	if c, err := r.Cookie("shop_cart"); err == nil {
		if n, err := strconv.Atoi(c.Value); err == nil && n > 0 {
			items = "[" + strconv.Itoa(n) + "]"
		}
	}
	sh.counted.WithLabelValues("cart_items").Inc()
	writeRaw(w, http.StatusOK, []byte(`{"items":`+items+`}`))
}

// handleShopLogout ends the session as Express's res.clearCookie() does:
// the cookie again, empty, with an Expires in 1970 and no Max-Age.
func (s *Server) handleShopLogout(w http.ResponseWriter, r *http.Request) {
	sh := s.shop
	sh.sawCookies(r, "shop_logout")
	w.Header().Add("Set-Cookie", "shop_session=; Path=/shop; Expires=Thu, 01 Jan 1970 00:00:00 GMT")
	sh.counted.WithLabelValues("logout").Inc()
	writeRaw(w, http.StatusOK, []byte(`{"ok":true}`))
}
