package client

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/surgeload/surge/internal/tmpl"
)

// Request is a request template: one step of a journey, or the one request
// of a URL run. Its URL path and query, header values and body may use
// template variables (see package tmpl), rendered for every exchange.
type Request struct {
	Method string
	// URL is the URL as parsed, variables rendered with sample values, the
	// request-URI percent-encoded where it must be, and the password of
	// any userinfo replaced by "xxxxx" (userinfo is sent as Basic auth).
	URL    *url.URL
	Header http.Header
	Body   []byte // the body as given, variables unrendered
	// Timeout bounds this request; 0 means the Client's.
	Timeout time.Duration
	// KeepBody and KeepHeaders say what of a response the caller reads
	// (Result.Body, Result.Header); other responses are only counted.
	KeepBody    bool
	KeepHeaders bool

	uri       tmpl.Template // request-URI (path?query)
	headers   []headerTmpl
	body      tmpl.Template
	templated bool   // some part uses a variable
	addr      string // host:port to connect to
}

type headerTmpl struct {
	name  string
	value tmpl.Template
}

// Spec describes a request to build with Build.
type Spec struct {
	Method string
	URL    string // absolute http:// or https:// URL; a template in its path and query
	Header []Field
	Body   string
	// BodyEscape says how variables are written into the body.
	BodyEscape tmpl.Escape
	// Names resolves the named variables the request may use (nil: the
	// built-ins only).
	Names       tmpl.Names
	Timeout     time.Duration
	KeepBody    bool
	KeepHeaders bool
}

// Field is one header field.
type Field struct{ Name, Value string }

// NewRequest builds a request that uses only the built-in variables, from
// the parts of a command line.
func NewRequest(method, rawURL string, header http.Header, body []byte) (*Request, error) {
	s := Spec{Method: method, URL: rawURL, Body: string(body)}
	for name, values := range header {
		for _, v := range values {
			s.Header = append(s.Header, Field{name, v})
		}
	}
	return Build(s)
}

// Build checks and builds a request template. Errors are for people: they
// say what is wrong with the method, URL, headers or body.
func Build(s Spec) (*Request, error) {
	method := s.Method
	if method == "" {
		method = http.MethodGet
	}
	if !validMethod(method) {
		return nil, fmt.Errorf("invalid method %q", method)
	}
	rawURL := s.URL
	if !strings.Contains(rawURL, "://") {
		return nil, fmt.Errorf("URL %q has no scheme: write http://%s", rawURL, rawURL)
	}
	shown := RedactURL(rawURL) // the URL as errors may show it
	scheme, rest, _ := strings.Cut(rawURL, "://")
	host, uri := rest, "/"
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		host, uri = rest[:i], rest[i:]
	}
	if strings.Contains(scheme+host, "{{") {
		return nil, fmt.Errorf("URL %q: template variables may appear in the path and query, not in the scheme or host", shown)
	}
	if strings.HasPrefix(uri, "?") {
		uri = "/" + uri
	}
	if i := strings.IndexByte(uri, '#'); i >= 0 {
		uri = uri[:i] // fragments are never sent
	}
	uri = EscapeRequestURI(uri)
	uriT, err := tmpl.Compile(uri, s.Names, tmpl.URL)
	if err != nil {
		return nil, fmt.Errorf("URL: %w", err)
	}
	sample := uriT.String(&tmpl.Values{Run: "r", N: 1})
	u, err := url.Parse(scheme + "://" + host + sample)
	if err != nil {
		return nil, fmt.Errorf("invalid URL %q: %v", shown, errors.Unwrap(err))
	}
	switch u.Scheme {
	case "http", "https":
	default:
		return nil, fmt.Errorf("URL %q: unsupported scheme %q (want http or https)", shown, u.Scheme)
	}
	if err := checkAuthority(u, shown); err != nil {
		return nil, err
	}
	r := &Request{Method: method, URL: u, Header: http.Header{}, Body: []byte(s.Body), Timeout: s.Timeout,
		KeepBody: s.KeepBody, KeepHeaders: s.KeepHeaders, uri: uriT, addr: addrOf(u)}
	if len(r.Body) == 0 {
		r.Body = nil
	}
	r.templated = !uriT.Static()
	fields := s.Header
	if auth := basicAuth(u, fields); auth != "" {
		fields = append(slices.Clip(fields), Field{"Authorization", auth})
	}
	for _, f := range fields {
		if strings.Contains(f.Name, "{{") {
			return nil, fmt.Errorf("header %q: template variables may appear in header values, not names", f.Name)
		}
		if err := CheckHeader(f.Name, f.Value); err != nil {
			return nil, err
		}
		t, err := tmpl.Compile(f.Value, s.Names, tmpl.Header)
		if err != nil {
			return nil, fmt.Errorf("header %q: %w", f.Name, err)
		}
		r.Header.Add(f.Name, f.Value)
		r.templated = r.templated || !t.Static()
		r.headers = append(r.headers, headerTmpl{name: f.Name, value: t})
	}
	if r.body, err = tmpl.Compile(s.Body, s.Names, s.BodyEscape); err != nil {
		return nil, fmt.Errorf("body: %w", err)
	}
	r.templated = r.templated || !r.body.Static()
	return r, nil
}

func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, r := range m {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune(`()<>@,;:\"/[]?={}`, r) {
			return false
		}
	}
	return true
}

// AppendURI appends to dst the request-URI (path and query,
// percent-encoded) that an exchange of r with the values v sends.
func (r *Request) AppendURI(dst []byte, v *tmpl.Values) []byte {
	return r.uri.Render(dst, v)
}

// addrOf returns host:port for a URL, adding the scheme's default port.
func addrOf(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// Exchange is one request to send: the template, the values of its
// variables, and the user's cookies. The caller owns it and may reuse it
// once the exchange has ended.
type Exchange struct {
	Req  *Request
	Vals *tmpl.Values
	// Cookie, when not empty, is sent as a Cookie header ("a=1; b=2").
	Cookie []byte
}
