package cli

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/surgeload/surge/internal/client"
	"github.com/surgeload/surge/internal/expr"
	"github.com/surgeload/surge/internal/load"
	"github.com/surgeload/surge/internal/runner"
	"github.com/surgeload/surge/internal/scenario"
	"github.com/surgeload/surge/internal/tmpl"
)

// loadFlags are the flags shared by `run` and `find`: what to send, and
// how.
type loadFlags struct {
	method      string
	headers     []string
	body        string
	timeout     time.Duration
	insecure    bool
	http1       bool
	http2       bool
	h2Conns     int
	h2Streams   int
	noKeepAlive bool
	thresholds  []flagValue
	jsonOut     string
	htmlOut     string
	quiet       bool
	think       string
	maxInflight int
	checks      []string
	base        string
}

func (f *loadFlags) register(fs *pflag.FlagSet, thresholdHelp string) {
	fs.StringVarP(&f.method, "method", "X", "GET", "HTTP method")
	fs.StringArrayVarP(&f.headers, "header", "H", nil, "request header 'Name: value' (repeatable)")
	fs.StringVar(&f.body, "body", "", "request body; @FILE reads it from a file")
	fs.DurationVar(&f.timeout, "timeout", 10*time.Second, "per-request timeout, from sending to the last byte of the response")
	fs.BoolVarP(&f.insecure, "insecure", "k", false, "skip TLS certificate verification (verified by default)")
	fs.BoolVar(&f.http1, "http1", false, "speak HTTP/1.1 only")
	fs.BoolVar(&f.http2, "http2", false, "speak HTTP/2 only (h2c prior knowledge for http:// URLs)")
	fs.IntVar(&f.h2Conns, "connections", 0, "HTTP/2: open exactly `N` connections per host, shared by the users (implies --http2; default: concurrency/streams)")
	fs.IntVar(&f.h2Streams, "streams", 0, "HTTP/2: at most `M` requests at once on each connection (implies --http2; default 100, or concurrency/connections)")
	fs.BoolVar(&f.noKeepAlive, "no-keepalive", false, "open a new connection for every request (HTTP/1.1 only)")
	fs.Var(&appendValue{name: "threshold", to: &f.thresholds}, "threshold", thresholdHelp)
	fs.Var(&appendValue{name: "slo", to: &f.thresholds}, "slo", "same as --threshold")
	fs.StringVar(&f.jsonOut, "json", "", "write the result as JSON to FILE ('-' for stdout)")
	fs.StringVar(&f.htmlOut, "html", "", "write the result as a self-contained HTML report (charts, verdict) to FILE")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "no progress and no summary; errors and failed thresholds still go to stderr")
	fs.StringVar(&f.think, "think", "0", "closed model: pause between a response and the user's next request: D, or MIN-MAX for a uniform draw (e.g. 1s-3s)")
	fs.IntVar(&f.maxInflight, "max-inflight", 10000, "open model: cap on requests in flight; arrivals beyond it wait and are counted late")
	fs.StringVar(&f.base, "base", "", "scenario file: send its relative step URLs to this base URL instead of the file's base:, e.g. http://127.0.0.1:9090")
	fs.StringArrayVar(&f.checks, "check", nil, "response check: status==200, status<400, body~TEXT, body!~TEXT; TEXT may use {{id}} {{user}} {{n}} (repeatable)")
}

// workload is what a run sends: the journeys every user runs, and how the
// result names them.
type workload struct {
	plan   *scenario.Plan
	file   *scenario.Scenario // the scenario file's model; nil for a URL
	target string             // the URL, or the scenario file
	method string             // the URL run's method
	checks bool               // some step checks its responses
}

