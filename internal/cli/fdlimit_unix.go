//go:build linux || darwin

package cli

import "syscall"

// fileLimit returns the soft and hard RLIMIT_NOFILE.
func fileLimit() (soft, hard uint64, ok bool) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, 0, false
	}
	return uint64(rl.Cur), uint64(rl.Max), true
}

// raiseFileLimit sets the soft RLIMIT_NOFILE to n (at most the hard limit).
func raiseFileLimit(n uint64) bool {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return false
	}
	rl.Cur = min(n, uint64(rl.Max))
	return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl) == nil && uint64(rl.Cur) >= n
}
