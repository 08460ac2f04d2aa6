package lab

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
)

// connKey keys a connection's net.Conn in its context (see connContext).
type connKey struct{}

// handleNagle is /pool answered the way Java's built-in HttpServer
// answers, and any server that writes a response's head and its body
// apart without TCP_NODELAY: the head goes out, and the body waits in
// the kernel (Nagle's algorithm) until the client acknowledges the head,
// which a client with nothing to send does only when its delayed-ACK
// timer fires, 40 ms later on Linux. The slot is released before the
// head is written, so the stall costs latency, not capacity.
func (s *Server) handleNagle(w http.ResponseWriter, r *http.Request) {
	if !s.pooled(w, r) {
		return
	}
	nagle(r.Context())
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", "3")
	w.WriteHeader(http.StatusOK)
	_ = http.NewResponseController(w).Flush() // the head, alone
	_, _ = w.Write([]byte("ok\n"))            // the body, written when the handler returns
}

// nagle turns Nagle's algorithm on for the connection of ctx (Go turns
// it off on every TCP connection). It stays on: a connection that asked
// /nagle once is one of a server that answers that way.
func nagle(ctx context.Context) {
	c, _ := ctx.Value(connKey{}).(net.Conn)
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(false)
	}
}
