package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// scenarioResult is the part of a scenario run's result these tests read.
type scenarioResult struct {
	Stopped    string   `json:"stopped"`
	StepNames  []string `json:"step_names"`
	Iterations struct {
		Count     int64   `json:"count"`
		Completed int64   `json:"completed"`
		Failed    int64   `json:"failed"`
		Rate      float64 `json:"rate"`
	} `json:"iterations"`
	ByStep map[string]struct {
		Requests int64 `json:"requests"`
		Errors   struct {
			Count int64 `json:"count"`
		} `json:"errors"`
		StatusCodes map[string]int64 `json:"status_codes"`
	} `json:"by_step"`
	Thresholds []struct {
		Expr string `json:"expr"`
		OK   bool   `json:"ok"`
	} `json:"thresholds"`
	Timeline []map[string]float64 `json:"timeline"`
}

func runScenario(t *testing.T, args ...string) (scenarioResult, outcome) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "result.json")
	o := surge(t, append([]string{"--json", path}, args...)...)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("surge %v wrote no result (exit %d, stderr %q): %v", args, o.code, o.stderr, err)
	}
	var r scenarioResult
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("result is not JSON: %v", err)
	}
	return r, o
}

// writeFiles writes name → content into a new directory and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// shopMetric reads one of the lab's shop counters.
func shopMetric(t *testing.T, base, name, label string) int64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(regexp.QuoteMeta(name+"{"+label+"}") + ` (\d+)`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("/metrics has no %s{%s}", name, label)
	}
	n, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return n
}

func accountsCSV(n int) string {
	var b strings.Builder
	b.WriteString("user,password\n")
	for i := range n {
		fmt.Fprintf(&b, "u%d,pw-u%d\n", i, i)
	}
	return b.String()
}

const shopJourney = `base: %s
data:
  accounts: {file: accounts.csv, order: %s}
thresholds: ["step.order.p95<5s", "errors<1%%"]
steps:
  - name: login
    method: POST
    url: /shop/login
    json: {user: "{{accounts.user}}", password: "{{accounts.password}}"}
    extract: {token: {json: token}}
    check: [status==200]
  - name: items
    url: /shop/items
    headers: {Authorization: "Bearer {{token}}"}
    extract: {item: {json: items.1.id}}
  - name: order
    method: POST
    url: /shop/orders?pool=4&ms=2
    headers: {Authorization: "Bearer {{token}}"}
    body: '{"user": "{{accounts.user}}", "item": {{item}}}'
    check: [status==201, "json:order>0"]
`

// Every order carries the token of its own user's login and the cookie
// of that login, counted by the lab: none is refused, and the lab placed
// as many orders as surge completed journeys.
func TestScenarioJourneyAgainstTheShop(t *testing.T) {
	lab := startLab(t)
	dir := writeFiles(t, map[string]string{
		"shop.yaml":    fmt.Sprintf(shopJourney, lab, "sequential"),
		"accounts.csv": accountsCSV(25),
	})
	r, o := runScenario(t, "run", "-q", "-u", "10", "-d", "2s", filepath.Join(dir, "shop.yaml"))
	if o.code != 0 {
		t.Fatalf("exit %d: %s", o.code, o.stderr)
	}
	if strings.Join(r.StepNames, ",") != "login,items,order" || r.Iterations.Completed < 50 || r.Iterations.Failed != 0 {
		t.Fatalf("steps %v, iterations %+v", r.StepNames, r.Iterations)
	}
	for _, reason := range []string{"no_token", "wrong_user", "no_session", "bad_body", "bad_password"} {
		if n := shopMetric(t, lab, "lab_shop_rejected_total", `reason="`+reason+`"`); n != 0 {
			t.Errorf("the lab refused %d requests as %s", n, reason)
		}
	}
	logins := shopMetric(t, lab, "lab_shop_total", `event="login"`)
	orders := shopMetric(t, lab, "lab_shop_total", `event="order"`)
	if logins != r.ByStep["login"].Requests || orders != r.Iterations.Completed || orders != r.ByStep["order"].StatusCodes["201"] {
		t.Fatalf("lab: %d logins, %d orders; surge: %d logins, %d orders, %d completed journeys",
			logins, orders, r.ByStep["login"].Requests, r.ByStep["order"].StatusCodes["201"], r.Iterations.Completed)
	}
	if len(r.Thresholds) != 2 || r.Thresholds[0].Expr != "step.order.p95<5s" || !r.Thresholds[0].OK || r.Thresholds[1].Expr != "errors<1%" {
		t.Fatalf("thresholds %+v, want the file's two, in its order", r.Thresholds)
	}
}

