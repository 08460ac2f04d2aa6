// Package expr parses and evaluates surge's threshold and SLO expressions:
// one metric, one comparison, one bound, as in
//
//	p95<100ms   p99.9<=1s   mean<50ms   max<3s   errors<1%   rps>800
//
// Parse errors carry the 1-based column where the expression goes wrong, so
// the CLI can reject a bad expression before any request is sent.
package expr

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Kind is what an expression measures.
type Kind int

// The metrics an expression can name.
const (
	Quantile  Kind = iota // a latency percentile: p50, p95, p99.9, p999
	Mean                  // mean latency
	Min                   // smallest latency
	Max                   // largest latency
	ErrorRate             // failed requests / all requests
	RPS                   // completed requests per second
)

// Op is a comparison operator.
type Op int

// The comparison operators.
const (
	Less Op = iota
	LessEq
	Greater
	GreaterEq
)

var opText = [...]string{Less: "<", LessEq: "<=", Greater: ">", GreaterEq: ">="}

// String returns the operator as written.
func (o Op) String() string { return opText[o] }

// Expr is one parsed expression. Bound is in the metric's natural unit:
// milliseconds for latency, a fraction (0..1) for the error rate, requests
// per second for rps.
type Expr struct {
	Source   string  // the text as given
	Kind     Kind    // what is measured
	Quantile float64 // for Kind == Quantile: 0 < q < 1 (p95 → 0.95)
	Op       Op
	Bound    float64
}

// Stats are the measured values an expression is evaluated against.
type Stats struct {
	// Quantile returns the latency quantile q (0..1).
	Quantile  func(q float64) time.Duration
	Mean      time.Duration
	Min       time.Duration
	Max       time.Duration
	ErrorRate float64 // 0..1
	RPS       float64
}

// SyntaxError is a malformed expression. Col is the 1-based column of the
// first character that is wrong.
type SyntaxError struct {
	Source string
	Col    int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%q: column %d: %s", e.Source, e.Col, e.Msg)
}

// Parse parses one expression.
func Parse(src string) (*Expr, error) {
	p := parser{src: src}
	e, err := p.parse()
	if err != nil {
		return nil, err
	}
	return e, nil
}

// Eval evaluates e against s. It returns the measured value in the metric's
// display unit (see Unit) and whether the expression holds.
func (e *Expr) Eval(s Stats) (value float64, ok bool) {
	var v float64
	switch e.Kind {
	case Quantile:
		v = ms(s.Quantile(e.Quantile))
	case Mean:
		v = ms(s.Mean)
	case Min:
		v = ms(s.Min)
	case Max:
		v = ms(s.Max)
	case ErrorRate:
		v = s.ErrorRate
	case RPS:
		v = s.RPS
	}
	ok = compare(v, e.Op, e.Bound)
	if e.Kind == ErrorRate {
		v *= 100 // shown as a percentage
	}
	return v, ok
}

// Unit names the unit of the value Eval returns: "ms", "%" or "req/s".
func (e *Expr) Unit() string {
	switch e.Kind {
	case ErrorRate:
		return "%"
	case RPS:
		return "req/s"
	default:
		return "ms"
	}
}

// IsLatency reports whether e bounds a latency (percentile, mean, min, max).
func (e *Expr) IsLatency() bool { return e.Kind <= Max }

// String returns the expression as given.
func (e *Expr) String() string { return e.Source }

