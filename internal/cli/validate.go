package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/surgeload/surge/internal/scenario"
)

const validateLong = `Check a scenario file, and the feeder files it names, without sending
anything: every problem is printed as FILE:LINE:COL: message with the
offending line, and the exit code is 2. A good file gets a one-line summary
and exit code 0.

Examples:
  surge validate examples/shop.yaml
  surge schema > scenario.schema.json        the JSON Schema, for editors`

func newValidateCmd(env Env) *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILE.yaml",
		Short: "Check a scenario file and its feeder files; send nothing",
		Long:  validateLong,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("%s takes one scenario file, got %d arguments", cmd.CommandPath(), len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			sc, err := scenario.LoadFile(args[0])
			if err != nil {
				return scenarioError(env.Stderr, args[0], err)
			}
			fmt.Fprintln(env.Stdout, scenarioSummary(args[0], sc))
			return nil
		},
	}
}

// scenarioError prints every problem of a scenario file, each as
// FILE:LINE:COL: message followed by the offending line with a caret,
// and returns the usage error (exit 2) that sums them up. An error that
// is not a list of problems (a file that cannot be read) is returned as a
// usage error, to be printed on its own line.
func scenarioError(w io.Writer, file string, err error) error {
	var es scenario.Errors
	if !errors.As(err, &es) {
		return asUsage(err)
	}
	for _, e := range es {
		fmt.Fprintln(w, e.Error())
		if s := e.Snippet(); s != "" {
			for _, line := range strings.Split(s, "\n") {
				fmt.Fprintf(w, "    %s\n", line)
			}
		}
	}
	return usageError{err: fmt.Errorf("%s: %s; nothing was sent", file, plural(len(es), "problem")), shown: true}
}

// scenarioSummary is validate's one line about a good file.
func scenarioSummary(file string, sc *scenario.Scenario) string {
	steps := 0
	var flows []string
	for _, f := range sc.Flows {
		steps += len(f.Steps)
		if len(sc.Flows) > 1 {
			flows = append(flows, fmt.Sprintf("%s ×%d", f.Name, f.Weight))
		}
	}
	parts := []string{plural(len(sc.Flows), "flow")}
	if len(flows) > 0 {
		parts[0] += " (" + strings.Join(flows, ", ") + ")"
	}
	parts = append(parts, plural(steps, "step"))
	for _, d := range sc.Data {
		parts = append(parts, fmt.Sprintf("feeder %s (%s, %s)", d.Name, plural(len(d.Rows), "row"), feederOrder(d)))
	}
	parts = append(parts, "load: "+loadSummary(sc.Load))
	if n := len(sc.Thresholds); n > 0 {
		parts = append(parts, plural(n, "threshold"))
	}
	return fmt.Sprintf("%s: ok: %s", file, strings.Join(parts, ", "))
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func feederOrder(f *scenario.Feeder) string {
	switch {
	case f.Order == scenario.Random:
		return "random"
	case f.Order == scenario.Unique:
		return "unique"
	case f.OnEnd == scenario.EndRun:
		return "sequential, stop at the end"
	default:
		return "sequential"
	}
}

func loadSummary(l scenario.Load) string {
	var s string
	switch {
	case l.Users > 0:
		s = plural(l.Users, "user")
	case l.Rate > 0:
		s = fmt.Sprintf("%g journeys/s", l.Rate)
	case len(l.Stages) > 0:
		s = "users"
	default:
		s = "not set (flags decide)"
	}
	if n := len(l.Stages); n > 0 {
		var total time.Duration
		for _, st := range l.Stages {
			total += st.Over + st.Hold
		}
		s += fmt.Sprintf(", %s over %v", plural(n, "stage"), total)
	}
	if l.Duration > 0 {
		s += fmt.Sprintf(" for %v", l.Duration)
	}
	if l.Ramp > 0 {
		s += fmt.Sprintf(", ramp %v", l.Ramp)
	}
	if l.ThinkMax > l.Think {
		s += fmt.Sprintf(", think %v-%v", l.Think, l.ThinkMax)
	} else if l.Think > 0 {
		s += fmt.Sprintf(", think %v", l.Think)
	}
	return s
}