// workload builds what to send from the flags and the argument: a URL is
// a one-step scenario; anything else is a scenario file, whose problems
// are printed to stderr.
func (f *loadFlags) workload(arg string, stderr io.Writer) (*workload, error) {
	var checks []scenario.Check
	for _, src := range f.checks {
		c, err := scenario.ParseCheck(src)
		if err != nil {
			return nil, dashed(err)
		}
		checks = append(checks, c)
	}
	if !strings.Contains(arg, "://") {
		return f.fileWorkload(arg, checks, stderr)
	}
	if f.base != "" {
		return nil, usagef("--base applies to a scenario file; with a URL, write the URL you mean")
	}
	if !client.ValidMethod(f.method) {
		return nil, usagef("-X/--method %q: a method is a token such as GET or POST (no spaces, separators or control characters)", f.method)
	}
	var headers []scenario.Header
	for _, line := range f.headers {
		name, value, ok := strings.Cut(line, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, usagef("--header %q: want 'Name: value'", line)
		}
		value = strings.TrimSpace(value)
		if err := client.CheckHeader(name, value); err != nil {
			return nil, usagef("--header: %v", err) // the value is not shown: it may be a secret
		}
		headers = append(headers, scenario.Header{Name: name, Value: value})
	}
	var body string
	const maxBody = 1 << 30
	if strings.HasPrefix(f.body, "@") {
		if fi, err := os.Stat(f.body[1:]); err == nil && fi.Size() > maxBody {
			return nil, usagef("--body: %s is %d bytes; surge sends bodies of 1 GiB at most", f.body[1:], fi.Size())
		}
		b, err := os.ReadFile(f.body[1:])
		if err != nil {
			return nil, usagef("--body: %v", err)
		}
		body = string(b)
	} else {
		body = f.body
	}
	for _, c := range checks {
		// A URL run has the built-in variables only.
		if _, err := tmpl.Compile(c.Value, nil, tmpl.Raw); err != nil && (c.Kind == scenario.CheckBody || c.Kind == scenario.CheckHeader) {
			return nil, usagef("--check %q: %v", c.Src, err)
		}
	}
	plan, err := scenario.Compile(scenario.URL(f.method, arg, headers, body, checks), scenario.Options{})
	if err != nil {
		return nil, asUsage(unwrapStep(err))
	}
	return &workload{plan: plan, target: client.RedactURL(arg), method: plan.Steps[0].Request.Method, checks: len(checks) > 0}, nil
}

// fileWorkload loads a scenario file; --check flags apply to every step.
func (f *loadFlags) fileWorkload(path string, checks []scenario.Check, stderr io.Writer) (*workload, error) {
	switch {
	case f.method != "GET" && f.method != "":
		return nil, usagef("-X/--method applies to a URL; a scenario file gives each step's method")
	case len(f.headers) > 0:
		return nil, usagef("-H/--header applies to a URL; a scenario file gives headers in defaults: or in each step")
	case f.body != "":
		return nil, usagef("--body applies to a URL; a scenario file gives each step's body")
	}
	if _, err := os.Stat(path); err != nil && !strings.HasSuffix(path, ".yaml") && !strings.HasSuffix(path, ".yml") {
		return nil, usagef("%q is neither a URL nor a scenario file: a URL has no scheme there, so write http://%s", path, path)
	}
	if f.base != "" {
		u, err := url.Parse(f.base)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return nil, usagef("--base %q: want a base URL such as http://127.0.0.1:8080 (scheme, host, optional path)", f.base)
		}
	}
	sc, err := scenario.LoadFile(path)
	if err != nil {
		return nil, scenarioError(stderr, path, err)
	}
	if f.base != "" {
		sc.Base = f.base
	}
	opts := scenario.Options{}
	for i := range checks {
		opts.Checks = append(opts.Checks, &checks[i])
	}
	plan, err := scenario.Compile(sc, opts)
	if err != nil {
		return nil, asUsage(fmt.Errorf("%s: %w", path, err))
	}
	w := &workload{plan: plan, file: sc, target: path, checks: len(checks) > 0}
	for _, st := range plan.Steps {
		w.checks = w.checks || len(st.Step.Checks) > 0
	}
	return w, nil
}

