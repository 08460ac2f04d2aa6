package client

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Check is a response check: a request whose response fails one is
// counted under the class Check. Forms:
//
//	status==200   status!=500   status<400
//	body~TEXT     the body contains TEXT
//	body!~TEXT    the body does not contain TEXT
//
// TEXT may use the template variables ({{id}}, {{user}}, {{n}}) with the
// values of the request the response answers.
type Check struct {
	Source string
	kind   byte // 's' status, 'b' body
	op     string
	code   int
	text   tmpl
}

// ParseCheck parses one check.
func ParseCheck(src string) (*Check, error) {
	c := &Check{Source: src}
	switch {
	case strings.HasPrefix(src, "status"):
		c.kind = 's'
		rest := strings.TrimSpace(src[len("status"):])
		for _, op := range []string{"==", "!=", "<=", ">=", "<", ">"} {
			if strings.HasPrefix(rest, op) {
				c.op = op
				break
			}
		}
		if c.op == "" {
			return nil, fmt.Errorf("check %q: want status==CODE, status!=CODE or status<CODE", src)
		}
		code, err := strconv.Atoi(strings.TrimSpace(rest[len(c.op):]))
		if err != nil || code < 100 || code > 999 {
			return nil, fmt.Errorf("check %q: %q is not a status code", src, strings.TrimSpace(rest[len(c.op):]))
		}
		c.code = code
	case strings.HasPrefix(src, "body!~"), strings.HasPrefix(src, "body~"):
		c.kind = 'b'
		c.op = "~"
		text := strings.TrimPrefix(src, "body~")
		if strings.HasPrefix(src, "body!~") {
			c.op, text = "!~", strings.TrimPrefix(src, "body!~")
		}
		if text == "" {
			return nil, fmt.Errorf("check %q: nothing to look for after %s", src, c.op)
		}
		t, err := compile([]byte(text), fmt.Sprintf("check %q", src))
		if err != nil {
			return nil, err
		}
		c.text = t
	default:
		return nil, fmt.Errorf("check %q: want status==CODE, body~TEXT or body!~TEXT", src)
	}
	return c, nil
}

// needsBody reports whether the check reads the response body.
func (c *Check) needsBody() bool { return c.kind == 'b' }

// holds evaluates the check; scratch is reused to render TEXT.
func (c *Check) holds(code int, body []byte, v *vars, scratch []byte) (bool, []byte) {
	if c.kind == 's' {
		switch c.op {
		case "==":
			return code == c.code, scratch
		case "!=":
			return code != c.code, scratch
		case "<":
			return code < c.code, scratch
		case "<=":
			return code <= c.code, scratch
		case ">":
			return code > c.code, scratch
		default:
			return code >= c.code, scratch
		}
	}
	scratch = c.text.appendTo(scratch[:0], v)
	found := bytes.Contains(body, scratch)
	return found == (c.op == "~"), scratch
}

// String returns the check as given.
func (c *Check) String() string { return c.Source }

// capped collects up to max bytes of a body and drops the rest.
type capped struct {
	buf []byte
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - len(c.buf); room > 0 {
		c.buf = append(c.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}
