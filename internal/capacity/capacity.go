// Package capacity searches for the highest load a target sustains while
// every SLO holds: it doubles the load until an SLO fails, bisects between
// the last level that held and the first that failed down to a relative
// precision, then confirms the answer with a longer hold. Each level is
// one load test, run by a function the caller provides, so the search is
// tested without a network.
package capacity

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/surgeload/surge/internal/result"
)

// Config is one search.
type Config struct {
	// Integer levels (virtual users) or real ones (arrival rates).
	Integer bool
	// Min and Max bound the levels tried; the search starts at Min.
	Min, Max float64
	// Step is how long each level runs; Hold how long the confirmation runs.
	Step, Hold time.Duration
	// Precision is the relative width of the final bracket: the search stops
	// when (failing − passing) / failing ≤ Precision.
	Precision float64
	// Halt, when set, is asked after each step whether the search must end
	// there (a safety bound, such as the target's memory); the outcome is
	// then Halted, with the highest level that held as its capacity.
	Halt func(Step) bool
}

// Validate reports every problem with the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.Min <= 0 {
		errs = append(errs, fmt.Errorf("the lowest load must be positive, got %g", c.Min))
	}
	if c.Max < c.Min {
		errs = append(errs, fmt.Errorf("the highest load (%g) is below the lowest (%g)", c.Max, c.Min))
	}
	if c.Step <= 0 || c.Hold <= 0 {
		errs = append(errs, errors.New("step and hold durations must be positive"))
	}
	if c.Precision <= 0 || c.Precision >= 1 {
		errs = append(errs, fmt.Errorf("precision must be between 0 and 1, got %g", c.Precision))
	}
	return errors.Join(errs...)
}

// Phases of the search, recorded with each step.
const (
	Grow    = "grow"    // doubling the load
	Probe   = "probe"   // one more level after a failure at the lowest load
	Bisect  = "bisect"  // narrowing the bracket
	Confirm = "confirm" // the sustained hold at the answer
)

// RunFunc runs one level for d and returns its result. A result whose
// thresholds all hold passes.
type RunFunc func(ctx context.Context, level float64, phase string, d time.Duration) (*result.Result, error)

// Step is one level tried.
type Step struct {
	Level  float64
	Phase  string
	Result *result.Result
	OK     bool
}

// Outcome is what a search found.
type Outcome struct {
	Steps []Step
	// Capacity is the highest level that held, confirmed; 0 with MetAtMin
	// false when even the lowest level failed.
	Capacity float64
	// Confirmed is the result of the hold that confirmed Capacity; nil when
	// no hold succeeded (Capacity then comes from short steps only).
	Confirmed *result.Result
	MetAtMin  bool
	// ReachedMax is true when every level held, the largest included.
	ReachedMax bool
	// Interrupted is true when ctx ended the search early.
	Interrupted bool
	// Halted is true when Config.Halt ended the search: Capacity is then
	// the highest level that held, unconfirmed.
	Halted bool
}

// Search runs the search. progress, when set, is called after each step.
// It returns an error only when a level could not be run at all.
func Search(ctx context.Context, cfg Config, run RunFunc, progress func(Step)) (Outcome, error) {
	if err := cfg.Validate(); err != nil {
		return Outcome{}, err
	}
	s := &search{cfg: cfg, run: run, progress: progress}
	err := s.do(ctx)
	s.out.Interrupted = ctx.Err() != nil
	return s.out, err
}

type search struct {
	cfg      Config
	run      RunFunc
	progress func(Step)
	out      Outcome
}

// errStop ends the search when ctx is done.
var errStop = errors.New("search interrupted")

