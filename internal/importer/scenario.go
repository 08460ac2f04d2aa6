package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
)

// DefaultUsers and DefaultDuration are the small load an imported
// scenario asks for: enough to try it, for the user to edit.
const (
	DefaultUsers    = 1
	DefaultDuration = 30 * time.Second
)

// Doc is a scenario to be written: one flow of steps.
type Doc struct {
	// Comments are the lines of the comment header (without "# ").
	Comments []string
	// Base is the origin relative step URLs resolve against ("" for none).
	Base string
	// Vars are variables the steps use, in order, with placeholder values
	// the user must edit (each gets a comment saying so).
	Vars []KV
	// Flow names the one flow.
	Flow string
	// Steps are the requests, in order.
	Steps []*Step
}

// KV is a name and a value, kept in order.
type KV struct {
	Key   string
	Value any // string, or a JSON value for vars (a number)
}

// Step is one request of the imported flow. At most one of JSON, Form and
// Body is set.
type Step struct {
	Name    string
	Method  string
	URL     string
	Headers []KV
	// JSON is a JSON body: nil, bool, string, Number, []any or Object.
	JSON    any
	HasJSON bool
	Form    []KV
	Body    *string
	Checks  []string
	Think   time.Duration
}

// Object is a JSON object with its keys in order.
type Object []KV

// Number is a JSON number, as written.
type Number string

// MarshalYAML writes the number as written.
func (n Number) MarshalYAML() ([]byte, error) { return []byte(n), nil }

// quoted is a string written as a double-quoted YAML scalar (JSON escapes
// are valid there), for text the plain and block styles would not keep.
type quoted string

// MarshalYAML writes the string double-quoted with every control
// character escaped.
func (q quoted) MarshalYAML() ([]byte, error) {
	b, err := json.Marshal(string(q))
	return b, err
}

// YAML writes the scenario. Every string is written so that it reads back
// as exactly itself; a value that would become a template by accident
// ({{ in the input) is refused earlier, by the importers, and so are map
// keys the encoder would not write plainly (see plainKey).
func (d *Doc) YAML() (out []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("writing the scenario: %v", p)
		}
	}()
	var top yaml.MapSlice
	if d.Base != "" {
		top = append(top, yaml.MapItem{Key: "base", Value: str(d.Base)})
	}
	top = append(top, yaml.MapItem{Key: "load", Value: yaml.MapSlice{
		{Key: "users", Value: DefaultUsers},
		{Key: "duration", Value: DefaultDuration.String()},
	}})
	if len(d.Vars) > 0 {
		var vs yaml.MapSlice
		for _, v := range d.Vars {
			vs = append(vs, yaml.MapItem{Key: v.Key, Value: jsonYAML(v.Value)})
		}
		top = append(top, yaml.MapItem{Key: "vars", Value: vs})
	}
	var steps []any
	for _, s := range d.Steps {
		steps = append(steps, s.yaml())
	}
	top = append(top, yaml.MapItem{Key: "flows", Value: []any{yaml.MapSlice{
		{Key: "name", Value: str(d.Flow)},
		{Key: "steps", Value: steps},
	}}})
	comments := yaml.CommentMap{
		"$.load": {yaml.HeadComment(fmt.Sprintf(" %d user for %v: a small default to edit (or override with -u and -d)", DefaultUsers, DefaultDuration))},
	}
	for _, v := range d.Vars {
		comments["$.vars."+v.Key] = []*yaml.Comment{yaml.LineComment(" a placeholder: edit it")}
	}
	body, err := yaml.MarshalWithOptions(top, yaml.IndentSequence(true), yaml.WithComment(comments))
	if err != nil {
		return nil, fmt.Errorf("writing the scenario: %w", err)
	}
	var buf bytes.Buffer
	for _, c := range d.Comments {
		for _, line := range strings.Split(c, "\n") {
			buf.WriteString(strings.TrimRight("# "+commentSafe(line), " "))
			buf.WriteByte('\n')
		}
	}
	buf.Write(body)
	return buf.Bytes(), nil
}

