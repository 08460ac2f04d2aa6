//go:build !unix

package client

// tryRead returns nil where a socket cannot be read without waiting: the
// HTTP/2 reader then writes what is pending before each read.
func tryRead(*countConn) func(p []byte) (n int, err error, ok bool) { return nil }
