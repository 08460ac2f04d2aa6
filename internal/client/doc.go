// Package client sends surge's HTTP requests: it builds the transport
// (HTTP/1.1 keep-alive, HTTP/2 over TLS or cleartext), reads every response
// body to the end, counts the bytes on the wire, and sorts every failure into
// an error class (timeout, refused, reset, dns, tls, protocol, http_4xx,
// http_5xx, check).
//
// A Client is safe for concurrent use. A Request is a template; each load
// worker turns it into its own *http.Request with Prepare and reuses it.
package client
