package client

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// ValidMethod reports whether m may be sent as a method: a token.
func ValidMethod(m string) bool { return validMethod(m) }

// ValidHeaderName reports whether name is an RFC 9110 token, the only
// thing a header name may be: no space, control byte, non-ASCII byte or
// separator such as ':' or '"'.
func ValidHeaderName(name string) bool {
	return name != "" && isToken([]byte(name))
}

// ValidHeaderValue reports whether v may go on the wire as a header value:
// no CR, LF, NUL or other control byte except horizontal tab. A value
// with CR or LF would end the header early and let its text smuggle other
// headers, or a whole second request, onto the connection.
func ValidHeaderValue(v string) bool {
	return isFieldValue([]byte(v))
}

// CheckHeader returns an error, for people, when name or value may not be
// sent; nil when both are fine.
func CheckHeader(name, value string) error {
	if !ValidHeaderName(name) {
		return fmt.Errorf("header name %q is not a token (letters, digits and !#$%%&'*+-.^_`|~ only)", name)
	}
	if !ValidHeaderValue(value) {
		return fmt.Errorf("header %s: the value holds a control character (CR, LF, NUL…), which is not allowed", name)
	}
	return nil
}

// EscapeRequestURI percent-encodes the bytes of a request-URI (path and
// query) that may not appear raw in an HTTP request line: control bytes,
// space, DEL, every non-ASCII byte, and the characters RFC 3986 never
// allows unescaped ("<>\^`|). Everything else is kept as written, '%'
// escapes and template braces included, so an already encoded URI is
// unchanged.
func EscapeRequestURI(s string) string {
	const hex = "0123456789ABCDEF"
	var b []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c > ' ' && c < 0x7f && strings.IndexByte("\"<>\\^`|", c) < 0 {
			if b != nil {
				b = append(b, c)
			}
			continue
		}
		if b == nil {
			b = append(make([]byte, 0, len(s)+16), s[:i]...)
		}
		b = append(b, '%', hex[c>>4], hex[c&15])
	}
	if b == nil {
		return s
	}
	return string(b)
}

// RedactURL returns rawURL with the password of its userinfo, if any,
// replaced by "xxxxx", as url.URL.Redacted does; it also works on URLs
// that do not parse, for error messages.
func RedactURL(rawURL string) string {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return rawURL
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	at := strings.LastIndexByte(authority, '@')
	if at < 0 {
		return rawURL
	}
	user, _, hasPass := strings.Cut(authority[:at], ":")
	if !hasPass {
		return rawURL
	}
	return scheme + "://" + user + ":xxxxx" + rest[at:]
}

// checkAuthority rejects a URL whose host is empty or whose port is not
// a number from 1 to 65535.
func checkAuthority(u *url.URL, shown string) error {
	if u.Hostname() == "" {
		return fmt.Errorf("URL %q has no host", shown)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("URL %q: port %s is out of range (1 to 65535)", shown, p)
		}
	}
	return nil
}

// basicAuth returns the Basic Authorization value of u's userinfo, unless
// the fields already have an Authorization header or u has none, and
// leaves u with the password redacted, so that the URL can be shown and
// written anywhere.
func basicAuth(u *url.URL, fields []Field) string {
	if u.User == nil {
		return ""
	}
	pass, hasPass := u.User.Password()
	cred := u.User.Username() + ":" + pass
	if hasPass {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	for _, f := range fields {
		if strings.EqualFold(f.Name, "Authorization") {
			return ""
		}
	}
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(cred))
}
