package scenario

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/tidwall/gjson"

	"github.com/surgeload/surge/internal/client"
	"github.com/surgeload/surge/internal/tmpl"
)

// Plan is a scenario ready to run: its steps as client requests, its
// variables as slots, its feeders as shared cursors. One Plan serves every
// user of a run; each user has its own User.
type Plan struct {
	// Steps are every step of every flow, in file order; a step's index
	// here is its index in the run's results.
	Steps []*PlanStep
	flows []planFlow
	total int // sum of the flows' weights
	slots int
	fixed []fixedSlot // vars
	feeds []*feed
	jar   bool
	file  bool
}

// PlanStep is one step ready to run.
type PlanStep struct {
	Step    *Step
	Request *client.Request
	checks  []planCheck
	extract []planExtract
}

type planFlow struct {
	weight int
	steps  []int // indexes into Plan.Steps
	feeds  []int // the feeders its templates use
	clear  []int // the slots its steps extract into
}

type fixedSlot struct {
	slot  int
	value []byte
}

type planCheck struct {
	c    *Check
	text tmpl.Template // body and header checks
}

type planExtract struct {
	e    *Extract
	slot int
}

// feed hands out a feeder's rows to every user of a run.
type feed struct {
	f     *Feeder
	rows  [][][]byte
	slots []int // slot of each column
	next  atomic.Uint64
}

// ErrDataExhausted is wrapped by the error a User's Begin returns when a
// feeder has no row left for it.
var ErrDataExhausted = errors.New("data exhausted")

// take returns the row for one iteration.
func (f *feed) take(rng *rand.Rand) ([][]byte, error) {
	n := uint64(len(f.rows))
	if f.f.Order == Random {
		return f.rows[rng.Uint64N(n)], nil
	}
	i := f.next.Add(1) - 1
	if i >= n {
		if f.f.Order == Unique || f.f.OnEnd == EndRun {
			return nil, fmt.Errorf("%w: feeder %s handed out all its %d rows (order %s)", ErrDataExhausted, f.f.Name, n, orderName(f.f.Order))
		}
		i %= n
	}
	return f.rows[i], nil
}

func orderName(o FeederOrder) string {
	switch o {
	case Random:
		return "random"
	case Unique:
		return "unique"
	}
	return "sequential, on_end: stop"
}

// Options are what a run adds to a scenario.
type Options struct {
	// Checks are added to every step (the --check flag).
	Checks []*Check
}

// Compile builds the plan of a validated scenario.
func Compile(s *Scenario, o Options) (*Plan, error) {
	p := &Plan{jar: s.Cookies, file: s.File != ""}
	names := map[string]int{}
	slot := func(name string) int {
		if k, ok := names[name]; ok {
			return k
		}
		names[name] = p.slots
		p.slots++
		return p.slots - 1
	}
	for _, v := range s.Vars {
		p.fixed = append(p.fixed, fixedSlot{slot(v.Name), []byte(v.Value)})
	}
	feedOf := map[string]int{}
	for i, f := range s.Data {
		fd := &feed{f: f}
		for _, c := range f.Columns {
			fd.slots = append(fd.slots, slot(f.Name+"."+c))
		}
		for _, row := range f.Rows {
			r := make([][]byte, len(row))
			for j, v := range row {
				r[j] = []byte(v)
			}
			fd.rows = append(fd.rows, r)
		}
		if len(fd.rows) == 0 {
			return nil, fmt.Errorf("feeder %s has no rows", f.Name)
		}
		p.feeds = append(p.feeds, fd)
		feedOf[f.Name] = i
	}
	for _, fl := range s.Flows {
		pf := planFlow{weight: max(fl.Weight, 1)}
		used := map[int]bool{}
		// A flow's own extracted names resolve as they are defined; the
		// loader already checked that each is defined before it is used.
		for _, st := range fl.Steps {
			resolve := func(name string) (int, bool) {
				k, ok := names[name]
				if ok {
					if dot := strings.IndexByte(name, '.'); dot > 0 {
						if fi, isFeed := feedOf[name[:dot]]; isFeed {
							used[fi] = true
						}
					}
				}
				return k, ok
			}
			ps, err := compileStep(s, st, resolve, o)
			if err != nil {
				return nil, fmt.Errorf("step %s: %w", st.Name, err)
			}
			for _, e := range st.Extract {
				k := slot(e.Var)
				ps.extract = append(ps.extract, planExtract{e: &st.Extract[len(ps.extract)], slot: k})
				pf.clear = append(pf.clear, k)
			}
			ps.Request.KeepHeaders = ps.Request.KeepHeaders || p.jar
			pf.steps = append(pf.steps, len(p.Steps))
			p.Steps = append(p.Steps, ps)
		}
		for fi := range used {
			pf.feeds = append(pf.feeds, fi)
		}
		p.total += pf.weight
		p.flows = append(p.flows, pf)
	}
	if len(p.Steps) == 0 {
		return nil, errors.New("the scenario has no step")
	}
	return p, nil
}

