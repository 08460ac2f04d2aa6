package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/surgeload/surge/internal/expr"
	"github.com/surgeload/surge/internal/tmpl"
)

// maxFileBytes bounds a scenario file.
const maxFileBytes = 8 << 20

// LoadFile reads the scenario file at path, and the feeder files it names
// (relative to its directory), and checks all of it. A file that cannot
// be read is an error wrapping the os error; a file with problems is an
// Errors listing every problem, sorted by position.
func LoadFile(path string) (*Scenario, error) {
	st, err := os.Stat(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) && pe.Path == path {
			err = pe.Err // the path is in the message already
		}
		return nil, fmt.Errorf("scenario %s: %w", path, err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("scenario %s: is a directory, not a file", path)
	}
	if st.Size() > maxFileBytes {
		return nil, fmt.Errorf("scenario %s: %d bytes is too large for a scenario file", path, st.Size())
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", path, err)
	}
	return Parse(path, src)
}

// Parse checks src as the content of the scenario file named file; feeder
// files are read relative to file's directory. Its errors are those of
// LoadFile.
func Parse(file string, src []byte) (*Scenario, error) {
	l := &loader{
		file:    file,
		dir:     filepath.Dir(file),
		lines:   splitLines(src),
		anchors: map[string]ast.Node{},
		sc:      &Scenario{File: file, Cookies: true},
	}
	l.parse(src)
	if len(l.errs) > 0 {
		return nil, sortErrors(l.errs, file)
	}
	return l.sc, nil
}

