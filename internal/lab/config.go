package lab

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// MaxRows is the largest table Config.Rows may ask for (about 100 bytes of
// memory per row).
const MaxRows = 5_000_000

// Config configures the lab target. Zero values are not defaults: start
// from DefaultConfig.
type Config struct {
	// Listen is the host:port to listen on. It must be a loopback address
	// (127.0.0.0/8, ::1, or "localhost"); port 0 means any free port.
	Listen string
	// Rows is the number of rows in the in-memory table behind /scan and
	// /lookup, from 1 to MaxRows.
	Rows int
	// LeakMax caps the bytes /leak retains in total; beyond it /leak stops
	// retaining and says so with the header "X-Lab-Leak: full". Zero means
	// /leak never retains anything.
	LeakMax int64
	// NoGoMetrics leaves the Go runtime's metrics (go_*) off /metrics, as
	// a non-Go service or a Go service with its own registry would: a prom
	// probe then cannot read the cores (go_sched_gomaxprocs_threads).
	NoGoMetrics bool
	// Backend is the base URL (loopback) of a second lab that /backend
	// calls, as an app calls its database; empty: /backend answers 404.
	Backend string
}

// DefaultConfig returns the defaults: Listen "127.0.0.1:8080", Rows 100000,
// LeakMax 512 MiB.
func DefaultConfig() Config {
	return Config{
		Listen:  "127.0.0.1:8080",
		Rows:    100_000,
		LeakMax: 512 << 20,
	}
}

// Validate reports every problem with c, joined with errors.Join, or nil.
// It is pure: it changes nothing and resolves no names.
func (c Config) Validate() error {
	var errs []error
	if err := validateListen(c.Listen); err != nil {
		errs = append(errs, err)
	}
	if c.Rows < 1 || c.Rows > MaxRows {
		errs = append(errs, fmt.Errorf("rows %d: must be from 1 to %d", c.Rows, MaxRows))
	}
	if c.LeakMax < 0 {
		errs = append(errs, fmt.Errorf("leak max %d: must be at least 0 bytes", c.LeakMax))
	}
	if c.Backend != "" {
		if err := validateBackend(c.Backend); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// validateListen checks that addr is host:port with a loopback host and a
// numeric port.
func validateListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen %q: want host:port, such as 127.0.0.1:8080", addr)
	}
	var errs []error
	if !isLoopbackHost(host) {
		errs = append(errs, fmt.Errorf("listen %q: the lab only listens on loopback (127.0.0.0/8, ::1 or localhost), not on %q", addr, host))
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		errs = append(errs, fmt.Errorf("listen %q: port %q must be a number from 0 to 65535", addr, port))
	}
	return errors.Join(errs...)
}

// isLoopbackHost reports whether host is "localhost" or a loopback IP
// literal. An empty host (all interfaces) is not loopback.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	return ip.Unmap().IsLoopback()
}

// isLoopbackAddr reports whether a bound network address is on loopback.
func isLoopbackAddr(a net.Addr) bool {
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return false
	}
	return ap.Addr().Unmap().IsLoopback()
}

// validateBackend checks that a backend is http://HOST:PORT on loopback.
func validateBackend(base string) error {
	hostport, ok := strings.CutPrefix(base, "http://")
	if !ok || strings.ContainsAny(hostport, "/?#") {
		return fmt.Errorf("backend %q: want http://HOST:PORT", base)
	}
	if err := validateListen(hostport); err != nil {
		return fmt.Errorf("backend %q: %w", base, err)
	}
	return nil
}
