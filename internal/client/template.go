package client

import (
	"bytes"
	"fmt"
	"strconv"
)

// Template variables, replaced in the URL, header values, body and check
// texts of every request:
//
//	{{id}}    a request id unique within the run ("<run>-<user>-<n>")
//	{{user}}  the number of the worker (virtual user) sending it, from 0
//	{{n}}     the request's number within its worker, from 1
//
// They let a test send distinct requests, and check that each response
// answers its own request (a race under load shows up as a failed check).
const (
	varNone byte = iota
	varID
	varUser
	varN
)

var varNames = map[string]byte{"id": varID, "user": varUser, "n": varN}

// vars are the values of the template variables for one request.
type vars struct {
	run  string
	user int
	n    uint64
}

// seg is a literal run of bytes or one variable.
type seg struct {
	lit []byte
	v   byte
}

// tmpl is text with template variables.
type tmpl []seg

// compile splits text into literals and variables. where names the field,
// for errors.
func compile(text []byte, where string) (tmpl, error) {
	var t tmpl
	for {
		i := bytes.Index(text, []byte("{{"))
		if i < 0 {
			if len(text) > 0 {
				t = append(t, seg{lit: text})
			}
			return t, nil
		}
		j := bytes.Index(text[i:], []byte("}}"))
		if j < 0 {
			return nil, fmt.Errorf("%s: %q opens {{ without closing }}", where, clipString(string(text)))
		}
		name := string(bytes.TrimSpace(text[i+2 : i+j]))
		v, ok := varNames[name]
		if !ok {
			return nil, fmt.Errorf("%s: unknown template variable {{%s}} (want {{id}}, {{user}} or {{n}})", where, name)
		}
		if i > 0 {
			t = append(t, seg{lit: text[:i]})
		}
		t = append(t, seg{v: v})
		text = text[i+j+2:]
	}
}

// static reports whether t has no variable.
func (t tmpl) static() bool {
	for _, s := range t {
		if s.v != varNone {
			return false
		}
	}
	return true
}

// appendTo renders t with the values of one request.
func (t tmpl) appendTo(dst []byte, v *vars) []byte {
	for _, s := range t {
		switch s.v {
		case varNone:
			dst = append(dst, s.lit...)
		case varID:
			dst = append(dst, v.run...)
			dst = append(dst, '-')
			dst = strconv.AppendInt(dst, int64(v.user), 10)
			dst = append(dst, '-')
			dst = strconv.AppendUint(dst, v.n, 10)
		case varUser:
			dst = strconv.AppendInt(dst, int64(v.user), 10)
		case varN:
			dst = strconv.AppendUint(dst, v.n, 10)
		}
	}
	return dst
}

func clipString(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
