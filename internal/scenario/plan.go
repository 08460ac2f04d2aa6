package scenario

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
	"unsafe"

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
	now   func() time.Time // the users' clock, for their cookies
}

// PlanStep is one step ready to run.
type PlanStep struct {
	Step    *Step
	Request *client.Request
	checks  []planCheck
	extract []planExtract
	site    site // where the request goes, for its cookies
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

// feed is a feeder and the slots its columns fill.
type feed struct {
	f     *Feeder
	slots []int // slot of each column
}

// ErrDataExhausted is wrapped by the error a User's Begin returns when a
// feeder has no row left for it.
var ErrDataExhausted = errors.New("data exhausted")

// take returns the row for one iteration, its values as bytes (views of
// the feeder's strings: read, never written).
func (f *feed) take(rng *rand.Rand, into [][]byte) error {
	row, ok := f.f.Take(rng)
	if !ok {
		return fmt.Errorf("%w: feeder %s handed out all its %d rows (order %s)", ErrDataExhausted, f.f.Name, len(f.f.Rows), orderName(f.f.Order))
	}
	for c, k := range f.slots {
		into[k] = unsafe.Slice(unsafe.StringData(row[c]), len(row[c]))
	}
	return nil
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
	// Now is the users' clock, which expires their cookies; nil means
	// time.Now.
	Now func() time.Time
}

// Compile builds the plan of a validated scenario.
func Compile(s *Scenario, o Options) (*Plan, error) {
	p := &Plan{jar: s.Cookies, file: s.File != "", now: o.Now}
	if p.now == nil {
		p.now = time.Now
	}
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
		if len(f.Rows) == 0 {
			return nil, fmt.Errorf("feeder %s has no rows", f.Name)
		}
		fd := &feed{f: f}
		for _, c := range f.Columns {
			fd.slots = append(fd.slots, slot(f.Name+"."+c))
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
	// Cookies belong to the host the server believes it serves: a Host
	// header's, when the step sets a fixed one, else the URL's.
	host := r.URL.Host
	if h := r.Header.Get("Host"); h != "" && !strings.Contains(h, "{{") {
		host = h
	}
	ps.site = siteOf(r.URL.Scheme, host)
	return ps, nil
}

// Journeys reports whether the plan came from a scenario file: its
// results are counted by step and by iteration. A URL run's are not: its
// one step is the run, and its iterations are its requests.
func (p *Plan) Journeys() bool { return p.file }

// Pauses reports whether some step pauses after it (its think time).
func (p *Plan) Pauses() bool {
	for _, s := range p.Steps {
		if s.Step.Think > 0 || s.Step.ThinkMax > 0 {
			return true
		}
	}
	return false
}

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