func (s *search) step(ctx context.Context, level float64, phase string, d time.Duration) (bool, error) {
	if ctx.Err() != nil {
		return false, errStop
	}
	r, err := s.run(ctx, level, phase, d)
	if err != nil {
		return false, err
	}
	if r.Partial || ctx.Err() != nil {
		return false, errStop
	}
	st := Step{Level: level, Phase: phase, Result: r, OK: passes(r)}
	s.out.Steps = append(s.out.Steps, st)
	if s.progress != nil {
		s.progress(st)
	}
	if s.cfg.Halt != nil && s.cfg.Halt(st) {
		return st.OK, errHalt
	}
	return st.OK, nil
}

// errHalt ends the search when Config.Halt asks.
var errHalt = errors.New("search halted")

// passes reports whether every threshold of a result held.
func passes(r *result.Result) bool {
	for _, t := range r.Thresholds {
		if !t.OK {
			return false
		}
	}
	return true
}

func (s *search) do(ctx context.Context) error {
	err := s.find(ctx)
	if errors.Is(err, errHalt) {
		s.out.Halted = true
		s.out.ReachedMax, s.out.Confirmed = false, nil
		s.out.MetAtMin, s.out.Capacity = false, 0
		for _, st := range s.out.Steps {
			if st.OK && st.Level > s.out.Capacity {
				s.out.MetAtMin, s.out.Capacity = true, st.Level
			}
		}
		return nil
	}
	if errors.Is(err, errStop) {
		return nil
	}
	return err
}

func (s *search) find(ctx context.Context) error {
	c := s.cfg
	lo, hi := 0.0, math.Inf(1)
	// Grow: double until an SLO fails or Max holds.
	for level := c.Min; ; level = s.next(level) {
		ok, err := s.step(ctx, level, Grow, c.Step)
		if err != nil {
			return err
		}
		if !ok {
			hi = level
			break
		}
		lo = level
		if level >= c.Max {
			break
		}
	}
	if lo == 0 {
		// Even the lowest load failed. One more level shows whether the
		// failure depends on the load at all (the diagnosis needs it).
		if next := s.next(c.Min); next > c.Min {
			if _, err := s.step(ctx, next, Probe, c.Step); err != nil {
				return err
			}
		}
		return nil
	}
	s.out.MetAtMin = true
	if math.IsInf(hi, 1) {
		s.out.ReachedMax = true
	}
	if err := s.bisect(ctx, &lo, &hi); err != nil {
		return err
	}
	s.out.Capacity = lo
	// Confirm with a sustained hold. A failure near the edge is usually
	// noise, or a limit that shows only over time: step down and hold
	// again, a few times.
	for attempt := 0; attempt < maxConfirms; attempt++ {
		ok, err := s.step(ctx, lo, Confirm, c.Hold)
		if err != nil {
			return err
		}
		if ok {
			s.out.Capacity = lo
			s.out.Confirmed = s.out.Steps[len(s.out.Steps)-1].Result
			return nil
		}
		s.out.ReachedMax = false
		next := lo * (1 - c.Precision)
		if c.Integer {
			next = math.Min(math.Floor(next), lo-1)
		}
		if next < c.Min {
			break
		}
		lo = next
	}
	// No hold succeeded: the capacity stays the highest level that passed
	// a short step, unconfirmed.
	return nil
}

// maxConfirms bounds the sustained holds tried.
const maxConfirms = 3

// bisect narrows (lo, hi) to the configured precision.
func (s *search) bisect(ctx context.Context, lo, hi *float64) error {
	c := s.cfg
	for !math.IsInf(*hi, 1) && (*hi-*lo)/(*hi) > c.Precision {
		mid := (*lo + *hi) / 2
		if c.Integer {
			mid = math.Floor(mid)
			if mid <= *lo {
				return nil // adjacent integers: nothing between them
			}
		}
		ok, err := s.step(ctx, mid, Bisect, c.Step)
		if err != nil {
			return err
		}
		if ok {
			*lo = mid
		} else {
			*hi = mid
		}
	}
	return nil
}

// next is the level after level in the growth phase.
func (s *search) next(level float64) float64 {
	return math.Min(level*2, s.cfg.Max)
}
