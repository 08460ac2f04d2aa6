// Package selfcheck watches surge itself while it generates load: its CPU
// use and its scheduling lag (how late a sleeping goroutine wakes up). A
// load generator that is saturated measures itself rather than the target;
// these figures let every result say so.
package selfcheck
