// Package report renders results for people: the terminal summary of a run,
// the live progress line, and number formatting shared by both. It reads
// result values and never runs load.
package report
