package client

// Class is the outcome class of one request: OK, or the kind of failure.
type Class uint8

// The outcome classes. Every failure is counted under exactly one of them.
const (
	OK            Class = iota // a response with status < 400 that passed every check
	Timeout                    // no complete response within the request timeout
	Refused                    // the connection was refused (nothing listening)
	Reset                      // the connection was reset or closed mid-exchange
	DNS                        // the host name did not resolve
	TLS                        // the TLS handshake or certificate check failed
	ProtocolError              // a malformed or unexpected HTTP exchange
	HTTP4xx                    // a response with status 400–499
	HTTP5xx                    // a response with status 500–599
	CheckFailed                // a response that failed a response check
	Other                      // any other transport error
	// Local is a request that never reached the target because surge's
	// own host could not open a connection: out of file descriptors or
	// buffers, or no local address to connect from (every local port in
	// use, as after many short connections still in TIME_WAIT; or an
	// address family the host cannot use, such as ::1 without IPv6).
	Local
	// Canceled is a request cut short by surge itself (end of the run's
	// grace period, or Ctrl-C). It is not the target's fault and is not
	// counted as an error.
	Canceled
	// NumClasses is the number of classes, for arrays indexed by Class.
	NumClasses
)

var classNames = [NumClasses]string{
	OK: "ok", Timeout: "timeout", Refused: "refused", Reset: "reset", DNS: "dns",
	TLS: "tls", ProtocolError: "protocol", HTTP4xx: "http_4xx", HTTP5xx: "http_5xx",
	CheckFailed: "check", Other: "other", Local: "local", Canceled: "canceled",
}

// String returns the class name used in results ("timeout", "http_5xx", …).
func (c Class) String() string {
	if c < NumClasses {
		return classNames[c]
	}
	return "unknown"
}

// IsError reports whether the class counts as a failed request.
func (c Class) IsError() bool { return c != OK && c != Canceled }

// HasLatency reports whether a request of this class has a meaningful
// latency: it got a response (whatever its status), or it timed out (its
// latency is then a lower bound). Fast failures such as a refused
// connection would drag percentiles down and are left out.
func (c Class) HasLatency() bool {
	switch c {
	case OK, HTTP4xx, HTTP5xx, CheckFailed, Timeout:
		return true
	}
	return false
}

// Completed reports whether a request of this class got its whole
// response (whatever its status): only those count in status codes.
func (c Class) Completed() bool {
	switch c {
	case OK, HTTP4xx, HTTP5xx, CheckFailed:
		return true
	}
	return false
}

// ClassOfStatus returns the class of a response with the given status code.
func ClassOfStatus(code int) Class {
	switch {
	case code >= 500:
		return HTTP5xx
	case code >= 400:
		return HTTP4xx
	}
	return OK
}
