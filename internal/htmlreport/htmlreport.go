// Package htmlreport renders results and comparisons as one self-contained
// HTML file: the verdict and key figures in plain HTML (readable without
// JavaScript), and charts drawn by uPlot, which is embedded in the file, so
// opening a report makes no network request.
package htmlreport

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/surgeload/surge/internal/compare"
	"github.com/surgeload/surge/internal/hist"
	"github.com/surgeload/surge/internal/report"
	"github.com/surgeload/surge/internal/result"
)

var (
	//go:embed assets/uPlot.iife.min.js
	uplotJS string
	//go:embed assets/uPlot.min.css
	uplotCSS string
	//go:embed report.js
	reportJS string
	//go:embed report.css
	reportCSS string
	//go:embed report.html.tmpl
	pageTmpl string
)

// tmpl is the page's template, parsed on first use: commands that write
// no report never run the template parser.
var tmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("page").Funcs(template.FuncMap{
		"ms": report.Ms, "rate": report.Rate, "pct": report.Pct, "int": report.Int, "bytes": report.Bytes,
		"value": report.Value, "change": report.Change, "threshold": report.ThresholdValue,
		"pvalue": func(p *float64) string {
			if *p == 0 {
				return "p<1e-12"
			}
			return "p=" + strconv.FormatFloat(*p, 'g', 2, 64)
		},
		"level":  func(model string, users int, rate float64) string { return report.Level(model, float64(users)+rate) },
		"lower":  func(s string) string { return strings.ReplaceAll(strings.ToLower(s), " ", "-") },
		"mul100": func(f float64) float64 { return result.Round(f*100, 6) },
	}).Parse(pageTmpl))
})

// Chart is one chart: a shared x axis and its series, drawn by report.js.
type Chart struct {
	ID     string    `json:"id"`
	Title  string    `json:"title"`
	XLabel string    `json:"xlabel"`
	YLabel string    `json:"ylabel"`
	Y2     string    `json:"y2label,omitempty"` // label of the right axis, when a series uses it
	XLog   bool      `json:"xlog,omitempty"`
	XTicks string    `json:"xticks,omitempty"` // "percentile": label x = 1/(1−q) as a percentile
	X      []float64 `json:"x"`
	Series []Series  `json:"series"`
	// VLine marks an x value (the capacity); HLine a y value (the SLO).
	VLine *Mark  `json:"vline,omitempty"`
	HLine *Mark  `json:"hline,omitempty"`
	Note  string `json:"-"` // plain-HTML caption
}

// Series is one line of a chart; nil values are gaps.
type Series struct {
	Label  string     `json:"label"`
	Color  string     `json:"color"`
	Y2     bool       `json:"y2,omitempty"`
	Dash   bool       `json:"dash,omitempty"`
	Points bool       `json:"points,omitempty"`
	Values []*float64 `json:"values"`
}

// Mark is a labelled reference line.
type Mark struct {
	At    float64 `json:"at"`
	Label string  `json:"label"`
}

// Bar is one row of a plain-HTML bar chart.
type Bar struct {
	Label string
	Count int64
	Share float64 // 0..1 of the largest
	Text  string
}

// page is what the template renders.
type page struct {
	Title    string
	Kind     string // run, find, compare
	R        *result.Result
	C        *compare.Comparison
	Sections []compareSection
	Charts   []Chart
	Status   []Bar
	Classes  []Bar
	Steps    []stepRow
	Failed   int
	CSS      template.CSS
	JS       template.JS
	Data     any
}

type compareSection struct {
	Title string
	Rows  []compare.Row
}

type stepRow struct {
	Name string
	S    result.Summary
}

