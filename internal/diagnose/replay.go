package diagnose

import "github.com/surgeload/surge/internal/result"

// FromResult rebuilds the diagnosis's input from a result written by
// `surge find`: its steps, capacity and SLOs. Diagnose(FromResult(r, …))
// diagnoses a saved search again, as the tests do with recorded runs.
// checks says whether response checks were configured.
func FromResult(r *result.Result, checks bool) Input {
	in := Input{Model: r.Model, Checks: checks}
	if c := r.Capacity; c != nil {
		in.SLO = c.SLO
		in.MetAtMin = c.MetAtMin
		in.Capacity = float64(c.Users) + c.Rate
	}
	allOK := len(r.Steps) > 0
	for _, st := range r.Steps {
		allOK = allOK && st.SLOOK
		sr := &result.Result{
			Target:    r.Target,
			Model:     r.Model,
			DurationS: st.DurationS,
			Summary: result.Summary{
				Requests: st.Requests, RPS: st.RPS, Latency: st.Latency, Errors: st.Errors,
				StatusCodes: st.StatusCodes, RetryAfter: st.RetryAfter,
			},
			Thresholds: st.SLO,
			Client:     st.Client,
			Probes:     result.Probes{},
		}
		for name, w := range st.Probes {
			sr.Probes[name] = result.ProbeSeries{Window: w}
		}
		in.Steps = append(in.Steps, Step{Level: float64(st.Users) + st.Rate, Phase: st.Phase, OK: st.SLOOK, R: sr})
	}
	in.ReachedMax = in.MetAtMin && allOK
	return in
}
