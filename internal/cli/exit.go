package cli

import (
	"errors"
	"fmt"
)

// Exit codes, part of surge's contract with scripts and CI.
const (
	ExitOK        = 0 // ran, and every threshold held
	ExitFailure   = 1 // anything else: aborted, target unreachable setup, internal error
	ExitUsage     = 2 // bad usage or bad input; nothing was sent
	ExitThreshold = 3 // ran, and a threshold or SLO failed
)

// usageError is bad input from the user: a flag, an argument, an expression
// or a file. It maps to exit code 2, and is always returned before any
// request is sent.
type usageError struct {
	err error
	// shown is true when the problems were printed already (a scenario
	// file's, with their lines): nothing more is said.
	shown bool
}

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef builds a usageError from a format string.
func usagef(format string, args ...any) error {
	return usageError{err: fmt.Errorf(format, args...)}
}

// asUsage marks err, which came from validating user input, as a usage error.
func asUsage(err error) error {
	if err == nil {
		return nil
	}
	return usageError{err: err}
}

// thresholdError reports that a run completed but at least one threshold or
// SLO failed. The details were already printed with the summary.
type thresholdError struct{ failed int }

func (e thresholdError) Error() string {
	if e.failed == 1 {
		return "1 threshold failed"
	}
	return fmt.Sprintf("%d thresholds failed", e.failed)
}

// abortedError reports a run stopped early by the user (Ctrl-C); a partial
// result was written.
type abortedError struct{}

func (abortedError) Error() string { return "interrupted: the result above is partial" }

// exitCode maps an error returned by a command to the process exit code.
// This is the only place where errors become exit codes.
func exitCode(err error) int {
	var ue usageError
	var te thresholdError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ue):
		return ExitUsage
	case errors.As(err, &te):
		return ExitThreshold
	default:
		return ExitFailure
	}
}
