package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/surgeload/surge/internal/scenario"
)

func TestValidateGoodFile(t *testing.T) {
	env, stdout, stderr := testEnv()
	code := Main(context.Background(), env, []string{"validate", "../../examples/shop.yaml"})
	want := "../../examples/shop.yaml: ok: 2 flows (buy ×3, browse ×1), 5 steps, feeder accounts (5 rows, sequential), load: 20 users for 30s, ramp 5s, think 100ms-300ms, 3 thresholds\n"
	if code != ExitOK || stdout.String() != want || stderr.Len() != 0 {
		t.Errorf("exit %d, stdout %q, stderr %q; want 0 and %q", code, stdout.String(), stderr.String(), want)
	}
}

func TestValidateBadFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "s.yaml")
	src := "base: http://127.0.0.1:8080\nsteps:\n  - url: /a/{{nope}}\n    timeout: 5\n"
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	env, stdout, stderr := testEnv()
	code := Main(context.Background(), env, []string{"validate", file})
	want := file + ":3:13: unknown variable {{nope}}\n" +
		"      - url: /a/{{nope}}\n" +
		"                ^\n" +
		file + ":4:14: timeout: \"5\" has no unit (write e.g. 5ms or 5s)\n" +
		"        timeout: 5\n" +
		"                 ^\n"
	if code != ExitUsage || stdout.Len() != 0 || stderr.String() != want {
		t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant 2 and:\n%s", code, stdout.String(), stderr.String(), want)
	}
}

func TestValidateMissingFile(t *testing.T) {
	env, _, stderr := testEnv()
	code := Main(context.Background(), env, []string{"validate", "no-such.yaml"})
	want := "surge: scenario no-such.yaml: no such file or directory\n"
	if code != ExitUsage || stderr.String() != want {
		t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr.String(), want)
	}
	env, _, stderr = testEnv()
	if code := Main(context.Background(), env, []string{"validate"}); code != ExitUsage || !strings.Contains(stderr.String(), "takes one scenario file") {
		t.Errorf("validate without a file: exit %d, stderr %q", code, stderr.String())
	}
}

func TestSchemaCommand(t *testing.T) {
	env, stdout, _ := testEnv()
	if code := Main(context.Background(), env, []string{"schema"}); code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	if !bytes.Equal(stdout.Bytes(), scenario.Schema()) || !json.Valid(stdout.Bytes()) {
		t.Errorf("surge schema printed something other than the JSON schema: %.80q", stdout.String())
	}
}

// TestREADMEScenarioErrors keeps the README's scenario section true: its
// example file validates, and with the two typos the README names, surge
// validate prints exactly the output the README shows.
func TestREADMEScenarioErrors(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	sec := strings.Index(text, "## Scenario files")
	if sec < 0 {
		t.Fatal("README has no Scenario files section")
	}
	text = text[sec:]
	example := between(t, text, "```yaml\n", "```\n")
	dir := t.TempDir()
	csv, err := os.ReadFile("../../examples/accounts.csv")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "shop.yaml")
	write := func(src string) {
		if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "accounts.csv"), csv, 0o644); err != nil {
		t.Fatal(err)
	}
	write(example)
	env, _, stderr := testEnv()
	if code := Main(context.Background(), env, []string{"validate", file}); code != ExitOK {
		t.Fatalf("the README's example does not validate: exit %d\n%s", code, stderr.String())
	}

	bad := strings.Replace(example, `"{{accounts.password}}"`, `"{{accounts.pass}}"`, 1)
	bad = strings.Replace(bad, "        extract: {item:", "        extarct: {item:", 1)
	write(bad)
	want := between(t, text, "$ surge validate shop.yaml\n", "```\n")
	env, _, stderr = testEnv()
	t.Chdir(dir)
	if code := Main(context.Background(), env, []string{"validate", "shop.yaml"}); code != ExitUsage || stderr.String() != want {
		t.Errorf("exit %d, output:\n%s\nthe README shows:\n%s", code, stderr.String(), want)
	}
}

func between(t *testing.T, s, start, end string) string {
	t.Helper()
	i := strings.Index(s, start)
	if i < 0 {
		t.Fatalf("README: no %q", start)
	}
	s = s[i+len(start):]
	j := strings.Index(s, end)
	if j < 0 {
		t.Fatalf("README: no %q after %q", end, start)
	}
	return s[:j]
}
