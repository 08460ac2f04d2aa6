package hist_test

import (
	"encoding/base64"
	"encoding/binary"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/surgeload/surge/internal/hist"
)

// within reports whether got is within the histogram's relative error of want.
func within(got, want time.Duration) bool {
	tol := float64(want) / 1000 // 3 significant digits
	if tol < float64(time.Microsecond) {
		tol = float64(time.Microsecond)
	}
	diff := float64(got - want)
	return diff <= tol && diff >= -tol
}

func TestQuantilesKnownAnswer(t *testing.T) {
	h := hist.New()
	// 1 ms, 2 ms, ..., 1000 ms: the q-quantile is q × 1000 ms.
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Millisecond)
	}
	cases := []struct {
		q    float64
		want time.Duration
	}{
		{0.5, 500 * time.Millisecond},
		{0.9, 900 * time.Millisecond},
		{0.99, 990 * time.Millisecond},
		{0.999, 999 * time.Millisecond},
		{1, 1000 * time.Millisecond},
		{0, 1 * time.Millisecond},
	}
	for _, c := range cases {
		if got := h.Quantile(c.q); !within(got, c.want) {
			t.Errorf("Quantile(%v) = %v, want %v ± 0.1%%", c.q, got, c.want)
		}
	}
	if got, want := h.Mean(), 500500*time.Microsecond; !within(got, want) {
		t.Errorf("Mean = %v, want %v", got, want)
	}
	if h.Max() != time.Second || h.Min() != time.Millisecond {
		t.Errorf("Min/Max = %v/%v, want exact 1ms/1s", h.Min(), h.Max())
	}
	if h.Count() != 1000 {
		t.Errorf("Count = %d, want 1000", h.Count())
	}
}

func TestRelativeErrorBound(t *testing.T) {
	// Against the exact answer on random data spanning six decades.
	r := rand.New(rand.NewPCG(1, 2))
	h := hist.New()
	vals := make([]time.Duration, 20000)
	for i := range vals {
		vals[i] = time.Duration(float64(time.Microsecond) * (1 + r.ExpFloat64()*1e4))
		h.Record(vals[i])
	}
	slices.Sort(vals)
	for _, q := range []float64{0.5, 0.9, 0.95, 0.99, 0.999} {
		exact := vals[int(q*float64(len(vals)))-1]
		got := h.Quantile(q)
		if rel := abs(float64(got-exact)) / float64(exact); rel > 0.002 {
			t.Errorf("q=%v: got %v, exact %v, relative error %.4f > 0.002", q, got, exact, rel)
		}
	}
}

func TestClampAboveHighest(t *testing.T) {
	h := hist.New()
	h.Record(2 * time.Hour)
	h.Record(time.Millisecond)
	if h.Clamped() != 1 {
		t.Fatalf("Clamped = %d, want 1", h.Clamped())
	}
	if h.Count() != 2 {
		t.Fatalf("Count = %d, want 2 (clamped values are kept)", h.Count())
	}
	if h.Max() != hist.Highest {
		t.Fatalf("Max = %v, want %v", h.Max(), hist.Highest)
	}
}

func TestMergeEqualsRecordingAll(t *testing.T) {
	a, b, all := hist.New(), hist.New(), hist.New()
	for i := 1; i <= 500; i++ {
		d := time.Duration(i*i) * time.Microsecond
		if i%2 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
		all.Record(d)
	}
	a.Merge(b)
	for _, q := range []float64{0, 0.5, 0.99, 1} {
		if a.Quantile(q) != all.Quantile(q) {
			t.Errorf("q=%v: merged %v, recorded together %v", q, a.Quantile(q), all.Quantile(q))
		}
	}
	if a.Count() != all.Count() || a.Min() != all.Min() || a.Max() != all.Max() {
		t.Errorf("merged count/min/max %d/%v/%v, want %d/%v/%v", a.Count(), a.Min(), a.Max(), all.Count(), all.Min(), all.Max())
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	h := hist.New()
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * 137 * time.Microsecond)
	}
	s, err := h.Encode()
	if err != nil {
		t.Fatal(err)
	}
	d, err := hist.Decode(s)
	if err != nil {
		t.Fatal(err)
	}
	if d.Count() != h.Count() {
		t.Fatalf("count %d, want %d", d.Count(), h.Count())
	}
	for _, q := range []float64{0.5, 0.9, 0.99} {
		if d.Quantile(q) != h.Quantile(q) {
			t.Errorf("q=%v: decoded %v, original %v", q, d.Quantile(q), h.Quantile(q))
		}
	}
	if !within(d.Max(), h.Max()) {
		t.Errorf("decoded max %v, original %v", d.Max(), h.Max())
	}
}

