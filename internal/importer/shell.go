package importer

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// word is one shell word and where it starts in the input.
type word struct {
	text      string
	line, col int
}

// shellError is a problem in the shell text, at a place.
type shellError struct {
	line, col int
	msg       string
}

func (e *shellError) Error() string { return e.msg }

// splitShell splits bash text into commands, each a list of words, the way
// bash reads what browsers' "Copy as cURL (bash)" writes: words separated
// by blanks; commands by newlines, ; or &&; \ continuing a line; '...',
// "..." and $'...' (ANSI-C) quotes; # comments. Nothing is expanded: a
// $variable, a $(command), a `command`, a pipe or a redirection is an
// error.
func splitShell(src string) ([][]word, error) {
	src = strings.ReplaceAll(src, "\r\n", "\n")
	var (
		cmds  [][]word
		cur   []word
		b     strings.Builder
		in    bool // inside a word
		start word
		line  = 1
		col   = 1
		i     = 0
	)
	errAt := func(l, c int, format string, args ...any) error {
		return &shellError{line: l, col: c, msg: fmt.Sprintf(format, args...)}
	}
	// adv moves past n bytes, counting lines and columns.
	adv := func(n int) {
		for ; n > 0; n-- {
			if src[i] == '\n' {
				line, col = line+1, 1
			} else if src[i] < 0x80 || src[i] >= 0xC0 {
				col++
			}
			i++
		}
	}
	begin := func() {
		if !in {
			in = true
			start = word{line: line, col: col}
		}
	}
	endWord := func() {
		if in {
			start.text = b.String()
			cur = append(cur, start)
			b.Reset()
			in = false
		}
	}
	endCmd := func() {
		endWord()
		if len(cur) > 0 {
			cmds = append(cmds, cur)
			cur = nil
		}
	}
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t':
			endWord()
			adv(1)
		case c == '\n':
			endCmd()
			adv(1)
		case c == ';':
			endCmd()
			adv(1)
		case c == '&' && strings.HasPrefix(src[i:], "&&"):
			endCmd()
			adv(2)
		case c == '#' && !in:
			for i < len(src) && src[i] != '\n' {
				adv(1)
			}
		case c == '\\':
			if i+1 >= len(src) {
				adv(1)
				continue
			}
			if src[i+1] == '\n' { // a continued line
				adv(2)
				continue
			}
			begin()
			_, n := utf8.DecodeRuneInString(src[i+1:])
			b.WriteString(src[i+1 : i+1+n])
			adv(1 + n)
		case c == '\'':
			begin()
			l, cl := line, col
			j := strings.IndexByte(src[i+1:], '\'')
			if j < 0 {
				return nil, errAt(l, cl, "unterminated ' quote")
			}
			b.WriteString(src[i+1 : i+1+j])
			adv(j + 2)
		case c == '$' && strings.HasPrefix(src[i:], "$'"):
			begin()
			l, cl := line, col
			adv(2)
			if err := ansiC(src, &i, &b, adv); err != nil {
				return nil, errAt(l, cl, "%v", err)
			}
		case c == '"' || c == '$' && strings.HasPrefix(src[i:], `$"`):
			begin()
			l, cl := line, col
			if c == '$' {
				adv(1)
			}
			adv(1)
			closed := false
			for i < len(src) && !closed {
				switch d := src[i]; {
				case d == '"':
					closed = true
					adv(1)
				case d == '\\' && i+1 < len(src) && src[i+1] == '\n':
					adv(2)
				case d == '\\' && i+1 < len(src) && strings.IndexByte("$`\"\\", src[i+1]) >= 0:
					b.WriteByte(src[i+1])
					adv(2)
				case d == '$' && i+1 < len(src) && isVarStart(src[i+1]):
					return nil, errAt(line, col, "%s: importing expands no shell variables or commands: write the value itself", shellVar(src[i:]))
				case d == '`':
					return nil, errAt(line, col, "` (command substitution): importing runs no commands: write the value itself")
				default:
					b.WriteByte(d)
					adv(1)
				}
			}
			if !closed {
				return nil, errAt(l, cl, `unterminated " quote`)
			}
		case c == '$' && i+1 < len(src) && isVarStart(src[i+1]):
			return nil, errAt(line, col, "%s: importing expands no shell variables or commands: write the value itself", shellVar(src[i:]))
		case c == '`':
			return nil, errAt(line, col, "` (command substitution): importing runs no commands: write the value itself")
		case c == '|' || c == '<' || c == '>' || c == '&' || c == '(' || c == ')':
			return nil, errAt(line, col, "%q: importing reads curl commands only, without pipes, redirections or subshells", string(c))
		default:
			begin()
			_, n := utf8.DecodeRuneInString(src[i:])
			b.WriteString(src[i : i+n])
			adv(n)
		}
	}
	endCmd()
	return cmds, nil
}

// shellVar is the $variable (or ${...}, $(...)) at the start of s.
func shellVar(s string) string {
	switch {
	case strings.HasPrefix(s, "${"):
		if j := strings.IndexByte(s, '}'); j > 0 {
			return clip(s[:j+1])
		}
	case strings.HasPrefix(s, "$("):
		return "$(...)"
	}
	j := 1
	for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
		j++
	}
	if j == 1 {
		j = 2 // $@, $1...
	}
	return s[:j]
}

func isVarStart(c byte) bool {
	return c == '{' || c == '(' || c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte("@*#?$!-", c) >= 0
}

// ansiC reads the inside of $'...' from src[*i] (after the opening quote)
// up to and past its closing quote, writing the decoded text to b.
func ansiC(src string, i *int, b *strings.Builder, adv func(int)) error {
	for *i < len(src) {
		c := src[*i]
		switch {
		case c == '\'':
			adv(1)
			return nil
		case c != '\\':
			b.WriteByte(c)
			adv(1)
			continue
		}
		if *i+1 >= len(src) {
			break
		}
		e := src[*i+1]
		adv(2)
		switch e {
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'e', 'E':
			b.WriteByte(0x1b)
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'v':
			b.WriteByte('\v')
		case '\\', '\'', '"', '?':
			b.WriteByte(e)
		case 'c':
			if *i < len(src) {
				b.WriteByte(src[*i] & 0x1f)
				adv(1)
			}
		case 'x', 'u', 'U':
			max := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
			n := 0
			for n < max && *i+n < len(src) && isHex(src[*i+n]) {
				n++
			}
			if n == 0 {
				b.WriteByte('\\')
				b.WriteByte(e)
				continue
			}
			v, _ := strconv.ParseUint(src[*i:*i+n], 16, 32)
			adv(n)
			if e == 'x' {
				b.WriteByte(byte(v))
			} else if r := rune(v); utf8.ValidRune(r) {
				b.WriteRune(r)
			} else {
				b.WriteRune(utf8.RuneError)
			}
		case '0', '1', '2', '3', '4', '5', '6', '7':
			n := 1
			for n < 3 && *i+n-1 < len(src) && src[*i+n-1] >= '0' && src[*i+n-1] <= '7' {
				n++
			}
			v, _ := strconv.ParseUint(src[*i-1:*i+n-1], 8, 16)
			adv(n - 1)
			b.WriteByte(byte(v))
		default:
			b.WriteByte('\\')
			b.WriteByte(e)
		}
	}
	return fmt.Errorf("unterminated $' quote")
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
