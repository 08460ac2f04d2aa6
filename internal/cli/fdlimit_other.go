//go:build !linux && !darwin

package cli

func fileLimit() (soft, hard uint64, ok bool) { return 0, 0, false }

func raiseFileLimit(uint64) bool { return false }
