package client

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Request is a request template: what every load request sends. The URL's
// path and query, header values and the body may use template variables
// ({{id}}, {{user}}, {{n}}); see vars.
type Request struct {
	Method string
	// URL is the URL as parsed, variables rendered with sample values, the
	// request-URI percent-encoded where it must be, and the password of
	// any userinfo replaced by "xxxxx" (userinfo is sent as Basic auth).
	URL    *url.URL
	Header http.Header
	Body   []byte
	// Checks are applied to every response; see Check.
	Checks []*Check

	raw       string // the URL as given (password included)
	uri       tmpl   // request-URI (path?query) template
	headers   []headerTmpl
	body      tmpl
	templated bool // some part uses a variable
	needsBody bool // a check reads the body
}

type headerTmpl struct {
	name  string
	value tmpl
}

// NewRequest checks and builds a request template. Errors are for people:
// they say what is wrong with the method, URL, headers or checks.
func NewRequest(method, rawURL string, header http.Header, body []byte, checks ...*Check) (*Request, error) {
	if method == "" {
		method = http.MethodGet
	}
	if !validMethod(method) {
		return nil, fmt.Errorf("invalid method %q", method)
	}
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
	uriT, err := compile([]byte(uri), "URL")
	if err != nil {
		return nil, err
	}
	sample := string(uriT.appendTo(nil, &vars{run: "r", user: 0, n: 1}))
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
	header = header.Clone()
	if header == nil {
		header = http.Header{}
	}
	takeUserinfo(u, header)
	r := &Request{Method: method, URL: u, Header: header, Body: body, Checks: checks, raw: rawURL, uri: uriT}
	r.templated = !uriT.static()
	for name, values := range header {
		if strings.Contains(name, "{{") {
			return nil, fmt.Errorf("header %q: template variables may appear in header values, not names", name)
		}
		for _, v := range values {
			if err := CheckHeader(name, v); err != nil {
				return nil, err
			}
			t, err := compile([]byte(v), fmt.Sprintf("header %q", name))
			if err != nil {
				return nil, err
			}
			r.templated = r.templated || !t.static()
			r.headers = append(r.headers, headerTmpl{name: name, value: t})
		}
	}
	if r.body, err = compile(body, "body"); err != nil {
		return nil, err
	}
	r.templated = r.templated || !r.body.static()
	for _, c := range checks {
		r.needsBody = r.needsBody || c.needsBody()
	}
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

// checkResponse applies the request's checks to a response that was
// otherwise a success. scratch is reused between calls.
func (r *Request) checkResponse(code int, body []byte, v *vars, scratch []byte) (bool, []byte) {
	for _, c := range r.Checks {
		var ok bool
		if ok, scratch = c.holds(code, body, v, scratch); !ok {
			return false, scratch
		}
	}
	return true, scratch
}
