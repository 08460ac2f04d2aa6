package diagnose

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/surgeload/surge/internal/result"
)

// A step degrades when its p95 grows by degradeFactor over its own at the
// lowest load, and by degradeMs at least (a step of tens of microseconds
// that triples is noise, not a bottleneck), or when its errors reach
// degradeErrors.
const (
	degradeFactor = 2.0
	degradeMs     = 5.0
	degradeErrors = 0.01
)

// StepVerdict names, for a search over journeys (scenario files), the step
// that degrades first as the load grows, and diagnoses that step: the
// rules read its own figures at every level, with the target's probes and
// surge's self-check as they were. ok is false when the results have no
// steps, or no step degrades (the journey as a whole is then the answer).
func StepVerdict(in Input) (v result.Bottleneck, ok bool) {
	d := newData(in)
	if len(d.steps) < 2 || len(d.steps[0].R.ByStep) == 0 {
		return v, false
	}
	names := d.steps[0].R.StepNames
	base := d.steps[0].R.ByStep
	var name string
	var at *Step
	for i := 1; i < len(d.steps) && at == nil; i++ {
		worst := 0.0
		for _, n := range names {
			s, ok := d.steps[i].R.ByStep[n]
			b, okb := base[n]
			if !ok || !okb {
				continue
			}
			if score := degradation(b, s); score > worst {
				worst, name, at = score, n, &d.steps[i]
			}
		}
	}
	if at == nil {
		return v, false
	}
	proj := in
	proj.Steps = nil
	for _, s := range in.Steps {
		if s.R == nil || s.R.ByStep == nil {
			continue
		}
		r := *s.R
		r.Summary = s.R.ByStep[name]
		proj.Steps = append(proj.Steps, Step{Level: s.Level, Phase: s.Phase, OK: s.OK, R: &r})
	}
	v = Diagnose(proj)
	v.Step = name
	v.Summary = fmt.Sprintf("Step %q degrades first. %s", name, v.Summary)
	v.Evidence = append([]string{d.stepEvidence(name, names, *at)}, v.Evidence...)
	return v, true
}

// degradation scores how much a step got worse between its figures at the
// lowest load (b) and at a higher one (s): 0 when it did not degrade, else
// its p95 ratio (errors count as a ratio of 10 per percentage point).
func degradation(b, s result.Summary) float64 {
	score := 0.0
	if lo, hi := b.Latency.P95, s.Latency.P95; lo > 0 && hi/lo >= degradeFactor && hi-lo >= degradeMs {
		score = hi / lo
	}
	if e := s.Errors.Rate; e >= degradeErrors && e > 2*b.Errors.Rate {
		score = math.Max(score, 1000*e)
	}
	return score
}

// stepEvidence says how the step degraded and how the others did, from
// the lowest load to the highest tried.
func (d *data) stepEvidence(name string, names []string, at Step) string {
	first, last := d.steps[0], d.steps[len(d.steps)-1]
	ratio := func(n string) float64 {
		lo, hi := first.R.ByStep[n].Latency.P95, last.R.ByStep[n].Latency.P95
		if lo <= 0 {
			return math.NaN()
		}
		return hi / lo
	}
	s := first.R.ByStep[name]
	e := last.R.ByStep[name]
	line := fmt.Sprintf("step %q p95 ×%.1f (%s at %s → %s at %s), degrading from %s",
		name, ratio(name), ms(s.Latency.P95), d.level(first.Level), ms(e.Latency.P95), d.level(last.Level), d.level(at.Level))
	if e.Errors.Rate >= degradeErrors {
		line += fmt.Sprintf(", errors %s", pct(e.Errors.Rate))
	}
	var others []string
	rest := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == name })
	slices.SortFunc(rest, func(a, b string) int { return cmp.Compare(ratio(b), ratio(a)) })
	for _, n := range rest {
		if r := ratio(n); !math.IsNaN(r) {
			others = append(others, fmt.Sprintf("%q ×%.1f", n, r))
		}
		if len(others) == 3 {
			break
		}
	}
	if len(others) > 0 {
		line += ", while " + strings.Join(others, ", ") + fmt.Sprintf(" over the same loads")
	}
	return line
}
