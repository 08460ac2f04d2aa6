package scenario

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/surgeload/surge/internal/expr"
)

// SyntaxError is a malformed check or expression: what is wrong, and the
// byte offset in the text where it goes wrong.
type SyntaxError struct {
	Src    string
	Offset int
	Msg    string
}

// Error returns the check and what is wrong with it.
func (e *SyntaxError) Error() string { return fmt.Sprintf("check %q: %s", e.Src, e.Msg) }

const checkForms = "status==CODE, body~TEXT, body!~TEXT, json:PATH, json:PATH==VALUE, header:NAME or header:NAME==VALUE"

// ParseCheck parses one response check, in one of the forms documented on
// Check. Spaces around the whole check are ignored; TEXT and VALUE are
// taken as written. The error, a *SyntaxError, says what is wrong and
// where.
func ParseCheck(src string) (Check, error) {
	c := Check{Src: src}
	start := len(src) - len(strings.TrimLeft(src, " \t"))
	s := strings.TrimSpace(src)
	fail := func(off int, format string, args ...any) (Check, error) {
		return Check{}, &SyntaxError{Src: src, Offset: start + off, Msg: fmt.Sprintf(format, args...)}
	}
	switch {
	case s == "":
		return fail(0, "empty check (want %s)", checkForms)
	case strings.HasPrefix(s, "status"):
		c.Kind = CheckStatus
		i := len("status")
		for i < len(s) && s[i] == ' ' {
			i++
		}
		op := leadingOp(s[i:], "==", "!=", "<=", ">=", "<", ">")
		if op == "" {
			return fail(i, "status check: want status==CODE (or !=, <, <=, >, >=), e.g. status==200")
		}
		c.Op = op
		j := i + len(op)
		for j < len(s) && s[j] == ' ' {
			j++
		}
		code, err := strconv.Atoi(s[j:])
		if err != nil {
			if s[j:] == "" {
				return fail(j, "status check: missing the status code after %s", op)
			}
			return fail(j, "status check: %q is not a status code", s[j:])
		}
		if code < 100 || code > 599 {
			return fail(j, "status check: %d is not a status code (100-599)", code)
		}
		c.Code, c.Value = code, s[j:]
	case strings.HasPrefix(s, "body"):
		c.Kind = CheckBody
		rest := s[len("body"):]
		op := leadingOp(rest, "!~", "~")
		if op == "" {
			return fail(len("body"), "body check: want body~TEXT (the body contains TEXT) or body!~TEXT (it does not)")
		}
		c.Op, c.Value = op, rest[len(op):]
		if c.Value == "" {
			return fail(len(s), "body check: missing the TEXT after %s", op)
		}
	case strings.HasPrefix(s, "json:"):
		c.Kind = CheckJSON
		rest := s[len("json:"):]
		i := opIndex(rest, true)
		c.Path = strings.TrimSpace(rest[:i])
		if c.Path == "" {
			return fail(len("json:"), "json check: missing the PATH after json:")
		}
		if i == len(rest) {
			return c, nil
		}
		op := leadingOp(rest[i:], "==", "!=", "<=", ">=", "<", ">")
		if op == "" {
			return fail(len("json:")+i, "json check: want ==, !=, <, <=, > or >= after the path, found %q", rest[i:i+1])
		}
		c.Op = op
		vOff := len("json:") + i + len(op)
		c.Value = strings.TrimSpace(s[vOff:])
		if c.Value == "" {
			return fail(len(s), "json check: missing the value after %s", op)
		}
		if op != "==" && op != "!=" {
			if _, err := strconv.ParseFloat(c.Value, 64); err != nil {
				return fail(vOff+strings.Index(s[vOff:], c.Value), "json check: %s compares numbers, and %q is not a number", op, c.Value)
			}
		}
	case strings.HasPrefix(s, "header:"):
		c.Kind = CheckHeader
		rest := s[len("header:"):]
		i := opIndex(rest, false)
		c.Path = strings.TrimSpace(rest[:i])
		if c.Path == "" {
			return fail(len("header:"), "header check: missing the header NAME after header:")
		}
		if !validHeaderName(c.Path) {
			return fail(len("header:"), "header check: %q is not a header name", c.Path)
		}
		if i == len(rest) {
			return c, nil
		}
		op := leadingOp(rest[i:], "==", "!=", "!~", "~")
		if op == "" {
			return fail(len("header:")+i, "header check: want ==, !=, ~ or !~ after the name, found %q", rest[i:i+1])
		}
		c.Op = op
		c.Value = strings.TrimSpace(rest[i+len(op):])
		if c.Value == "" && op != "==" && op != "!=" {
			return fail(len(s), "header check: missing the TEXT after %s", op)
		}
	default:
		return fail(0, "unknown check %q (want %s)", s, checkForms)
	}
	return c, nil
}

func leadingOp(s string, ops ...string) string {
	for _, op := range ops {
		if strings.HasPrefix(s, op) {
			return op
		}
	}
	return ""
}

// opIndex returns where the operator after a path or header name starts
// (len(s) when there is none). In a JSON path, operators inside (…) or
// […] belong to a gjson query and do not count.
func opIndex(s string, nested bool) int {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '(', '[':
			if nested {
				depth++
			}
		case ')', ']':
			if nested && depth > 0 {
				depth--
			}
		case '=', '<', '>', '~':
			if depth == 0 {
				return i
			}
		case '!':
			if depth == 0 && i+1 < len(s) && (s[i+1] == '=' || s[i+1] == '~') {
				return i
			}
		}
	}
	return len(s)
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return false
		}
	}
	return true
}

// SplitStepExpr splits a per-step threshold, step.NAME.EXPR, into the
// step's name and the plain expression. Step names may contain dots
// ("GET /a.json"), so the split is the first dot after which a plain
// expression parses; failing that, the first dot followed by a known
// metric, and failing that the last dot, so the expression's own error
// can be reported. ok is false when src does not start with "step.";
// step is "" when there is no dot after the name.
func SplitStepExpr(src string) (step, rest string, ok bool) {
	s := strings.TrimLeft(src, " \t")
	if !strings.HasPrefix(s, "step.") {
		return "", "", false
	}
	s = s[len("step."):]
	var dots []int
	for i := 1; i < len(s); i++ {
		if s[i] == '.' {
			dots = append(dots, i)
		}
	}
	if len(dots) == 0 {
		return "", s, true
	}
	for _, i := range dots {
		if _, err := expr.Parse(s[i+1:]); err == nil {
			return s[:i], s[i+1:], true
		}
	}
	for _, i := range dots {
		if knownMetric(s[i+1:]) {
			return s[:i], s[i+1:], true
		}
	}
	i := dots[len(dots)-1]
	return s[:i], s[i+1:], true
}

// knownMetric reports whether s starts with a metric expr knows,
// followed by something that is not part of a name.
func knownMetric(s string) bool {
	j := 0
	for j < len(s) && (s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9' || s[j] == '.' || s[j] == '_') {
		j++
	}
	if j == 0 || j < len(s) && s[j] == '/' {
		return false
	}
	_, err := expr.Parse(s[:j] + "<1")
	if err == nil {
		return true
	}
	_, err = expr.Parse(s[:j] + "<1ms")
	return err == nil
}
