package report

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/surgeload/surge/internal/result"
)

// Summary writes the terminal summary of a run.
func Summary(w io.Writer, r *result.Result) error {
	var b strings.Builder
	s := r.Summary
	load := fmt.Sprintf("%d users", r.Users)
	if r.Model == "rate" {
		unit := " req/s"
		if r.Iterations != nil {
			unit = " journeys/s"
		}
		load = Rate(r.Rate) + unit
	}
	what := r.Target
	if r.Method != "" {
		what = r.Method + " " + r.Target
	}
	fmt.Fprintf(&b, "\nsurge run · %s · %s · %s\n", what, load, Seconds(time.Duration(r.DurationS*float64(time.Second))))
	if r.Partial {
		b.WriteString("PARTIAL RESULT: the run was interrupted before the end of its plan\n")
	}
	if r.Stopped != "" {
		fmt.Fprintf(&b, "STOPPED EARLY: %s\n", r.Stopped)
	}
	b.WriteString("\n")

	row := func(label, format string, args ...any) {
		fmt.Fprintf(&b, "  %-11s %s\n", label, fmt.Sprintf(format, args...))
	}
	req := fmt.Sprintf("%s in %s · %s/s", Int(s.Requests), Seconds(time.Duration(r.DurationS*float64(time.Second))), Rate(s.RPS))
	if s.Dropped > 0 {
		req += fmt.Sprintf(" · %s dropped (not sent)", Int(s.Dropped))
	}
	if s.Unfinished > 0 {
		req += fmt.Sprintf(" · %s unfinished at the end", Int(s.Unfinished))
	}
	row("requests", "%s", req)
	l := s.Latency
	if s.Requests > 0 {
		row("latency", "mean %s · p50 %s · p90 %s · p95 %s · p99 %s · p99.9 %s · max %s",
			Ms(l.Mean), Ms(l.P50), Ms(l.P90), Ms(l.P95), Ms(l.P99), Ms(l.P999), Ms(l.Max))
	}
	if len(s.StatusCodes) > 0 {
		row("status", "%s", counts(s.StatusCodes, " ×"))
	}
	if s.Errors.Count > 0 {
		row("errors", "%s (%s): %s", Int(s.Errors.Count), Pct(s.Errors.Rate), counts(s.Errors.ByClass, " "))
	} else {
		row("errors", "none")
	}
	transfer := fmt.Sprintf("in %s · out %s · %s connections", Bytes(s.BytesIn), Bytes(s.BytesOut), Int(s.Connections))
	if len(s.Protocols) > 0 {
		transfer += " · " + strings.Join(slices.Sorted(maps.Keys(s.Protocols)), ", ")
	}
	row("transfer", "%s", transfer)
	if it := r.Iterations; it != nil {
		line := fmt.Sprintf("%s in %s · %s/s · %s completed", Int(it.Count), Seconds(time.Duration(r.DurationS*float64(time.Second))), Rate(it.Rate), Int(it.Completed))
		if it.Failed > 0 {
			line += fmt.Sprintf(" · %s failed", Int(it.Failed))
		}
		if it.Completed > 0 {
			line += fmt.Sprintf(" · journey p50 %s · p95 %s", Ms(it.Latency.P50), Ms(it.Latency.P95))
		}
		row("iterations", "%s", line)
	}
	c := r.Client
	gen := fmt.Sprintf("cpu %.0f%% of %d cores · timer lag p99 %s", c.CPUPercent, c.Cores, Ms(c.SchedLag.P99))
	if c.SendLag != nil {
		gen += fmt.Sprintf(" · send lag p99 %s", Ms(c.SendLag.P99))
	}
	row("generator", "%s", gen)

	if len(r.StepNames) > 0 {
		stepTable(&b, r)
	}
	if len(r.Thresholds) > 0 {
		b.WriteString("\n  thresholds\n")
		width := 0
		for _, t := range r.Thresholds {
			width = max(width, len(t.Expr))
		}
		for _, t := range r.Thresholds {
			mark := "✓"
			if !t.OK {
				mark = "✗"
			}
			fmt.Fprintf(&b, "    %s %-*s  %s\n", mark, width, t.Expr, ThresholdValue(t))
		}
	}
	for _, w := range c.Warnings {
		fmt.Fprintf(&b, "\n  ! %s\n", w)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ThresholdValue formats a threshold's measured value with its unit.
func ThresholdValue(t result.Threshold) string {
	if t.Value == nil {
		return "not measured (no request completed)"
	}
	v := *t.Value
	switch t.Unit {
	case "ms":
		return Ms(v)
	case "%":
		return Pct(v / 100)
	case "req/s":
		return Rate(v) + " req/s"
	}
	return strconv.FormatFloat(v, 'g', 4, 64) + " " + t.Unit
}

// counts formats a map of counts, largest first: "200 ×1,234 · 503 ×12".
func counts(m map[string]int64, sep string) string {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int {
		if m[a] != m[b] {
			if m[a] > m[b] {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + sep + Int(m[k])
	}
	return strings.Join(parts, " · ")
}

// stepTable writes a row per journey step: its throughput, latency and
// errors.
func stepTable(b *strings.Builder, r *result.Result) {
	width := len("step")
	for _, n := range r.StepNames {
		width = max(width, len([]rune(n)))
	}
	fmt.Fprintf(b, "\n  %-*s  %9s  %9s  %9s  %9s  %s\n", width, "step", "requests", "req/s", "p50", "p95", "errors")
	for _, n := range r.StepNames {
		s, ok := r.ByStep[n]
		if !ok {
			continue
		}
		errs := "none"
		if s.Errors.Count > 0 {
			errs = fmt.Sprintf("%s (%s): %s", Int(s.Errors.Count), Pct(s.Errors.Rate), counts(s.Errors.ByClass, " "))
		}
		p50, p95 := "—", "—"
		if s.Requests > s.Errors.ByClass["refused"]+s.Errors.ByClass["reset"]+s.Errors.ByClass["dns"]+s.Errors.ByClass["other"]+s.Errors.ByClass["local"] {
			p50, p95 = Ms(s.Latency.P50), Ms(s.Latency.P95)
		}
		pad := width - len([]rune(n))
		fmt.Fprintf(b, "  %s%s  %9s  %9s  %9s  %9s  %s\n", n, strings.Repeat(" ", pad), Int(s.Requests), Rate(s.RPS), p50, p95, errs)
	}
}