func splitLines(src []byte) []string {
	s := strings.ReplaceAll(string(src), "\r\n", "\n")
	lines := strings.Split(s, "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

type loader struct {
	file, dir string
	lines     []string
	errs      Errors
	anchors   map[string]ast.Node
	sc        *Scenario

	work       int  // values expanded so far, against alias bombs
	baseGiven  bool // base: is in the file, even if it is bad
	unknownTop bool // the file has an unknown top-level key

	vars      map[string]bool
	feeders   map[string]*Feeder
	defHeader []Header
	defTime   time.Duration  // defaults.timeout, 0 for none
	steps     map[string]Pos // step names, where first seen
}

var topKeys = []string{"base", "defaults", "vars", "data", "cookies", "load", "thresholds", "flows", "steps"}

func (l *loader) parse(src []byte) {
	f, err := l.parseYAML(src)
	if err != nil {
		return
	}
	var body ast.Node
	for i, d := range f.Docs {
		if d == nil || d.Body == nil {
			continue
		}
		if body != nil {
			l.errf(tokPos(f.Docs[i].Start), "only one YAML document per file (remove this ---)")
			break
		}
		body = d.Body
	}
	if body == nil {
		l.errf(Pos{1, 1}, "the file is empty: a scenario needs at least steps: (or flows:)")
		return
	}
	l.collectAnchors(body, 0)
	body = l.resolve(body)
	top, ok := l.fields(body, posOf(body), "the scenario", topKeys...)
	if !ok {
		return
	}
	l.unknownTop = len(l.errs) > 0
	if e, ok := top["base"]; ok {
		l.baseGiven = true
		l.base(e)
	}
	if e, ok := top["defaults"]; ok {
		l.defaults(e)
	}
	l.vars = map[string]bool{}
	if e, ok := top["vars"]; ok {
		l.readVars(e)
	}
	l.feeders = map[string]*Feeder{}
	if e, ok := top["data"]; ok {
		l.data(e)
	}
	if e, ok := top["cookies"]; ok {
		if b, ok := l.boolean(e, "cookies"); ok {
			l.sc.Cookies = b
		}
	}
	if e, ok := top["load"]; ok {
		l.load(e)
	}
	fe, hasFlows := top["flows"]
	se, hasSteps := top["steps"]
	switch {
	case hasFlows && hasSteps:
		l.errf(se.kpos, "steps: and flows: cannot both be given: put these steps in a flow, or drop flows:")
	case hasFlows:
		l.flows(fe)
	case hasSteps:
		l.flowList([]flowSrc{{name: "default", weight: 1, steps: se, pos: se.kpos}})
	case !l.unknownTop:
		l.errf(posOf(body), "no steps: add a steps: list (one journey) or flows: (several)")
	}
	if e, ok := top["thresholds"]; ok {
		l.thresholds(e)
	}
}

// parseYAML parses src, reporting a syntax error at its place. A panic
// inside the YAML parser is reported as a syntax error at 1:1.
func (l *loader) parseYAML(src []byte) (f *ast.File, err error) {
	defer func() {
		if p := recover(); p != nil {
			l.errf(Pos{1, 1}, "cannot parse YAML: %v", p)
			f, err = nil, errors.New("panic")
		}
	}()
	f, err = parser.ParseBytes(src, 0)
	if err != nil {
		var se *yamlSyntaxError
		if errors.As(err, &se) && se.Token != nil {
			msg := "YAML: " + se.Message
			if m := dupKeyRE.FindStringSubmatch(se.Message); m != nil {
				msg = fmt.Sprintf("key %q appears twice (first at line %s)", m[1], m[2])
			}
			l.errf(tokPos(se.Token), "%s", msg)
		} else {
			l.errf(Pos{1, 1}, "YAML: %s", strings.SplitN(err.Error(), "\n", 2)[0])
		}
		return nil, err
	}
	return f, nil
}

// dupKeyRE reads goccy/go-yaml's message for a key given twice.
var dupKeyRE = regexp.MustCompile(`^mapping key "(.*)" already defined at \[(\d+):\d+\]$`)

func (l *loader) base(e entry) {
	s, ok := l.str(e, "base")
	if !ok {
		return
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		l.errf(e.vpos, "base: %q is not an absolute http:// or https:// URL (e.g. http://127.0.0.1:8080)", s)
	case strings.Contains(s, "{{"):
		l.errf(e.vpos, "base: variables are not allowed in base")
	default:
		l.sc.Base = s
	}
}

func (l *loader) defaults(e entry) {
	m, ok := l.fields(e.val, e.vpos, "defaults", "headers", "timeout")
	if !ok {
		return
	}
	if h, ok := m["headers"]; ok {
		es, _ := l.entries(h.val, h.vpos, "defaults.headers")
		for _, he := range es {
			v, ok := l.header(he, "defaults.headers")
			if ok {
				l.defHeader = append(l.defHeader, Header{Name: he.key, Value: v})
				l.checkTemplate(he.val, v, tmpl.Raw, nil)
			}
		}
	}
	if t, ok := m["timeout"]; ok {
		if d, ok := l.duration(t, "defaults.timeout"); ok && d == 0 {
			l.errf(t.vpos, "defaults.timeout: must be more than 0")
		} else {
			l.defTime = d
		}
	}
}

func (l *loader) header(e entry, what string) (string, bool) {
	if !validHeaderName(e.key) {
		l.errf(e.kpos, "%s: %q is not a header name", what, e.key)
		return "", false
	}
	v, ok := l.str(e, what+"."+e.key)
	if ok && strings.ContainsAny(v, "\r\n") {
		l.errf(e.vpos, "%s.%s: a header value cannot contain a line break", what, e.key)
		return "", false
	}
	return v, ok
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// name checks a variable or feeder name.
func (l *loader) name(e entry, what string) bool {
	switch {
	case !identRE.MatchString(e.key):
		l.errf(e.kpos, "%s: %q is not a valid name (letters, digits and _, not starting with a digit)", what, e.key)
	case tmpl.IsBuiltin(e.key):
		l.errf(e.kpos, "%s: %q is a built-in variable and cannot be redefined", what, e.key)
	default:
		return true
	}
	return false
}

func (l *loader) readVars(e entry) {
	es, _ := l.entries(e.val, e.vpos, "vars")
	for _, ve := range es {
		if !l.name(ve, "vars") {
			continue
		}
		v, ok := scalarText(ve.val)
		if !ok {
			l.errf(ve.vpos, "vars.%s: want a string, number or boolean, got %s", ve.key, kindOf(ve.val))
			continue
		}
		l.vars[ve.key] = true
		l.sc.Vars = append(l.sc.Vars, Var{Name: ve.key, Value: v})
	}
}

func (l *loader) data(e entry) {
	es, _ := l.entries(e.val, e.vpos, "data")
	for _, de := range es {
		if !l.name(de, "data") {
			continue
		}
		what := "data." + de.key
		m, ok := l.fields(de.val, de.vpos, what, "file", "order", "on_end")
		if !ok {
			continue
		}
		f := &Feeder{Name: de.key, Pos: de.kpos, Order: Sequential, OnEnd: Wrap}
		good := true
		if oe, ok := m["order"]; ok {
			s, _ := l.str(oe, what+".order")
			switch s {
			case "sequential":
			case "random":
				f.Order = Random
			case "unique":
				f.Order, f.OnEnd = Unique, EndRun
			default:
				l.errf(oe.vpos, "%s.order: %q is not an order (want sequential, random or unique)", what, s)
				good = false
			}
		}
		if ee, ok := m["on_end"]; ok {
			s, _ := l.str(ee, what+".on_end")
			switch {
			case s != "wrap" && s != "stop":
				l.errf(ee.vpos, "%s.on_end: %q is not a choice (want wrap or stop)", what, s)
				good = false
			case f.Order == Random:
				l.errf(ee.kpos, "%s.on_end: a random feeder never runs out: remove on_end", what)
				good = false
			case f.Order == Unique && s == "wrap":
				l.errf(ee.vpos, "%s.on_end: a unique feeder hands out each row once, so it cannot wrap: use order: sequential, or on_end: stop", what)
				good = false
			case s == "stop":
				f.OnEnd = EndRun
			}
		}
		fe, ok := m["file"]
		if !ok {
			l.errf(de.kpos, "%s: missing file: (a CSV file with a header row, or .jsonl)", what)
			continue
		}
		name, ok := l.str(fe, what+".file")
		if !ok {
			continue
		}
		if name == "" {
			l.errf(fe.vpos, "%s.file: empty file name", what)
			continue
		}
		f.File = name
		if !filepath.IsAbs(name) {
			f.File = filepath.Join(l.dir, name)
		}
		if !l.readFeederFile(f, fe, what) || !good {
			continue
		}
		l.feeders[f.Name] = f
		l.sc.Data = append(l.sc.Data, f)
	}
}

func (l *loader) readFeederFile(f *Feeder, fe entry, what string) bool {
	st, err := os.Stat(f.File)
	if err != nil {
		msg := err.Error()
		if errors.Is(err, os.ErrNotExist) {
			msg = "no such file"
		}
		l.errf(fe.vpos, "%s.file: cannot read %s: %s", what, f.File, msg)
		return false
	}
	if st.IsDir() {
		l.errf(fe.vpos, "%s.file: %s is a directory", what, f.File)
		return false
	}
	if st.Size() > maxFeederBytes {
		l.errf(fe.vpos, "%s.file: %s is larger than %d MiB", what, f.File, maxFeederBytes>>20)
		return false
	}
	data, err := os.ReadFile(f.File)
	if err != nil {
		l.errf(fe.vpos, "%s.file: cannot read %s: %v", what, f.File, err)
		return false
	}
	lines := splitLines(data)
	n := len(l.errs)
	readFeeder(f, data, lines, func(line, col int, format string, args ...any) {
		l.errs = append(l.errs, l.inputError(f.File, lines, Pos{line, col}, fmt.Sprintf(format, args...)))
	})
	return len(l.errs) == n
}

func (l *loader) load(e entry) {
	m, ok := l.fields(e.val, e.vpos, "load", "users", "rate", "duration", "ramp", "stages", "think")
	if !ok {
		return
	}
	ld := &l.sc.Load
	ue, hasUsers := m["users"]
	re, hasRate := m["rate"]
	switch {
	case hasUsers && hasRate:
		l.errf(re.kpos, "load: users and rate cannot both be given (users: a closed model of concurrent users; rate: an open model of journeys started per second)")
	case hasUsers:
		if n, ok := l.integer(ue, "load.users"); ok {
			if n < 1 {
				l.errf(ue.vpos, "load.users: %d is less than 1", n)
			} else {
				ld.Users = n
			}
		}
	case hasRate:
		if r, ok := l.number(re, "load.rate"); ok {
			if !(r > 0) || r > 1e9 {
				l.errf(re.vpos, "load.rate: %v is not a rate (want journeys per second > 0)", r)
			} else {
				ld.Rate = r
			}
		}
	}
	if de, ok := m["duration"]; ok {
		if d, ok := l.duration(de, "load.duration"); ok {
			if d == 0 {
				l.errf(de.vpos, "load.duration: must be more than 0")
			}
			ld.Duration = d
		}
	}
	if re, ok := m["ramp"]; ok {
		if d, ok := l.duration(re, "load.ramp"); ok {
			ld.Ramp = d
			if ld.Duration > 0 && d > ld.Duration {
				l.errf(re.vpos, "load.ramp: %v is longer than the duration (%v)", d, ld.Duration)
			}
		}
	}
	if te, ok := m["think"]; ok {
		if hasRate {
			l.errf(te.kpos, "load.think: a pause between journeys needs users (the closed model); with rate, journeys start on schedule: use think: on steps instead")
		} else {
			ld.Think, ld.ThinkMax, _ = l.think(te, "load.think")
		}
	}
	se, ok := m["stages"]
	if !ok {
		return
	}
	if re, ok := m["ramp"]; ok {
		l.errf(re.kpos, "load: ramp and stages cannot both be given: make the ramp the first stage ({to: N, over: D})")
	}
	items, ok := l.list(se, "load.stages")
	if !ok {
		return
	}
	if len(items) == 0 {
		l.errf(se.vpos, "load.stages: the list is empty")
	}
	var total, last = int64(0), Pos{}
	for i, it := range items {
		what := fmt.Sprintf("load.stages[%d]", i)
		p := posOf(it)
		sm, ok := l.fields(l.resolve(it), p, what, "to", "over", "hold")
		if !ok {
			continue
		}
		st := Stage{}
		to, hasTo := sm["to"]
		over, hasOver := sm["over"]
		hold, hasHold := sm["hold"]
		switch {
		case hasTo && hasHold:
			l.errf(hold.kpos, "%s: a stage is either {to: N, over: D} or {hold: D}, not both", what)
			continue
		case hasHold && hasOver:
			l.errf(over.kpos, "%s: over goes with to: a hold stage is {hold: D}", what)
			continue
		case hasHold:
			if d, ok := l.duration(hold, what+".hold"); ok {
				if d == 0 {
					l.errf(hold.vpos, "%s.hold: must be more than 0", what)
				}
				st.Hold = d
			}
		case hasTo:
			if ld.Rate > 0 || hasRate {
				if v, ok := l.number(to, what+".to"); ok {
					if v < 0 || v > 1e9 {
						l.errf(to.vpos, "%s.to: %v is not a rate", what, v)
					}
					st.To = v
				}
			} else if n, ok := l.integer(to, what+".to"); ok {
				if n < 0 {
					l.errf(to.vpos, "%s.to: %d users is negative", what, n)
				}
				st.To = float64(n)
			}
			if hasOver {
				st.Over, _ = l.duration(over, what+".over")
			}
		default:
			l.errf(p, "%s: a stage needs to: (with over:) or hold:", what)
			continue
		}
		total += int64(st.Over + st.Hold)
		last = p
		ld.Stages = append(ld.Stages, st)
	}
	if ld.Duration > 0 && total > int64(ld.Duration) {
		de := m["duration"]
		l.errf(de.vpos, "load.duration: %v is shorter than the stages (%v in all)", ld.Duration, durationString(total))
	}
	if total == 0 && len(ld.Stages) > 0 {
		l.errf(last, "load.stages: the stages last 0s: give a stage over: or hold:")
	}
}

func durationString(ns int64) string { return strconv.FormatFloat(float64(ns)/1e9, 'f', -1, 64) + "s" }

// flowSrc is a flow as written, before its steps are read.
type flowSrc struct {
	name   string
	weight int
	steps  entry
	pos    Pos
	// extracts are, for each step, the variables it extracts
	extracts [][]string
	// labels name each step for messages: its name:, or "step N", and its line
	labels []string
}

func (l *loader) flows(e entry) {
	items, ok := l.list(e, "flows")
	if !ok {
		return
	}
	if len(items) == 0 {
		l.errf(e.vpos, "flows: the list is empty")
		return
	}
	var srcs []flowSrc
	names := map[string]Pos{}
	for i, it := range items {
		what := fmt.Sprintf("flows[%d]", i)
		p := posOf(it)
		m, ok := l.fields(l.resolve(it), p, what, "name", "weight", "steps")
		if !ok {
			continue
		}
		fs := flowSrc{name: fmt.Sprintf("flow%d", i+1), weight: 1, pos: p}
		if ne, ok := m["name"]; ok {
			if s, ok := l.str(ne, what+".name"); ok {
				if strings.TrimSpace(s) == "" {
					l.errf(ne.vpos, "%s.name: empty name", what)
				}
				fs.name = s
				if first, dup := names[s]; dup {
					l.errf(ne.vpos, "%s.name: flow %q is named twice (first at line %d)", what, s, first.Line)
				}
				names[s] = ne.vpos
			}
		}
		if we, ok := m["weight"]; ok {
			if w, ok := l.integer(we, what+".weight"); ok {
				if w < 1 {
					l.errf(we.vpos, "%s.weight: %d is less than 1 (weights are relative shares, 1 or more)", what, w)
				}
				fs.weight = w
			}
		}
		se, ok := m["steps"]
		if !ok {
			l.errf(p, "%s: missing steps:", what)
			continue
		}
		fs.steps = se
		srcs = append(srcs, fs)
	}
	l.flowList(srcs)
}

// flowList reads the steps of every flow. A first pass finds what each
// step extracts, so that a variable used before the step that extracts
// it, or in another flow, gets a precise message.
func (l *loader) flowList(srcs []flowSrc) {
	l.steps = map[string]Pos{}
	items := make([][]ast.Node, len(srcs))
	for i := range srcs {
		fs := &srcs[i]
		list, ok := l.list(fs.steps, "steps")
		if !ok {
			continue
		}
		if len(list) == 0 {
			l.errf(fs.steps.vpos, "steps: the list is empty")
			continue
		}
		items[i] = list
		fs.extracts = make([][]string, len(list))
		fs.labels = make([]string, len(list))
		for j, it := range list {
			fs.extracts[j] = l.extractNames(l.resolve(it))
			fs.labels[j] = fmt.Sprintf("step %d, line %d", j+1, posOf(it).Line)
			if name := l.stepName(l.resolve(it)); name != "" {
				fs.labels[j] = fmt.Sprintf("%s, line %d", name, posOf(it).Line)
			}
		}
	}
	for i := range srcs {
		if items[i] == nil {
			continue
		}
		fl := &Flow{Name: srcs[i].name, Weight: srcs[i].weight, Pos: srcs[i].pos}
		sc := &scope{l: l, flows: srcs, flow: i, extracted: map[string]bool{}}
		for j, it := range items[i] {
			sc.step = j
			if st := l.step(l.resolve(it), posOf(it), sc); st != nil {
				fl.Steps = append(fl.Steps, st)
			}
			for _, v := range srcs[i].extracts[j] {
				sc.extracted[v] = true
			}
		}
		l.sc.Flows = append(l.sc.Flows, fl)
	}
}

// extractNames lists the variables a step (as written) extracts, without
// reporting anything: the step's own reading does.
func (l *loader) extractNames(n ast.Node) []string {
	m, ok := n.(*ast.MappingNode)
	if !ok {
		return nil
	}
	for _, mv := range m.Values {
		if k, _ := scalarText(l.resolve(mv.Key)); k != "extract" {
			continue
		}
		em, ok := l.resolve(mv.Value).(*ast.MappingNode)
		if !ok {
			return nil
		}
		var out []string
		for _, v := range em.Values {
			if k, ok := scalarText(l.resolve(v.Key)); ok {
				out = append(out, k)
			}
		}
		return out
	}
	return nil
}

// stepName is a step's name: as written, without reporting anything.
func (l *loader) stepName(n ast.Node) string {
	m, ok := n.(*ast.MappingNode)
	if !ok {
		return ""
	}
	for _, mv := range m.Values {
		if k, _ := scalarText(l.resolve(mv.Key)); k == "name" {
			s, _ := scalarText(l.resolve(mv.Value))
			return s
		}
	}
	return ""
}

// scope is what a step's templates may use.
type scope struct {
	l         *loader
	flows     []flowSrc
	flow      int
	step      int
	extracted map[string]bool // by the earlier steps of this flow
}

// defined reports whether name is a variable here.
func (s *scope) defined(name string) bool {
	if s.l.vars[name] || s.extracted[name] {
		return true
	}
	fd, col, ok := strings.Cut(name, ".")
	if !ok {
		return false
	}
	f := s.l.feeders[fd]
	return f != nil && f.Column(col) >= 0
}

// unknown explains why name is not a variable here.
func (s *scope) unknown(name string) string {
	l := s.l
	if fd, col, ok := strings.Cut(name, "."); ok {
		if f := l.feeders[fd]; f != nil {
			return fmt.Sprintf("unknown variable {{%s}}: feeder %s has no column %q (columns: %s)", name, fd, col, strings.Join(f.Columns, ", "))
		}
		if len(l.feeders) == 0 {
			return fmt.Sprintf("unknown variable {{%s}}: no feeder named %s (data: defines none)", name, fd)
		}
		return fmt.Sprintf("unknown variable {{%s}}: no feeder named %s (feeders: %s)", name, fd, strings.Join(sortedKeys(l.feeders), ", "))
	}
	if s.flows == nil { // defaults
		return fmt.Sprintf("unknown variable {{%s}}: defaults can use vars, feeders and the built-ins, not what steps extract", name)
	}
	{
		fs := s.flows[s.flow]
		for j := s.step; j < len(fs.extracts); j++ {
			if slices.Contains(fs.extracts[j], name) {
				if j == s.step {
					return fmt.Sprintf("variable {{%s}} is extracted by this same step: it is set only after the response, for the steps after it", name)
				}
				return fmt.Sprintf("variable {{%s}} is extracted only by a later step (%s): a step can use only what earlier steps of its flow extract", name, fs.labels[j])
			}
		}
		for i, other := range s.flows {
			for _, ex := range other.extracts {
				if i != s.flow && slices.Contains(ex, name) {
					return fmt.Sprintf("unknown variable {{%s}}: it is extracted in flow %s, and variables do not cross flows", name, other.name)
				}
			}
		}
	}
	var known []string
	for v := range l.vars {
		known = append(known, v)
	}
	for v := range s.extracted {
		known = append(known, v)
	}
	for _, k := range append(known, "id", "user", "n") {
		if distance(name, k) <= 2 && len(name) > 2 {
			return fmt.Sprintf("unknown variable {{%s}} (did you mean {{%s}}?)", name, k)
		}
	}
	return fmt.Sprintf("unknown variable {{%s}}", name)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// checkTemplate compiles text, which is the text of node n (or a part of
// it starting at offset base), reporting its first problem at its place.
func (l *loader) checkTemplate(n ast.Node, text string, esc tmpl.Escape, s *scope) bool {
	if s == nil {
		s = &scope{l: l}
	}
	_, err := tmpl.Compile(text, func(name string) (int, bool) { return 0, s.defined(name) }, esc)
	if err == nil {
		return true
	}
	var te *tmpl.Error
	if !errors.As(err, &te) {
		l.errf(posOf(n), "%v", err)
		return false
	}
	msg := te.Msg
	if te.Name != "" {
		msg = s.unknown(te.Name)
	}
	l.errf(l.textPos(n, te.Offset), "%s", msg)
	return false
}

var stepKeys = []string{"name", "method", "url", "headers", "body", "json", "form", "timeout", "extract", "check", "think", "on_error"}

var knownMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"}

func (l *loader) step(n ast.Node, p Pos, s *scope) *Step {
	what := "step"
	m, ok := l.fields(n, p, what, stepKeys...)
	if !ok {
		return nil
	}
	st := &Step{Method: "GET", Pos: p}
	good := true
	bad := func() { good = false }
	if me, ok := m["method"]; ok {
		v, ok := l.str(me, "method")
		switch {
		case !ok:
			bad()
		case slices.Contains(knownMethods, strings.ToUpper(v)) && v != strings.ToUpper(v):
			l.errf(me.vpos, "method: write %q in capitals (%s)", v, strings.ToUpper(v))
			bad()
		case v == "CONNECT":
			l.errf(me.vpos, "method: CONNECT cannot be sent as a step")
			bad()
		case !validMethod(v):
			l.errf(me.vpos, "method: %q is not an HTTP method (GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, or another token in capitals)", v)
			bad()
		default:
			st.Method = v
		}
	}
	ue, hasURL := m["url"]
	if !hasURL {
		l.errf(p, "step: missing url:")
		return nil
	}
	if u, ok := l.str(ue, "url"); ok && l.checkURL(ue, u, s) {
		st.URL = u
	} else {
		bad()
	}
	st.Name = st.Method + " " + pathOf(st.URL)
	explicit := false
	if ne, ok := m["name"]; ok {
		if v, ok := l.str(ne, "name"); ok {
			if strings.TrimSpace(v) == "" {
				l.errf(ne.vpos, "name: empty step name")
				bad()
			} else {
				st.Name, explicit = v, true
			}
		}
	}
	if explicit || st.URL != "" {
		if first, dup := l.steps[st.Name]; dup {
			if explicit {
				l.errf(m["name"].vpos, "step name %q is used twice (first at line %d): step names must be unique", st.Name, first.Line)
			} else {
				l.errf(p, "two steps are both named %q (first at line %d): give them distinct names with name:", st.Name, first.Line)
			}
			bad()
		} else {
			l.steps[st.Name] = p
		}
	}

	// headers: the defaults', unless the step sets the same one, then the step's
	var own []Header
	if he, ok := m["headers"]; ok {
		es, _ := l.entries(he.val, he.vpos, "headers")
		for _, e := range es {
			if v, ok := l.header(e, "headers"); ok && l.checkTemplate(e.val, v, tmpl.Raw, s) {
				own = append(own, Header{Name: e.key, Value: v})
			} else {
				bad()
			}
		}
	}
	for _, h := range l.defHeader {
		if !hasHeader(own, h.Name) {
			st.Headers = append(st.Headers, h)
		}
	}
	st.Headers = append(st.Headers, own...)

	var bodyKeys []entry
	for _, k := range []string{"body", "json", "form"} {
		if e, ok := m[k]; ok {
			bodyKeys = append(bodyKeys, e)
		}
	}
	slices.SortFunc(bodyKeys, func(a, b entry) int { return cmpPos(a.kpos, b.kpos) })
	if len(bodyKeys) > 1 {
		l.errf(bodyKeys[1].kpos, "%s: body, json and form are exclusive: keep one", bodyKeys[1].key)
		bad()
	} else if len(bodyKeys) == 1 {
		if !l.body(st, bodyKeys[0], s) {
			bad()
		}
	}

	if te, ok := m["timeout"]; ok {
		if d, ok := l.duration(te, "timeout"); ok && d > 0 {
			st.Timeout = d
		} else if ok {
			l.errf(te.vpos, "timeout: must be more than 0")
			bad()
		} else {
			bad()
		}
	} else {
		st.Timeout = l.defTime
	}

	if ee, ok := m["extract"]; ok {
		es, _ := l.entries(ee.val, ee.vpos, "extract")
		for _, e := range es {
			if x, ok := l.extract(e); ok {
				st.Extract = append(st.Extract, x)
			} else {
				bad()
			}
		}
	}
	if ce, ok := m["check"]; ok {
		var items []ast.Node
		if _, isList := ce.val.(*ast.SequenceNode); isList {
			items, _ = l.list(ce, "check")
		} else if _, ok := scalarText(ce.val); ok {
			items = []ast.Node{ce.val} // one check need not be a list
		} else {
			l.errf(ce.vpos, "check: want a list of checks, got %s", kindOf(ce.val))
			bad()
		}
		for _, it := range items {
			if c, ok := l.check(it, s); ok {
				st.Checks = append(st.Checks, c)
			} else {
				bad()
			}
		}
	}
	if te, ok := m["think"]; ok {
		var ok bool
		st.Think, st.ThinkMax, ok = l.think(te, "think")
		if !ok {
			bad()
		}
	}
	if oe, ok := m["on_error"]; ok {
		v, _ := l.str(oe, "on_error")
		switch v {
		case "stop":
		case "continue":
			st.OnError = Continue
		default:
			l.errf(oe.vpos, "on_error: %q is not a choice (want stop or continue)", v)
			bad()
		}
	}
	if !good {
		return nil
	}
	return st
}

func cmpPos(a, b Pos) int {
	if a.Line != b.Line {
		return a.Line - b.Line
	}
	return a.Col - b.Col
}

func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for i := 0; i < len(m); i++ {
		c := m[i]
		if !(c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func hasHeader(hs []Header, name string) bool {
	for _, h := range hs {
		if strings.EqualFold(h.Name, name) {
			return true
		}
	}
	return false
}

// pathOf is the path of a URL as written: without scheme, host, query
// and fragment; "/" when empty.
func pathOf(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		rest := u[i+3:]
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			u = rest[j:]
		} else {
			u = ""
		}
	}
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	if u == "" {
		return "/"
	}
	return u
}

var templateRE = regexp.MustCompile(`\{\{[^}]*\}\}`)

// checkURL checks a step's URL: its variables, and that it is an
// absolute http(s) URL, or a relative one with a base to resolve against.
func (l *loader) checkURL(e entry, u string, s *scope) bool {
	if strings.TrimSpace(u) == "" {
		l.errf(e.vpos, "url: empty URL")
		return false
	}
	if !l.checkTemplate(e.val, u, tmpl.URL, s) {
		return false
	}
	plain := templateRE.ReplaceAllString(u, "x")
	pu, err := url.Parse(plain)
	if err != nil {
		l.errf(e.vpos, "url: %q is not a URL: %v", u, unwrapURLError(err))
		return false
	}
	switch {
	case pu.Scheme != "" && pu.Scheme != "http" && pu.Scheme != "https":
		l.errf(e.vpos, "url: scheme %q is not supported (want http or https)", pu.Scheme)
	case pu.Scheme != "" && pu.Host == "":
		l.errf(e.vpos, "url: %q has no host", u)
	case pu.Scheme == "" && strings.HasPrefix(u, "{{"):
		return true // the variable holds the scheme and host: checked when sent
	case pu.Scheme == "" && l.sc.Base == "" && l.baseGiven:
		return false // base itself is reported
	case pu.Scheme == "" && l.sc.Base == "":
		l.errf(e.vpos, "url: %q is relative and there is no base: add base: http://HOST:PORT at the top, or write the full URL", u)
	case strings.ContainsAny(u, " \t\r\n"):
		l.errf(e.vpos, "url: %q contains spaces: percent-encode them (%%20)", u)
	default:
		return true
	}
	return false
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// body reads body:, json: or form: into the step.
func (l *loader) body(st *Step, e entry, s *scope) bool {
	switch e.key {
	case "body":
		v, ok := l.str(e, "body")
		if !ok || !l.checkTemplate(e.val, v, tmpl.Raw, s) {
			return false
		}
		st.Body, st.BodyFmt = v, BodyRaw
		return true
	case "json":
		var buf bytes.Buffer
		if !l.jsonValue(&buf, e.val, e.vpos, s, 0) {
			return false
		}
		st.Body, st.BodyFmt = buf.String(), BodyJSON
		l.contentType(st, "application/json")
		return true
	default: // form
		es, ok := l.entries(e.val, e.vpos, "form")
		if !ok {
			return false
		}
		var parts []string
		good := true
		for _, fe := range es {
			v, ok := scalarText(fe.val)
			if !ok {
				l.errf(fe.vpos, "form.%s: want a string or number, got %s", fe.key, kindOf(fe.val))
				good = false
				continue
			}
			if !l.checkTemplate(fe.val, v, tmpl.URL, s) {
				good = false
				continue
			}
			parts = append(parts, formEscape(fe.key)+"="+formEscape(v))
		}
		if !good {
			return false
		}
		st.Body, st.BodyFmt = strings.Join(parts, "&"), BodyForm
		l.contentType(st, "application/x-www-form-urlencoded")
		return true
	}
}

func (l *loader) contentType(st *Step, ct string) {
	if !hasHeader(st.Headers, "Content-Type") {
		st.Headers = append(st.Headers, Header{Name: "Content-Type", Value: ct})
	}
}

// formEscape percent-encodes the literal parts of a form key or value,
// keeping {{variables}} as they are (they are encoded when rendered).
func formEscape(s string) string {
	var b strings.Builder
	last := 0
	for _, loc := range templateRE.FindAllStringIndex(s, -1) {
		b.WriteString(percent(s[last:loc[0]]))
		b.WriteString(s[loc[0]:loc[1]])
		last = loc[1]
	}
	b.WriteString(percent(s[last:]))
	return b.String()
}

func percent(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// maxWork bounds the values a file's aliases may expand to.
const maxWork = 100000

// maxJSONDepth bounds the nesting of a json: body.
const maxJSONDepth = 64

// jsonValue writes n as JSON, keys in the order written, checking the
// variables in its strings.
func (l *loader) jsonValue(buf *bytes.Buffer, n ast.Node, at Pos, s *scope, depth int) bool {
	if l.work++; l.work > maxWork {
		if l.work == maxWork+1 {
			l.errf(at, "json: too large (its aliases expand to more than %d values)", maxWork)
		}
		return false
	}
	if depth > maxJSONDepth {
		l.errf(at, "json: nested more than %d levels deep", maxJSONDepth)
		return false
	}
	switch v := n.(type) {
	case nil:
		l.errf(at, "json: an alias to an unknown anchor")
		return false
	case *ast.NullNode:
		buf.WriteString("null")
	case *ast.BoolNode:
		buf.WriteString(strconv.FormatBool(v.Value))
	case *ast.IntegerNode:
		switch x := v.Value.(type) {
		case int64:
			buf.WriteString(strconv.FormatInt(x, 10))
		case uint64:
			buf.WriteString(strconv.FormatUint(x, 10))
		default:
			l.errf(at, "json: %s is not a number JSON can hold", v.GetToken().Value)
			return false
		}
	case *ast.FloatNode:
		buf.WriteString(strconv.FormatFloat(v.Value, 'g', -1, 64))
	case *ast.InfinityNode, *ast.NanNode:
		l.errf(at, "json: %s is not a number JSON can hold", v.GetToken().Value)
		return false
	case *ast.StringNode, *ast.LiteralNode:
		text, _ := scalarText(v)
		if !l.checkTemplate(v, text, tmpl.JSON, s) {
			return false
		}
		writeJSONString(buf, text)
	case *ast.SequenceNode:
		buf.WriteByte('[')
		good := true
		for i, it := range v.Values {
			if i > 0 {
				buf.WriteByte(',')
			}
			good = l.jsonValue(buf, l.resolve(it), posOf(it), s, depth+1) && good
		}
		buf.WriteByte(']')
		return good
	case *ast.MappingNode, *ast.MappingValueNode:
		es, ok := l.entries(v, at, "json")
		if !ok {
			return false
		}
		buf.WriteByte('{')
		good := true
		for i, e := range es {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeJSONString(buf, e.key)
			buf.WriteByte(':')
			good = l.jsonValue(buf, e.val, e.vpos, s, depth+1) && good
		}
		buf.WriteByte('}')
		return good
	default:
		l.errf(at, "json: %s cannot be written as JSON", kindOf(n))
		return false
	}
	return true
}

// writeJSONString writes s as a JSON string; {{ and }} are kept as they
// are, so variables survive for rendering.
func writeJSONString(buf *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	buf.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			buf.WriteByte('\\')
			buf.WriteRune(r)
		case r == '\n':
			buf.WriteString(`\n`)
		case r == '\r':
			buf.WriteString(`\r`)
		case r == '\t':
			buf.WriteString(`\t`)
		case r < 0x20 || r == 0x2028 || r == 0x2029:
			buf.WriteString(`\u`)
			for _, sh := range []int{12, 8, 4, 0} {
				buf.WriteByte(hex[(r>>sh)&15])
			}
		default:
			buf.WriteRune(r)
		}
	}
	buf.WriteByte('"')
}

func (l *loader) extract(e entry) (Extract, bool) {
	x := Extract{Var: e.key, Pos: e.kpos}
	switch {
	case !identRE.MatchString(e.key):
		l.errf(e.kpos, "extract: %q is not a valid variable name (letters, digits and _, not starting with a digit)", e.key)
		return x, false
	case tmpl.IsBuiltin(e.key):
		l.errf(e.kpos, "extract: %q is a built-in variable and cannot be extracted into", e.key)
		return x, false
	case l.vars[e.key]:
		l.errf(e.kpos, "extract: %q is already defined in vars: extract into another name", e.key)
		return x, false
	}
	what := "extract." + e.key
	es, ok := l.entries(e.val, e.vpos, what)
	if !ok {
		return x, false
	}
	if len(es) != 1 {
		l.errf(e.vpos, "%s: want exactly one of {json: PATH}, {header: NAME} or {regex: RE}", what)
		return x, false
	}
	k := es[0]
	s, ok := l.str(k, what+"."+k.key)
	if !ok {
		return x, false
	}
	x.Expr = s
	switch k.key {
	case "json":
		x.Kind = FromJSON
		if strings.TrimSpace(s) == "" {
			l.errf(k.vpos, "%s.json: empty path", what)
			return x, false
		}
	case "header":
		x.Kind = FromHeader
		if !validHeaderName(s) {
			l.errf(k.vpos, "%s.header: %q is not a header name", what, s)
			return x, false
		}
	case "regex":
		x.Kind = FromRegex
		re, err := regexp.Compile(s)
		if err != nil {
			l.errf(k.vpos, "%s.regex: %s", what, regexpMsg(err))
			return x, false
		}
		if re.NumSubexp() > 1 {
			l.errf(k.vpos, "%s.regex: %d groups: use at most one (the value extracted), and (?:…) for the others", what, re.NumSubexp())
			return x, false
		}
		x.Regex = re
	default:
		l.errf(k.kpos, "%s", unknownKey(k.key, what, []string{"json", "header", "regex"}))
		return x, false
	}
	return x, true
}

func regexpMsg(err error) string {
	var se *syntaxErr
	if errors.As(err, &se) {
		return fmt.Sprintf("bad regexp: %s: `%s`", se.Code, se.Expr)
	}
	return err.Error()
}

func (l *loader) check(n ast.Node, s *scope) (Check, bool) {
	n = l.resolve(n)
	text, ok := scalarText(n)
	if !ok {
		l.errf(posOf(n), "check: want a string such as status==200, got %s", kindOf(n))
		return Check{}, false
	}
	c, err := ParseCheck(text)
	if err != nil {
		var se *SyntaxError
		if errors.As(err, &se) {
			l.errf(l.textPos(n, se.Offset), "check %q: %s", text, se.Msg)
		} else {
			l.errf(posOf(n), "check %q: %v", text, err)
		}
		return Check{}, false
	}
	c.Pos = posOf(n)
	if c.Kind == CheckBody || c.Kind == CheckHeader {
		// the value is a template: check it where it is written
		off := strings.LastIndex(text, c.Value)
		if off < 0 {
			off = 0
		}
		_, err := tmpl.Compile(c.Value, func(name string) (int, bool) { return 0, s.defined(name) }, tmpl.Raw)
		var te *tmpl.Error
		if errors.As(err, &te) {
			msg := te.Msg
			if te.Name != "" {
				msg = s.unknown(te.Name)
			}
			l.errf(l.textPos(n, off+te.Offset), "%s", msg)
			return Check{}, false
		}
	}
	return c, true
}

// thresholds checks each threshold: a plain expression, or
// step.NAME.EXPR naming a step of the scenario.
func (l *loader) thresholds(e entry) {
	items, ok := l.list(e, "thresholds")
	if !ok {
		return
	}
	for _, it := range items {
		n := l.resolve(it)
		src, ok := n.(*ast.StringNode)
		if !ok {
			l.errf(posOf(it), "thresholds: want a string such as p95<200ms, got %s", kindOf(n))
			continue
		}
		text := src.Value
		body := text
		bodyOff := 0
		if name, rest, ok := SplitStepExpr(text); ok {
			bodyOff = len(text) - len(rest)
			body = rest
			switch {
			case name == "":
				l.errf(l.textPos(n, 0), "threshold %q: want step.NAME.EXPR, e.g. step.login.p95<300ms", text)
				continue
			case l.steps != nil && !hasStep(l.steps, name):
				l.errf(l.textPos(n, strings.Index(text, "step.")+len("step.")), "threshold %q: no step named %q%s", text, name, stepList(l.steps))
				continue
			}
		}
		if _, err := expr.Parse(body); err != nil {
			var se *expr.SyntaxError
			if errors.As(err, &se) {
				off := bodyOff + len(string([]rune(body)[:min(se.Col-1, len([]rune(body)))]))
				l.errf(l.textPos(n, off), "threshold %q: %s", text, se.Msg)
			} else {
				l.errf(posOf(n), "threshold %q: %v", text, err)
			}
			continue
		}
		l.sc.Thresholds = append(l.sc.Thresholds, Expr{Src: text, Pos: posOf(n)})
	}
}

func hasStep(steps map[string]Pos, name string) bool {
	_, ok := steps[name]
	return ok
}

// stepList names the steps of the file, in the order written.
func stepList(steps map[string]Pos) string {
	names := sortedKeys(steps)
	slices.SortStableFunc(names, func(a, b string) int { return cmpPos(steps[a], steps[b]) })
	if len(names) == 0 {
		return ""
	}
	if len(names) > 8 {
		names = append(names[:8], "…")
	}
	return " (steps: " + strings.Join(names, ", ") + ")"
}

// VarNames lists the named variables a scenario defines, each once, in
// the order they are defined: vars, then every feeder's columns
// (feeder.column), then what the steps extract, flow by flow. Built-in
// variables (id, user, n) are not listed.
func (s *Scenario) VarNames() []string {
	var out []string
	seen := map[string]bool{}
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for _, v := range s.Vars {
		add(v.Name)
	}
	for _, f := range s.Data {
		for _, c := range f.Columns {
			add(f.Name + "." + c)
		}
	}
	for _, f := range s.Flows {
		for _, st := range f.Steps {
			for _, x := range st.Extract {
				add(x.Var)
			}
		}
	}
	return out
}
