//go:build linux && (amd64 || arm64 || riscv64 || ppc64le || s390x || loong64)

package client

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// peek looks at up to len(b) pending bytes without consuming them and
// without blocking. It calls recvfrom directly: unix.Recvfrom allocates a
// socket address on every call, which at tens of thousands of requests a
// second is garbage the load generator does not need to make.
func peek(fd int, b []byte) (int, error) {
	n, _, errno := unix.Syscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)),
		unix.MSG_PEEK|unix.MSG_DONTWAIT, 0, 0)
	if errno != 0 {
		return int(n), errno
	}
	return int(n), nil
}
