package importer

import (
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// maxExpanded bounds the values a YAML document may hold once its aliases
// are expanded (a few aliases of aliases can stand for billions).
const maxExpanded = 1_000_000

// expandedSize counts the values of a YAML document with its aliases
// expanded, stopping past limit; ok is false when the text does not parse
// (the decoder then says why).
func expandedSize(src []byte, limit int) (n int, ok bool) {
	f, err := parser.ParseBytes(src, 0)
	if err != nil {
		return 0, false
	}
	anchors := map[string]int{}
	var size func(nd ast.Node, depth int) int
	size = func(nd ast.Node, depth int) int {
		if nd == nil || depth > 10000 {
			return 1
		}
		total := 1
		add := func(c ast.Node) {
			if total <= limit {
				total += size(c, depth+1)
			}
		}
		switch v := nd.(type) {
		case *ast.DocumentNode:
			add(v.Body)
		case *ast.MappingNode:
			for _, mv := range v.Values {
				add(mv)
			}
		case *ast.MappingValueNode:
			add(v.Key)
			add(v.Value)
		case *ast.MappingKeyNode:
			add(v.Value)
		case *ast.SequenceNode:
			for _, it := range v.Values {
				add(it)
			}
		case *ast.TagNode:
			add(v.Value)
		case *ast.AnchorNode:
			s := size(v.Value, depth+1)
			if v.Name != nil {
				anchors[v.Name.String()] = s
			}
			total += s
		case *ast.AliasNode:
			if v.Value != nil {
				total += anchors[v.Value.String()]
			}
		}
		return total
	}
	for _, d := range f.Docs {
		n += size(d, 0)
		if n > limit {
			break
		}
	}
	return n, true
}
