package lab_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestBadKnobs(t *testing.T) {
	long := strings.Repeat("x", 129)
	tests := []struct {
		name, path, knob string
	}{
		{"fast size not a number", "/fast?size=abc", "size"},
		{"fast size too big", "/fast?size=1048577", "size"},
		{"fast size negative", "/fast?size=-1", "size"},
		{"cpu ms too big", "/cpu?ms=60001", "ms"},
		{"cpu ms float", "/cpu?ms=1.5", "ms"},
		{"lock ms empty", "/lock?ms=", "ms"},
		{"pool n zero", "/pool?n=0", "n"},
		{"pool n too big", "/pool?n=100001", "n"},
		{"pool ms negative", "/pool?n=3&ms=-1", "ms"},
		{"quota rps zero", "/quota?rps=0", "rps"},
		{"quota rps huge", "/quota?rps=99999999999999999999", "rps"},
		{"slow ms overflow", "/slow?ms=9223372036854775808", "ms"},
		{"overload limit negative", "/overload?limit=-1", "limit"},
		{"overload ms bad", "/overload?ms=ten", "ms"},
		{"race id missing", "/race", "id"},
		{"race id empty", "/race?id=", "id"},
		{"race id too long", "/race?id=" + long, "id"},
		{"race id not utf8", "/race?id=%ff%fe", "id"},
		{"race ms bad", "/race?id=a&ms=x", "ms"},
		{"leak kb too big", "/leak?kb=65537", "kb"},
		{"scan q not a number", "/scan?q=yesterday", "q"},
		{"lookup q overflow", "/lookup?q=99999999999999999999", "q"},
		{"unknown knob", "/pool?m=5", `"m"`},
		{"knob twice", "/slow?ms=1&ms=2", "ms"},
		{"bad escape", "/slow?ms=%zz", "query"},
		{"newline in value", "/cpu?ms=1%0A2", "ms"},
	}
	_, ts := newLab(t, testConfig())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := get(t, ts, tt.path)
			if a.code != http.StatusBadRequest {
				t.Fatalf("GET %s = %d %q, want 400", tt.path, a.code, a.body)
			}
			msg := strings.TrimSuffix(a.body, "\n")
			if strings.Contains(msg, "\n") || msg == "" {
				t.Errorf("GET %s: body %q, want one line", tt.path, a.body)
			}
			if !strings.Contains(msg, tt.knob) {
				t.Errorf("GET %s: %q does not name the knob %s", tt.path, msg, tt.knob)
			}
		})
	}
}

func TestKnobBoundsAccepted(t *testing.T) {
	_, ts := newLab(t, testConfig())
	for _, path := range []string{
		"/fast?size=0", "/fast?size=1048576", "/cpu?ms=0", "/lock?ms=0", "/pool?n=100000&ms=0",
		"/quota?rps=1000000", "/slow?ms=0", "/overload?limit=100000&ms=0", "/race?id=" + strings.Repeat("é", 64) + "&ms=0",
		"/leak?kb=0", "/scan?q=-9223372036854775808", "/lookup?q=9223372036854775807",
	} {
		if a := get(t, ts, path); a.code != http.StatusOK {
			t.Errorf("GET %s = %d %q, want 200", path, a.code, a.body)
		}
	}
}

// TestPoolAndQuotaSetsAreBounded checks that distinct n and rps values
// cannot create pools or buckets without bound.
func TestPoolAndQuotaSetsAreBounded(t *testing.T) {
	_, ts := newLab(t, testConfig())
	// The default pool (n=20) exists from the start: 63 more fit.
	for n := 1; n <= 63; n++ {
		if n == 20 {
			continue
		}
		if a := get(t, ts, fmt.Sprintf("/pool?n=%d&ms=0", n)); a.code != http.StatusOK {
			t.Fatalf("pool n=%d: %d %q", n, a.code, a.body)
		}
	}
	if a := get(t, ts, "/pool?n=64&ms=0"); a.code != http.StatusOK {
		t.Fatalf("pool n=64 (the 64th): %d %q", a.code, a.body)
	}
	a := get(t, ts, "/pool?n=65&ms=0")
	if a.code != http.StatusBadRequest || !strings.Contains(a.body, "knob n") {
		t.Fatalf("pool n=65 (the 65th) = %d %q, want 400 naming knob n", a.code, a.body)
	}
	if a := get(t, ts, "/pool?n=7&ms=0"); a.code != http.StatusOK {
		t.Fatalf("an existing pool must still work: %d %q", a.code, a.body)
	}
	for rps := 1; rps <= 64; rps++ {
		if a := get(t, ts, fmt.Sprintf("/quota?rps=%d", rps)); a.code != http.StatusOK {
			t.Fatalf("quota rps=%d: %d %q", rps, a.code, a.body)
		}
	}
	a = get(t, ts, "/quota?rps=65")
	if a.code != http.StatusBadRequest || !strings.Contains(a.body, "knob rps") {
		t.Fatalf("quota rps=65 (the 65th) = %d %q, want 400 naming knob rps", a.code, a.body)
	}
}
