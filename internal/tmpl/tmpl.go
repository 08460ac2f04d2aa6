// Package tmpl renders the text of requests with template variables:
// {{id}}, {{user}} and {{n}} (built in), and named variables that a
// scenario defines ({{token}}, {{accounts.user}}), each held in a slot of
// the user's Values. Compile once, Render for every request: rendering
// appends to a caller's buffer and does not allocate.
package tmpl

import (
	"fmt"
	"strconv"
	"strings"
)

// The built-in variables:
//
//	{{id}}    a request id unique within the run ("<run>-<user>-<n>")
//	{{user}}  the number of the virtual user sending it, from 0
//	{{n}}     the request's number within its user, from 1
var builtins = map[string]kind{"id": kID, "user": kUser, "n": kN}

// IsBuiltin reports whether name is a built-in variable.
func IsBuiltin(name string) bool { _, ok := builtins[name]; return ok }

// Values are the values of the variables for one request.
type Values struct {
	Run   string   // the run's id, the first part of {{id}}
	User  int      // {{user}}
	N     uint64   // {{n}}
	Slots [][]byte // named variables, by slot
}

// Escape says how a variable's value is written into the text around it.
type Escape uint8

// The escapes.
const (
	// Raw writes values as they are (header values, plain bodies).
	Raw Escape = iota
	// JSON writes values as the inside of a JSON string, for templates in
	// the strings of a JSON body.
	JSON
	// URL percent-encodes every byte of a value outside the unreserved
	// set (RFC 3986), for templates in a URL or a form body.
	URL
	// Header drops the bytes a header value may not hold (control bytes
	// but HTAB, and DEL), so that no value, wherever it came from, can end
	// a header line and inject another.
	Header
)

type kind uint8

const (
	kLit kind = iota
	kID
	kUser
	kN
	kSlot
)

type seg struct {
	k    kind
	esc  Escape // of a named variable
	lit  string
	slot int
}

// Template is compiled text. The zero Template renders nothing.
type Template struct {
	segs []seg
}

// Names resolves a named variable to its slot in Values.Slots; ok is
// false for a name that is not defined. nil resolves no name.
type Names func(name string) (slot int, ok bool)

// Error is a template error at a byte offset of the text.
type Error struct {
	Offset int    // where in the text the problem starts
	Name   string // the unknown variable, if that is the problem
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

// Compile splits text into literals and variables. A variable is {{name}},
// spaces inside the braces allowed; a name that is neither built in nor
// resolved by names is an error.
func Compile(text string, names Names, esc Escape) (Template, error) {
	var t Template
	off := 0
	for {
		i := strings.Index(text, "{{")
		if i < 0 {
			if text != "" {
				t.segs = append(t.segs, seg{k: kLit, lit: text})
			}
			return t, nil
		}
		j := strings.Index(text[i:], "}}")
		if j < 0 {
			return Template{}, &Error{Offset: off + i, Msg: fmt.Sprintf("%q opens {{ without closing }}", clip(text[i:]))}
		}
		name := strings.TrimSpace(text[i+2 : i+j])
		s := seg{esc: esc}
		if k, ok := builtins[name]; ok {
			s.k = k
		} else if slot, ok := resolve(names, name); ok {
			s.k, s.slot = kSlot, slot
		} else {
			return Template{}, &Error{Offset: off + i, Name: name, Msg: fmt.Sprintf("unknown variable {{%s}}", name)}
		}
		if i > 0 {
			t.segs = append(t.segs, seg{k: kLit, lit: text[:i]})
		}
		t.segs = append(t.segs, s)
		off += i + j + 2
		text = text[i+j+2:]
	}
}

func resolve(names Names, name string) (int, bool) {
	if names == nil || name == "" {
		return 0, false
	}
	return names(name)
}

// Literal is a template of fixed text.
func Literal(text string) Template {
	if text == "" {
		return Template{}
	}
	return Template{segs: []seg{{k: kLit, lit: text}}}
}

// Static reports whether t uses no variable.
func (t Template) Static() bool {
	for _, s := range t.segs {
		if s.k != kLit {
			return false
		}
	}
	return true
}

// Empty reports whether t renders nothing at all.
func (t Template) Empty() bool { return len(t.segs) == 0 }

// Render appends t, rendered with v, to dst.
func (t Template) Render(dst []byte, v *Values) []byte {
	for _, s := range t.segs {
		switch s.k {
		case kLit:
			dst = append(dst, s.lit...)
		case kID:
			dst = append(dst, v.Run...)
			dst = append(dst, '-')
			dst = strconv.AppendInt(dst, int64(v.User), 10)
			dst = append(dst, '-')
			dst = strconv.AppendUint(dst, v.N, 10)
		case kUser:
			dst = strconv.AppendInt(dst, int64(v.User), 10)
		case kN:
			dst = strconv.AppendUint(dst, v.N, 10)
		case kSlot:
			var val []byte
			if s.slot < len(v.Slots) {
				val = v.Slots[s.slot]
			}
			dst = escape(dst, val, s.esc)
		}
	}
	return dst
}

// String renders t with v as a string.
func (t Template) String(v *Values) string { return string(t.Render(nil, v)) }

const hexDigits = "0123456789ABCDEF"

func escape(dst, val []byte, esc Escape) []byte {
	switch esc {
	case JSON:
		for _, c := range val {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
			default:
				dst = append(dst, c)
			}
		}
	case URL:
		for _, c := range val {
			if unreserved(c) {
				dst = append(dst, c)
			} else {
				dst = append(dst, '%', hexDigits[c>>4], hexDigits[c&15])
			}
		}
	case Header:
		for _, c := range val {
			if c >= 0x20 && c != 0x7f || c == '\t' {
				dst = append(dst, c)
			}
		}
	default:
		dst = append(dst, val...)
	}
	return dst
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// Join concatenates templates; each keeps its own escape.
func Join(ts ...Template) Template {
	var out Template
	for _, t := range ts {
		out.segs = append(out.segs, t.segs...)
	}
	return out
}
