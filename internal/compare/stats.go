package compare

import (
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/surgeload/surge/internal/hist"
)

// RankTest is the outcome of a Mann–Whitney U test between two latency
// histograms.
type RankTest struct {
	P float64 // two-sided p-value, normal approximation with tie correction
	// A12 is the Vargha–Delaney effect size: the probability that a
	// request of B was slower than one of A (ties count half). 0.5 means
	// no shift; above 0.5, B is slower.
	A12 float64
}

// MannWhitney runs the rank test on two histograms of the same geometry,
// from their buckets: the observations of one bucket are ties. inflate
// (≥ 1) multiplies the variance of U: the design effect of runs whose
// requests are not independent.
func MannWhitney(a, b *hist.Histogram, inflate float64) RankTest {
	na, nb := float64(a.Count()), float64(b.Count())
	if na == 0 || nb == 0 {
		return RankTest{P: 1, A12: 0.5}
	}
	type bucket struct {
		v time.Duration
		n int64
	}
	list := func(h *hist.Histogram) []bucket {
		var bs []bucket
		h.Buckets(func(v time.Duration, n int64) { bs = append(bs, bucket{v, n}) })
		return bs
	}
	ba, bb := list(a), list(b)
	var below, rankB, ties float64 // observations ranked so far, B's rank sum, Σ(t³−t)
	// Merge the two ascending bucket lists; one value is one rank group.
	for i, j := 0, 0; i < len(ba) || j < len(bb); {
		var ca, cb int64
		switch {
		case j == len(bb) || i < len(ba) && ba[i].v < bb[j].v:
			ca = ba[i].n
			i++
		case i == len(ba) || bb[j].v < ba[i].v:
			cb = bb[j].n
			j++
		default:
			ca, cb = ba[i].n, bb[j].n
			i++
			j++
		}
		t := float64(ca + cb)
		avg := below + (t+1)/2
		rankB += float64(cb) * avg
		ties += t*t*t - t
		below += t
	}
	n := na + nb
	u := rankB - nb*(nb+1)/2 // pairs where B is slower, ties counting half
	mean := na * nb / 2
	variance := na * nb / 12 * ((n + 1) - ties/(n*(n-1))) * max(inflate, 1)
	rt := RankTest{P: 1, A12: u / (na * nb)}
	if variance <= 0 {
		return rt
	}
	z := math.Max(math.Abs(u-mean)-0.5, 0) / math.Sqrt(variance)
	rt.P = math.Erfc(z / math.Sqrt2)
	return rt
}

// negligible is the Vargha–Delaney band of a negligible effect: with
// hundreds of thousands of requests, a rank test finds a shift of a few
// microseconds "significant"; a shift this small is not a change a person
// acts on.
func negligible(a12 float64) bool { return a12 > 0.44 && a12 < 0.56 }

// QuantileCI returns a distribution-free confidence interval for the
// quantile q of the histogram: the observations at ranks n·q ± z·√(n·q·(1−q))
// (the normal approximation of the binomial count below the quantile).
func QuantileCI(h *hist.Histogram, q, alpha float64) (lo, hi time.Duration) {
	n := float64(h.Count())
	if n == 0 {
		return 0, 0
	}
	z := normalQuantile(1 - alpha/2)
	half := z * math.Sqrt(n*q*(1-q))
	rlo := math.Floor(n*q - half)
	rhi := math.Ceil(n*q + half)
	return h.Quantile(math.Max(rlo, 0) / n), h.Quantile(math.Min(rhi, n) / n)
}

// QuantileTest is the two-sided p-value that the quantile q is the same
// in both histograms. Each side's standard error comes from its own
// distribution-free 95 % interval (QuantileCI), so no shape is assumed;
// the difference over the combined error is taken as normal.
//
// inflateA and inflateB (≥ 1) multiply each side's variance: the design
// effect of a run whose requests are not independent (see Inflation).
func QuantileTest(a, b *hist.Histogram, q, inflateA, inflateB float64) float64 {
	if a.Count() == 0 || b.Count() == 0 {
		return 1
	}
	const alpha95 = 0.05
	z95 := normalQuantile(1 - alpha95/2)
	se := func(h *hist.Histogram) float64 {
		lo, hi := QuantileCI(h, q, alpha95)
		return float64(hi-lo) / (2 * z95)
	}
	diff := math.Abs(float64(b.Quantile(q) - a.Quantile(q)))
	s := math.Hypot(se(a)*math.Sqrt(inflateA), se(b)*math.Sqrt(inflateB))
	if s == 0 {
		if diff == 0 {
			return 1
		}
		return 0
	}
	return math.Erfc(diff / s / math.Sqrt2)
}

