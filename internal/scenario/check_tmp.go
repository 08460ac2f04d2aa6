package scenario

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseCheck parses one response check (see Check for the forms).
func ParseCheck(src string) (Check, error) {
	c := Check{Src: src}
	ops := []string{"==", "!=", "<=", ">=", "!~", "~", "<", ">"}
	cut := func(s string) (lhs, op, rhs string) {
		best := -1
		for _, o := range ops {
			if i := strings.Index(s, o); i >= 0 && (best < 0 || i < best || i == best && len(o) > len(op)) {
				best, op = i, o
			}
		}
		if best < 0 {
			return s, "", ""
		}
		return s[:best], op, s[best+len(op):]
	}
	switch {
	case strings.HasPrefix(src, "status"):
		c.Kind = CheckStatus
		_, op, rhs := cut(src[len("status"):])
		if op == "" || op == "~" || op == "!~" {
			return c, fmt.Errorf("check %q: want status==CODE, status!=CODE or status<CODE", src)
		}
		code, err := strconv.Atoi(strings.TrimSpace(rhs))
		if err != nil || code < 100 || code > 999 {
			return c, fmt.Errorf("check %q: %q is not a status code", src, strings.TrimSpace(rhs))
		}
		c.Op, c.Code = op, code
	case strings.HasPrefix(src, "body!~"), strings.HasPrefix(src, "body~"):
		c.Kind, c.Op = CheckBody, "~"
		c.Value = strings.TrimPrefix(src, "body~")
		if strings.HasPrefix(src, "body!~") {
			c.Op, c.Value = "!~", strings.TrimPrefix(src, "body!~")
		}
		if c.Value == "" {
			return c, fmt.Errorf("check %q: nothing to look for after %s", src, c.Op)
		}
	case strings.HasPrefix(src, "json:"):
		c.Kind = CheckJSON
		lhs, op, rhs := cut(src[len("json:"):])
		c.Path, c.Op, c.Value = strings.TrimSpace(lhs), op, strings.TrimSpace(rhs)
		if c.Path == "" {
			return c, fmt.Errorf("check %q: want json:PATH, or json:PATH==VALUE", src)
		}
	case strings.HasPrefix(src, "header:"):
		c.Kind = CheckHeader
		lhs, op, rhs := cut(src[len("header:"):])
		c.Path, c.Op, c.Value = strings.TrimSpace(lhs), op, strings.TrimSpace(rhs)
		if c.Path == "" || op != "" && op != "==" && op != "!=" && op != "~" && op != "!~" {
			return c, fmt.Errorf("check %q: want header:NAME, header:NAME==VALUE or header:NAME~TEXT", src)
		}
	default:
		return c, fmt.Errorf("check %q: want status==CODE, body~TEXT, body!~TEXT, json:PATH==VALUE or header:NAME~TEXT", src)
	}
	return c, nil
}
