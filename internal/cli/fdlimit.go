package cli

import "fmt"

// fdMargin is the descriptors a run needs beyond one per connection: the
// standard streams, event loops (two each), the --json file, probes,
// the Go runtime's own.
const fdMargin = 64

// fdBudget makes sure the process may open the descriptors a run needs:
// conns connections plus a margin. It raises the soft RLIMIT_NOFILE up to
// the hard limit when it must; when even that is too low it returns a
// usage error, naming what (the flag and its value) needs them and how to
// raise the limit. what is, e.g., "-u 1000".
func fdBudget(conns int, what string) error {
	need := uint64(conns) + fdMargin
	soft, hard, ok := fileLimit()
	if !ok || soft >= need {
		return nil
	}
	if hard >= need && raiseFileLimit(need) {
		return nil
	}
	return usagef("%s needs about %d open files, but the limit is %d (hard limit %d): raise it with 'ulimit -n %d' (or ask for fewer)",
		what, need, soft, hard, roundUp(need))
}

// fdRoom is how many connections the descriptor limit leaves room for,
// after raising the soft limit as far as it goes; ok is false when the
// limit is unknown.
func fdRoom() (room int, ok bool) {
	soft, hard, ok := fileLimit()
	if !ok {
		return 0, false
	}
	if hard > soft && raiseFileLimit(hard) {
		soft = hard
	}
	if soft <= fdMargin {
		return 0, true
	}
	return int(min(soft-fdMargin, 1<<30)), true
}

// roundUp rounds n up to a round number to suggest to ulimit.
func roundUp(n uint64) uint64 {
	r := uint64(1024)
	for r < n {
		r *= 2
	}
	return r
}

// fitInflight checks the descriptor budget of a load: users in the closed
// model (users > 0), else the open model's cap on requests in flight,
// which, when the user did not set it, is lowered to what the limit
// allows rather than refused.
func fitInflight(users int, maxInflight *int, inflightSet bool) error {
	if users > 0 {
		return fdBudget(users, fmt.Sprintf("-u %d", users))
	}
	if inflightSet {
		return fdBudget(*maxInflight, fmt.Sprintf("--max-inflight %d", *maxInflight))
	}
	if room, ok := fdRoom(); ok && room < *maxInflight {
		if room < 1 {
			return fdBudget(1, "the open model")
		}
		*maxInflight = room
	}
	return nil
}
