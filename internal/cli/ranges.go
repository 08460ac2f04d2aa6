package cli

import (
	"math"
	"strings"
)

// maxUsers bounds the users of one run: each holds a connection (a file
// descriptor) and its state, and far more than one machine can hold is a
// typo, not a test.
const maxUsers = 1_000_000

// finite reports whether v is a number (not NaN, not ±Inf): pflag parses
// "NaN" and "Inf" as floats, and neither is a load or a precision.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// dashed marks err as a usage error whose text starts with "--": a
// library's error that starts with the flag's name ("check …", "probe …")
// gets the dashes, one that already has them ("--probe-metric …") is kept.
func dashed(err error) error {
	if strings.HasPrefix(err.Error(), "--") {
		return asUsage(err)
	}
	return usagef("--%v", err)
}
