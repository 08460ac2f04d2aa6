package cli

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

const rootLong = `surge answers the question behind every load test: how many concurrent
users can this API support, and what breaks first?

Examples:
  surge demo                                              see it all, nothing to set up
  surge run -u 100 -d 30s http://127.0.0.1:8080/users     100 users for 30 s (closed model)
  surge run -r 2000 -d 1m --slo 'p99<50ms' URL            2000 req/s (open model), with an SLO
  surge run -X POST -H 'Content-Type: application/json' --body '{"a":1}' URL
  surge find --slo 'p95<100ms' --slo 'errors<1%' URL     capacity and bottleneck
  surge compare before.json after.json                    did the change help, or is it noise?
  surge report result.json --html report.html             charts of a saved result, one file
  surge lab                                               a target with known bottlenecks

Exit codes: 0 ran and every threshold held; 2 bad usage or input (nothing
was sent); 3 ran and a threshold or SLO failed; 1 anything else (aborted).`

// Main runs surge with the given arguments (without the program name) and
// returns the process exit code. It never panics: a panic inside a command is
// reported as an internal error with exit code 1.
func Main(ctx context.Context, env Env, args []string) (code int) {
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(env.Stderr, "surge: internal error: %v\n%s", p, debug.Stack())
			code = ExitFailure
		}
	}()
	root := newRoot(ctx, env)
	root.SetArgs(args)
	err := root.Execute()
	if err != nil {
		var ue usageError
		if _, ok := err.(thresholdError); !ok && !(errors.As(err, &ue) && ue.shown) {
			fmt.Fprintf(env.Stderr, "surge: %s\n", oneLine(err.Error()))
		}
	}
	return exitCode(err)
}

// newRoot builds the command tree.
func newRoot(ctx context.Context, env Env) *cobra.Command {
	root := &cobra.Command{
		Use:           "surge",
		Short:         "Load testing and capacity finding for HTTP APIs",
		Long:          rootLong,
		SilenceUsage:  true,
		SilenceErrors: true,
		// A bare `surge` prints help; an unknown word is a usage error.
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q (see 'surge --help')", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	root.SetContext(ctx)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.SetIn(env.Stdin)
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetFlagErrorFunc(flagError)
	root.AddCommand(
		newRunCmd(env),
		newFindCmd(env),
		newCompareCmd(env),
		newReportCmd(env),
		newLabCmd(env),
		newDemoCmd(env),
		newVersionCmd(env),
		newValidateCmd(env),
		newSchemaCmd(env),
		newImportCmd(env),
	)
	return root
}

// flagError turns pflag's parse errors into usage errors naming the command.
func flagError(cmd *cobra.Command, err error) error {
	return usagef("%s: %v", cmd.CommandPath(), err)
}

// oneLine folds a multi-line error message onto one line, since every error
// surge prints is one line.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}
