package lab

import (
	"encoding/json"
	"net/http"
)

// Knob bounds. Every knob is checked against them, so that no request can
// make the lab sleep, spin or allocate without bound.
const (
	maxMS       = 60_000    // ms: sleep or CPU milliseconds
	maxSize     = 1 << 20   // /fast size: body bytes
	maxPoolN    = 100_000   // /pool n
	maxPools    = 64        // distinct /pool n values
	maxRPS      = 1_000_000 // /quota rps
	maxBuckets  = 64        // distinct /quota rps values
	maxLimit    = 100_000   // /overload limit
	maxIDBytes  = 128       // /race id
	maxLeakKB   = 64 << 10  // /leak kb (64 MiB per request)
	statusAbort = 499       // recorded when the client went away before the answer
)

// Endpoint describes one load endpoint of the lab: its path, the
// bottleneck class it reproduces (a class name from PRODUCT.md), its
// query-string knobs with their defaults, and the theory a measurement
// can be checked against.
type Endpoint struct {
	Path   string `json:"path"`
	Class  string `json:"class"`
	Knobs  string `json:"knobs"`
	Theory string `json:"theory"`
}

// endpoints is the index, in the order it is printed.
var endpoints = []Endpoint{
	{
		Path:   "/fast",
		Class:  "none",
		Knobs:  "size= body bytes (default 2, 0..1048576)",
		Theory: "answers at once; limited only by the lab's CPU and the network stack",
	},
	{
		Path:   "/cpu",
		Class:  "cpu",
		Knobs:  "ms= CPU milliseconds burnt per request (default 5, 0..60000)",
		Theory: "capacity = GOMAXPROCS x 1000/ms req/s, CPU saturated at capacity; e.g. /cpu?ms=5 with GOMAXPROCS 2 -> 400 req/s",
	},
	{
		Path:   "/lock",
		Class:  "serialized",
		Knobs:  "ms= time the one global lock is held (default 10, 0..60000)",
		Theory: "capacity = 1000/ms req/s, internal concurrency 1, latency grows linearly with users beyond 1, CPU low; e.g. /lock?ms=10 -> 100 req/s",
	},
	{
		Path:   "/pool",
		Class:  "concurrency-limit",
		Knobs:  "n= pool size (default 20, 1..100000; at most 64 distinct values), ms= hold time (default 10, 0..60000)",
		Theory: "capacity = n x 1000/ms req/s, internal concurrency n, CPU low; e.g. /pool?n=20&ms=10 -> 2000 req/s, internal concurrency 20",
	},
	{
		Path:   "/nagle",
		Class:  "concurrency-limit",
		Knobs:  "n= pool size (default 20, 1..100000; at most 64 distinct values), ms= hold time (default 10, 0..60000)",
		Theory: "/pool answered as Java's HttpServer answers: head and body in two writes with Nagle's algorithm on, so each response stalls ~40 ms for the client's delayed ACK after its slot is freed; capacity = n x 1000/ms req/s, internal concurrency n; e.g. /nagle?n=4&ms=20 -> 200 req/s at ~60 ms",
	},
	{
		Path:   "/quota",
		Class:  "throttled",
		Knobs:  "rps= allowed rate (default 100, 1..1000000; at most 64 distinct values)",
		Theory: "token bucket, burst max(1, rps/10): capacity = rps successful req/s, above it 429 with Retry-After: 1; e.g. /quota?rps=100 -> 100 req/s of 200s, the rest 429",
	},
	{
		Path:   "/slow",
		Class:  "latency-floor",
		Knobs:  "ms= latency (default 200, 0..60000)",
		Theory: "latency = ms at any load, unlimited concurrency: throughput = users x 1000/ms; e.g. /slow?ms=200 with 50 users -> 250 req/s at 200 ms",
	},
	{
		Path:   "/overload",
		Class:  "errors",
		Knobs:  "limit= in-flight limit (default 50, 0..100000), ms= service time (default 10, 0..60000), code= status when over the limit (default 500, 500..503), retry= Retry-After seconds (default 0: none, 0..3600)",
		Theory: "capacity = limit x 1000/ms req/s; above limit in flight, code at once while successes stay at ~ms; e.g. /overload?limit=50&ms=10 -> 5000 req/s, then 5xx; code=503 is a load shedder (errors), code=503&retry=1 a quota that says when to come back (throttled)",
	},
	{
		Path:   "/race",
		Class:  "incorrect-responses",
		Knobs:  "id= caller's request id (required, 1..128 bytes), ms= (default 1, 0..60000)",
		Theory: `answers {"id":"<id>"} through one shared slot: correct at concurrency 1, another caller's id once requests overlap (counted in lab_race_wrong_total)`,
	},
	{
		Path:   "/leak",
		Class:  "memory",
		Knobs:  "kb= KiB retained per request (default 64, 0..65536)",
		Theory: "RSS grows by ~kb KiB per request until the lab's leak cap (default 512 MiB), then X-Lab-Leak: full; e.g. 1000 x /leak?kb=64 -> +64 MiB",
	},
	{
		Path:   "/single",
		Class:  "cpu",
		Knobs:  "ms= CPU milliseconds per request (default 5, 0..60000)",
		Theory: "one event-loop thread does every request's work in turn: capacity = 1000/ms req/s with one core busy, whatever the host has; e.g. /single?ms=5 -> 200 req/s, 1 core",
	},
	{
		Path:   "/gil",
		Class:  "cpu",
		Knobs:  "ms= CPU milliseconds per request (default 5, 0..60000)",
		Theory: "one interpreter lock held while each request burns ms of CPU on its connection's thread (a threaded Python server): capacity = 1000/ms req/s, one core busy but no thread busy; e.g. /gil?ms=5 -> 200 req/s, 1 core",
	},
	{
		Path:   "/retro",
		Class:  "serialized",
		Knobs:  "ms= base lock hold time (default 5, 0..60000)",
		Theory: "one lock held ms plus ms/10 per request waiting on it (every hand-off wakes them all): 1000/ms req/s at 1 user, falling as users grow (retrograde); e.g. /retro?ms=5 -> 200 req/s at 1 user, ~27 req/s at 64",
	},
	{
		Path:   "/backend",
		Class:  "cpu",
		Knobs:  "ms= CPU milliseconds per request, spent in the backend (default 5, 0..60000)",
		Theory: "calls the backend lab's /cpu?ms= (surge lab --backend starts one as a child process): the backend saturates its cores while this process stays idle; capacity = backend GOMAXPROCS x 1000/ms req/s; 404 without a backend",
	},
	{
		Path:   "/scan",
		Class:  "cpu",
		Knobs:  "q= last_login to count (default: row 1's last_login)",
		Theory: "full table scan of all rows: cost per request proportional to rows (seed 001); capacity = GOMAXPROCS / scan time",
	},
	{
		Path:   "/lookup",
		Class:  "none",
		Knobs:  "q= last_login to count (default: row 1's last_login)",
		Theory: "same answer as /scan through an index built at startup: cost proportional to log(rows)",
	},
}

