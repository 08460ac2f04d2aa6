//go:build linux

package client

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// target is where a loop sender connects: an address resolved once per
// Client.
type target struct {
	family int
	ap     netip.AddrPort
	tls    *tls.Config // for https:// targets; nil for plain ones
}

// sockaddr returns the address for connect; each call its own, as
// unix.Connect writes into it.
func (t *target) sockaddr() unix.Sockaddr {
	if t.family == unix.AF_INET {
		return &unix.SockaddrInet4{Port: int(t.ap.Port()), Addr: t.ap.Addr().As4()}
	}
	return &unix.SockaddrInet6{Port: int(t.ap.Port()), Addr: t.ap.Addr().As16()}
}

// targets resolves each host:port once.
type targets struct {
	mu   sync.Mutex
	byHP map[string]targetOrErr
}

type targetOrErr struct {
	t   *target
	err error
}

// get returns the address to connect to for hostPort (under key, which
// tells TLS targets, made with conf, from plain ones). A name that
// resolves to several addresses is tried through d, as net.Dial does, and
// the address that answered is kept; when none does, the first is.
func (ts *targets) get(key, hostPort string, conf *tls.Config, d *dialer) (*target, error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if r, ok := ts.byHP[key]; ok {
		return r.t, r.err
	}
	t, err := resolveTarget(hostPort, d)
	if t != nil {
		t.tls = conf
	}
	if ts.byHP == nil {
		ts.byHP = make(map[string]targetOrErr)
	}
	ts.byHP[key] = targetOrErr{t, err}
	return t, err
}

func resolveTarget(hostPort string, d *dialer) (*target, error) {
	host, portStr, err := net.SplitHostPort(hostPort)
	if err != nil {
		return nil, err
	}
	port, err := net.LookupPort("tcp", portStr)
	if err != nil {
		return nil, err
	}
	var ip netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		ip = a
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err != nil || len(ips) == 0 {
			return nil, fmt.Errorf("resolving %s: %v", host, err)
		}
		ip = ips[0]
		if len(ips) > 1 {
			if c, err := d.dial(ctx, "tcp", hostPort); err == nil {
				if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
					ip = a.AddrPort().Addr()
				}
				c.Close()
			}
		}
	}
	ip = ip.Unmap()
	ap := netip.AddrPortFrom(ip, uint16(port))
	if ip.Is4() {
		return &target{family: unix.AF_INET, ap: ap}, nil
	}
	return &target{family: unix.AF_INET6, ap: ap}, nil
}

// targetOf returns where the event loops connect for r, or nil when r's
// host does not resolve (net/http then carries the request and reports
// the failure as such).
func (c *Client) targetOf(r *Request) *target {
	key, hostPort := r.addr, r.addr
	var conf *tls.Config
	if r.URL.Scheme == "https" {
		// Offer HTTP/1.1 only: this path speaks nothing else.
		key, conf = "https://"+r.addr, c.tlsConfig(r.URL.Hostname(), "http/1.1")
	}
	t, err := c.targets.get(key, hostPort, conf, c.dial)
	if err != nil {
		return nil
	}
	return t
}
