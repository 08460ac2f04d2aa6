//go:build !race

package compare_test

// pairs is the number of before/after pairs each statistical test draws.
const pairs = 200