func compare(v float64, op Op, bound float64) bool {
	if math.IsNaN(v) {
		return false
	}
	switch op {
	case Less:
		return v < bound
	case LessEq:
		return v <= bound
	case Greater:
		return v > bound
	default:
		return v >= bound
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// parser is a hand-written scanner over the three parts of an expression.
type parser struct {
	src string
	pos int // byte offset
}

func (p *parser) fail(pos int, format string, args ...any) error {
	return &SyntaxError{Source: p.src, Col: col(p.src, pos), Msg: fmt.Sprintf(format, args...)}
}

// col converts a byte offset to a 1-based column counted in runes.
func col(s string, pos int) int {
	if pos > len(s) {
		pos = len(s)
	}
	return len([]rune(s[:pos])) + 1
}

func (p *parser) skipSpace() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
}

func (p *parser) parse() (*Expr, error) {
	e := &Expr{Source: p.src}
	p.skipSpace()
	if p.pos == len(p.src) {
		return nil, p.fail(p.pos, "empty expression (want e.g. p95<100ms, errors<1%%, rps>800)")
	}
	if err := p.metric(e); err != nil {
		return nil, err
	}
	p.skipSpace()
	if err := p.op(e); err != nil {
		return nil, err
	}
	p.skipSpace()
	if err := p.bound(e); err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(p.src) {
		return nil, p.fail(p.pos, "unexpected %q after the bound", p.src[p.pos:])
	}
	return e, nil
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

func (p *parser) metric(e *Expr) error {
	start := p.pos
	for p.pos < len(p.src) && (isLetter(p.src[p.pos]) || isDigit(p.src[p.pos]) || p.src[p.pos] == '.' || p.src[p.pos] == '_') {
		p.pos++
	}
	word := strings.ToLower(p.src[start:p.pos])
	switch word {
	case "":
		return p.fail(start, "expected a metric (p50, p95, p99, p999, mean, min, max, errors, rps)")
	case "mean", "avg":
		e.Kind = Mean
	case "min":
		e.Kind = Min
	case "max":
		e.Kind = Max
	case "errors", "error_rate":
		e.Kind = ErrorRate
	case "rps":
		e.Kind = RPS
	case "median":
		e.Kind, e.Quantile = Quantile, 0.5
	default:
		q, ok := percentile(word)
		if !ok {
			return p.fail(start, "unknown metric %q (want p50, p95, p99, p999, mean, min, max, errors or rps)", p.src[start:p.pos])
		}
		switch {
		case q == 0:
			e.Kind = Min
		case q == 1:
			e.Kind = Max
		default:
			e.Kind, e.Quantile = Quantile, q
		}
	}
	return nil
}

// percentile reads pNN, pNN.N or the compact form p999 (= 99.9th) and
// returns the quantile in [0, 1]. The decimal point is moved in the text,
// so p99.9 is exactly 0.999 and not 99.9/100.
func percentile(w string) (float64, bool) {
	if len(w) < 2 || w[0] != 'p' {
		return 0, false
	}
	whole, frac, _ := strings.Cut(w[1:], ".")
	if whole == "" || strings.ContainsFunc(whole+frac, func(r rune) bool { return r < '0' || r > '9' }) {
		return 0, false
	}
	if frac == "" && len(whole) >= 3 && strings.HasPrefix(whole, "99") {
		// p999 → 0.999, p9999 → 0.9999
		v, err := strconv.ParseFloat("0."+whole, 64)
		return v, err == nil
	}
	whole = strings.TrimLeft(whole, "0")
	if len(whole) > 3 || len(whole) == 3 && (whole != "100" || strings.Trim(frac, "0") != "") {
		return 0, false
	}
	if len(whole) == 3 {
		return 1, true
	}
	v, err := strconv.ParseFloat("0."+strings.Repeat("0", 2-len(whole))+whole+frac, 64)
	return v, err == nil
}

func (p *parser) op(e *Expr) error {
	rest := p.src[p.pos:]
	switch {
	case strings.HasPrefix(rest, "<="):
		e.Op, p.pos = LessEq, p.pos+2
	case strings.HasPrefix(rest, ">="):
		e.Op, p.pos = GreaterEq, p.pos+2
	case strings.HasPrefix(rest, "<"):
		e.Op, p.pos = Less, p.pos+1
	case strings.HasPrefix(rest, ">"):
		e.Op, p.pos = Greater, p.pos+1
	case rest == "":
		return p.fail(p.pos, "missing comparison: add <, <=, > or >= and a bound")
	default:
		return p.fail(p.pos, "expected <, <=, > or >=, found %q", firstRune(rest))
	}
	return nil
}

func (p *parser) bound(e *Expr) error {
	start := p.pos
	for p.pos < len(p.src) && (isDigit(p.src[p.pos]) || p.src[p.pos] == '.') {
		p.pos++
	}
	num := p.src[start:p.pos]
	if num == "" {
		if p.pos == len(p.src) {
			return p.fail(p.pos, "missing bound after %s", e.Op)
		}
		return p.fail(p.pos, "expected a number, found %q", firstRune(p.src[p.pos:]))
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return p.fail(start, "bad number %q", num)
	}
	p.skipSpace() // "100 ms" reads as "100ms"
	unitPos := p.pos
	for p.pos < len(p.src) && p.src[p.pos] != ' ' && p.src[p.pos] != '\t' {
		p.pos++
	}
	unit := p.src[unitPos:p.pos]

	switch {
	case e.IsLatency():
		if unit == "" {
			return p.fail(unitPos, "missing unit: a latency needs one (e.g. %sms or %ss)", num, num)
		}
		d, err := time.ParseDuration(num + unit)
		if err != nil {
			return p.fail(unitPos, "unknown unit %q (want us, ms, s or m)", unit)
		}
		e.Bound = ms(d)
	case e.Kind == ErrorRate:
		switch unit {
		case "%":
			v /= 100
		case "":
			if v > 1 {
				return p.fail(start, "error rate %s is above 1: write a percentage as %s%%", num, num)
			}
		default:
			return p.fail(unitPos, "unknown unit %q for errors (want %% or a fraction such as 0.01)", unit)
		}
		if v > 1 {
			return p.fail(start, "error rate %s%% is above 100%%", num)
		}
		e.Bound = v
	case e.Kind == RPS:
		if unit != "" && unit != "/s" {
			return p.fail(unitPos, "unknown unit %q for rps (want a plain number of requests per second)", unit)
		}
		e.Bound = v
	}
	return nil
}

func firstRune(s string) string {
	for _, r := range s {
		return string(r)
	}
	return ""
}