func (s *Step) yaml() yaml.MapSlice {
	m := yaml.MapSlice{
		{Key: "name", Value: str(s.Name)},
		{Key: "method", Value: s.Method},
		{Key: "url", Value: str(s.URL)},
	}
	if len(s.Headers) > 0 {
		var hs yaml.MapSlice
		for _, h := range s.Headers {
			hs = append(hs, yaml.MapItem{Key: h.Key, Value: str(h.Value.(string))})
		}
		m = append(m, yaml.MapItem{Key: "headers", Value: hs})
	}
	switch {
	case s.HasJSON:
		m = append(m, yaml.MapItem{Key: "json", Value: jsonYAML(s.JSON)})
	case s.Form != nil:
		var fs yaml.MapSlice
		for _, f := range s.Form {
			fs = append(fs, yaml.MapItem{Key: f.Key, Value: str(f.Value.(string))})
		}
		m = append(m, yaml.MapItem{Key: "form", Value: fs})
	case s.Body != nil:
		m = append(m, yaml.MapItem{Key: "body", Value: str(*s.Body)})
	}
	if len(s.Checks) > 0 {
		var cs []any
		for _, c := range s.Checks {
			cs = append(cs, str(c))
		}
		m = append(m, yaml.MapItem{Key: "check", Value: cs})
	}
	if s.Think > 0 {
		m = append(m, yaml.MapItem{Key: "think", Value: s.Think.String()})
	}
	return m
}

// jsonYAML converts a JSON value to what the YAML encoder writes.
func jsonYAML(v any) any {
	switch x := v.(type) {
	case string:
		return str(x)
	case Object:
		m := yaml.MapSlice{}
		for _, kv := range x {
			m = append(m, yaml.MapItem{Key: kv.Key, Value: jsonYAML(kv.Value)})
		}
		return m
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			out = append(out, jsonYAML(e))
		}
		return out
	default: // nil, bool, Number, int
		return x
	}
}

// str returns s as the encoder's default style writes it when that reads
// back as s, else as a double-quoted string with escapes.
func str(s string) any {
	b, err := yaml.Marshal(yaml.MapSlice{{Key: "k", Value: s}})
	if err == nil {
		var back yaml.MapSlice
		if yaml.UnmarshalWithOptions(b, &back, yaml.UseOrderedMap()) == nil && len(back) == 1 {
			if got, ok := back[0].Value.(string); ok && got == s {
				return s
			}
		}
	}
	return quoted(s)
}

// plainKey reports whether the encoder writes s as a map key that reads
// back as s (it cannot be made to quote a key itself).
func plainKey(s string) bool {
	if s == "" || strings.ContainsFunc(s, func(r rune) bool {
		return r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == 0x2028 || r == 0x2029 || r == 0xfeff
	}) {
		return false
	}
	ok := false
	func() {
		defer func() { _ = recover() }()
		b, err := yaml.Marshal(yaml.MapSlice{{Key: s, Value: "v"}})
		if err != nil {
			return
		}
		var back yaml.MapSlice
		if yaml.UnmarshalWithOptions(b, &back, yaml.UseOrderedMap()) == nil && len(back) == 1 {
			k, isStr := back[0].Key.(string)
			ok = isStr && k == s
		}
	}()
	return ok
}

// plainKeys reports whether every key of a JSON value is a plainKey.
func plainKeys(v any) bool {
	switch x := v.(type) {
	case Object:
		for _, kv := range x {
			if !plainKey(kv.Key) || !plainKeys(kv.Value) {
				return false
			}
		}
	case []any:
		for _, e := range x {
			if !plainKeys(e) {
				return false
			}
		}
	}
	return true
}

// compactJSON writes a JSON value as compact JSON text.
func compactJSON(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		fmt.Fprint(b, x)
	case Number:
		b.WriteString(string(x))
	case string:
		j, _ := json.Marshal(x)
		b.Write(j)
	case Object:
		b.WriteByte('{')
		for i, kv := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			compactJSON(b, kv.Key)
			b.WriteByte(':')
			compactJSON(b, kv.Value)
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			compactJSON(b, e)
		}
		b.WriteByte(']')
	}
}

// commentSafe keeps a comment on its line, in UTF-8.
func commentSafe(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == 0x85 || r == 0x2028 || r == 0x2029 {
			return ' '
		}
		return r
	}, s)
}

