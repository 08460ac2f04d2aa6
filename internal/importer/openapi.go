package importer

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
)

// OpenAPIOptions choose the operations of an OpenAPI document that become
// steps, and where they are sent.
type OpenAPIOptions struct {
	// Base is the target's absolute URL: required when servers[0].url is
	// relative or absent, and replacing its scheme and host otherwise
	// (its path is kept, before every operation's path).
	Base string
	// Tags keeps only operations with one of these tags.
	Tags []string
	// Operations keeps only the operations with these operationIds, of any
	// method.
	Operations []string
	// AllMethods includes operations of every method; by default only GET
	// and HEAD ones are, since a load test that POSTs or DELETEs by
	// surprise would change the target's data.
	AllMethods bool
}

// Placeholder is the value of a variable the importer could not fill from
// the document: the user must edit it.
const Placeholder = "EDIT-ME"

var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// oaDoc is an OpenAPI document decoded with its maps in order.
type oaDoc struct {
	root yaml.MapSlice
	file string
}

// get returns m[key] for a map m (keys compared as text).
func get(m any, key string) any {
	ms, ok := m.(yaml.MapSlice)
	if !ok {
		return nil
	}
	for _, it := range ms {
		if fmt.Sprint(it.Key) == key {
			return it.Value
		}
	}
	return nil
}