// shopEndpoints describe the journey API (see shop.go): the steps of a
// journey, not single endpoints to load.
var shopEndpoints = []Endpoint{
	{
		Path:   "POST /shop/login",
		Class:  "none",
		Knobs:  `JSON {"user": U, "password": "pw-" + U}; answers {"token": T} and a shop_session cookie (401 for a wrong password)`,
		Theory: "the journey API's first step: fast, no limit; tokens are signed, not stored, so the lab's memory stays flat",
	},
	{
		Path:   "GET /shop/items",
		Class:  "none",
		Knobs:  "header Authorization: Bearer T (401 without a valid token)",
		Theory: "lists the catalogue at once, whatever the load",
	},
	{
		Path:   "POST /shop/orders",
		Class:  "concurrency-limit",
		Knobs:  `JSON {"user": U, "item": ID} with U's token and cookie (else 401/403, counted in lab_shop_rejected_total); pool= order pool size (default 8), ms= hold (default 5)`,
		Theory: "orders go through a pool: at most pool x 1000/ms orders/s, e.g. pool=8&ms=5 -> 1600 orders/s; this step degrades first while login and items stay flat",
	},
	{
		Path:   "POST /shop/cart",
		Class:  "none",
		Knobs:  `JSON {"item": ID} with a token (else 401); answers {"cart": [ID]} and a shop_cart cookie with Path=/shop/cart`,
		Theory: "a cookie scoped to the cart's paths: a client that keeps cookies as browsers do sends it to /shop/cart/items, never to /shop/orders (lab_shop_cookies_total counts what each endpoint received)",
	},
	{
		Path:   "GET /shop/cart/items",
		Class:  "none",
		Knobs:  "the shop_cart cookie; answers {\"items\": [ID]}, or [] without it",
		Theory: "reads the cart cookie back, at once",
	},
	{
		Path:   "POST /shop/logout",
		Class:  "none",
		Knobs:  "none; answers {\"ok\": true}",
		Theory: "clears shop_session as Express's res.clearCookie() does (empty, Expires in 1970, no Max-Age): later orders without a new login are refused as no_session",
	},
}

// Shop returns a description of the journey API's endpoints, which GET /
// lists after the load endpoints. The result is a fresh copy.
func Shop() []Endpoint {
	return append([]Endpoint(nil), shopEndpoints...)
}

// Endpoints returns a description of every load endpoint, in index order.
// GET / serves the same list as JSON. The index itself (/) and /metrics
// (Prometheus text from the Server's own registry) are not in the list.
// The result is a fresh copy the caller may change.
func Endpoints() []Endpoint {
	return append([]Endpoint(nil), endpoints...)
}

// handleIndex serves Endpoints as JSON.
func (s *Server) handleIndex(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, append(Endpoints(), shopEndpoints...))
}

// writeJSON writes v as a JSON body with code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encode answer: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}
