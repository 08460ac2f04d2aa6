//go:build !unix

package client

import "net"

// readyWaiter is not available here: workers read with their buffer.
type readyWaiter struct{}

func newReadyWaiter(net.Conn) *readyWaiter { return nil }

func (*readyWaiter) wait() error { return nil }
