package scenario

import (
	"bytes"
	"strconv"
	"strings"
)

// jar is one user's cookies: what Set-Cookie said, sent back on every
// later request. Cookies are kept by name for the scenario's whole
// journey (its steps share one site); Max-Age=0 or an empty value removes
// one.
type jar struct {
	names  []string
	values [][]byte
}

// update keeps the cookies of a response's header lines.
func (j *jar) update(lines []byte) {
	for len(lines) > 0 {
		var n, v []byte
		if n, v, lines = nextHeader(lines); n == nil || !strings.EqualFold(string(n), "set-cookie") {
			continue
		}
		pair, attrs, _ := bytes.Cut(bytes.TrimSpace(v), []byte(";"))
		name, value, ok := bytes.Cut(pair, []byte("="))
		if !ok || len(bytes.TrimSpace(name)) == 0 {
			continue
		}
		j.set(string(bytes.TrimSpace(name)), bytes.TrimSpace(value), expired(attrs))
	}
}

// expired reports whether cookie attributes delete the cookie.
func expired(attrs []byte) bool {
	for len(attrs) > 0 {
		var a []byte
		a, attrs, _ = bytes.Cut(attrs, []byte(";"))
		k, v, _ := bytes.Cut(bytes.TrimSpace(a), []byte("="))
		if strings.EqualFold(string(k), "max-age") {
			if n, err := strconv.Atoi(string(v)); err == nil && n <= 0 {
				return true
			}
		}
	}
	return false
}

func (j *jar) set(name string, value []byte, del bool) {
	for i, n := range j.names {
		if n == name {
			if del || len(value) == 0 {
				j.names = append(j.names[:i], j.names[i+1:]...)
				j.values = append(j.values[:i], j.values[i+1:]...)
				return
			}
			j.values[i] = append(j.values[i][:0], value...)
			return
		}
	}
	if !del && len(value) > 0 {
		j.names = append(j.names, name)
		j.values = append(j.values, append([]byte(nil), value...))
	}
}

// header appends the Cookie header value ("a=1; b=2") to dst.
func (j *jar) header(dst []byte) []byte {
	for i, n := range j.names {
		if i > 0 {
			dst = append(dst, "; "...)
		}
		dst = append(dst, n...)
		dst = append(dst, '=')
		dst = append(dst, j.values[i]...)
	}
	return dst
}
