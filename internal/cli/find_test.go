package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/surgeload/surge/internal/expr"
)

// A user SLO replaces only the default of its kind.
func TestDefaultSLOsFillOnlyTheKindsNotGiven(t *testing.T) {
	cases := []struct {
		user []string
		want string
	}{
		{nil, "p95<100ms, errors<1%"},
		{[]string{"p95<1s"}, "p95<1s, errors<1%"},
		{[]string{"p99<50ms", "mean<20ms"}, "p99<50ms, mean<20ms, errors<1%"},
		{[]string{"errors<0.1%"}, "errors<0.1%, p95<100ms"},
		{[]string{"rps>10"}, "rps>10, p95<100ms, errors<1%"},
		{[]string{"max<2s", "errors<5%"}, "max<2s, errors<5%"},
	}
	for _, c := range cases {
		var user []*expr.Expr
		for _, s := range c.user {
			e, err := expr.Parse(s)
			if err != nil {
				t.Fatal(err)
			}
			user = append(user, e)
		}
		got, err := withDefaultSLOs(user)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range got {
			names = append(names, e.String())
		}
		if s := strings.Join(names, ", "); s != c.want {
			t.Errorf("--slo %q: SLOs %q, want %q", c.user, s, c.want)
		}
	}
}

// --no-default-slo with no --slo leaves nothing to search for: refused,
// before anything is sent (the URL is a closed loopback port).
func TestNoDefaultSLOAloneIsRefused(t *testing.T) {
	env, _, stderr := testEnv()
	code := Main(context.Background(), env, []string{"find", "-q", "--no-default-slo", "http://127.0.0.1:1/"})
	if code != ExitUsage || !strings.Contains(stderr.String(), "--no-default-slo") {
		t.Fatalf("exit %d, stderr %q: want 2 naming --no-default-slo", code, stderr.String())
	}
}

func TestParseSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"0", 0, true}, {"1GiB", 1 << 30, true}, {"512MiB", 512 << 20, true}, {"1.5GB", 1.5e9, true},
		{"64 KiB", 64 << 10, true}, {"100B", 100, true},
		{"100", 0, false}, {"-1GiB", 0, false}, {"lots", 0, false}, {"1XB", 0, false},
	} {
		got, err := parseSize(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("parseSize(%q) = %v, %v; want %v (ok %v)", c.in, got, err, c.want, c.ok)
		}
	}
	env, _, stderr := testEnv()
	code := Main(context.Background(), env, []string{"find", "-q", "--max-target-growth", "lots", "http://127.0.0.1:1/"})
	if code != ExitUsage || !strings.Contains(stderr.String(), "--max-target-growth") {
		t.Fatalf("exit %d, stderr %q: want 2 naming --max-target-growth", code, stderr.String())
	}
}