// ErrTemplate is wrapped by the errors about input text that holds {{,
// which a scenario would read as a variable (the format has no escape).
var ErrTemplate = errors.New("a scenario reads {{ as the start of a variable, and the format has no escape for it: edit the input")

// literal refuses text that a scenario would read as a template.
func literal(what, s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s %q is not UTF-8 text, and a scenario file holds only text", what, clip(strings.ToValidUTF8(s, "\uFFFD")))
	}
	if strings.Contains(s, "{{") {
		return fmt.Errorf("%s %q: %w", what, clip(s), ErrTemplate)
	}
	return nil
}

// headerText refuses a header value that a scenario cannot hold.
func headerText(name, value string) error {
	if strings.ContainsAny(value, "\r\n") {
		return fmt.Errorf("header %s: a header value cannot contain a line break", name)
	}
	return literal("header "+name, value)
}

// literalJSON refuses a JSON value with {{ in any key or string.
func literalJSON(what string, v any) error {
	switch x := v.(type) {
	case string:
		return literal(what, x)
	case Object:
		for _, kv := range x {
			if err := literal(what+" key", kv.Key); err != nil {
				return err
			}
			if err := literalJSON(what, kv.Value); err != nil {
				return err
			}
		}
	case []any:
		for _, e := range x {
			if err := literalJSON(what, e); err != nil {
				return err
			}
		}
	}
	return nil
}

// literalURL makes a URL safe from templates: {{ becomes %7B%7B, which
// means the same to a server.
func literalURL(u string) string { return strings.ReplaceAll(u, "{{", "%7B%7B") }

func clip(s string) string {
	if r := []rune(s); len(r) > 60 {
		return string(r[:57]) + "..."
	}
	return s
}

var nonName = regexp.MustCompile(`[^a-z0-9]+`)

// namer gives steps unique names from their method and path.
type namer map[string]bool

// name returns method_path (get_items), or base when it is not empty,
// made unique with _2, _3...
func (n namer) name(base, method, rawURL string) string {
	if base == "" {
		p := rawURL
		if u, err := url.Parse(rawURL); err == nil {
			p = u.Path
		} else if i := strings.IndexAny(p, "?#"); i >= 0 {
			p = p[:i]
		}
		p = strings.NewReplacer("{{", "", "}}", "").Replace(p)
		p = strings.Trim(nonName.ReplaceAllString(strings.ToLower(p), "_"), "_")
		if p == "" {
			p = "root"
		}
		base = strings.ToLower(method) + "_" + p
	}
	if len(base) > 48 {
		base = strings.TrimRight(base[:48], "_")
	}
	name := base
	for i := 2; n[name]; i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	n[name] = true
	return name
}

// origin is scheme://host of an absolute URL.
func origin(u *url.URL) string { return u.Scheme + "://" + u.Host }

// relative is the path, query and fragment of u ("/" for none).
func relative(u *url.URL) string {
	r := u.EscapedPath()
	if r == "" {
		r = "/"
	}
	if u.RawQuery != "" || u.ForceQuery {
		r += "?" + u.RawQuery
	}
	return r
}

// tidyQuery percent-encodes the bytes of a raw query that a scenario URL
// may not hold (spaces and control bytes, and every byte past ASCII when
// the query is not UTF-8).
func tidyQuery(q string) string {
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		if c := q[i]; c <= ' ' || c == 0x7f || c >= 0x80 && !utf8.ValidString(q) {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// setBase picks the most common origin of the steps' absolute URLs (the
// first one seen on a tie) as the base, and makes its URLs relative.
func (d *Doc) setBase(urls []*url.URL) {
	count := map[string]int{}
	best := ""
	for _, u := range urls {
		o := origin(u)
		count[o]++
		if best == "" || count[o] > count[best] {
			best = o
		}
	}
	d.Base = best
	for i, u := range urls {
		u.RawQuery = tidyQuery(u.RawQuery)
		if origin(u) == best && !strings.HasPrefix(relative(u), "//") { // //x would read as a host
			d.Steps[i].URL = literalURL(relative(u))
		} else {
			d.Steps[i].URL = literalURL(u.String())
		}
	}
}