func compileStep(s *Scenario, st *Step, names tmpl.Names, o Options) (*PlanStep, error) {
	u := st.URL
	if !strings.Contains(u, "://") && s.Base != "" {
		u = strings.TrimRight(s.Base, "/") + "/" + strings.TrimLeft(u, "/")
	}
	spec := client.Spec{Method: st.Method, URL: u, Body: st.Body, Names: names, Timeout: st.Timeout}
	switch st.BodyFmt {
	case BodyJSON:
		spec.BodyEscape = tmpl.JSON
	case BodyForm:
		spec.BodyEscape = tmpl.URL
	}
	for _, h := range st.Headers {
		spec.Header = append(spec.Header, client.Field{Name: h.Name, Value: h.Value})
	}
	ps := &PlanStep{Step: st}
	checks := make([]*Check, 0, len(st.Checks)+len(o.Checks))
	for i := range st.Checks {
		checks = append(checks, &st.Checks[i])
	}
	checks = append(checks, o.Checks...)
	for _, c := range checks {
		pc := planCheck{c: c}
		if c.Kind == CheckBody || c.Kind == CheckHeader {
			t, err := tmpl.Compile(c.Value, names, tmpl.Raw)
			if err != nil {
				return nil, fmt.Errorf("check %q: %w", c.Src, err)
			}
			pc.text = t
		}
		spec.KeepBody = spec.KeepBody || c.Kind == CheckBody || c.Kind == CheckJSON
		spec.KeepHeaders = spec.KeepHeaders || c.Kind == CheckHeader
		ps.checks = append(ps.checks, pc)
	}
	for _, e := range st.Extract {
		spec.KeepBody = spec.KeepBody || e.Kind != FromHeader
		spec.KeepHeaders = spec.KeepHeaders || e.Kind == FromHeader
	}
	r, err := client.Build(spec)
	if err != nil {
		return nil, err
	}
	ps.Request = r
	return ps, nil
}

// Journeys reports whether the plan came from a scenario file: its
// results are counted by step and by iteration. A URL run's are not: its
// one step is the run, and its iterations are its requests.
func (p *Plan) Journeys() bool { return p.file }

// Requests returns every step's request.
func (p *Plan) Requests() []*client.Request {
	out := make([]*client.Request, len(p.Steps))
	for i, s := range p.Steps {
		out[i] = s.Request
	}
	return out
}

// StepNames returns the steps' names, in order.
func (p *Plan) StepNames() []string {
	out := make([]string, len(p.Steps))
	for i, s := range p.Steps {
		out[i] = s.Step.Name
	}
	return out
}

// User is one virtual user's journey state: its variables, its cookies,
// where it is in its flow. It implements the engine's Journey; it is not
// safe for concurrent use.
type User struct {
	p       *Plan
	vals    tmpl.Values
	rng     *rand.Rand
	x       client.Exchange
	jar     jar
	flow    *planFlow
	at      int // next step of the flow
	cur     *PlanStep
	failed  bool
	scratch []byte
}

