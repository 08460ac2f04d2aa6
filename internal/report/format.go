package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Ms formats a latency given in milliseconds with three significant
// digits: 0.412ms, 4.02ms, 40.1ms, 402ms, 4.02s.
func Ms(v float64) string {
	switch {
	case v >= 1000:
		return sig3(v/1000) + "s"
	case v == 0:
		return "0ms"
	}
	return sig3(v) + "ms"
}

// Dur formats a duration like Ms.
func Dur(d time.Duration) string { return Ms(float64(d) / float64(time.Millisecond)) }

func sig3(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case v >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'f', 3, 64)
}

// Int formats an integer with thousands separators: 1,234,567.
func Int(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Rate formats a per-second rate: 12,345/s below 10 000 with one decimal.
func Rate(v float64) string {
	if v < 100 {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return Int(int64(v + 0.5))
}

// Bytes formats a byte count in decimal units: 512 B, 12.3 kB, 4.56 MB.
func Bytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n), 0
	units := []string{"kB", "MB", "GB", "TB"}
	for v /= unit; v >= unit && i < len(units)-1; i++ {
		v /= unit
	}
	return sig3(v) + " " + units[i]
}

// Pct formats a fraction (0..1) as a percentage: 0.01%, 1.5%, 30%.
func Pct(f float64) string {
	p := f * 100
	switch {
	case p == 0:
		return "0%"
	case p < 0.01:
		return "<0.01%"
	case p < 10:
		return strconv.FormatFloat(p, 'f', 2, 64) + "%"
	}
	return strconv.FormatFloat(p, 'f', 1, 64) + "%"
}

// Seconds formats a duration in seconds for elapsed-time displays: 4.2s, 1m05s.
func Seconds(d time.Duration) string {
	if d < time.Minute {
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	}
	d = d.Round(time.Second)
	return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
}
