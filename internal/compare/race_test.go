//go:build race

package compare_test

// Under the race detector every memory access costs ten times more; the
// statistical tests then draw half as many pairs, with the same bounds, so
// that `go test -race ./...` does not starve the end-to-end tests running
// beside them on a 2-core machine.
const pairs = 100