// NewUser returns the state of user number user; runID is the first part
// of its {{id}} values.
func (p *Plan) NewUser(user int, runID string) *User {
	u := &User{p: p, rng: rand.New(rand.NewPCG(uint64(user)+1, uint64(time.Now().UnixNano())))}
	u.vals = tmpl.Values{Run: runID, User: user, Slots: make([][]byte, p.slots)}
	for _, f := range p.fixed {
		u.vals.Slots[f.slot] = f.value
	}
	u.x.Vals = &u.vals
	return u
}

// Begin implements the engine's Journey: it picks a flow by weight and
// takes a row from each feeder the flow uses.
func (u *User) Begin() error {
	p := u.p
	u.flow = &p.flows[0]
	if len(p.flows) > 1 {
		n := u.rng.IntN(p.total)
		for i := range p.flows {
			if n -= p.flows[i].weight; n < 0 {
				u.flow = &p.flows[i]
				break
			}
		}
	}
	for _, fi := range u.flow.feeds {
		fd := p.feeds[fi]
		row, err := fd.take(u.rng)
		if err != nil {
			return err
		}
		for c, k := range fd.slots {
			u.vals.Slots[k] = row[c]
		}
	}
	for _, k := range u.flow.clear {
		u.vals.Slots[k] = u.vals.Slots[k][:0]
	}
	u.at, u.failed = 0, false
	return nil
}

// Next implements the engine's Journey.
func (u *User) Next() (*client.Exchange, int) {
	if u.at >= len(u.flow.steps) {
		return nil, 0
	}
	i := u.flow.steps[u.at]
	u.at++
	u.cur = u.p.Steps[i]
	u.vals.N++
	u.x.Req = u.cur.Request
	u.x.Cookie = u.jar.header(u.x.Cookie[:0])
	return &u.x, i
}

// Done implements the engine's Journey: it applies the step's checks,
// extracts its variables and keeps its cookies.
func (u *User) Done(res client.Result) (client.Result, time.Duration) {
	st := u.cur
	if u.p.jar && res.Header != nil {
		u.jar.update(res.Header)
	}
	if res.Code > 0 && (res.Class == client.OK || (res.Class == client.HTTP4xx || res.Class == client.HTTP5xx) && st.checksStatus()) {
		res.Class = client.OK
		if !u.check(st, res) || !u.extract(st, res) {
			res.Class = client.CheckFailed
		}
	}
	if res.Class.IsError() && res.Class != client.Canceled {
		u.failed = true
		if st.Step.OnError == Stop {
			u.at = len(u.flow.steps)
		}
	}
	return res, thinkOf(u.rng, st.Step.Think, st.Step.ThinkMax)
}

// Failed implements the engine's Journey.
func (u *User) Failed() bool { return u.failed }

func thinkOf(rng *rand.Rand, lo, hi time.Duration) time.Duration {
	if hi > lo {
		return lo + time.Duration(rng.Int64N(int64(hi-lo)+1))
	}
	return lo
}

// checksStatus reports whether the step says which statuses it expects:
// then a 4xx or 5xx that its checks accept is a success.
func (s *PlanStep) checksStatus() bool {
	for _, c := range s.checks {
		if c.c.Kind == CheckStatus {
			return true
		}
	}
	return false
}

func (u *User) check(st *PlanStep, res client.Result) bool {
	for _, pc := range st.checks {
		if !u.holds(pc, res) {
			return false
		}
	}
	return true
}

func (u *User) holds(pc planCheck, res client.Result) bool {
	c := pc.c
	switch c.Kind {
	case CheckStatus:
		return compare(res.Code, c.Op, c.Code)
	case CheckBody:
		u.scratch = pc.text.Render(u.scratch[:0], &u.vals)
		return bytes.Contains(res.Body, u.scratch) == (c.Op == "~")
	case CheckJSON:
		v := gjson.Get(view(res.Body), c.Path)
		if c.Op == "" {
			return v.Exists() && v.Type != gjson.Null && !(v.Type == gjson.False)
		}
		return compareJSON(v, c.Op, c.Value)
	case CheckHeader:
		val, ok := headerValue(res.Header, c.Path)
		if c.Op == "" {
			return ok
		}
		u.scratch = pc.text.Render(u.scratch[:0], &u.vals)
		switch c.Op {
		case "==":
			return ok && bytes.Equal(val, u.scratch)
		case "!=":
			return !ok || !bytes.Equal(val, u.scratch)
		case "~":
			return ok && bytes.Contains(val, u.scratch)
		case "!~":
			return !ok || !bytes.Contains(val, u.scratch)
		}
	}
	return false
}