// thresholds parses the thresholds of the file and of the flags: plain
// ones, and step.NAME.EXPR ones on one step of the journeys.
func (w *workload) thresholds(flags []flagValue) ([]*expr.Expr, []runner.StepThreshold, error) {
	var srcs []flagValue
	if w.file != nil {
		for _, t := range w.file.Thresholds {
			srcs = append(srcs, flagValue{"", t.Src}) // checked when the file was loaded
		}
	}
	srcs = append(srcs, flags...)
	var plain []*expr.Expr
	var steps []runner.StepThreshold
	var errs []error
	names := w.plan.StepNames()
	for at, s := range srcs {
		name, rest, isStep := scenario.SplitStepExpr(s.value)
		src := s.value
		if !isStep {
			rest = src
		}
		e, err := expr.Parse(rest)
		if err != nil {
			errs = append(errs, fmt.Errorf("--%s %w", s.flag, err))
			continue
		}
		if !isStep {
			plain = append(plain, e)
			continue
		}
		i := slices.Index(names, name)
		if i < 0 {
			errs = append(errs, fmt.Errorf("--%s %q: no step is named %q (the steps: %s)", s.flag, src, name, strings.Join(names, ", ")))
			continue
		}
		steps = append(steps, runner.StepThreshold{Src: strings.TrimSpace(src), Step: i, Expr: e, At: at})
	}
	if len(errs) > 0 {
		return nil, nil, asUsage(errors.Join(errs...))
	}
	return plain, steps, nil
}

// unwrapStep drops the "step NAME: " context of a one-step scenario's
// error: on the command line the step is the URL.
func unwrapStep(err error) error {
	if u := errors.Unwrap(err); u != nil {
		return u
	}
	return err
}

// clientConfig builds the client configuration; conns is the expected
// concurrency.
func (f *loadFlags) clientConfig(conns int) (client.Config, error) {
	if f.timeout <= 0 {
		return client.Config{}, usagef("--timeout must be positive, got %s", f.timeout)
	}
	if f.http1 && f.http2 {
		return client.Config{}, usagef("--http1 and --http2 exclude each other")
	}
	if f.h2Conns < 0 {
		return client.Config{}, usagef("--connections must be positive, got %d", f.h2Conns)
	}
	if f.h2Streams < 0 {
		return client.Config{}, usagef("--streams must be positive, got %d", f.h2Streams)
	}
	shaped := f.h2Conns > 0 || f.h2Streams > 0
	if shaped && f.http1 {
		return client.Config{}, usagef("--connections and --streams shape HTTP/2: they exclude --http1")
	}
	if f.noKeepAlive && (f.http2 || shaped) {
		return client.Config{}, usagef("--no-keepalive is HTTP/1.1's: HTTP/2 shares its connections (shape them with --connections and --streams)")
	}
	cfg := client.Config{Timeout: f.timeout, Insecure: f.insecure, Conns: conns, NoKeepAlive: f.noKeepAlive,
		H2Conns: f.h2Conns, H2Streams: f.h2Streams}
	switch {
	case f.http1:
		cfg.Protocol = client.HTTP1
	case f.http2, shaped:
		cfg.Protocol = client.HTTP2
	}
	return cfg, nil
}

// parseThresholds parses every --threshold/--slo expression, reporting all
// bad ones at once, each with the flag it came from.
func parseThresholds(srcs []flagValue) ([]*expr.Expr, error) {
	var out []*expr.Expr
	var errs []error
	for _, s := range srcs {
		e, err := expr.Parse(s.value)
		if err != nil {
			errs = append(errs, fmt.Errorf("--%s %w", s.flag, err))
			continue
		}
		out = append(out, e)
	}
	if len(errs) > 0 {
		return nil, asUsage(errors.Join(errs...))
	}
	return out, nil
}

