//go:build !unix

package client

import "net"

// readyWaiter is not available here: workers read with their own buffer.
type readyWaiter struct{}

func newReadyWaiter(net.Conn) *readyWaiter { return nil }

func (*readyWaiter) read() (*[]byte, int, error) { return nil, 0, nil }