// TwoProportions is the two-sided p-value of a pooled z-test that the
// rates xa/na and xb/nb are equal.
func TwoProportions(xa, na, xb, nb int64) float64 {
	if na <= 0 || nb <= 0 {
		return 1
	}
	pa, pb := float64(xa)/float64(na), float64(xb)/float64(nb)
	p := float64(xa+xb) / float64(na+nb)
	se := math.Sqrt(p * (1 - p) * (1/float64(na) + 1/float64(nb)))
	if se == 0 {
		return 1
	}
	return math.Erfc(math.Abs(pb-pa) / se / math.Sqrt2)
}

// BootstrapMeanDiff returns a percentile-bootstrap confidence interval
// (level 1−alpha) of mean(b) − mean(a), resampling each series with
// replacement rounds times. The generator is seeded from the data, so the
// same two series always give the same interval.
func BootstrapMeanDiff(a, b []float64, alpha float64, rounds int) (lo, hi float64) {
	if len(a) == 0 || len(b) == 0 {
		return math.Inf(-1), math.Inf(1)
	}
	seed := uint64(len(a))<<32 | uint64(len(b))
	for _, v := range append(slices.Clone(a), b...) {
		seed = seed*1099511628211 ^ math.Float64bits(v)
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	diffs := make([]float64, rounds)
	for i := range diffs {
		diffs[i] = resampleMean(rng, b) - resampleMean(rng, a)
	}
	slices.Sort(diffs)
	at := func(q float64) float64 {
		return diffs[min(max(int(math.Round(q*float64(rounds-1))), 0), rounds-1)]
	}
	return at(alpha / 2), at(1 - alpha/2)
}

func resampleMean(rng *rand.Rand, xs []float64) float64 {
	s := 0.0
	for range xs {
		s += xs[rng.IntN(len(xs))]
	}
	return s / float64(len(xs))
}

// normalQuantile is the inverse of the standard normal distribution
// function (Acklam's rational approximation, relative error < 1.2e-9).
func normalQuantile(p float64) float64 {
	const (
		a1, a2, a3, a4, a5, a6 = -3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00
		b1, b2, b3, b4, b5     = -5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01
		c1, c2, c3, c4, c5, c6 = -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00
		d1, d2, d3, d4         = 7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00
		low                    = 0.02425
	)
	switch {
	case p <= 0:
		return math.Inf(-1)
	case p >= 1:
		return math.Inf(1)
	case p < low:
		q := math.Sqrt(-2 * math.Log(p))
		return (((((c1*q+c2)*q+c3)*q+c4)*q+c5)*q + c6) / ((((d1*q+d2)*q+d3)*q+d4)*q + 1)
	case p > 1-low:
		q := math.Sqrt(-2 * math.Log(1-p))
		return -(((((c1*q+c2)*q+c3)*q+c4)*q+c5)*q + c6) / ((((d1*q+d2)*q+d3)*q+d4)*q + 1)
	}
	q := p - 0.5
	r := q * q
	return (((((a1*r+a2)*r+a3)*r+a4)*r+a5)*r + a6) * q / (((((b1*r+b2)*r+b3)*r+b4)*r+b5)*r + 1)
}

// Inflation is the design effect of one run for the quantile q: how much
// more the quantile varies from second to second than it would if the
// run's requests were independent draws. Requests of a real run are not:
// they queue behind each other and the target drifts (a GC pause, a noisy
// neighbour), so a run knows its percentiles less precisely than its
// request count suggests. perSecond holds the quantile of each second
// (from the timeline) and counts its requests. The answer is at least 1;
// with fewer than 5 seconds it is 1 (nothing to estimate from).
func Inflation(h *hist.Histogram, q float64, perSecond, counts []float64) float64 {
	n := len(perSecond)
	if n < 5 || h.Count() == 0 {
		return 1
	}
	mean, meanCount := 0.0, 0.0
	for i, v := range perSecond {
		mean += v
		meanCount += counts[i]
	}
	mean /= float64(n)
	meanCount /= float64(n)
	observed := 0.0
	for _, v := range perSecond {
		observed += (v - mean) * (v - mean)
	}
	observed /= float64(n - 1)
	// The variance of the quantile of meanCount independent requests,
	// scaled from the whole run's distribution-free interval (in ms).
	const alpha95 = 0.05
	lo, hi := QuantileCI(h, q, alpha95)
	se := float64(hi-lo) / float64(time.Millisecond) / (2 * normalQuantile(1-alpha95/2))
	expected := se * se * float64(h.Count()) / meanCount
	if expected <= 0 || meanCount <= 0 {
		return 1
	}
	return max(observed/expected, 1)
}
