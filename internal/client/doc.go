// Package client sends surge's HTTP requests: it builds the transport
// (HTTP/1.1 keep-alive, HTTP/2 over TLS or cleartext), reads every response
// body to the end, counts the bytes on the wire, and sorts every failure into
// an error class (timeout, refused, reset, dns, tls, protocol, http_4xx,
// http_5xx, check).
//
// A Client is safe for concurrent use. A Request is a template; each load
// worker gets a Sender for it from NewSender. On Linux, plain http:// in
// HTTP/1.1 runs on the Client's event loops (loop_linux.go: one epoll loop
// per CPU and its connects; sender_linux.go: one user's exchanges, parsed by
// the incremental parser of h1parse.go; target_linux.go: resolution), and
// those Senders are Starters: a user waiting for an answer holds no
// goroutine; tls_linux.go runs TLS on those loops. HTTP/2, on every system,
// runs on surge's own client (h2.go: shape and forms; h2conn.go: a
// connection and its reader goroutine; h2send.go: one user's streams),
// whose Senders are Starters too. Other HTTP/1.1 goes through net/http
// (std.go).
package client