// users records which users logged in, for the feeder tests.
type users struct {
	mu   sync.Mutex
	seen []string
}

func (u *users) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in struct{ User string }
	json.NewDecoder(r.Body).Decode(&in)
	u.mu.Lock()
	u.seen = append(u.seen, in.User)
	u.mu.Unlock()
}

// A unique feeder hands each row out once in the whole run, then ends the
// run and says why.
func TestUniqueFeederNeverRepeatsAndEndsTheRun(t *testing.T) {
	u := &users{}
	srv := httptest.NewServer(u)
	defer srv.Close()
	dir := writeFiles(t, map[string]string{
		"s.yaml": `base: ` + srv.URL + `
data:
  accounts: {file: accounts.csv, order: unique}
steps:
  - {name: login, method: POST, url: /login, json: {user: "{{accounts.user}}"}}
`,
		"accounts.csv": accountsCSV(40),
	})
	r, o := runScenario(t, "run", "-q", "-u", "6", "-d", "20s", filepath.Join(dir, "s.yaml"))
	if o.code != 0 || !strings.Contains(r.Stopped, "accounts") || !strings.Contains(o.stderr+r.Stopped, "40 rows") {
		t.Fatalf("exit %d, stopped %q, stderr %q", o.code, r.Stopped, o.stderr)
	}
	seen := map[string]bool{}
	for _, name := range u.seen {
		if seen[name] {
			t.Fatalf("user %s logged in twice", name)
		}
		seen[name] = true
	}
	if len(seen) != 40 || r.Iterations.Count != 40 {
		t.Fatalf("server saw %d users, surge %d iterations, want 40", len(seen), r.Iterations.Count)
	}
}

// Stages of an open-model scenario: the server counts the journeys each
// stage started, within 5 % of the profile.
func TestScenarioStagesHoldTheirRate(t *testing.T) {
	c := newCounter(t)
	dir := writeFiles(t, map[string]string{"s.yaml": `base: ` + c.url("") + `
load:
  rate: 40
  stages: [{hold: 2s}, {to: 120}, {hold: 2s}]
steps:
  - {name: one, url: /one}
  - {name: two, url: /two}
`})
	r, o := runScenario(t, "run", "-q", filepath.Join(dir, "s.yaml"))
	if o.code != 0 {
		t.Fatalf("exit %d: %s", o.code, o.stderr)
	}
	// 2 s at 40/s, then 2 s at 120/s: 80 + 240 journeys, each one
	// request to /one and one to /two.
	got := c.hits.Load()
	if want := int64(2 * (80 + 240)); got < want*95/100 || got > want*105/100 {
		t.Fatalf("server handled %d requests, want %d ± 5%%", got, want)
	}
	// The timeline's points end each second (t ≈ 1, 2, 3, 4, a tick
	// a little late or, now that the open model keeps the runtime's
	// timers on time, right on it): pick each by its nearest second.
	var first, second float64
	for _, p := range r.Timeline {
		switch {
		case p["t"] > 1.5 && p["t"] <= 2.5:
			first += p["iterations"]
		case p["t"] > 3.5 && p["t"] <= 4.5:
			second += p["iterations"]
		}
	}
	if first < 35 || first > 45 || second < 105 || second > 135 {
		t.Fatalf("journeys in the second seconds of each stage: %.0f and %.0f, want ≈ 40 and ≈ 120", first, second)
	}
}

// The README's scenario example runs as written, against the lab.
func TestREADMEScenarioExampleRuns(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	start := strings.Index(text, "<!-- scenario-example -->\n```yaml\n")
	if start < 0 {
		t.Fatal("README has no <!-- scenario-example --> block")
	}
	text = text[start+len("<!-- scenario-example -->\n```yaml\n"):]
	example := text[:strings.Index(text, "```")]
	csv, err := os.ReadFile("../examples/accounts.csv")
	if err != nil {
		t.Fatal(err)
	}
	dir := writeFiles(t, map[string]string{"shop.yaml": example, "accounts.csv": string(csv)})
	lab := startLab(t)
	r, o := runScenario(t, "run", "-q", "--base", lab, "-d", "6s", filepath.Join(dir, "shop.yaml"))
	if o.code != 0 || r.Iterations.Completed == 0 || r.Iterations.Failed != 0 {
		t.Fatalf("exit %d, iterations %+v: %s", o.code, r.Iterations, o.stderr)
	}
	if orders := shopMetric(t, lab, "lab_shop_total", `event="order"`); orders != r.ByStep["order"].StatusCodes["201"] || orders == 0 {
		t.Fatalf("lab placed %d orders, surge saw %d", orders, r.ByStep["order"].StatusCodes["201"])
	}
}
