package scenario

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// InputError is one problem in a scenario file (or in one of its feeder
// files), at a place in that file. Error() is the one line
// FILE:LINE:COL: message; Snippet shows the offending source line.
type InputError struct {
	File string
	Line int // from 1
	Col  int // from 1, in characters
	Msg  string

	src string // the text of line Line, for Snippet
}

// Error returns FILE:LINE:COL: message.
func (e *InputError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// Snippet returns the offending source line and, under it, a caret at the
// column: two lines without a trailing newline, or "" when the line is not
// known. Tabs before the column are kept so the caret lines up.
func (e *InputError) Snippet() string {
	if e.src == "" && e.Line <= 0 {
		return ""
	}
	line := strings.TrimRight(e.src, "\r")
	var caret strings.Builder
	i := 1
	for _, r := range line {
		if i >= e.Col {
			break
		}
		if r == '\t' {
			caret.WriteByte('\t')
		} else {
			caret.WriteByte(' ')
		}
		i++
	}
	for ; i < e.Col; i++ {
		caret.WriteByte(' ')
	}
	caret.WriteByte('^')
	return line + "\n" + caret.String()
}

// Errors are all the problems found in a scenario, sorted by file and
// position. Load returns an Errors when a file is not valid.
type Errors []*InputError

// Error returns one line per problem.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the problems one by one, for errors.As and errors.Is.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// sortErrors orders problems by file (the scenario file first, as the
// problems were found otherwise), then line and column, and drops exact
// duplicates.
func sortErrors(es Errors, main string) Errors {
	rank := func(e *InputError) int {
		if e.File == main {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(es, func(a, b *InputError) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), strings.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
	return slices.CompactFunc(es, func(a, b *InputError) bool {
		return a.File == b.File && a.Line == b.Line && a.Col == b.Col && a.Msg == b.Msg
	})
}
