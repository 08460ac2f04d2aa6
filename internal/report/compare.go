package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/surgeload/surge/internal/compare"
)

// Compare writes the terminal table of a comparison: each figure of A and
// B, the change, and whether it is real.
func Compare(w io.Writer, c *compare.Comparison) error {
	var b strings.Builder
	fmt.Fprintf(&b, "surge compare\n  A  %s\n  B  %s\n", sideLine(c.A), sideLine(c.B))
	if c.A.Target != c.B.Target {
		fmt.Fprintf(&b, "  targets differ: A %s, B %s\n", c.A.Target, c.B.Target)
	}
	b.WriteString("\n")
	cells := [][]string{{"", "A", "B", "change", "verdict"}}
	section := ""
	for _, r := range c.Rows {
		if r.Section != section {
			section = r.Section
			cells = append(cells, []string{sectionTitle(section)})
		}
		cells = append(cells, []string{"  " + r.Name, Value(r.Unit, r.A), Value(r.Unit, r.B), Change(r), verdictText(r)})
	}
	table(&b, cells)
	if bn := c.Bottleneck; bn != nil {
		text := bn[0] + " → " + bn[1]
		if bn[0] == bn[1] {
			text = bn[0] + " (unchanged)"
		}
		fmt.Fprintf(&b, "\n  bottleneck  %s\n", text)
	}
	b.WriteString("\n")
	b.WriteString(wrap(fmt.Sprintf("Real: noise alone would give such a difference less than %s %% of the time (latency: quantile and rank tests on the two histograms; throughput: bootstrap over the seconds; errors and status codes: proportion test; capacity: the levels each search tried). A real change is marked better or worse.", strconv.FormatFloat(100*c.Alpha, 'g', 3, 64)), 2, 78))
	for _, n := range c.Notes {
		fmt.Fprintf(&b, "  ! %s\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func sideLine(s compare.Side) string {
	when := ""
	if !s.Started.IsZero() {
		when = s.Started.UTC().Format("2006-01-02 15:04") + ", "
	}
	return fmt.Sprintf("%s (%s, %s%s s, %s requests)", s.Name, s.Kind, when,
		strconv.FormatFloat(s.DurationS, 'f', 1, 64), Int(s.Requests))
}

func sectionTitle(s string) string {
	if s == "status" {
		return "status codes (share of responses)"
	}
	return s
}

// Value formats a comparison figure in its unit.
func Value(unit string, v float64) string {
	switch unit {
	case "ms":
		return Ms(v)
	case "%":
		return Pct(v / 100)
	case "req/s", "/s":
		return Rate(v) + " " + unit
	case "users":
		return Int(int64(v+0.5)) + " users"
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// Change formats a row's change: +12.3%, −0.42pp, or "new" when A was 0.
func Change(r compare.Row) string {
	if r.Change == nil {
		return "new"
	}
	v := *r.Change
	sign := "+"
	if v < 0 {
		sign = "−"
		v = -v
	}
	if v == 0 {
		sign = "±"
	}
	num := strconv.FormatFloat(v, 'f', 1, 64)
	if r.ChangeUnit == "pp" || v < 1 {
		num = strconv.FormatFloat(v, 'f', 2, 64)
	}
	return sign + num + r.ChangeUnit
}

func verdictText(r compare.Row) string {
	switch r.Verdict {
	case compare.Better:
		return "better ✓"
	case compare.Worse:
		return "worse ✗"
	}
	return r.Verdict
}

// table writes rows of cells in aligned columns: the first left-aligned,
// the others right-aligned, except the last. A row of one cell is a
// heading and does not widen the first column.
func table(b *strings.Builder, cells [][]string) {
	width := make([]int, 5)
	for _, row := range cells {
		if len(row) == 1 {
			continue
		}
		for i, c := range row {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	for _, row := range cells {
		line := ""
		for i, c := range row {
			pad := strings.Repeat(" ", max(width[i]-utf8.RuneCountInString(c), 0))
			switch {
			case len(row) == 1:
				line = c
			case i == 0:
				line = c + pad
			case i == len(row)-1:
				line += "   " + c
			default:
				line += "  " + pad + c
			}
		}
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
}
