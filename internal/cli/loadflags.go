package cli

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/surgeload/surge/internal/client"
	"github.com/surgeload/surge/internal/expr"
	"github.com/surgeload/surge/internal/load"
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
	noKeepAlive bool
	thresholds  []flagValue
	jsonOut     string
	quiet       bool
	think       string
	maxInflight int
	checks      []string
}

func (f *loadFlags) register(fs *pflag.FlagSet, thresholdHelp string) {
	fs.StringVarP(&f.method, "method", "X", "GET", "HTTP method")
	fs.StringArrayVarP(&f.headers, "header", "H", nil, "request header 'Name: value' (repeatable)")
	fs.StringVar(&f.body, "body", "", "request body; @FILE reads it from a file")
	fs.DurationVar(&f.timeout, "timeout", 10*time.Second, "per-request timeout, from sending to the last byte of the response")
	fs.BoolVarP(&f.insecure, "insecure", "k", false, "skip TLS certificate verification (verified by default)")
	fs.BoolVar(&f.http1, "http1", false, "speak HTTP/1.1 only")
	fs.BoolVar(&f.http2, "http2", false, "speak HTTP/2 only (h2c prior knowledge for http:// URLs)")
	fs.BoolVar(&f.noKeepAlive, "no-keepalive", false, "open a new connection for every request")
	fs.Var(&appendValue{name: "threshold", to: &f.thresholds}, "threshold", thresholdHelp)
	fs.Var(&appendValue{name: "slo", to: &f.thresholds}, "slo", "same as --threshold")
	fs.StringVar(&f.jsonOut, "json", "", "write the result as JSON to FILE ('-' for stdout)")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "no progress and no summary; errors and failed thresholds still go to stderr")
	fs.StringVar(&f.think, "think", "0", "closed model: pause between a response and the user's next request: D, or MIN-MAX for a uniform draw (e.g. 1s-3s)")
	fs.IntVar(&f.maxInflight, "max-inflight", 10000, "open model: cap on requests in flight; arrivals beyond it wait and are counted late")
	fs.StringArrayVar(&f.checks, "check", nil, "response check: status==200, status<400, body~TEXT, body!~TEXT; TEXT may use {{id}} {{user}} {{n}} (repeatable)")
}

// request builds the request template from the flags and the URL.
func (f *loadFlags) request(rawURL string) (*client.Request, error) {
	if !strings.Contains(rawURL, "://") {
		if st, err := os.Stat(rawURL); err == nil && st.Mode().IsRegular() {
			return nil, usagef("%s is a file, and scenario files are not supported yet: give the target as a URL, e.g. http://127.0.0.1:8080/path", rawURL)
		}
	}
	if !client.ValidMethod(f.method) {
		return nil, usagef("-X/--method %q: a method is a token such as GET or POST (no spaces, separators or control characters)", f.method)
	}
	h := http.Header{}
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
		h.Add(name, value)
	}
	var body []byte
	if strings.HasPrefix(f.body, "@") {
		b, err := os.ReadFile(f.body[1:])
		if err != nil {
			return nil, usagef("--body: %v", err)
		}
		body = b
	} else if f.body != "" {
		body = []byte(f.body)
	}
	var checks []*client.Check
	for _, src := range f.checks {
		c, err := client.ParseCheck(src)
		if err != nil {
			return nil, dashed(err)
		}
		checks = append(checks, c)
	}
	r, err := client.NewRequest(f.method, rawURL, h, body, checks...)
	if err != nil {
		return nil, asUsage(err)
	}
	return r, nil
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
	cfg := client.Config{Timeout: f.timeout, Insecure: f.insecure, Conns: conns, NoKeepAlive: f.noKeepAlive}
	switch {
	case f.http1:
		cfg.Protocol = client.HTTP1
	case f.http2:
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

// modelFlags choose the load model: -u or -r.
type modelFlags struct {
	users    int
	rate     float64
	duration time.Duration
	ramp     time.Duration
	requests uint64
	grace    time.Duration
}

// plan builds the load plan from the flags. users and rate are the chosen
// values (flag or default).
func (m *modelFlags) plan(fs *pflag.FlagSet, lf *loadFlags) (load.Plan, error) {
	var p load.Plan
	usersSet, rateSet := fs.Changed("users"), fs.Changed("rate")
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
		lo, hi, err := lf.thinkRange()
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