// compare applies a comparison operator; an unknown one is false.
func compare[T cmp.Ordered](a T, op string, b T) bool {
	switch op {
	case "==":
		return a == b
	case "!=":
		return a != b
	case "<":
		return a < b
	case "<=":
		return a <= b
	case ">":
		return a > b
	case ">=":
		return a >= b
	}
	return false
}

// compareJSON compares a JSON value with an operand: as numbers when both
// are numbers, else as text.
func compareJSON(v gjson.Result, op, operand string) bool {
	if !v.Exists() {
		return op == "!="
	}
	if f, err := strconv.ParseFloat(operand, 64); err == nil && v.Type == gjson.Number {
		return compare(v.Float(), op, f)
	}
	a := v.String()
	b := strings.Trim(operand, `"'`)
	switch op {
	case "~":
		return strings.Contains(a, b)
	case "!~":
		return !strings.Contains(a, b)
	}
	return compare(a, op, b)
}

// extract sets the step's variables from the response; a value that is
// not there fails the step.
func (u *User) extract(st *PlanStep, res client.Result) bool {
	for _, pe := range st.extract {
		dst := u.vals.Slots[pe.slot][:0]
		switch pe.e.Kind {
		case FromJSON:
			v := gjson.Get(view(res.Body), pe.e.Expr)
			if !v.Exists() {
				return false
			}
			if v.Type == gjson.String {
				dst = append(dst, v.Str...)
			} else {
				dst = append(dst, v.Raw...)
			}
		case FromHeader:
			val, ok := headerValue(res.Header, pe.e.Expr)
			if !ok {
				return false
			}
			dst = append(dst, val...)
		case FromRegex:
			m := pe.e.Regex.FindSubmatch(res.Body)
			if m == nil {
				return false
			}
			dst = append(dst, m[len(m)-1]...)
		}
		u.vals.Slots[pe.slot] = dst
	}
	return true
}

// view reads b as a string without copying it: gjson's results then point
// into the response, and are copied out before the sender reuses it.
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// headerValue finds a header in "Name: value\r\n" lines.
func headerValue(lines []byte, name string) ([]byte, bool) {
	for len(lines) > 0 {
		var n, v []byte
		if n, v, lines = nextHeader(lines); n != nil && strings.EqualFold(string(n), name) {
			return v, true
		}
	}
	return nil, false
}

// nextHeader splits the first of "Name: value\r\n" lines into its name
// and value (nil for a line without a colon), and returns the rest.
func nextHeader(lines []byte) (name, value, rest []byte) {
	line, rest, _ := bytes.Cut(lines, []byte("\r\n"))
	n, v, ok := bytes.Cut(line, []byte(":"))
	if !ok {
		return nil, nil, rest
	}
	return bytes.TrimSpace(n), bytes.TrimSpace(v), rest
}

// URL returns the scenario of a URL given on the command line: one flow
// of one step, without a cookie jar.
func URL(method, rawURL string, headers []Header, body string, checks []Check) *Scenario {
	if method == "" {
		method = "GET"
	}
	path := rawURL
	if _, rest, ok := strings.Cut(rawURL, "://"); ok {
		path = "/"
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			path = rest[i:]
		}
	}
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	st := &Step{Name: method + " " + path, Method: method, URL: rawURL, Headers: headers, Body: body, Checks: checks}
	return &Scenario{Flows: []*Flow{{Name: "default", Weight: 1, Steps: []*Step{st}}}}
}