// Result writes the report of a run or find result.
func Result(w io.Writer, r *result.Result) error {
	p := &page{Kind: "run", R: r, Title: "surge run · " + r.Method + " " + r.Target}
	if r.Capacity != nil {
		p.Kind = "find"
		p.Title = "surge find · " + r.Method + " " + r.Target
	}
	for _, t := range r.Thresholds {
		if !t.OK {
			p.Failed++
		}
	}
	h, err := decode(r.Histogram)
	if err != nil {
		return err
	}
	if p.Kind == "find" {
		p.Charts = append(p.Charts, findCharts(r)...)
	}
	p.Charts = append(p.Charts, timeCharts("", []*result.Result{r}, []string{""})...)
	if h != nil {
		p.Charts = append(p.Charts, spectrum([]*hist.Histogram{h}, []string{"latency"}))
	}
	p.Status = bars(r.Summary.StatusCodes, r.Summary.Requests)
	p.Classes = bars(r.Summary.Errors.ByClass, r.Summary.Requests)
	names := slices.Clone(r.StepNames)
	for n := range r.ByStep {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	for _, n := range names {
		if s, ok := r.ByStep[n]; ok {
			p.Steps = append(p.Steps, stepRow{n, s})
		}
	}
	return render(w, p)
}

// Compare writes the report of a comparison of a (before) and b (after).
func Compare(w io.Writer, c *compare.Comparison, a, b *result.Result) error {
	p := &page{Kind: "compare", C: c, Title: "surge compare · " + c.A.Name + " → " + c.B.Name}
	for _, r := range c.Rows {
		if n := len(p.Sections); n == 0 || p.Sections[n-1].Title != r.Section {
			p.Sections = append(p.Sections, compareSection{Title: r.Section})
		}
		p.Sections[len(p.Sections)-1].Rows = append(p.Sections[len(p.Sections)-1].Rows, r)
	}
	if a.Capacity != nil && b.Capacity != nil {
		p.Charts = append(p.Charts, compareFindChart(a, b))
	}
	p.Charts = append(p.Charts, timeCharts("cmp", []*result.Result{a, b}, []string{"A", "B"})...)
	ha, err := decode(a.Histogram)
	if err != nil {
		return err
	}
	hb, err := decode(b.Histogram)
	if err != nil {
		return err
	}
	if ha != nil && hb != nil {
		p.Charts = append(p.Charts, spectrum([]*hist.Histogram{ha, hb}, []string{"A", "B"}))
	}
	return render(w, p)
}

func decode(s string) (*hist.Histogram, error) {
	if s == "" {
		return nil, nil
	}
	h, err := hist.Decode(s)
	if err != nil || h.Count() == 0 {
		return nil, err
	}
	return h, nil
}

func render(w io.Writer, p *page) error {
	p.CSS = template.CSS(uplotCSS + "\n" + reportCSS)
	p.JS = template.JS(uplotJS + "\n" + reportJS)
	p.Data = map[string]any{"charts": p.Charts}
	var b bytes.Buffer
	if err := tmpl().Execute(&b, p); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	_, err := w.Write(b.Bytes())
	return err
}

func bars(m map[string]int64, total int64) []Bar {
	var out []Bar
	var top int64
	for k, v := range m {
		out = append(out, Bar{Label: k, Count: v})
		top = max(top, v)
	}
	slices.SortFunc(out, func(a, b Bar) int {
		if a.Count != b.Count {
			return int(b.Count - a.Count)
		}
		return strings.Compare(a.Label, b.Label)
	})
	for i := range out {
		if top > 0 {
			out[i].Share = result.Round(float64(out[i].Count)/float64(top), 4)
		}
		if total > 0 {
			out[i].Text = report.Int(out[i].Count) + " (" + report.Pct(float64(out[i].Count)/float64(total)) + ")"
		} else {
			out[i].Text = report.Int(out[i].Count)
		}
	}
	return out
}

// Colors of A/B and of the percentiles.
var (
	palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"}
	sideCol = []string{"#7f7f7f", "#1f77b4"}
)

func num(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	r := result.Round(v, 3)
	return &r
}

// timeCharts draws per-second charts. With several results (compare), each
// series is overlaid on the union of their seconds.
func timeCharts(prefix string, rs []*result.Result, names []string) []Chart {
	// Overlaid results share whole seconds: their points end a few
	// milliseconds apart.
	at := func(t float64) float64 { return t }
	if len(rs) > 1 {
		at = math.Round
	}
	var xs []float64
	for _, r := range rs {
		for _, p := range r.Timeline {
			if !slices.Contains(xs, at(p.T)) {
				xs = append(xs, at(p.T))
			}
		}
	}
	if len(xs) == 0 {
		return nil
	}
	slices.Sort(xs)
	col := func(r *result.Result, get func(result.Point) float64) []*float64 {
		vals := make([]*float64, len(xs))
		for _, p := range r.Timeline {
			i, _ := slices.BinarySearch(xs, at(p.T))
			vals[i] = num(get(p))
		}
		return vals
	}
	label := func(i int, s string) string {
		if names[i] == "" {
			return s
		}
		return names[i] + " " + s
	}
	colorOf := func(i, k int) string {
		if len(rs) > 1 {
			return sideCol[i]
		}
		return palette[k]
	}
	thr := Chart{ID: prefix + "throughput", Title: "Throughput per second", XLabel: "seconds", YLabel: "req/s", X: xs}
	lat := Chart{ID: prefix + "latency", Title: "Latency per second", XLabel: "seconds", YLabel: "ms", X: xs}
	errs := Chart{ID: prefix + "errors", Title: "Errors per second", XLabel: "seconds", YLabel: "errors/s", X: xs}
	for i, r := range rs {
		thr.Series = append(thr.Series, Series{Label: label(i, "req/s"), Color: colorOf(i, 0), Values: col(r, func(p result.Point) float64 { return p.RPS })})
		load, loadLabel := func(p result.Point) float64 { return float64(p.Users) }, "users"
		if r.Model == "rate" {
			load, loadLabel = func(p result.Point) float64 { return p.Rate }, "target rate"
		}
		thr.Y2 = loadLabel
		thr.Series = append(thr.Series, Series{Label: label(i, loadLabel), Color: colorOf(i, 3), Y2: true, Dash: true, Values: col(r, load)})
		for k, pc := range []struct {
			name string
			get  func(result.Point) float64
		}{{"p50", func(p result.Point) float64 { return p.P50 }}, {"p95", func(p result.Point) float64 { return p.P95 }}, {"p99", func(p result.Point) float64 { return p.P99 }}} {
			if len(rs) > 1 && pc.name != "p95" {
				continue // overlaid: p95 only, or the chart is unreadable
			}
			lat.Series = append(lat.Series, Series{Label: label(i, pc.name), Color: colorOf(i, k), Values: col(r, pc.get)})
		}
		errs.Series = append(errs.Series, Series{Label: label(i, "errors"), Color: colorOf(i, 1), Values: col(r, func(p result.Point) float64 { return float64(p.Errors) })})
	}
	if len(rs) > 1 {
		lat.Title = "p95 latency per second"
	}
	return []Chart{thr, lat, errs}
}

// spectrum is the latency percentile spectrum: latency against
// 1/(1−q) on a log axis, so the tail gets as much room as the body.
func spectrum(hs []*hist.Histogram, names []string) Chart {
	c := Chart{ID: "spectrum", Title: "Latency distribution (percentile spectrum)", XLabel: "percentile", YLabel: "ms", XLog: true, XTicks: "percentile"}
	maxN := int64(0)
	for _, h := range hs {
		maxN = max(maxN, h.Count())
	}
	// Up to the percentile the largest side can resolve, at most 99.999 %.
	top := math.Min(math.Log10(float64(maxN)), 5)
	for k := 0.0; k <= top*20+1e-9; k++ {
		c.X = append(c.X, result.Round(math.Pow(10, k/20), 6))
	}
	for i, h := range hs {
		s := Series{Label: names[i], Color: palette[0], Values: make([]*float64, len(c.X))}
		if len(hs) > 1 {
			s.Color = sideCol[i]
		}
		for j, x := range c.X {
			q := 1 - 1/x
			if x > float64(h.Count()) {
				break
			}
			s.Values[j] = num(result.Ms(h.Quantile(q)))
		}
		c.Series = append(c.Series, s)
	}
	return c
}

var sloQuantile = regexp.MustCompile(`^p(\d+(?:\.\d+)?)\s*<=?\s*(\d+(?:\.\d+)?)\s*(us|µs|ms|s)$`)

// sloLatency finds the first latency SLO of a find result: its
// percentile name and bound in ms.
func sloLatency(slos []string) (name string, boundMs float64, ok bool) {
	for _, s := range slos {
		m := sloQuantile.FindStringSubmatch(strings.TrimSpace(s))
		if m == nil {
			continue
		}
		v, _ := strconv.ParseFloat(m[2], 64)
		switch m[3] {
		case "s":
			v *= 1000
		case "us", "µs":
			v /= 1000
		}
		return "p" + m[1], v, true
	}
	return "", 0, false
}

func stepLatency(l result.Latency, name string) float64 {
	switch name {
	case "p50":
		return l.P50
	case "p90":
		return l.P90
	case "p99":
		return l.P99
	case "p999", "p99.9":
		return l.P999
	}
	return l.P95
}

// levels returns find's steps sorted by load, one per level (the last
// measurement of a level wins: the confirming hold).
func levels(r *result.Result) []result.Step {
	byLevel := map[float64]result.Step{}
	for _, s := range r.Steps {
		byLevel[float64(s.Users)+s.Rate] = s
	}
	var out []result.Step
	for _, s := range byLevel {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b result.Step) int {
		return int(math.Copysign(1, float64(a.Users)+a.Rate-float64(b.Users)-b.Rate))
	})
	return out
}

