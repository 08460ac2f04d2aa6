package importer

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"path"
	"slices"
	"strings"
	"unicode/utf8"
)

// Error is a problem with the input, at its place when one is known. It
// prints as FILE:LINE:COL: message (or FILE: message).
type Error struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// curlOpt is one curl option the importer knows.
type curlOpt struct {
	arg  bool   // takes an argument
	key  string // what it does, for the parser's switch
	note string // said in the comment header when used (options that change nothing here)
}

var curlLong = map[string]curlOpt{
	"--request":        {arg: true, key: "X"},
	"--header":         {arg: true, key: "H"},
	"--data":           {arg: true, key: "d"},
	"--data-ascii":     {arg: true, key: "d"},
	"--data-binary":    {arg: true, key: "data-binary"},
	"--data-raw":       {arg: true, key: "data-raw"},
	"--data-urlencode": {arg: true, key: "data-urlencode"},
	"--json":           {arg: true, key: "json"},
	"--form":           {arg: true, key: "F"},
	"--form-string":    {arg: true, key: "F"},
	"--user":           {arg: true, key: "u"},
	"--user-agent":     {arg: true, key: "A"},
	"--referer":        {arg: true, key: "e"},
	"--cookie":         {arg: true, key: "b"},
	"--get":            {key: "G"},
	"--head":           {key: "I"},
	"--url":            {arg: true, key: "url"},
	"--location":       {key: "-", note: "-L: surge does not follow redirects: each step is one request, and a redirect is its answer"},
	"--insecure":       {key: "-", note: "-k: surge checks TLS certificates unless run with --insecure"},
	"--compressed":     {key: "compressed"},
	"--silent":         {key: "-"},
	"--show-error":     {key: "-"},
	"--verbose":        {key: "-"},
	"--include":        {key: "-"},
	"--output":         {arg: true, key: "-"},
	"--http1.1":        {key: "-", note: "--http1.1: surge speaks HTTP/1.1 unless run with --http2 (see surge run --help)"},
	"--http2":          {key: "-", note: "--http2: run with surge run --http2 to use HTTP/2"},
}

var curlShort = map[byte]string{
	'X': "--request", 'H': "--header", 'd': "--data", 'F': "--form", 'u': "--user", 'A': "--user-agent",
	'e': "--referer", 'b': "--cookie", 'G': "--get", 'I': "--head", 'L': "--location", 'k': "--insecure",
	's': "--silent", 'S': "--show-error", 'v': "--verbose", 'i': "--include", 'o': "--output",
}

// curlCmd is one curl command line, as parsed.
type curlCmd struct {
	at         word
	method     string
	url        string
	urlAt      word
	headers    []KV
	data       []string
	json       bool
	get, head  bool
	compressed bool
}