func TestDecodeRejectsGarbage(t *testing.T) {
	for _, s := range []string{"", "not base64!", "AAAA", "HISTFAAAACR4nJNpmSzMwMDAxQABzFCaEUz+//8fAA=="} {
		if _, err := hist.Decode(s); err == nil {
			t.Errorf("Decode(%q) succeeded, want an error", s)
		}
	}
}

func TestEmpty(t *testing.T) {
	h := hist.New()
	if h.Quantile(0.99) != 0 || h.Mean() != 0 || h.Min() != 0 || h.Max() != 0 {
		t.Fatal("empty histogram should report zeros")
	}
}

// A histogram that is never written must not cost its counts: a closed-model
// run keeps a dozen send-lag histograms that stay empty, and every one would
// otherwise hold 180 KB of heap that the garbage collector paces against.
// Reset, Merge of an empty one and the readers leave it that way; the first
// observation, or merging a non-empty one, gives it its counts.
func TestEmptyHoldsNoCounts(t *testing.T) {
	const n = 64
	var before, after runtime.MemStats
	hs := make([]*hist.Histogram, n)
	runtime.ReadMemStats(&before)
	for i := range hs {
		hs[i] = hist.New()
	}
	for i, h := range hs {
		h.Reset()
		h.Merge(hs[(i+1)%n])
		_ = h.Quantile(0.99) + h.Mean() + h.Min() + h.Max()
		_ = h.Count() + h.Clamped()
		h.Buckets(func(time.Duration, int64) { t.Fatal("bucket in an empty histogram") })
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > n*1024 {
		t.Fatalf("%d empty histograms allocated %d bytes, want under 1 KB each", n, got)
	}
	runtime.KeepAlive(hs)

	full := hist.New()
	full.Record(3 * time.Millisecond)
	hs[0].Merge(full)
	hs[1].Record(5 * time.Millisecond)
	if hs[0].Count() != 1 || hs[0].Quantile(0.5) != full.Quantile(0.5) || hs[1].Max() != 5*time.Millisecond {
		t.Fatalf("after the first value: merged %d (p50 %v), recorded max %v", hs[0].Count(), hs[0].Quantile(0.5), hs[1].Max())
	}
	s, err := hist.New().Encode()
	if err != nil {
		t.Fatal(err)
	}
	if d, err := hist.Decode(s); err != nil || d.Count() != 0 {
		t.Fatalf("an empty histogram's encoding decodes to %v, %v", d, err)
	}
}

func FuzzDecode(f *testing.F) {
	h := hist.New()
	h.Record(time.Millisecond)
	s, _ := h.Encode()
	f.Add(s)
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := hist.Decode(s)
		if err != nil {
			return
		}
		_ = d.Quantile(0.99)
		if _, err := d.Encode(); err != nil {
			t.Fatalf("re-encode of a decoded histogram failed: %v", err)
		}
	})
}

func BenchmarkRecord(b *testing.B) {
	h := hist.New()
	for i := 0; b.Loop(); i++ {
		h.Record(time.Duration(i&0xffff) * time.Microsecond)
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// The "histogram" key must be what any HdrHistogram reader takes: base64 of
// the V2 compressed encoding (cookie base 0x1c849304 with the 0x10 bit
// HdrHistogram's Java writer also sets, so 0x1c849314), decodable by the
// reference Go implementation itself, with every count intact.
func TestEncodeIsStandardV2Compressed(t *testing.T) {
	h := hist.New()
	for i := 1; i <= 500; i++ {
		h.Record(time.Duration(i*i) * time.Microsecond)
	}
	s, err := h.Encode()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("not standard base64: %v", err)
	}
	if len(raw) < 8 || binary.BigEndian.Uint32(raw) != 0x1c849314 {
		t.Fatalf("cookie %x, want the V2 compressed cookie 1c849314", raw[:4])
	}
	ref, err := hdr.Decode([]byte(s))
	if err != nil {
		t.Fatalf("hdrhistogram-go cannot decode it: %v", err)
	}
	if ref.TotalCount() != 500 || ref.ValueAtQuantile(50) != int64(h.Quantile(0.5)/time.Microsecond) {
		t.Fatalf("reference decode: count %d p50 %dµs, want 500 and %v", ref.TotalCount(), ref.ValueAtQuantile(50), h.Quantile(0.5))
	}
}

func TestBucketsCoverEveryObservation(t *testing.T) {
	h := hist.New()
	for _, ms := range []int{1, 1, 5, 5, 5, 900} {
		h.Record(time.Duration(ms) * time.Millisecond)
	}
	var total int64
	var last time.Duration = -1
	var got []int64
	h.Buckets(func(v time.Duration, n int64) {
		if v <= last {
			t.Errorf("bucket %v after %v: not increasing", v, last)
		}
		last = v
		total += n
		got = append(got, n)
	})
	if total != 6 || len(got) != 3 || got[0] != 2 || got[1] != 3 || got[2] != 1 {
		t.Fatalf("bucket counts %v, want [2 3 1]", got)
	}
}