func loadLabel(model string) string {
	if model == "rate" {
		return "target rate (req/s)"
	}
	return "users"
}

// findCharts draws throughput and the SLO's percentile against load, with
// the SLO line and the capacity marked, and the target's CPU and memory.
func findCharts(r *result.Result) []Chart {
	steps := levels(r)
	if len(steps) == 0 {
		return nil
	}
	var xs []float64
	for _, s := range steps {
		xs = append(xs, float64(s.Users)+s.Rate)
	}
	capAt := float64(r.Capacity.Users) + r.Capacity.Rate
	var capMark *Mark
	if r.Capacity.MetAtMin {
		capMark = &Mark{At: capAt, Label: "capacity " + report.Level(r.Model, capAt)}
	}
	pname, bound, hasSLO := sloLatency(r.Capacity.SLO)
	if !hasSLO {
		pname = "p95"
	}
	thr := Chart{ID: "find-throughput", Title: "Throughput against load", XLabel: loadLabel(r.Model), YLabel: "req/s", X: xs, VLine: capMark}
	lat := Chart{ID: "find-latency", Title: pname + " latency against load", XLabel: loadLabel(r.Model), YLabel: "ms", X: xs, VLine: capMark}
	if hasSLO {
		lat.HLine = &Mark{At: bound, Label: "SLO " + pname + " < " + report.Ms(bound)}
	}
	var rps, lv, cpu, mem []*float64
	hasProbe := false
	for _, s := range steps {
		rps = append(rps, num(s.RPS))
		lv = append(lv, num(stepLatency(s.Latency, pname)))
		var c, m *float64
		for _, k := range sortedKeys(s.Probes) {
			win := s.Probes[k]
			if win == nil {
				continue
			}
			if c == nil && win.CPUUtil != nil {
				c = num(100 * *win.CPUUtil)
			}
			if m == nil && win.RSSBytes != nil {
				m = num(*win.RSSBytes / 1e6)
			}
		}
		hasProbe = hasProbe || c != nil || m != nil
		cpu = append(cpu, c)
		mem = append(mem, m)
	}
	thr.Series = []Series{{Label: "req/s", Color: palette[0], Points: true, Values: rps}}
	lat.Series = []Series{{Label: pname, Color: palette[1], Points: true, Values: lv}}
	charts := []Chart{thr, lat}
	if hasProbe {
		charts = append(charts, Chart{ID: "find-target", Title: "Target CPU and memory against load", XLabel: loadLabel(r.Model),
			YLabel: "CPU %", Y2: "memory (MB)", X: xs, VLine: capMark, Series: []Series{
				{Label: "target CPU %", Color: palette[2], Points: true, Values: cpu},
				{Label: "target memory MB", Color: palette[3], Points: true, Y2: true, Values: mem}}})
	}
	return charts
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// compareFindChart overlays the throughput of two searches against load.
func compareFindChart(a, b *result.Result) Chart {
	var xs []float64
	for _, r := range []*result.Result{a, b} {
		for _, s := range levels(r) {
			if x := float64(s.Users) + s.Rate; !slices.Contains(xs, x) {
				xs = append(xs, x)
			}
		}
	}
	slices.Sort(xs)
	c := Chart{ID: "cmp-find", Title: "Throughput against load", XLabel: loadLabel(a.Model), YLabel: "req/s", X: xs}
	for i, r := range []*result.Result{a, b} {
		vals := make([]*float64, len(xs))
		for _, s := range levels(r) {
			j, _ := slices.BinarySearch(xs, float64(s.Users)+s.Rate)
			vals[j] = num(s.RPS)
		}
		c.Series = append(c.Series, Series{Label: []string{"A", "B"}[i] + " req/s", Color: sideCol[i], Points: true, Values: vals})
	}
	return c
}
