package lab_test

import (
	"strings"
	"testing"

	"github.com/surgeload/surge/internal/lab"
)

func TestDefaultConfig(t *testing.T) {
	c := lab.DefaultConfig()
	want := lab.Config{Listen: "127.0.0.1:8080", Rows: 100000, LeakMax: 512 << 20}
	if c != want {
		t.Fatalf("DefaultConfig() = %+v, want %+v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("DefaultConfig().Validate() = %v", err)
	}
}

func TestValidateListen(t *testing.T) {
	tests := []struct {
		name, listen string
		want         string // substring of the error; "" means valid
	}{
		{"ipv4 loopback any port", "127.0.0.1:0", ""},
		{"ipv4 loopback range", "127.1.2.3:8080", ""},
		{"ipv6 loopback", "[::1]:0", ""},
		{"localhost", "localhost:0", ""},
		{"localhost upper case", "LOCALHOST:9000", ""},
		{"all interfaces", "0.0.0.0:8080", "only listens on loopback"},
		{"empty host", ":8080", "only listens on loopback"},
		{"private address", "10.0.0.1:80", "only listens on loopback"},
		{"ipv6 any", "[::]:80", "only listens on loopback"},
		{"host name", "example.com:80", "only listens on loopback"},
		{"mapped public", "[::ffff:8.8.8.8]:80", "only listens on loopback"},
		{"no port", "127.0.0.1", "want host:port"},
		{"empty", "", "want host:port"},
		{"named port", "127.0.0.1:http", "must be a number"},
		{"port too big", "127.0.0.1:65536", "must be a number"},
		{"signed port", "127.0.0.1:+80", "must be a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := lab.DefaultConfig()
			c.Listen = tt.listen
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate(%q) = %v, want nil", tt.listen, err)
			case tt.want != "" && err == nil:
				t.Fatalf("Validate(%q) = nil, want an error with %q", tt.listen, tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Fatalf("Validate(%q) = %q, want it to contain %q", tt.listen, err, tt.want)
			}
			if err != nil {
				if msg := err.Error(); msg != strings.ToLower(msg[:1])+msg[1:] || strings.HasSuffix(msg, ".") {
					t.Errorf("error %q: want lowercase start and no trailing period", msg)
				}
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := lab.Config{Listen: "0.0.0.0:80", Rows: 0, LeakMax: -1}
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate() = nil, want three problems")
	}
	for _, want := range []string{"loopback", "rows 0", "leak max -1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %q, want it to mention %q", err, want)
		}
	}
	if got := len(strings.Split(err.Error(), "\n")); got != 3 {
		t.Errorf("Validate() has %d lines, want 3: %q", got, err)
	}
	// Validate is pure: c is unchanged.
	if c != (lab.Config{Listen: "0.0.0.0:80", Rows: 0, LeakMax: -1}) {
		t.Errorf("Validate changed c to %+v", c)
	}
}

func TestValidateBounds(t *testing.T) {
	tests := []struct {
		name string
		edit func(*lab.Config)
		ok   bool
	}{
		{"one row", func(c *lab.Config) { c.Rows = 1 }, true},
		{"max rows", func(c *lab.Config) { c.Rows = lab.MaxRows }, true},
		{"too many rows", func(c *lab.Config) { c.Rows = lab.MaxRows + 1 }, false},
		{"negative rows", func(c *lab.Config) { c.Rows = -5 }, false},
		{"no leak", func(c *lab.Config) { c.LeakMax = 0 }, true},
		{"negative leak", func(c *lab.Config) { c.LeakMax = -1 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := lab.DefaultConfig()
			tt.edit(&c)
			if err := c.Validate(); (err == nil) != tt.ok {
				t.Fatalf("Validate(%+v) = %v, want ok=%v", c, err, tt.ok)
			}
		})
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	c := lab.DefaultConfig()
	c.Listen = "0.0.0.0:8080"
	if s, err := lab.New(c); err == nil || s != nil {
		t.Fatalf("New(0.0.0.0:8080) = %v, %v; want nil and an error", s, err)
	}
}
