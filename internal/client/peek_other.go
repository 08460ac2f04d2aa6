//go:build unix && !(linux && (amd64 || arm64 || riscv64 || ppc64le || s390x || loong64))

package client

import "golang.org/x/sys/unix"

// peek looks at up to len(b) pending bytes without consuming them and
// without blocking.
func peek(fd int, b []byte) (int, error) {
	n, _, err := unix.Recvfrom(fd, b, unix.MSG_PEEK|unix.MSG_DONTWAIT)
	return n, err
}