// Curl imports curl command lines (one or more, as browsers' "Copy as
// cURL (bash)" and "Copy all as cURL" write them) from src, read from the
// file named file. Every problem is returned, each an *Error, joined.
func Curl(file string, src []byte) (*Doc, error) {
	cmds, err := splitShell(string(src))
	if err != nil {
		var se *shellError
		errors.As(err, &se)
		return nil, &Error{File: file, Line: se.line, Col: se.col, Msg: se.msg}
	}
	if len(cmds) == 0 {
		return nil, &Error{File: file, Msg: "no curl command in the input"}
	}
	var errs []error
	fail := func(w word, format string, args ...any) {
		errs = append(errs, &Error{File: file, Line: w.line, Col: w.col, Msg: fmt.Sprintf(format, args...)})
	}
	d := &Doc{Flow: "curl"}
	notes := map[string]bool{}
	var noteList []string
	var urls []*url.URL
	names := namer{}
	for _, words := range cmds {
		if path.Base(words[0].text) != "curl" {
			fail(words[0], "%q is not a curl command (each command must start with curl)", clip(words[0].text))
			continue
		}
		c := &curlCmd{at: words[0]}
		good := c.parse(words[1:], fail, func(n string) {
			if !notes[n] {
				notes[n] = true
				noteList = append(noteList, n)
			}
		})
		if !good {
			continue
		}
		st, u, ok := c.step(fail)
		if !ok {
			continue
		}
		st.Name = names.name("", st.Method, u.Path)
		d.Steps = append(d.Steps, st)
		urls = append(urls, u)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	d.setBase(urls)
	d.Comments = append([]string{
		fmt.Sprintf("Imported by surge import curl from %s: %s.", file, plural(len(d.Steps), "command")),
	}, noteList...)
	return d, nil
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// parse reads the options and URL of one command.
func (c *curlCmd) parse(words []word, fail func(word, string, ...any), note func(string)) bool {
	good := true
	bad := func(w word, format string, args ...any) {
		fail(w, format, args...)
		good = false
	}
	endOpts := false
	unknown := false // after an unknown option, a word may be its value: no "second URL" then
	for i := 0; i < len(words); i++ {
		w := words[i]
		t := w.text
		if endOpts || !strings.HasPrefix(t, "-") || t == "-" {
			if c.url != "" {
				if !unknown {
					bad(w, "a second URL %q: import one URL per curl command", clip(t))
				}
				good = false
				continue
			}
			c.url, c.urlAt = t, w
			continue
		}
		if t == "--" {
			endOpts = true
			continue
		}
		// -XPOST, -sSL, -HName:v: a cluster of short options, the last
		// (or one taking an argument) may hold its argument.
		type use struct {
			name, shown string // the long name, and the option as written
			val         *string
		}
		var uses []use
		if strings.HasPrefix(t, "--") {
			uses = append(uses, use{name: t, shown: t})
		} else {
			for j := 1; j < len(t); j++ {
				long, ok := curlShort[t[j]]
				if !ok {
					bad(w, "unknown curl option -%c%s (surge import curl --help lists the ones it reads)", t[j], suffixNote(t))
					unknown = true
					uses = nil
					break
				}
				if curlLong[long].arg && j+1 < len(t) {
					v := t[j+1:]
					uses = append(uses, use{name: long, shown: "-" + t[j:j+1], val: &v})
					break
				}
				uses = append(uses, use{name: long, shown: "-" + t[j:j+1]})
			}
		}
		for _, u := range uses {
			opt, ok := curlLong[u.name]
			if !ok {
				bad(w, "unknown curl option %s (surge import curl --help lists the ones it reads)", u.name)
				unknown = true
				continue
			}
			var val string
			if opt.arg {
				switch {
				case u.val != nil:
					val = *u.val
				case i+1 < len(words):
					i++
					val = words[i].text
				default:
					bad(w, "curl option %s needs a value", u.shown)
					continue
				}
			}
			if opt.note != "" {
				note(opt.note)
			}
			if !c.apply(opt.key, u.shown, val, w, bad) {
				good = false
			}
		}
	}
	if c.url == "" {
		bad(c.at, "curl command without a URL")
	}
	return good
}

func suffixNote(t string) string {
	if len(t) > 2 {
		return " (in " + clip(t) + ")"
	}
	return ""
}

// apply does what one option says.
func (c *curlCmd) apply(key, name, val string, w word, bad func(word, string, ...any)) bool {
	fileArg := func() bool {
		if strings.HasPrefix(val, "@") {
			bad(w, "%s %s reads a file: importing reads no files; paste the content with --data-raw", name, clip(val))
			return false
		}
		return true
	}
	switch key {
	case "X":
		c.method = val
	case "H":
		if strings.HasPrefix(val, "@") {
			bad(w, "%s %s reads headers from a file: importing reads no files; write each with -H", name, clip(val))
			return false
		}
		k, v, ok := strings.Cut(val, ":")
		switch {
		case ok:
			c.headers = append(c.headers, KV{Key: strings.TrimSpace(k), Value: strings.TrimSpace(v)})
		case strings.HasSuffix(val, ";"): // -H 'X-Empty;' sends an empty header
			c.headers = append(c.headers, KV{Key: strings.TrimSpace(strings.TrimSuffix(val, ";")), Value: ""})
		default:
			bad(w, "%s %q is not a header (want Name: value)", name, clip(val))
			return false
		}
		if k := c.headers[len(c.headers)-1].Key; !headerName(k) {
			bad(w, "%s %q: %q is not a header name", name, clip(val), k)
			return false
		}
	case "d":
		if !fileArg() {
			return false
		}
		c.data = append(c.data, val)
	case "data-binary":
		if !fileArg() {
			return false
		}
		c.data = append(c.data, val)
	case "data-raw":
		c.data = append(c.data, val)
	case "data-urlencode":
		n, content, hasEq := strings.Cut(val, "=")
		if !hasEq {
			n, content = "", val
			if strings.Contains(val, "@") {
				bad(w, "%s %s reads a file: importing reads no files; paste the content", name, clip(val))
				return false
			}
		}
		enc := url.QueryEscape(content)
		if n != "" {
			enc = n + "=" + enc
		}
		c.data = append(c.data, enc)
	case "json":
		if !fileArg() {
			return false
		}
		c.data = append(c.data, val)
		c.json = true
	case "F":
		bad(w, "%s (multipart/form-data): the scenario format cannot send multipart bodies; use -d or --json", name)
		return false
	case "u":
		if !strings.Contains(val, ":") {
			bad(w, "%s %q has no password (want USER:PASSWORD; curl would ask for it)", name, clip(val))
			return false
		}
		c.headers = append(c.headers, KV{Key: "Authorization", Value: "Basic " + base64.StdEncoding.EncodeToString([]byte(val))})
	case "A":
		c.headers = append(c.headers, KV{Key: "User-Agent", Value: val})
	case "e":
		c.headers = append(c.headers, KV{Key: "Referer", Value: val})
	case "b":
		if !strings.Contains(val, "=") {
			bad(w, "%s %s reads a cookie file: importing reads no files; write the cookies as -b 'name=value; name2=value2'", name, clip(val))
			return false
		}
		c.headers = append(c.headers, KV{Key: "Cookie", Value: val})
	case "G":
		c.get = true
	case "I":
		c.head = true
	case "url":
		if c.url != "" {
			bad(w, "a second URL %q: import one URL per curl command", clip(val))
			return false
		}
		c.url, c.urlAt = val, w
	case "compressed":
		c.compressed = true
	}
	return true
}

var knownMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"}

// hopHeaders are headers the HTTP client sets itself.
var hopHeaders = map[string]bool{
	"host": true, "content-length": true, "connection": true, "keep-alive": true, "proxy-connection": true,
	"transfer-encoding": true, "upgrade": true, "te": true, "trailer": true,
}

// step makes the command a step; u is its absolute URL.
func (c *curlCmd) step(fail func(word, string, ...any)) (*Step, *url.URL, bool) {
	raw := c.url
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw // as curl does
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || !utf8.ValidString(u.Host) {
		fail(c.urlAt, "%q is not a URL", clip(strings.ToValidUTF8(c.url, "\uFFFD")))
		return nil, nil, false
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		fail(c.urlAt, "%q: scheme %s is not supported (want http or https)", clip(c.url), u.Scheme)
		return nil, nil, false
	}
	u.Fragment, u.RawFragment = "", ""
	st := &Step{Method: "GET"}
	body := strings.Join(c.data, "&")
	switch {
	case c.head:
		st.Method = "HEAD"
	case c.get:
	case len(c.data) > 0:
		st.Method = "POST"
	}
	if c.get && len(c.data) > 0 {
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += body
		c.data = nil
	}
	if c.method != "" {
		m := c.method
		if up := strings.ToUpper(m); slices.Contains(knownMethods, up) {
			m = up // curl -X post: what was meant
		}
		if !validToken(m) || m == "CONNECT" {
			fail(c.at, "-X %q: a step cannot send this method (want GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, or another token in capitals)", clip(c.method))
			return nil, nil, false
		}
		st.Method = m
	}
	if c.json {
		c.defaultHeader("Content-Type", "application/json")
		c.defaultHeader("Accept", "application/json")
	}
	var good = true
	for _, h := range mergeHeaders(c.headers) {
		lk := strings.ToLower(h.Key)
		if hopHeaders[lk] || lk == "accept-encoding" && c.compressed {
			continue
		}
		if err := headerText(h.Key, h.Value.(string)); err != nil {
			fail(c.at, "%v", err)
			good = false
		}
		st.Headers = append(st.Headers, h)
	}
	if len(c.data) > 0 {
		ct := headerValue(st.Headers, "Content-Type")
		if ct == "" {
			ct = "application/x-www-form-urlencoded" // what curl sends with -d
		}
		if err := setBody(st, ct, body, true); err != nil {
			fail(c.at, "%v", err)
			good = false
		}
	}
	if !good {
		return nil, nil, false
	}
	return st, u, true
}

func (c *curlCmd) defaultHeader(name, value string) {
	if headerValue(c.headers, name) == "" {
		c.headers = append(c.headers, KV{Key: name, Value: value})
	}
}

// headerName reports whether s is a header name (an HTTP token).
func headerName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// headerValue is the value of the header name ("" when absent).
func headerValue(hs []KV, name string) string {
	for _, h := range hs {
		if strings.EqualFold(h.Key, name) {
			return h.Value.(string)
		}
	}
	return ""
}

// mergeHeaders joins repeated headers (any case) into one, in the order
// of their first appearance, since a YAML map holds each key once.
func mergeHeaders(hs []KV) []KV {
	var out []KV
	at := map[string]int{}
	for _, h := range hs {
		lk := strings.ToLower(h.Key)
		if i, ok := at[lk]; ok {
			sep := ", "
			if lk == "cookie" {
				sep = "; "
			}
			out[i].Value = out[i].Value.(string) + sep + h.Value.(string)
			continue
		}
		at[lk] = len(out)
		out = append(out, h)
	}
	return out
}

// setBody sets a step's body from its content type and text: a JSON body
// becomes json:, a URL-encoded one form: when it reads back the same, and
// anything else body:. sniff also takes a body that parses as a JSON
// object or array as JSON. When the body is not sent as json: or form:,
// a missing Content-Type header of ct is added, so the server sees what
// the recording sent.
func setBody(st *Step, ct, body string, sniff bool) error {
	mt := strings.ToLower(strings.TrimSpace(strings.Split(ct, ";")[0]))
	isJSON := mt == "application/json" || strings.HasSuffix(mt, "+json")
	if t := strings.TrimSpace(body); sniff && !isJSON && (strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[")) {
		isJSON = true
	}
	if isJSON {
		if v, err := decodeJSON([]byte(body)); err == nil {
			if err := literalJSON("the JSON body", v); err != nil {
				return err
			}
			if plainKeys(v) {
				st.JSON, st.HasJSON = v, true
				return nil
			}
		}
	}
	if mt == "application/x-www-form-urlencoded" {
		if f, ok := formOf(body); ok && !slices.ContainsFunc(f, func(kv KV) bool { return !plainKey(kv.Key) }) {
			for _, kv := range f {
				if err := literal("the form field "+kv.Key, kv.Key+"="+kv.Value.(string)); err != nil {
					return err
				}
			}
			st.Form = f // the loader adds the Content-Type when no header sets one
			return nil
		}
	}
	if err := literal("the body", body); err != nil {
		return err
	}
	st.Body = &body
	if headerValue(st.Headers, "Content-Type") == "" && ct != "" {
		st.Headers = append(st.Headers, KV{Key: "Content-Type", Value: ct})
	}
	return nil
}

// formOf reads a URL-encoded body as fields when that loses nothing: every
// part is name=value, each name once, and everything decodes.
func formOf(body string) ([]KV, bool) {
	if body == "" {
		return nil, false
	}
	var out []KV
	seen := map[string]bool{}
	for _, part := range strings.Split(body, "&") {
		k, v, ok := strings.Cut(part, "=")
		if !ok || k == "" {
			return nil, false
		}
		dk, err1 := url.QueryUnescape(k)
		dv, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil || seen[dk] || dk == "" || !utf8.ValidString(dk+dv) {
			return nil, false
		}
		seen[dk] = true
		out = append(out, KV{Key: dk, Value: dv})
	}
	return out, true
}
