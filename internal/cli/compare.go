package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"

	"github.com/spf13/cobra"
	"github.com/surgeload/surge/internal/compare"
	"github.com/surgeload/surge/internal/report"
	"github.com/surgeload/surge/internal/result"
)

const compareLong = `Compare two results (before and after a change), written by
surge run or surge find with --json: throughput, latency percentiles, errors
by class and status codes; for find results, capacity and bottleneck; for
scenarios, each step. For each figure: A, B, the change, and a verdict:
better, worse, or no real change.

"Real" means noise alone would give such a difference less than 1 % of the
time. Latency is tested on the two recorded histograms (a quantile test for
each percentile, a Mann-Whitney rank test for the mean), throughput by a
bootstrap over the per-second timeline, errors and status codes by a
two-proportion test, capacity by the levels each search tried.

--fail-on EXPR exits 3 when B moved beyond the bound and the change is real:
  p95>+10%        p95 rose by more than 10 %   (also mean, p50, p90, p99, p999)
  rps<-5%         throughput fell by more than 5 %
  errors>+0.5pp   the error rate rose by more than 0.5 percentage points
  capacity<-10%   the capacity found fell by more than 10 % (find results)

Examples:
  surge compare before.json after.json
  surge compare --fail-on 'p95>+10%' --fail-on 'errors>+0.5pp' main.json branch.json
  surge compare --json diff.json --html diff.html before.json after.json

Exit codes: 0 no bound broken; 3 a --fail-on bound broken by a real change;
2 bad usage or input (a missing file, not a surge result); 1 anything else.`

// compareOptions are the flags of `surge compare`.
type compareOptions struct {
	failOn  []string
	jsonOut string
	htmlOut string
	quiet   bool
}

func newCompareCmd(env Env) *cobra.Command {
	var o compareOptions
	cmd := &cobra.Command{
		Use:   "compare [flags] A.json B.json",
		Short: "Compare two results: what changed, and is it real or noise",
		Long:  compareLong,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usagef("surge compare takes two result files, A (before) and B (after), got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(env, args[0], args[1])
		},
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	fs.StringArrayVar(&o.failOn, "fail-on", nil, "exit 3 when B moved beyond `EXPR` and the change is real: 'p95>+10%', 'rps<-5%', 'errors>+0.5pp', 'capacity<-10%' (repeatable)")
	fs.StringVar(&o.jsonOut, "json", "", "write the comparison as JSON to FILE ('-' for stdout)")
	fs.StringVar(&o.htmlOut, "html", "", "write the comparison as a self-contained HTML report (A and B overlaid) to FILE")
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "no table; broken bounds still go to stderr")
	return cmd
}

func (o *compareOptions) run(env Env, pathA, pathB string) error {
	var bounds []compare.Bound
	for _, s := range o.failOn {
		b, err := compare.ParseBound(s)
		if err != nil {
			return usagef("--fail-on %v", err)
		}
		bounds = append(bounds, b)
	}
	a, err := readResult(pathA)
	if err != nil {
		return err
	}
	b, err := readResult(pathB)
	if err != nil {
		return err
	}
	c, err := compare.Compare(compare.Input{Name: pathA, R: a}, compare.Input{Name: pathB, R: b})
	if err != nil {
		return usageError{err: err}
	}
	for _, bd := range bounds {
		if _, _, found := bd.Check(c); !found {
			return usagef("--fail-on %q: %s is not in this comparison (capacity needs two find results)", bd.Src, bd.Metric)
		}
	}
	jsonOut, err := openOutput(o.jsonOut, env.Stdout, "--json")
	if err != nil {
		return err
	}
	defer jsonOut.Close()
	html, err := openHTML(o.htmlOut)
	if err != nil {
		return err
	}
	defer html.Close()

	tableTo := env.Stdout
	if jsonOut.isStdout() {
		tableTo = env.Stderr
	}
	if !o.quiet {
		if err := report.Compare(tableTo, c); err != nil {
			return err
		}
	}
	if err := jsonOut.writeValue(c); err != nil {
		return err
	}
	if err := html.writeCompare(c, a, b); err != nil {
		return err
	}
	broken := 0
	for _, bd := range bounds {
		if hit, change, _ := bd.Check(c); hit {
			broken++
			fmt.Fprintf(env.Stderr, "surge: --fail-on %s: B moved %s, and the change is real\n", bd.Src, changeText(change, bd.Unit))
		}
	}
	if broken > 0 {
		return thresholdError{failed: broken}
	}
	return nil
}

func changeText(v float64, unit string) string {
	if math.IsInf(v, 1) {
		return "up from 0"
	}
	return fmt.Sprintf("%+.2f%s", v, unit)
}

// readResult reads a result file; every failure is bad input (exit 2).
func readResult(path string) (*result.Result, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, usagef("%s: no such file", path)
		}
		return nil, usagef("%v", err)
	}
	defer f.Close()
	r, err := result.Read(f)
	if err != nil {
		return nil, usagef("%s: %v", path, err)
	}
	return r, nil
}

// writeValue writes any JSON value (a comparison) to the output.
func (o *output) writeValue(v any) error {
	return o.encode(func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			return fmt.Errorf("write %s: %w", o.path, err)
		}
		return nil
	})
}
