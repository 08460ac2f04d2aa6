package diagnose

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
)

func (d *data) level(x float64) string {
	if d.in.Model == "rate" {
		return rate(x) + " req/s"
	}
	if x == 1 {
		return "1 user"
	}
	return strconv.FormatFloat(x, 'f', 0, 64) + " users"
}

func rate(v float64) string {
	if v < 100 {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	s := strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func ms(v float64) string {
	switch {
	case v >= 1000:
		return strconv.FormatFloat(v/1000, 'f', 2, 64) + "s"
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64) + "ms"
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64) + "ms"
	}
	return strconv.FormatFloat(v, 'f', 2, 64) + "ms"
}

func pct(f float64) string {
	p := 100 * f
	switch {
	case p == 0:
		return "0%"
	case p < 0.1:
		return "<0.1%"
	}
	return strconv.FormatFloat(p, 'f', 1, 64) + "%"
}

func bytes(b float64) string {
	switch {
	case math.Abs(b) >= 1<<30:
		return strconv.FormatFloat(b/(1<<30), 'f', 1, 64) + " GiB"
	case math.Abs(b) >= 1<<20:
		return strconv.FormatFloat(b/(1<<20), 'f', 0, 64) + " MiB"
	case math.Abs(b) >= 1<<10:
		return strconv.FormatFloat(b/(1<<10), 'f', 0, 64) + " KiB"
	}
	return strconv.FormatFloat(b, 'f', 0, 64) + " B"
}

func ratio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// coresText formats a CPU count: "1 core", "2 cores", "1.5 cores".
func coresText(v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if v == 1 {
		return s + " core"
	}
	return s + " cores"
}

func sloList(slo []string) string {
	if len(slo) == 0 {
		return "the SLO"
	}
	s := slo[0]
	for _, x := range slo[1:] {
		s += ", " + x
	}
	return s
}

func classes(m map[string]int64) string {
	keys := sortedKeys(m)
	slices.SortStableFunc(keys, func(a, b string) int { return cmp.Compare(m[b], m[a]) })
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s %d", k, m[k])
	}
	if s == "" {
		return "no errors"
	}
	return s
}

func codes(m map[string]int64) string {
	keys := sortedKeys(m)
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s ×%d", k, m[k])
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
