package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A curl command as a browser copies it, aimed at the lab's shop login,
// imported and run as written for a second: every login the lab counts
// is one surge sent, none refused.
func TestImportedCurlCommandRunsAgainstTheLab(t *testing.T) {
	lab := startLab(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "login.sh")
	out := filepath.Join(dir, "login.yaml")
	cmd := fmt.Sprintf(`curl '%s/shop/login' \
  -H 'Accept: application/json' \
  -H 'Content-Type: application/json' \
  -H 'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36' \
  --data-raw '{"user":"u7","password":"pw-u7"}' \
  --compressed
`, lab)
	if err := os.WriteFile(in, []byte(cmd), 0o644); err != nil {
		t.Fatal(err)
	}
	if o := surge(t, "import", "curl", in, "-o", out); o.code != 0 {
		t.Fatalf("import: exit %d: %s", o.code, o.stderr)
	}
	if n := shopMetric(t, lab, "lab_shop_total", `event="login"`); n != 0 {
		t.Fatalf("the lab counted %d logins from importing alone", n)
	}
	if o := surge(t, "validate", out); o.code != 0 || !strings.Contains(o.stdout, "1 step, load: 1 user for 30s") {
		t.Fatalf("validate: exit %d: %s%s", o.code, o.stdout, o.stderr)
	}
	r, o := runScenario(t, "run", "-q", "-d", "1s", out)
	if o.code != 0 {
		t.Fatalf("run: exit %d: %s", o.code, o.stderr)
	}
	step := r.ByStep["post_shop_login"]
	if strings.Join(r.StepNames, ",") != "post_shop_login" || step.Requests < 10 || step.Errors.Count != 0 || step.StatusCodes["200"] != step.Requests {
		t.Fatalf("steps %v, login step %+v: want one step, at least 10 logins, all 200", r.StepNames, step)
	}
	if n := shopMetric(t, lab, "lab_shop_total", `event="login"`); n != step.Requests {
		t.Fatalf("the lab counted %d logins, surge sent %d", n, step.Requests)
	}
	if n := shopMetric(t, lab, "lab_shop_rejected_total", `reason="bad_password"`); n != 0 {
		t.Fatalf("the lab refused %d logins", n)
	}
}
