// Package e2e runs the real surge binary against real HTTP servers on
// 127.0.0.1 and checks what it reports against what the servers saw.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// surgeBin is the binary built once for all tests.
var surgeBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "surge-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	surgeBin = filepath.Join(dir, "surge")
	build := exec.Command("go", "build", "-o", surgeBin, "../cmd/surge")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building surge:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// outcome is what one surge invocation did.
type outcome struct {
	stdout, stderr string
	code           int
}

// surge runs the binary with args, bounded in time, and returns its output
// and exit code.
func surge(t *testing.T, args ...string) outcome {
	t.Helper()
	o, err := runSurge(90*time.Second, args...)
	if err != nil {
		t.Fatalf("surge %v: %v", args, err)
	}
	return o
}

// runSurge runs the binary with args for at most limit; the error is one
// of running it, not its exit code.
func runSurge(limit time.Duration, args ...string) (outcome, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, surgeBin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	o := outcome{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return o, fmt.Errorf("did not finish within %s", limit)
	case err == nil:
	case errors.As(err, &exit):
		o.code = exit.ExitCode()
	default:
		return o, err
	}
	return o, nil
}

// result is the part of surge's JSON result the tests read.
type result struct {
	Version   int     `json:"version"`
	Model     string  `json:"model"`
	Partial   bool    `json:"partial"`
	DurationS float64 `json:"duration_s"`
	Summary   struct {
		Requests int64   `json:"requests"`
		RPS      float64 `json:"rps"`
		Sent     int64   `json:"sent"`
		Dropped  int64   `json:"dropped"`
		// Unfinished requests were in flight when the run ended.
		Unfinished int64 `json:"unfinished"`
		Latency    struct {
			Mean, P50, P90, P95, P99, P999, Max float64
			TTFB                                float64 `json:"ttfb_mean"`
		} `json:"latency_ms"`
		Errors struct {
			Count   int64            `json:"count"`
			Rate    float64          `json:"rate"`
			ByClass map[string]int64 `json:"by_class"`
		} `json:"errors"`
		StatusCodes map[string]int64 `json:"status_codes"`
		BytesIn     int64            `json:"bytes_in"`
		BytesOut    int64            `json:"bytes_out"`
		Protocols   map[string]int64 `json:"protocols"`
	} `json:"summary"`
	Thresholds []struct {
		Expr  string   `json:"expr"`
		OK    bool     `json:"ok"`
		Value *float64 `json:"value"`
	} `json:"thresholds"`
	Timeline []map[string]float64 `json:"timeline"`
	Client   struct {
		CPUPercent float64  `json:"cpu_percent"`
		Warnings   []string `json:"warnings"`
	} `json:"client"`
	Histogram string `json:"histogram"`
}

// runJSON runs surge with --json and decodes the result.
func runJSON(t *testing.T, args ...string) (result, outcome) {
	t.Helper()
	var r result
	o := runInto(t, &r, args...)
	return r, o
}

// runInto runs surge with --json and decodes the result into v.
func runInto(t *testing.T, v any, args ...string) outcome {
	t.Helper()
	path := filepath.Join(t.TempDir(), "result.json")
	o := surge(t, append([]string{"--json", path}, args...)...)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("surge %v wrote no result (exit %d, stderr %q): %v", args, o.code, o.stderr, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("result is not JSON: %v\n%s", err, b)
	}
	return o
}

func decode(b []byte) (result, error) {
	var r result
	err := json.Unmarshal(b, &r)
	return r, err
}
