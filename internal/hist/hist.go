// Package hist holds surge's latency histogram: an HDR histogram with one
// fixed geometry (1 µs to 1 h at 3 significant digits, about 180 KB), so
// every histogram surge writes can be merged with every other, and
// percentiles carry a bounded relative error (0.1 %) instead of coming from
// a sample.
//
// A histogram takes its counts' memory when it first holds a value: one
// that is never written (the send lag of a closed-model run, a shard no
// goroutine records on) costs a few words.
//
// A Histogram provides no internal synchronization: callers that record
// from several goroutines must hold their own lock (the metrics package
// shards histograms for that reason).
package hist

import (
	"fmt"
	"math"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// The fixed geometry of every surge histogram. Values are microseconds.
const (
	// Lowest is the smallest distinguishable value.
	Lowest = time.Microsecond
	// Highest is the largest value recorded as is; larger values are
	// recorded as Highest and counted by Clamped.
	Highest = time.Hour
	// SigFigs is the number of significant decimal digits kept, which
	// bounds the relative error of any quantile to 10^-SigFigs.
	SigFigs = 3
)

// Histogram is a latency histogram with surge's fixed geometry.
// The zero value is not usable; call New.
type Histogram struct {
	h       *hdr.Histogram // nil until the first observation
	min     int64          // exact, µs; math.MaxInt64 when empty
	max     int64          // exact, µs
	clamped int64
}

// New returns an empty histogram.
func New() *Histogram {
	return &Histogram{min: math.MaxInt64}
}

// newHDR returns empty counts of surge's geometry.
func newHDR() *hdr.Histogram {
	return hdr.New(int64(Lowest/time.Microsecond), int64(Highest/time.Microsecond), SigFigs)
}

// counts returns h's counts, made on first use.
func (h *Histogram) counts() *hdr.Histogram {
	if h.h == nil {
		h.h = newHDR()
	}
	return h.h
}

// Record adds one observation. Negative durations count as zero; durations
// above Highest are recorded as Highest and counted by Clamped, never
// dropped.
func (h *Histogram) Record(d time.Duration) {
	v := int64(d / time.Microsecond)
	if v < 0 {
		v = 0
	}
	if v > int64(Highest/time.Microsecond) {
		v = int64(Highest / time.Microsecond)
		h.clamped++
	}
	// In range by construction, so RecordValue cannot fail.
	_ = h.counts().RecordValue(v)
	if v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
}

// Merge adds every observation of o to h. o is unchanged.
func (h *Histogram) Merge(o *Histogram) {
	if o.Count() == 0 {
		return
	}
	// Same geometry on both sides, so nothing can be dropped.
	_ = h.counts().Merge(o.h)
	if o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.clamped += o.clamped
}

// Reset empties the histogram, keeping its memory. An empty one is left
// alone: clearing its counts would touch every page of them.
func (h *Histogram) Reset() {
	if h.Count() == 0 {
		return
	}
	h.h.Reset()
	h.min = math.MaxInt64
	h.max = 0
	h.clamped = 0
}

// Count returns the number of observations.
func (h *Histogram) Count() int64 {
	if h.h == nil {
		return 0
	}
	return h.h.TotalCount()
}

// Clamped returns how many observations exceeded Highest.
func (h *Histogram) Clamped() int64 { return h.clamped }

// Quantile returns the value below which the fraction q (0 ≤ q ≤ 1) of the
// observations fall, within the histogram's relative error. It returns 0
// for an empty histogram.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.Count() == 0 {
		return 0
	}
	switch {
	case q <= 0:
		return h.Min()
	case q >= 1:
		return h.Max()
	}
	v := h.h.ValueAtQuantile(q * 100)
	// The HDR answer is the highest value equivalent to the bucket; never
	// report more than what was actually observed.
	if v > h.max {
		v = h.max
	}
	return time.Duration(v) * time.Microsecond
}

// Mean returns the arithmetic mean of the observations (0 when empty).
func (h *Histogram) Mean() time.Duration {
	if h.Count() == 0 {
		return 0
	}
	return time.Duration(h.h.Mean() * float64(time.Microsecond))
}

// Min returns the smallest observation (0 when empty).
func (h *Histogram) Min() time.Duration {
	if h.Count() == 0 {
		return 0
	}
	return time.Duration(h.min) * time.Microsecond
}

// Max returns the largest observation (0 when empty).
func (h *Histogram) Max() time.Duration {
	return time.Duration(h.max) * time.Microsecond
}

// Encode returns the histogram in the standard HdrHistogram V2 compressed
// format, base64 encoded: the form stored in a result's "histogram" key,
// readable by any HdrHistogram implementation.
func (h *Histogram) Encode() (string, error) {
	c := h.h
	if c == nil {
		c = newHDR()
	}
	b, err := c.Encode(hdr.V2CompressedEncodingCookieBase)
	if err != nil {
		return "", fmt.Errorf("encode histogram: %w", err)
	}
	return string(b), nil
}

// Decode reads a histogram written by Encode. Observations that fall
// outside surge's geometry (from a histogram written by another tool) are
// an error, not silently dropped.
func Decode(s string) (*Histogram, error) {
	d, err := hdr.Decode([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("decode histogram: %w", err)
	}
	h := New()
	if dropped := h.counts().Merge(d); dropped > 0 {
		return nil, fmt.Errorf("decode histogram: %d values outside 1µs..1h", dropped)
	}
	if h.Count() > 0 {
		h.min = h.h.Min()
		h.max = h.h.Max()
	}
	return h, nil
}

// Buckets calls fn for every non-empty bucket in increasing order of value,
// with the bucket's lowest value and its count. Two surge histograms share
// one geometry, so equal values name the same bucket in both.
func (h *Histogram) Buckets(fn func(lowest time.Duration, count int64)) {
	if h.Count() == 0 {
		return
	}
	for _, b := range h.h.Distribution() {
		if b.Count > 0 {
			fn(time.Duration(b.From)*time.Microsecond, b.Count)
		}
	}
}
