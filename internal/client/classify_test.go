package client

import (
	"context"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"
)

// What the kernel says when surge's own host runs out is local, however
// deep the wrapping; what the target does is its own class.
func TestClassifySeparatesLocalFailures(t *testing.T) {
	dial := func(errno syscall.Errno) error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", errno)}
	}
	for _, c := range []struct {
		err  error
		want Class
	}{
		{dial(syscall.EADDRNOTAVAIL), Local}, // out of local ports
		{os.NewSyscallError("socket", syscall.EMFILE), Local},
		{fmt.Errorf("dial: %w", syscall.ENFILE), Local},
		{dial(syscall.ENOBUFS), Other}, // a write may say it too: not surely local
		{dial(syscall.ECONNREFUSED), Refused},
		{dial(syscall.ECONNRESET), Reset},
		{fmt.Errorf("read: %w", context.DeadlineExceeded), Timeout},
		{dial(syscall.EHOSTUNREACH), Other},
	} {
		if got := classify(c.err, false); got != c.want {
			t.Errorf("%v: %s, want %s", c.err, got, c.want)
		}
	}
	if got := classify(dial(syscall.EADDRNOTAVAIL), true); got != Canceled {
		t.Errorf("stopped by surge: %s, want canceled", got)
	}
	if !Local.IsError() || Local.HasLatency() || Local.String() != "local" {
		t.Errorf("local: error %v, latency %v, name %q; want an error without latency named local", Local.IsError(), Local.HasLatency(), Local.String())
	}
}
