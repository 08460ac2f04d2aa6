package scenario

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// This file reads goccy/go-yaml's syntax tree: typed values with their
// positions, and every problem as an InputError.

// errf records a problem in the scenario file at p.
func (l *loader) errf(p Pos, format string, args ...any) {
	l.errs = append(l.errs, l.inputError(l.file, l.lines, p, fmt.Sprintf(format, args...)))
}

func (l *loader) inputError(file string, lines []string, p Pos, msg string) *InputError {
	if p.Line < 1 {
		p.Line = 1
	}
	if p.Col < 1 {
		p.Col = 1
	}
	e := &InputError{File: file, Line: p.Line, Col: p.Col, Msg: msg}
	if p.Line <= len(lines) {
		e.src = lines[p.Line-1]
		if n := len([]rune(e.src)) + 1; e.Col > n {
			e.Col = n
		}
	} else if len(lines) > 0 {
		e.Line, e.Col = len(lines), len([]rune(lines[len(lines)-1]))+1
		e.src = lines[len(lines)-1]
	} else {
		e.Line, e.Col = 1, 1
	}
	return e
}

// tokPos is where a token starts.
func tokPos(tk *token.Token) Pos {
	if tk == nil || tk.Position == nil {
		return Pos{1, 1}
	}
	return Pos{Line: max(tk.Position.Line, 1), Col: max(tk.Position.Column, 1)}
}

// posOf is where a node starts: for a block mapping, its first key.
func posOf(n ast.Node) Pos {
	switch v := n.(type) {
	case nil:
		return Pos{1, 1}
	case *ast.MappingNode:
		if !v.IsFlowStyle && len(v.Values) > 0 {
			return posOf(v.Values[0])
		}
		return tokPos(v.Start)
	case *ast.MappingValueNode:
		return posOf(v.Key)
	case *ast.SequenceNode:
		return tokPos(v.Start)
	case *ast.LiteralNode:
		return tokPos(v.Start)
	case *ast.StringNode:
		return tokPos(v.Token)
	}
	return tokPos(n.GetToken())
}

// maxAlias bounds how many aliases, anchors and tags are followed to
// reach a value.
const maxAlias = 32

// resolve follows anchors, aliases and tags to the value they stand for;
// nil for an alias of an unknown anchor.
func (l *loader) resolve(n ast.Node) ast.Node {
	for range maxAlias {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.TagNode:
			n = v.Value
		case *ast.AliasNode:
			if v.Value == nil {
				return nil
			}
			n = l.anchors[v.Value.GetToken().Value]
		default:
			return n
		}
	}
	return nil
}

// collectAnchors records every anchor of the document, in order.
func (l *loader) collectAnchors(n ast.Node, depth int) {
	if n == nil || depth > 200 {
		return
	}
	switch v := n.(type) {
	case *ast.AnchorNode:
		if v.Name != nil {
			l.anchors[v.Name.GetToken().Value] = v.Value
		}
		l.collectAnchors(v.Value, depth+1)
	case *ast.TagNode:
		l.collectAnchors(v.Value, depth+1)
	case *ast.MappingNode:
		for _, mv := range v.Values {
			l.collectAnchors(mv, depth+1)
		}
	case *ast.MappingValueNode:
		l.collectAnchors(v.Key, depth+1)
		l.collectAnchors(v.Value, depth+1)
	case *ast.SequenceNode:
		for _, e := range v.Values {
			l.collectAnchors(e, depth+1)
		}
	}
}

// kindOf names a node's type for messages.
func kindOf(n ast.Node) string {
	switch n.(type) {
	case nil, *ast.NullNode:
		return "nothing"
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.StringNode, *ast.LiteralNode:
		return "a string"
	case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "a number"
	case *ast.BoolNode:
		return "a boolean"
	}
	return "a " + strings.ToLower(n.Type().String())
}

// entry is one key: value of a mapping.
type entry struct {
	key  string
	kpos Pos
	val  ast.Node // resolved; nil for an unknown alias
	vpos Pos
}