func getStr(m any, key string) string {
	switch v := get(m, key).(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

// resolve follows a local $ref ("#/components/..."), and the refs it
// leads to, at most 32 times.
func (d *oaDoc) resolve(v any) (any, string, error) {
	ref := ""
	for range 32 {
		r, ok := get(v, "$ref").(string)
		if !ok {
			return v, ref, nil
		}
		ref = r
		if !strings.HasPrefix(r, "#/") {
			return nil, r, fmt.Errorf("$ref %q points outside the document: importing reads one file", r)
		}
		var cur any = d.root
		for _, part := range strings.Split(r[2:], "/") {
			part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
			if p, err := url.PathUnescape(part); err == nil {
				part = p
			}
			next := get(cur, part)
			if next == nil {
				if arr, ok := cur.([]any); ok {
					if i, err := strconv.Atoi(part); err == nil && i >= 0 && i < len(arr) {
						next = arr[i]
					}
				}
			}
			if next == nil {
				return nil, r, fmt.Errorf("$ref %q: no such place in the document", r)
			}
			cur = next
		}
		v = cur
	}
	return nil, ref, fmt.Errorf("$ref %q: too many references in a row (a loop?)", ref)
}

var yamlPosRE = regexp.MustCompile(`^\[(\d+):(\d+)\] (.*)`)

// OpenAPI imports an OpenAPI 3.0 or 3.1 document (JSON or YAML) from src,
// read from the file named file: one step per chosen operation, in
// document order.
func OpenAPI(file string, src []byte, o OpenAPIOptions) (*Doc, error) {
	if n, ok := expandedSize(src, maxExpanded); ok && n > maxExpanded {
		return nil, &Error{File: file, Msg: fmt.Sprintf("too large: its YAML aliases expand to more than %d values", maxExpanded)}
	}
	var root any
	if err := yaml.UnmarshalWithOptions(src, &root, yaml.UseOrderedMap()); err != nil {
		msg := strings.SplitN(yaml.FormatError(err, false, false), "\n", 2)[0]
		if m := yamlPosRE.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			col, _ := strconv.Atoi(m[2])
			return nil, &Error{File: file, Line: line, Col: col, Msg: "not valid YAML or JSON: " + m[3]}
		}
		return nil, &Error{File: file, Msg: "not valid YAML or JSON: " + msg}
	}
	rm, ok := root.(yaml.MapSlice)
	if !ok {
		return nil, &Error{File: file, Msg: "not an OpenAPI document: want a map at the top"}
	}
	d := &oaDoc{root: rm, file: file}
	fail := func(format string, args ...any) error {
		return &Error{File: file, Msg: fmt.Sprintf(format, args...)}
	}
	if v := getStr(rm, "swagger"); v != "" {
		if f, ok := get(rm, "swagger").(float64); ok { // swagger: 2.0, unquoted
			v = strconv.FormatFloat(f, 'f', 1, 64)
		}
		return nil, fail("Swagger %s is not supported: convert it to OpenAPI 3 first (for example with swagger2openapi, or editor.swagger.io's Convert)", v)
	}
	ver := getStr(rm, "openapi")
	if f, ok := get(rm, "openapi").(float64); ok { // openapi: 3.0, unquoted
		ver = strconv.FormatFloat(f, 'f', 1, 64)
	}
	if !strings.HasPrefix(ver, "3.0") && !strings.HasPrefix(ver, "3.1") {
		if ver == "" {
			return nil, fail("not an OpenAPI document: it has no openapi: version")
		}
		return nil, fail("OpenAPI %s is not supported (want 3.0 or 3.1)", ver)
	}
	base, prefix, err := d.server(o.Base)
	if err != nil {
		return nil, fail("%v", err)
	}
	title := getStr(get(rm, "info"), "title")
	flow := strings.Trim(nonName.ReplaceAllString(strings.ToLower(title), "_"), "_")
	if flow == "" {
		flow = "api"
	}
	doc := &Doc{Flow: flow, Base: base}
	paths, _ := get(rm, "paths").(yaml.MapSlice)
	b := &opBuilder{d: d, doc: doc, vars: map[string]bool{}, names: namer{}}
	wantOps := map[string]bool{}
	for _, id := range o.Operations {
		wantOps[id] = false
	}
	tagsSeen := map[string]bool{}
	unsafe := 0
	var errs []error
	for _, pi := range paths {
		p := fmt.Sprint(pi.Key)
		item, _, err := d.resolve(pi.Value)
		if err != nil {
			errs = append(errs, fail("paths.%s: %v", p, err))
			continue
		}
		items, _ := item.(yaml.MapSlice)
		for _, oi := range items {
			method := strings.ToLower(fmt.Sprint(oi.Key))
			if !slices.Contains(openAPIMethods, method) {
				continue
			}
			op := oi.Value
			id := getStr(op, "operationId")
			var tags []string
			if ts, ok := get(op, "tags").([]any); ok {
				for _, t := range ts {
					tags = append(tags, fmt.Sprint(t))
					tagsSeen[fmt.Sprint(t)] = true
				}
			}
			if len(o.Tags) > 0 && !slices.ContainsFunc(tags, func(t string) bool { return slices.Contains(o.Tags, t) }) {
				continue
			}
			if len(o.Operations) > 0 {
				if _, ok := wantOps[id]; !ok || id == "" {
					continue
				}
				wantOps[id] = true
			} else if !o.AllMethods && method != "get" && method != "head" {
				unsafe++
				continue
			}
			if err := b.operation(prefix, p, method, id, items, op); err != nil {
				errs = append(errs, fail("%s %s: %v", strings.ToUpper(method), p, err))
			}
		}
	}
	for _, id := range o.Operations {
		if !wantOps[id] {
			errs = append(errs, fail("--operation %s: no operation has this operationId", id))
		}
	}
	for _, t := range o.Tags {
		if !tagsSeen[t] {
			errs = append(errs, fail("--tag %s: no operation has this tag", t))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(doc.Steps) == 0 {
		why := ""
		if unsafe > 0 {
			why = fmt.Sprintf(" (%s left out: only GET and HEAD are imported unless --all-methods)", plural(unsafe, "operation"))
		}
		return nil, fail("no operation to import%s", why)
	}
	doc.Comments = []string{
		fmt.Sprintf("Imported by surge import openapi from %s (%s, OpenAPI %s): %s.", file, orDefault(title, "untitled"), ver, plural(len(doc.Steps), "operation")),
	}
	if unsafe > 0 {
		doc.Comments = append(doc.Comments, fmt.Sprintf("%s other than GET and HEAD left out: add --all-methods to import them.", plural(unsafe, "operation")))
	}
	if len(doc.Vars) > 0 {
		doc.Comments = append(doc.Comments, "vars: parameters the document gives no example for, with placeholders to edit.")
	}
	return doc, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

var serverVarRE = regexp.MustCompile(`\{([^{}]*)\}`)

// server is the scenario's base (an origin) and the path prefix of every
// operation, from servers[0] and --base.
func (d *oaDoc) server(flagBase string) (base, prefix string, err error) {
	var raw string
	if ss, ok := get(d.root, "servers").([]any); ok && len(ss) > 0 {
		s := ss[0]
		raw = getStr(s, "url")
		vars := get(s, "variables")
		raw = serverVarRE.ReplaceAllStringFunc(raw, func(m string) string {
			return getStr(get(vars, m[1:len(m)-1]), "default")
		})
	}
	su, perr := url.Parse(raw)
	if perr != nil {
		return "", "", fmt.Errorf("servers[0].url %q is not a URL", raw)
	}
	prefix = strings.TrimRight(su.EscapedPath(), "/")
	if flagBase == "" {
		if su.Scheme == "" || su.Host == "" {
			if raw == "" {
				return "", "", errors.New("the document names no server: give the target with --base http://HOST:PORT")
			}
			return "", "", fmt.Errorf("servers[0].url %q is relative: give the target with --base http://HOST:PORT", raw)
		}
		if su.Scheme != "http" && su.Scheme != "https" {
			return "", "", fmt.Errorf("servers[0].url %q: scheme %s is not supported (want http or https)", raw, su.Scheme)
		}
		return origin(su), prefix, nil
	}
	bu, berr := url.Parse(flagBase)
	if berr != nil || (bu.Scheme != "http" && bu.Scheme != "https") || bu.Host == "" || bu.RawQuery != "" {
		return "", "", fmt.Errorf("--base %q: want an absolute http:// or https:// URL", flagBase)
	}
	return origin(bu), strings.TrimRight(bu.EscapedPath(), "/") + prefix, nil
}

// opBuilder makes steps of operations.
type opBuilder struct {
	d     *oaDoc
	doc   *Doc
	vars  map[string]bool
	names namer
	work  int // values built for the current body, against schemas that fan out
}

// maxBuilt bounds the values of one body built from a schema.
const maxBuilt = 2000

func (b *opBuilder) operation(prefix, p, method, id string, item yaml.MapSlice, op any) error {
	st := &Step{Method: strings.ToUpper(method)}
	// parameters: the path item's, replaced by the operation's of the same name and place
	type param struct{ name, in string }
	var params []any
	seen := map[param]int{}
	for _, src := range []any{get(item, "parameters"), get(op, "parameters")} {
		list, _ := src.([]any)
		for _, pv := range list {
			pr, _, err := b.d.resolve(pv)
			if err != nil {
				return err
			}
			k := param{getStr(pr, "name"), getStr(pr, "in")}
			if i, ok := seen[k]; ok {
				params[i] = pr
				continue
			}
			seen[k] = len(params)
			params = append(params, pr)
		}
	}
	path := prefix + p
	var query []string
	for _, pr := range params {
		name, in := getStr(pr, "name"), getStr(pr, "in")
		required, _ := get(pr, "required").(bool)
		switch {
		case in == "path":
			v, err := b.value(pr, name)
			if err != nil {
				return err
			}
			path = strings.ReplaceAll(path, "{"+name+"}", v)
		case in == "query" && required:
			v, err := b.value(pr, name)
			if err != nil {
				return err
			}
			query = append(query, url.QueryEscape(name)+"="+v)
		case in == "header" && required:
			v, err := b.value(pr, name)
			if err != nil {
				return err
			}
			st.Headers = append(st.Headers, KV{Key: name, Value: v})
		}
	}
	for _, m := range serverVarRE.FindAllStringSubmatch(p, -1) {
		if _, ok := seen[param{m[1], "path"}]; !ok {
			return fmt.Errorf("path parameter {%s} is not declared", m[1])
		}
	}
	st.URL = path
	if len(query) > 0 {
		st.URL += "?" + strings.Join(query, "&")
	}
	if err := b.body(st, op); err != nil {
		return err
	}
	if rs, ok := get(op, "responses").(yaml.MapSlice); ok {
		for _, r := range rs {
			code := fmt.Sprint(r.Key)
			if n, err := strconv.Atoi(code); err == nil && n >= 200 && n < 300 {
				st.Checks = []string{"status==" + code}
				break
			}
		}
	}
	st.Name = b.names.name(snake(id), st.Method, p)
	b.doc.Steps = append(b.doc.Steps, st)
	return nil
}

var camel = regexp.MustCompile(`([a-z0-9])([A-Z])`)

// snake makes an operationId a step name: listPets → list_pets.
func snake(id string) string {
	s := camel.ReplaceAllString(id, "${1}_${2}")
	return strings.Trim(nonName.ReplaceAllString(strings.ToLower(s), "_"), "_")
}

// value is a parameter's value as it goes into a URL or header: from the
// document's example, examples, default or first enum value, else a
// variable {{name}} with a placeholder in vars:.
func (b *opBuilder) value(pr any, name string) (string, error) {
	schema, _, err := b.d.resolve(get(pr, "schema"))
	if err != nil {
		return "", err
	}
	in := getStr(pr, "in")
	if v, ok := b.example(pr, schema); ok {
		s, ok := scalar(v)
		if ok {
			if in == "header" {
				return s, headerText(name, s)
			}
			if in == "path" {
				return literalURL(url.PathEscape(s)), nil
			}
			return literalURL(url.QueryEscape(s)), nil
		}
	}
	v := varName(name)
	if !b.vars[v] {
		b.vars[v] = true
		var val any = Placeholder
		switch getStr(schema, "type") {
		case "integer", "number":
			val = Number("1")
		}
		b.doc.Vars = append(b.doc.Vars, KV{Key: v, Value: val})
	}
	return "{{" + v + "}}", nil
}

// example is the first of example, examples, default and enum[0] of a
// parameter or media type, then of its schema.
func (b *opBuilder) example(pr, schema any) (any, bool) {
	for _, m := range []any{pr, schema} {
		if ms, ok := m.(yaml.MapSlice); ok {
			for _, it := range ms {
				switch fmt.Sprint(it.Key) {
				case "example", "default", "const":
					return it.Value, true
				case "examples":
					switch ex := it.Value.(type) {
					case yaml.MapSlice: // OpenAPI: name → Example object
						if len(ex) > 0 {
							e, _, err := b.d.resolve(ex[0].Value)
							if err == nil && get(e, "value") != nil {
								return get(e, "value"), true
							}
						}
					case []any: // JSON Schema 2020-12
						if len(ex) > 0 {
							return ex[0], true
						}
					}
				case "enum":
					if l, ok := it.Value.([]any); ok && len(l) > 0 {
						return l[0], true
					}
				}
			}
		}
	}
	return nil, false
}

func scalar(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool, int, int64, uint64, float64:
		return fmt.Sprint(x), true
	}
	return "", false
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// varName makes a parameter name a scenario variable name.
func varName(name string) string {
	v := strings.Trim(regexp.MustCompile(`[^A-Za-z0-9_]+`).ReplaceAllString(name, "_"), "_")
	if v == "" || !identRE.MatchString(v) || v == "id" || v == "user" || v == "n" {
		v = "param_" + v
	}
	return v
}

// body sets a JSON request body from the media type's example, else built
// from its schema.
func (b *opBuilder) body(st *Step, op any) error {
	rb, _, err := b.d.resolve(get(op, "requestBody"))
	if err != nil || rb == nil {
		return err
	}
	content, _ := get(rb, "content").(yaml.MapSlice)
	for _, c := range content {
		mt := strings.ToLower(fmt.Sprint(c.Key))
		if mt != "application/json" && !strings.HasSuffix(mt, "+json") {
			continue
		}
		var v any
		if ex, ok := b.example(c.Value, nil); ok {
			v = toJSON(ex, 0)
		} else {
			b.work = 0
			v = b.build(get(c.Value, "schema"), map[string]bool{}, 0)
		}
		if err := literalJSON("the example body", v); err != nil {
			return err
		}
		if plainKeys(v) {
			st.JSON, st.HasJSON = v, true
		} else { // keys YAML cannot hold as written: the JSON text itself
			var b strings.Builder
			compactJSON(&b, v)
			body := b.String()
			st.Body = &body
			if mt == "application/json" {
				st.Headers = append(st.Headers, KV{Key: "Content-Type", Value: "application/json"})
			}
		}
		if mt != "application/json" {
			st.Headers = append(st.Headers, KV{Key: "Content-Type", Value: fmt.Sprint(c.Key)})
		}
		return nil
	}
	if required, _ := get(rb, "required").(bool); required && len(content) > 0 {
		return fmt.Errorf("the request body is required and only JSON bodies are imported (this one is %s)", fmt.Sprint(content[0].Key))
	}
	return nil
}

// maxBuildDepth bounds the nesting of a body built from a schema.
const maxBuildDepth = 8

// build makes an example JSON value from a schema: examples, defaults and
// enums first, then a value of its type; $refs are followed, a $ref
// already being built (a cycle) is cut, and nesting is bounded.
func (b *opBuilder) build(s any, onPath map[string]bool, depth int) any {
	if b.work++; depth > maxBuildDepth || b.work > maxBuilt {
		return nil
	}
	s, ref, err := b.d.resolve(s)
	if err != nil || s == nil {
		return nil
	}
	if ref != "" {
		if onPath[ref] {
			return nil
		}
		onPath[ref] = true
		defer delete(onPath, ref)
	}
	if ex, ok := b.example(s, nil); ok {
		return toJSON(ex, 0)
	}
	for _, k := range []string{"oneOf", "anyOf"} {
		if l, ok := get(s, k).([]any); ok && len(l) > 0 {
			return b.build(l[0], onPath, depth+1)
		}
	}
	if l, ok := get(s, "allOf").([]any); ok && len(l) > 0 {
		obj := Object{}
		for _, part := range l {
			if po, ok := b.build(part, onPath, depth+1).(Object); ok {
				obj = mergeObject(obj, po)
			}
		}
		return obj
	}
	typ := getStr(s, "type")
	if ts, ok := get(s, "type").([]any); ok { // 3.1: [string, "null"]
		typ = ""
		for _, t := range ts {
			if t != "null" {
				typ = fmt.Sprint(t)
				break
			}
		}
	}
	if typ == "" {
		switch {
		case get(s, "properties") != nil:
			typ = "object"
		case get(s, "items") != nil:
			typ = "array"
		}
	}
	switch typ {
	case "object":
		obj := Object{}
		props, _ := get(s, "properties").(yaml.MapSlice)
		for _, p := range props {
			v := b.build(p.Value, onPath, depth+1)
			if v == nil {
				if _, rf, _ := b.d.resolve(p.Value); rf != "" && onPath[rf] {
					continue // the cycle is cut here
				}
			}
			obj = append(obj, KV{Key: fmt.Sprint(p.Key), Value: v})
		}
		return obj
	case "array":
		item := b.build(get(s, "items"), onPath, depth+1)
		if item == nil {
			return []any{}
		}
		return []any{item}
	case "string":
		switch getStr(s, "format") {
		case "date-time":
			return "2026-01-01T00:00:00Z"
		case "date":
			return "2026-01-01"
		case "email":
			return "user@example.com"
		case "uuid":
			return "00000000-0000-0000-0000-000000000000"
		case "uri", "url":
			return "https://example.com/"
		}
		return "string"
	case "integer":
		return Number("0")
	case "number":
		return Number("0.0")
	case "boolean":
		return false
	}
	return nil
}

func mergeObject(a, b Object) Object {
	for _, kv := range b {
		i := slices.IndexFunc(a, func(x KV) bool { return x.Key == kv.Key })
		if i >= 0 {
			a[i] = kv
		} else {
			a = append(a, kv)
		}
	}
	return a
}

// toJSON converts a decoded YAML value to the importer's JSON values.
func toJSON(v any, depth int) any {
	if depth > maxDepth {
		return nil
	}
	switch x := v.(type) {
	case yaml.MapSlice:
		obj := Object{}
		for _, it := range x {
			obj = append(obj, KV{Key: fmt.Sprint(it.Key), Value: toJSON(it.Value, depth+1)})
		}
		return obj
	case []any:
		out := []any{}
		for _, e := range x {
			out = append(out, toJSON(e, depth+1))
		}
		return out
	case string, bool, nil:
		return x
	case int, int64, uint64:
		return Number(fmt.Sprint(x))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil // JSON has no such number
		}
		return Number(strconv.FormatFloat(x, 'g', -1, 64))
	default:
		return fmt.Sprint(x)
	}
}
