package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/surgeload/surge/internal/compare"
	"github.com/surgeload/surge/internal/htmlreport"
	"github.com/surgeload/surge/internal/result"
)

// htmlOutput is where an HTML report goes: nowhere, or a file opened
// before the run (so a bad path is a usage error and nothing is sent).
type htmlOutput struct {
	f    *os.File
	path string
}

func openHTML(path string) (*htmlOutput, error) {
	if path == "" {
		return &htmlOutput{}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, usagef("--html: %v", strings.TrimPrefix(err.Error(), "open "))
	}
	return &htmlOutput{f: f, path: path}, nil
}

func (h *htmlOutput) writeResult(r *result.Result) error {
	if h.f == nil {
		return nil
	}
	return h.done(htmlreport.Result(h.f, r))
}

func (h *htmlOutput) writeCompare(c *compare.Comparison, a, b *result.Result) error {
	if h.f == nil {
		return nil
	}
	return h.done(htmlreport.Compare(h.f, c, a, b))
}

func (h *htmlOutput) done(err error) error {
	cerr := h.f.Close()
	h.f = nil
	if err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", h.path, err)
	}
	return nil
}

// Close closes a file never written (an error came first).
func (h *htmlOutput) Close() error {
	if h.f != nil {
		return h.f.Close()
	}
	return nil
}