// entries returns the keys of a mapping in order, following merge keys
// (<<) and reporting duplicate keys. ok is false (and the problem
// reported) when n is not a mapping.
func (l *loader) entries(n ast.Node, at Pos, what string) ([]entry, bool) {
	var out []entry
	seen := map[string]Pos{}
	explicit := map[string]bool{}
	var add func(n ast.Node, at Pos, merged bool, depth int) bool
	add = func(n ast.Node, at Pos, merged bool, depth int) bool {
		var values []*ast.MappingValueNode
		switch v := n.(type) {
		case *ast.MappingNode:
			values = v.Values
		case *ast.MappingValueNode:
			values = []*ast.MappingValueNode{v}
		case *ast.NullNode:
			if !merged {
				return true // an empty mapping
			}
			l.errf(at, "%s: want a mapping (key: value), got %s", what, kindOf(n))
			return false
		default:
			l.errf(at, "%s: want a mapping (key: value), got %s", what, kindOf(n))
			return false
		}
		for _, mv := range values {
			if l.work++; l.work > maxWork {
				if l.work == maxWork+1 {
					l.errf(at, "%s: too large (its aliases expand to more than %d values)", what, maxWork)
				}
				return false
			}
			if mv.Key == nil {
				continue
			}
			kn := l.resolve(mv.Key)
			kpos := posOf(mv.Key)
			if _, ok := kn.(*ast.MergeKeyNode); ok || mv.Key.IsMergeKey() {
				if depth > 8 {
					l.errf(kpos, "%s: merge keys (<<) nested too deep", what)
					continue
				}
				mval := l.resolve(mv.Value)
				if seq, ok := mval.(*ast.SequenceNode); ok {
					for _, e := range seq.Values {
						add(l.resolve(e), posOf(e), true, depth+1)
					}
				} else {
					add(mval, posOf(mv.Value), true, depth+1)
				}
				continue
			}
			key, ok := scalarText(kn)
			if !ok {
				l.errf(kpos, "%s: a key must be a string, got %s", what, kindOf(kn))
				continue
			}
			if merged && explicit[key] {
				continue // the mapping's own key wins over a merged one
			}
			if first, dup := seen[key]; dup {
				if !merged {
					l.errf(kpos, "%s: key %q appears twice (first at line %d)", what, key, first.Line)
				}
				continue
			}
			seen[key] = kpos
			vn := l.resolve(mv.Value)
			vpos := kpos
			if mv.Value != nil {
				vpos = posOf(mv.Value)
				if vpos.Line < kpos.Line || vpos.Line == kpos.Line && vpos.Col <= kpos.Col {
					vpos = kpos // an empty value: point at its key
				}
			}
			out = append(out, entry{key: key, kpos: kpos, val: vn, vpos: vpos})
		}
		return true
	}
	if m, ok := n.(*ast.MappingNode); ok {
		for _, mv := range m.Values {
			if mv.Key != nil && !mv.Key.IsMergeKey() {
				if k, ok := scalarText(l.resolve(mv.Key)); ok {
					explicit[k] = true
				}
			}
		}
	}
	ok := add(n, at, false, 0)
	return out, ok
}