// thinkRange parses --think: "D" or "MIN-MAX".
func (f *loadFlags) thinkRange() (lo, hi time.Duration, err error) {
	s := strings.TrimSpace(f.think)
	a, b, isRange := strings.Cut(s, "-")
	if lo, err = time.ParseDuration(a); err != nil || lo < 0 {
		return 0, 0, usagef("--think %q: want a duration such as 500ms, or a range such as 1s-3s", f.think)
	}
	if !isRange {
		return lo, lo, nil
	}
	if hi, err = time.ParseDuration(b); err != nil || hi < lo {
		return 0, 0, usagef("--think %q: want MIN-MAX with MIN ≤ MAX, such as 1s-3s", f.think)
	}
	return lo, hi, nil
}

// modelFlags choose the load model: -u or -r, or stages.
type modelFlags struct {
	users    int
	rate     float64
	duration time.Duration
	ramp     time.Duration
	requests uint64
	grace    time.Duration
	stages   []string // --stage DURATION:TARGET
}

// fileProfile is the load profile of a scenario file's stages: from its
// users or rate (0 when neither is given), each stage a linear change or a
// hold.
func fileProfile(l *scenario.Load) load.Profile {
	var p load.Profile
	v := l.Rate
	if l.Users > 0 {
		v = float64(l.Users)
	}
	if v > 0 {
		p.Stages = append(p.Stages, load.Stage{To: v})
	}
	for _, st := range l.Stages {
		if st.Hold > 0 {
			p.Stages = append(p.Stages, load.Stage{To: v, Over: st.Hold})
			continue
		}
		v = st.To
		p.Stages = append(p.Stages, load.Stage{To: v, Over: st.Over})
	}
	return p
}

// parseStages reads --stage values: DURATION:USERS, or DURATION:RATE/s
// for the open model; every stage must use the same unit.
func parseStages(srcs []string) (p load.Profile, rate bool, err error) {
	for i, src := range srcs {
		d, target, ok := strings.Cut(src, ":")
		over, derr := time.ParseDuration(strings.TrimSpace(d))
		if !ok || derr != nil || over < 0 {
			return p, false, usagef("--stage %q: want DURATION:TARGET, such as 30s:100 (users) or 1m:500/s (arrivals per second)", src)
		}
		target = strings.TrimSpace(target)
		isRate := strings.HasSuffix(target, "/s")
		if i > 0 && isRate != rate {
			return p, false, usagef("--stage %q: every stage must give users, or every stage a rate (N/s)", src)
		}
		rate = isRate
		v, perr := strconv.ParseFloat(strings.TrimSuffix(target, "/s"), 64)
		if perr != nil || v < 0 || math.IsNaN(v) || math.IsInf(v, 0) || !isRate && v != math.Trunc(v) {
			return p, false, usagef("--stage %q: the target must be a whole number of users ≥ 0, or a rate such as 500/s", src)
		}
		p.Stages = append(p.Stages, load.Stage{To: v, Over: over})
	}
	if p.Max() < 1 {
		return p, false, usagef("--stage: the stages never go above 0")
	}
	return p, rate, nil
}

