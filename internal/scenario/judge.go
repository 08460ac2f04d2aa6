package scenario

import (
	"bytes"
	"cmp"
	"strconv"
	"strings"
	"unsafe"

	"github.com/tidwall/gjson"

	"github.com/surgeload/surge/internal/client"
)

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
		m := u.extra()
		m.scratch = pc.text.Render(m.scratch[:0], &u.vals)
		return bytes.Contains(res.Body, m.scratch) == (c.Op == "~")
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
		m := u.extra()
		m.scratch = pc.text.Render(m.scratch[:0], &u.vals)
		switch c.Op {
		case "==":
			return ok && bytes.Equal(val, m.scratch)
		case "!=":
			return !ok || !bytes.Equal(val, m.scratch)
		case "~":
			return ok && bytes.Contains(val, m.scratch)
		case "!~":
			return !ok || !bytes.Contains(val, m.scratch)
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