// fields returns a mapping's keys by name, reporting every key not in
// known as unknown.
func (l *loader) fields(n ast.Node, at Pos, what string, known ...string) (map[string]entry, bool) {
	es, ok := l.entries(n, at, what)
	if !ok {
		return nil, false
	}
	m := make(map[string]entry, len(es))
	for _, e := range es {
		if !contains(known, e.key) {
			l.errf(e.kpos, "%s", unknownKey(e.key, what, known))
			continue
		}
		m[e.key] = e
	}
	return m, true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func unknownKey(key, what string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := distance(strings.ToLower(key), k); d < bestD {
			best, bestD = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown key %q in %s (did you mean %s?)", key, what, best)
	}
	return fmt.Sprintf("unknown key %q in %s (want %s)", key, what, strings.Join(known, ", "))
}

// distance is the Levenshtein distance between two short strings.
func distance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// scalarText is the text of a scalar: a string's value, a number or a
// boolean as written.
func scalarText(n ast.Node) (string, bool) {
	switch v := n.(type) {
	case *ast.StringNode:
		return v.Value, true
	case *ast.LiteralNode:
		if v.Value == nil {
			return "", true
		}
		return v.Value.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return v.GetToken().Value, true
	}
	return "", false
}

// str is a string value (numbers and booleans are taken as written).
func (l *loader) str(e entry, what string) (string, bool) {
	s, ok := scalarText(e.val)
	if !ok {
		l.errf(e.vpos, "%s: want a string, got %s", what, kindOf(e.val))
	}
	return s, ok
}

// integer is a whole number value.
func (l *loader) integer(e entry, what string) (int, bool) {
	if v, ok := e.val.(*ast.IntegerNode); ok {
		switch x := v.Value.(type) {
		case int64:
			if x >= math.MinInt32 && x <= math.MaxInt32 {
				return int(x), true
			}
		case uint64:
			if x <= math.MaxInt32 {
				return int(x), true
			}
		}
		l.errf(e.vpos, "%s: %s is too large", what, v.GetToken().Value)
		return 0, false
	}
	if s, ok := scalarText(e.val); ok {
		l.errf(e.vpos, "%s: want a whole number, got %q", what, s)
	} else {
		l.errf(e.vpos, "%s: want a whole number, got %s", what, kindOf(e.val))
	}
	return 0, false
}

// number is a numeric value.
func (l *loader) number(e entry, what string) (float64, bool) {
	switch v := e.val.(type) {
	case *ast.IntegerNode:
		switch x := v.Value.(type) {
		case int64:
			return float64(x), true
		case uint64:
			return float64(x), true
		}
	case *ast.FloatNode:
		return v.Value, true
	}
	if s, ok := scalarText(e.val); ok {
		l.errf(e.vpos, "%s: want a number, got %q", what, s)
	} else {
		l.errf(e.vpos, "%s: want a number, got %s", what, kindOf(e.val))
	}
	return 0, false
}

func (l *loader) boolean(e entry, what string) (bool, bool) {
	if v, ok := e.val.(*ast.BoolNode); ok {
		return v.Value, true
	}
	l.errf(e.vpos, "%s: want true or false, got %s", what, kindOf(e.val))
	return false, false
}

// duration is a non-negative duration written with a unit ("500ms", "1m").
func (l *loader) duration(e entry, what string) (time.Duration, bool) {
	s, ok := scalarText(e.val)
	if !ok {
		l.errf(e.vpos, "%s: want a duration such as 500ms or 1m, got %s", what, kindOf(e.val))
		return 0, false
	}
	d, msg := parseDuration(s)
	if msg != "" {
		l.errf(e.vpos, "%s: %s", what, msg)
		return 0, false
	}
	return d, true
}

func parseDuration(s string) (time.Duration, string) {
	t := strings.TrimSpace(s)
	if _, err := strconv.ParseFloat(t, 64); err == nil {
		return 0, fmt.Sprintf("%q has no unit (write e.g. %sms or %ss)", s, t, t)
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return 0, fmt.Sprintf("%q is not a duration (want e.g. 500ms, 2s, 1m30s)", s)
	}
	if d < 0 {
		return 0, fmt.Sprintf("%q is negative", s)
	}
	return d, ""
}

// think is a pause: a duration, or a range MIN-MAX ("1s-3s").
func (l *loader) think(e entry, what string) (lo, hi time.Duration, ok bool) {
	s, ok := scalarText(e.val)
	if !ok {
		l.errf(e.vpos, "%s: want a duration (1s) or a range (1s-3s), got %s", what, kindOf(e.val))
		return 0, 0, false
	}
	a, b, isRange := strings.Cut(s, "-")
	if !isRange {
		d, msg := parseDuration(s)
		if msg != "" {
			l.errf(e.vpos, "%s: %s", what, msg)
			return 0, 0, false
		}
		return d, d, true
	}
	lo, m1 := parseDuration(a)
	hi, m2 := parseDuration(b)
	switch {
	case m1 != "":
		l.errf(e.vpos, "%s: range %q: %s", what, s, m1)
	case m2 != "":
		l.errf(e.vpos, "%s: range %q: %s", what, s, m2)
	case hi < lo:
		l.errf(e.vpos, "%s: range %q ends before it starts", what, s)
	default:
		return lo, hi, true
	}
	return 0, 0, false
}

// list returns the items of a sequence (a single scalar is not a list).
func (l *loader) list(e entry, what string) ([]ast.Node, bool) {
	switch v := e.val.(type) {
	case *ast.SequenceNode:
		return v.Values, true
	case *ast.NullNode:
		return nil, true
	}
	l.errf(e.vpos, "%s: want a list, got %s", what, kindOf(e.val))
	return nil, false
}

// textPos is the position of byte off of the text of scalar n, exact for
// one-line scalars and literal blocks (|), the start of n otherwise.
func (l *loader) textPos(n ast.Node, off int) Pos {
	switch v := n.(type) {
	case *ast.StringNode:
		p := tokPos(v.Token)
		tk := v.Token
		if tk == nil || off > len(v.Value) || strings.Contains(strings.TrimSpace(tk.Origin), "\n") {
			return p
		}
		switch tk.Type {
		case token.DoubleQuoteType, token.SingleQuoteType:
			raw := strings.TrimSpace(tk.Origin)
			if len(raw) >= 2 && raw[1:len(raw)-1] != v.Value {
				return p // escapes: the offset does not map
			}
			p.Col++
		}
		p.Col += len([]rune(v.Value[:off]))
		return p
	case *ast.LiteralNode:
		p := tokPos(v.Start)
		if v.Start == nil || v.Value == nil || off > len(v.Value.Value) || strings.HasPrefix(v.Start.Value, ">") {
			return p
		}
		before := v.Value.Value[:off]
		k := strings.Count(before, "\n")
		line := p.Line + 1 + k
		indent := 0
		for i := p.Line; i < len(l.lines); i++ { // i is the 0-based index of line p.Line+1
			if t := strings.TrimLeft(l.lines[i], " "); t != "" {
				indent = len(l.lines[i]) - len(t)
				break
			}
		}
		last := before[strings.LastIndexByte(before, '\n')+1:]
		return Pos{Line: line, Col: indent + len([]rune(last)) + 1}
	}
	return posOf(n)
}
