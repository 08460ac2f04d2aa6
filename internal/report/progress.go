package report

import (
	"fmt"
	"io"
	"time"

	"github.com/surgeload/surge/internal/metrics"
)

// Progress writes live progress: on a terminal, one line rewritten in
// place; elsewhere (CI logs, pipes), one plain line per update.
type Progress struct {
	w        io.Writer
	terminal bool
	total    time.Duration
	wrote    bool
}

// NewProgress returns a progress writer for a run planned to last total.
func NewProgress(w io.Writer, terminal bool, total time.Duration) *Progress {
	return &Progress{w: w, terminal: terminal, total: total}
}

// Update shows one interval.
func (p *Progress) Update(elapsed time.Duration, pt metrics.Point, sent, errs int64) {
	load := fmt.Sprintf("users %d", pt.Users)
	if pt.Rate > 0 {
		load = fmt.Sprintf("rate %s/s", Rate(pt.Rate))
	}
	line := fmt.Sprintf("%6s/%s  %8s req/s  p50 %-7s p99 %-7s errors %-6s %s  inflight %d",
		Seconds(elapsed), Seconds(p.total), Rate(pt.RPS), Dur(pt.P50), Dur(pt.P99), Int(errs), load, pt.Inflight)
	if pt.Iterations > 0 && pt.Span > 0 {
		line += fmt.Sprintf("  iterations %s/s", Rate(float64(pt.Iterations)/pt.Span.Seconds()))
	}
	if p.terminal {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
	} else {
		fmt.Fprintln(p.w, line)
	}
	p.wrote = true
}

// Done ends the progress display (moves off the rewritten line).
func (p *Progress) Done() {
	if p.terminal && p.wrote {
		fmt.Fprintln(p.w)
	}
}
