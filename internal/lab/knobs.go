package lab

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// knobs reads an endpoint's query-string knobs. Each getter returns the
// knob's value, or its default when it is absent; the first problem is
// kept and reported by ok, which answers 400 with a one-line message that
// names the knob.
type knobs struct {
	q   url.Values
	err string
}

// parseKnobs parses r's query string, refusing knobs not in allowed and
// knobs given more than once.
func parseKnobs(r *http.Request, allowed ...string) *knobs {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return &knobs{err: "bad query string: " + oneLine(err.Error())}
	}
	k := &knobs{q: q}
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		switch {
		case !slices.Contains(allowed, name):
			if len(allowed) == 0 {
				k.err = fmt.Sprintf("unknown knob %s: this endpoint takes no knobs", quote(name))
			} else {
				k.err = fmt.Sprintf("unknown knob %s: this endpoint takes %s", quote(name), strings.Join(allowed, ", "))
			}
			return k
		case len(q[name]) > 1:
			k.err = fmt.Sprintf("bad knob %s: given %d times, want it once", name, len(q[name]))
			return k
		}
	}
	return k
}

// int returns the integer knob name, from lo to hi, or def when absent.
func (k *knobs) int(name string, def, lo, hi int64) int64 {
	if k.err != "" {
		return def
	}
	vs, ok := k.q[name]
	if !ok {
		return def
	}
	v, err := strconv.ParseInt(vs[0], 10, 64)
	if err != nil || v < lo || v > hi {
		k.err = fmt.Sprintf("bad knob %s: want an integer from %d to %d, got %s", name, lo, hi, quote(vs[0]))
		return def
	}
	return v
}

// any64 returns the int64 knob name, any value, or def when absent.
func (k *knobs) any64(name string, def int64) int64 {
	if k.err != "" {
		return def
	}
	vs, ok := k.q[name]
	if !ok {
		return def
	}
	v, err := strconv.ParseInt(vs[0], 10, 64)
	if err != nil {
		k.err = fmt.Sprintf("bad knob %s: want a 64-bit integer, got %s", name, quote(vs[0]))
		return def
	}
	return v
}

// id returns the required text knob name: valid UTF-8, 1 to max bytes.
func (k *knobs) id(name string, max int) string {
	if k.err != "" {
		return ""
	}
	vs, ok := k.q[name]
	switch {
	case !ok:
		k.err = fmt.Sprintf("bad knob %s: required, 1 to %d bytes", name, max)
	case vs[0] == "" || len(vs[0]) > max:
		k.err = fmt.Sprintf("bad knob %s: want 1 to %d bytes, got %d", name, max, len(vs[0]))
	case !utf8.ValidString(vs[0]):
		k.err = fmt.Sprintf("bad knob %s: not valid UTF-8", name)
	default:
		return vs[0]
	}
	return ""
}

// ok reports whether every knob read so far was good; if not, it answers
// 400 with the problem and the caller must return.
func (k *knobs) ok(w http.ResponseWriter) bool {
	if k.err == "" {
		return true
	}
	http.Error(w, k.err, http.StatusBadRequest)
	return false
}

// quote quotes s for a one-line message, cut to a readable length.
func quote(s string) string {
	const max = 40
	if len(s) > max {
		s = s[:max] + "..."
	}
	return strconv.Quote(s)
}

// oneLine replaces line breaks in s so that a message stays on one line.
func oneLine(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}
