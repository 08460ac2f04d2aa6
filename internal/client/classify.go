package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
)

// classify sorts a transport error into a class. stopped reports whether
// surge itself canceled the request.
func classify(err error, stopped bool) Class {
	if stopped {
		return Canceled
	}
	var (
		dnsErr      *net.DNSError
		recordErr   tls.RecordHeaderError
		alertErr    tls.AlertError
		verifyErr   *tls.CertificateVerificationError
		unknownAuth x509.UnknownAuthorityError
		hostErr     x509.HostnameError
		invalidErr  x509.CertificateInvalidError
		netErr      net.Error
	)
	switch {
	case errors.Is(err, ErrMalformed):
		return ProtocolError
	case localFailure(err):
		return Local
	case errors.Is(err, context.DeadlineExceeded):
		return Timeout
	case errors.As(err, &dnsErr):
		return DNS
	case errors.Is(err, syscall.ECONNREFUSED):
		return Refused
	case errors.Is(err, io.ErrUnexpectedEOF):
		// A clean close in the middle of a response (a body shorter than
		// its Content-Length, a chunked body never ended): the server
		// broke HTTP's framing, it did not reset the connection.
		return ProtocolError
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.ECONNABORTED), errors.Is(err, io.EOF),
		errors.Is(err, net.ErrClosed):
		return Reset
	case errors.As(err, &recordErr), errors.As(err, &alertErr), errors.As(err, &verifyErr),
		errors.As(err, &unknownAuth), errors.As(err, &hostErr), errors.As(err, &invalidErr):
		return TLS
	case errors.As(err, &netErr) && netErr.Timeout():
		return Timeout
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "malformed HTTP"), strings.Contains(msg, "http2:"),
		strings.Contains(msg, "unexpected EOF"), strings.Contains(msg, "invalid"),
		strings.Contains(msg, "server sent"), strings.Contains(msg, "protocol error"),
		strings.Contains(msg, "response"):
		return ProtocolError
	case strings.Contains(msg, "tls:"), strings.Contains(msg, "x509:"):
		return TLS
	case strings.Contains(msg, "connection reset"), strings.Contains(msg, "broken pipe"),
		strings.Contains(msg, "server closed"), strings.Contains(msg, "connection closed"):
		return Reset
	}
	return Other
}
