package report

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/surgeload/surge/internal/result"
)

// Level formats a load level: "1 user", "40 users", "250 req/s".
func Level(model string, level float64) string {
	if model == "rate" {
		return Rate(level) + " req/s"
	}
	if level == 1 {
		return "1 user"
	}
	return strconv.FormatFloat(level, 'f', 0, 64) + " users"
}

// StepLine is the progress line of one step of a capacity search.
func StepLine(n int, model string, level float64, phase string, ok bool, r *result.Result) string {
	mark := "✓"
	if !ok {
		mark = "✗"
	}
	s := r.Summary
	line := fmt.Sprintf("  %2d %-8s %12s  %8s req/s  p50 %-8s p95 %-8s errors %-6s %s", n, phase, Level(model, level),
		Rate(s.RPS), Ms(s.Latency.P50), Ms(s.Latency.P95), Pct(s.Errors.Rate), mark)
	if cpu := probeCPU(r.Probes); cpu != "" {
		line += "  target cpu " + cpu
	}
	return line
}

// probeCPU formats the target's CPU from the first probe window that has it.
func probeCPU(p result.Probes) string {
	names := make([]string, 0, len(p))
	for k := range p {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		w := p[k].Window
		switch {
		case w == nil:
		case w.CPUUtil != nil:
			return strconv.FormatFloat(100**w.CPUUtil, 'f', 0, 64) + "%"
		case w.CPUCores != nil:
			return strconv.FormatFloat(*w.CPUCores, 'f', 2, 64) + " cores"
		}
	}
	return ""
}

// Find writes the terminal summary of a capacity search.
func Find(w io.Writer, r *result.Result) error {
	var b strings.Builder
	c := r.Capacity
	fmt.Fprintf(&b, "surge find · %s %s · SLO %s\n", r.Method, r.Target, strings.Join(c.SLO, ", "))
	if r.Partial {
		b.WriteString("PARTIAL RESULT: the search was interrupted\n")
	}
	b.WriteString("\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "  level\treq/s\tp50\tp95\tp99\terrors\ttarget cpu\tSLO\t")
	steps := slices.Clone(r.Steps)
	slices.SortStableFunc(steps, func(a, b result.Step) int {
		return cmp.Compare(float64(a.Users)+a.Rate, float64(b.Users)+b.Rate)
	})
	for _, s := range steps {
		mark := "✓"
		if !s.SLOOK {
			mark = "✗"
		}
		cpu := busiestCPU(s.Probes)
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s %s\t\n", Level(r.Model, float64(s.Users)+s.Rate), Rate(s.RPS),
			Ms(s.Latency.P50), Ms(s.Latency.P95), Ms(s.Latency.P99), Pct(s.Errors.Rate), cpu, mark, s.Phase)
	}
	tw.Flush()
	b.WriteString("\n")

	row := func(label, text string) { fmt.Fprintf(&b, "  %-11s %s\n", label, text) }
	switch {
	case !c.MetAtMin:
		row("capacity", "none: the SLOs fail even at the lowest load tried")
	default:
		level := Level(r.Model, float64(c.Users)+c.Rate)
		conf := "confirmed by a sustained hold"
		if !c.Confirmed {
			conf = "not confirmed: the sustained hold failed, so this comes from short steps"
		}
		good := ""
		if c.GoodputRPS != nil && *c.GoodputRPS < c.RPS {
			good = fmt.Sprintf(", %s successful", Rate(*c.GoodputRPS))
		}
		row("capacity", fmt.Sprintf("%s · %s req/s%s (%s)", level, Rate(c.RPS), good, conf))
	}
	if bn := r.Bottleneck; bn != nil {
		class := bn.Class
		if bn.ConcurrencyLimit > 0 {
			class += fmt.Sprintf(" (≈ %s requests in service at once)", strconv.FormatFloat(bn.ConcurrencyLimit, 'f', 1, 64))
		}
		if len(bn.Secondary) > 0 {
			class += "; also " + strings.Join(bn.Secondary, ", ")
		}
		if bn.Step != "" {
			class = fmt.Sprintf("step %q: %s", bn.Step, class)
		}
		row("bottleneck", class)
		b.WriteString(wrap(bn.Summary, 14, 78))
		for i, e := range bn.Evidence {
			label := ""
			if i == 0 {
				label = "evidence"
			}
			fmt.Fprintf(&b, "  %-11s · %s\n", label, e)
		}
	}
	for _, wmsg := range r.Client.Warnings {
		fmt.Fprintf(&b, "\n  ! %s\n", wmsg)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// wrap indents text and wraps it at width.
func wrap(text string, indent, width int) string {
	var b strings.Builder
	pad := strings.Repeat(" ", indent)
	line := pad
	for _, word := range strings.Fields(text) {
		if len(line) > indent && len(line)+1+len(word) > width {
			b.WriteString(line + "\n")
			line = pad
		}
		if len(line) > indent {
			line += " "
		}
		line += word
	}
	if len(line) > indent {
		b.WriteString(line + "\n")
	}
	return b.String()
}

// busiestCPU formats the CPU of the busiest probe of a step: its share of
// the cores when known, else the cores it used; "—" without a reading.
func busiestCPU(probes map[string]*result.ProbeWindow) string {
	var best *result.ProbeWindow
	for _, name := range slices.Sorted(maps.Keys(probes)) {
		w := probes[name]
		switch {
		case w == nil || (w.CPUCores == nil && w.CPUUtil == nil):
		case best == nil:
			best = w
		case w.CPUUtil != nil && (best.CPUUtil == nil || *w.CPUUtil > *best.CPUUtil):
			best = w
		case w.CPUUtil == nil && best.CPUUtil == nil && *w.CPUCores > *best.CPUCores: // both have CPUCores here
			best = w
		}
	}
	switch {
	case best == nil:
		return "—"
	case best.CPUUtil != nil:
		return strconv.FormatFloat(100**best.CPUUtil, 'f', 0, 64) + "%"
	}
	return strconv.FormatFloat(*best.CPUCores, 'f', 2, 64) + " cores"
}