// plan builds the load plan from the flags. users and rate are the chosen
// values (flag or default).
func (m *modelFlags) plan(fs *pflag.FlagSet, lf *loadFlags, file *scenario.Load) (load.Plan, error) {
	var p load.Plan
	usersSet, rateSet := fs.Changed("users"), fs.Changed("rate")
	var prof *load.Profile
	var profRate bool
	think := func() (time.Duration, time.Duration, error) { return lf.thinkRange() }
	switch {
	case len(m.stages) > 0:
		if usersSet || rateSet || fs.Changed("ramp") {
			return p, usagef("--stage gives the load over time: it excludes -u/--users, -r/--rate and --ramp")
		}
		pr, rate, err := parseStages(m.stages)
		if err != nil {
			return p, err
		}
		prof, profRate = &pr, rate
	case file != nil && !usersSet && !rateSet:
		// The scenario file's load, where no flag overrides it.
		switch {
		case len(file.Stages) > 0:
			pr := fileProfile(file)
			prof, profRate = &pr, file.Rate > 0
		case file.Rate > 0:
			m.rate, rateSet = file.Rate, true
		case file.Users > 0:
			m.users, usersSet = file.Users, true
		}
	}
	// -u, -r and --stage replace the file's model only: its ramp, duration
	// and think time hold unless their own flags are given.
	if file != nil {
		if !fs.Changed("ramp") && file.Ramp > 0 {
			m.ramp = file.Ramp
		}
		if !fs.Changed("duration") && file.Duration > 0 && len(m.stages) == 0 {
			m.duration = file.Duration
		}
		if !fs.Changed("think") && file.ThinkMax+file.Think > 0 {
			think = func() (time.Duration, time.Duration, error) { return file.Think, max(file.ThinkMax, file.Think), nil }
		}
	}
	if prof != nil {
		if profRate {
			p.Arrivals, p.MaxInflight = *prof, lf.maxInflight
		} else {
			p.Users = *prof
			lo, hi, err := think()
			if err != nil {
				return p, err
			}
			p.Think, p.ThinkMax = lo, hi
		}
		if !fs.Changed("duration") && (len(m.stages) > 0 || file == nil || file.Duration == 0) {
			m.duration = prof.Duration()
		}
		if m.duration <= 0 {
			return p, usagef("--stage: the stages last 0s; give them a duration, or -d")
		}
		p.Duration, p.Requests, p.Grace = m.duration, m.requests, m.grace
		return p, nil
	}
	switch {
	case usersSet && rateSet:
		return p, usagef("-u/--users (closed model) and -r/--rate (open model) exclude each other: pick one")
	case rateSet:
		if m.rate <= 0 || math.IsInf(m.rate, 0) || math.IsNaN(m.rate) {
			return p, usagef("--rate must be a positive number of requests per second, got %v", m.rate)
		}
		if lf.maxInflight < 1 {
			return p, usagef("--max-inflight must be at least 1, got %d", lf.maxInflight)
		}
		if fs.Changed("think") {
			return p, usagef("--think applies to the closed model (-u); the open model (-r) sends on schedule")
		}
		p.Arrivals = load.ConstantRate{Rate: m.rate, Ramp: m.ramp}
		p.MaxInflight = lf.maxInflight
	default:
		if m.users < 1 || m.users > maxUsers {
			return p, usagef("--users must be from 1 to %d, got %d", maxUsers, m.users)
		}
		p.Users = load.RampUsers{N: m.users, Ramp: m.ramp}
		lo, hi, err := think()
		if err != nil {
			return p, err
		}
		p.Think, p.ThinkMax = lo, hi
	}
	if m.duration <= 0 {
		return p, usagef("--duration must be positive, got %s", m.duration)
	}
	if m.ramp < 0 || m.ramp > m.duration {
		return p, usagef("--ramp must be between 0 and --duration (%s), got %s", m.duration, m.ramp)
	}
	if m.grace < 0 {
		return p, usagef("--grace must not be negative, got %s", m.grace)
	}
	p.Duration = m.duration
	p.Requests = m.requests
	p.Grace = m.grace
	return p, nil
}

// flagValue is one value of a repeatable flag, with the flag's name.
type flagValue struct{ flag, value string }

// appendValue is a repeatable string flag whose values accumulate into a
// list shared with other flags (--threshold and --slo feed one list), each
// remembering which flag gave it, so errors name the flag the user typed.
type appendValue struct {
	name string
	to   *[]flagValue
}

func (a *appendValue) String() string { return "" }
func (a *appendValue) Type() string   { return "EXPR" }
func (a *appendValue) Set(s string) error {
	*a.to = append(*a.to, flagValue{a.name, s})
	return nil
}
