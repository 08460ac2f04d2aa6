package scenario

import (
	"bytes"
	"math"
	"net"
	"strings"
	"time"
)

// jar is one user's cookies, kept for the whole run as a browser keeps
// them (RFC 6265 section 5): each cookie is scoped by domain (host-only
// unless a Domain attribute widens it to a domain the request host is
// in), by path, and by Secure, and expires by Max-Age or Expires. There is
// no public suffix list. At most maxCookies are kept: a new one beyond
// that drops the oldest, so that no server can make a user's memory grow.
//
// The common case, a few cookies on one host set again and again, does
// not allocate: a cookie set again is overwritten in place, and a
// removed cookie's buffers are reused by the next one. (net/http/cookiejar
// keeps the same rules but works on *url.URL and *http.Cookie values,
// made anew for every request and response: allocations on a path that
// has none.)
type jar struct {
	c   []cookie
	seq uint64 // creation order of the last new cookie
	// now is the user's clock, read only when an expiry matters.
	now func() time.Time
	// soonest is no later than the earliest expiry of a kept cookie; 0
	// when none expires during the run.
	soonest int64
	pick    [maxCookies]uint8 // the cookies of one Cookie header
	path    []byte            // the path of the step under way, for its cookies
}

// cookie is one stored cookie (RFC 6265 5.3).
type cookie struct {
	name, value []byte
	domain      []byte // lower case, without a leading dot
	path        []byte
	exp         int64  // expiry, Unix nanoseconds; never: math.MaxInt64
	seq         uint64 // creation order; setting a cookie again keeps it
	hostOnly    bool
	secure      bool
}

// site is where a request goes, as its cookies see it.
type site struct {
	host   string // lower case, without port or IPv6 brackets
	ip     bool   // host is an IP address: its cookies are host-only
	secure bool   // https
}

const (
	// maxCookies bounds a user's jar, as browsers bound a domain's.
	maxCookies = 50
	// maxCookieBytes bounds a cookie's name and value together, and
	// maxAttrBytes an attribute's value, as browsers do (RFC 6265bis);
	// longer ones are ignored.
	maxCookieBytes = 4096
	maxAttrBytes   = 1024
	never          = math.MaxInt64
	expiredAt      = math.MinInt64
)

// siteOf returns the site of a request to rawHost ("host:port", "[v6]:port"
// or a bare host) over scheme.
func siteOf(scheme, rawHost string) site {
	h := rawHost
	if host, _, err := net.SplitHostPort(rawHost); err == nil {
		h = host
	}
	h = strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"))
	return site{host: h, ip: net.ParseIP(h) != nil, secure: strings.EqualFold(scheme, "https")}
}

// clock returns the user's time, in Unix nanoseconds.
func (j *jar) clock() int64 {
	if j.now == nil {
		return time.Now().UnixNano()
	}
	return j.now().UnixNano()
}

// update keeps the cookies of a response's header lines; s and path are
// those of the request (path without its query).
func (j *jar) update(lines []byte, s site, path []byte) {
	for len(lines) > 0 {
		var n, v []byte
		if n, v, lines = nextHeader(lines); !is(n, "set-cookie") {
			continue
		}
		j.set(v, s, path)
	}
}

// set stores the cookie of one Set-Cookie value (RFC 6265 5.2 and 5.3).
func (j *jar) set(line []byte, s site, reqPath []byte) {
	pair, attrs, _ := bytes.Cut(line, []byte(";"))
	name, value, ok := bytes.Cut(pair, []byte("="))
	name, value = bytes.TrimSpace(name), bytes.TrimSpace(value)
	if !ok || len(name) == 0 || len(name)+len(value) > maxCookieBytes || hasCTL(name) || hasCTL(value) {
		return
	}
	var domain, path []byte
	secure, maxAge, expires := false, int64(0), int64(0)
	hasMaxAge, hasExpires := false, false
	var now int64 // read once, when Max-Age needs it
	for len(attrs) > 0 {
		var a []byte
		a, attrs, _ = bytes.Cut(attrs, []byte(";"))
		k, v, _ := bytes.Cut(a, []byte("="))
		k, v = bytes.TrimSpace(k), bytes.TrimSpace(v)
		if len(v) > maxAttrBytes {
			continue
		}
		switch {
		case is(k, "expires"):
			if t, ok := parseCookieDate(v); ok {
				expires, hasExpires = unixNano(t), true
			}
		case is(k, "max-age"):
			if d, ok := parseMaxAge(v); ok {
				if d <= 0 {
					maxAge = expiredAt
				} else {
					if now == 0 {
						now = j.clock()
					}
					maxAge = addSeconds(now, d)
				}
				hasMaxAge = true
			}
		case is(k, "domain"):
			if len(v) > 0 { // an empty Domain is ignored (5.2.3)
				domain = bytes.TrimPrefix(v, []byte("."))
			}
		case is(k, "path"):
			path = nil // the default path, unless the value is one
			if len(v) > 0 && v[0] == '/' {
				path = v
			}
		case is(k, "secure"):
			secure = true
		}
	}
	exp := int64(never)
	switch {
	case hasMaxAge: // Max-Age wins over Expires, wherever each is
		exp = maxAge
	case hasExpires:
		exp = expires
	}
	hostOnly := true
	if len(domain) > 0 {
		if !domainMatch(s.host, s.ip, domain) {
			return // 5.3 step 6: a domain the host is not in
		}
		hostOnly = s.ip // an IP address matches only itself
	}
	if path == nil {
		path = defaultPath(reqPath)
	}
	i := j.find(name, domain, hostOnly, s.host, path)
	if exp != never && exp <= j.clockIf(exp) {
		if i >= 0 { // a cookie set in the past deletes its namesake
			j.remove(i)
		}
		return
	}
	if i < 0 {
		j.expire()
		if len(j.c) >= maxCookies {
			j.remove(j.oldest())
		}
		j.seq++
		i = j.add(j.seq)
	}
	c := &j.c[i]
	c.name = append(c.name[:0], name...)
	c.value = append(c.value[:0], value...)
	c.domain = c.domain[:0]
	if hostOnly {
		c.domain = append(c.domain, s.host...)
	} else {
		c.domain = appendLower(c.domain, domain)
	}
	c.path = append(c.path[:0], path...)
	c.exp, c.hostOnly, c.secure = exp, hostOnly, secure
	if exp != never && (j.soonest == 0 || exp < j.soonest) {
		j.soonest = exp
	}
}

// clockIf returns the time when exp may be in the past: a Max-Age of 0 or
// less and a date before 1970 are, whatever the time.
func (j *jar) clockIf(exp int64) int64 {
	if exp <= 0 {
		return 0
	}
	return j.clock()
}

// find returns the index of the cookie of this name, domain and path, or
// -1 (5.3 step 11).
func (j *jar) find(name, domain []byte, hostOnly bool, host string, path []byte) int {
	for i := range j.c {
		c := &j.c[i]
		if !bytes.Equal(c.name, name) || !bytes.Equal(c.path, path) {
			continue
		}
		if hostOnly && string(c.domain) == host || !hostOnly && bytes.EqualFold(c.domain, domain) {
			return i
		}
	}
	return -1
}

// add makes room for one more cookie, reusing a removed one's buffers,
// and returns its index.
func (j *jar) add(seq uint64) int {
	n := len(j.c)
	if n < cap(j.c) {
		j.c = j.c[:n+1]
	} else {
		j.c = append(j.c, cookie{})
	}
	j.c[n].seq = seq
	return n
}

// remove drops cookie i; its buffers move past the end, for reuse.
func (j *jar) remove(i int) {
	last := len(j.c) - 1
	j.c[i], j.c[last] = j.c[last], j.c[i]
	j.c = j.c[:last]
}

// oldest returns the index of the cookie created first.
func (j *jar) oldest() int {
	o := 0
	for i := range j.c {
		if j.c[i].seq < j.c[o].seq {
			o = i
		}
	}
	return o
}

// expire drops the cookies whose time has come, when one may have.
func (j *jar) expire() {
	if j.soonest == 0 {
		return
	}
	now := j.clock()
	if now < j.soonest {
		return
	}
	j.soonest = 0
	for i := len(j.c) - 1; i >= 0; i-- {
		switch exp := j.c[i].exp; {
		case exp <= now:
			j.remove(i)
		case exp != never && (j.soonest == 0 || exp < j.soonest):
			j.soonest = exp
		}
	}
}

// header appends the Cookie header value ("a=1; b=2") of a request to s
// at path (without its query) to dst (RFC 6265 5.4): the cookies whose
// domain and path match, not the Secure ones over http, longest paths
// first, then the oldest first.
func (j *jar) header(dst []byte, s site, path []byte) []byte {
	j.expire()
	n := 0
	for i := range j.c {
		c := &j.c[i]
		if c.secure && !s.secure || !pathMatch(path, c.path) {
			continue
		}
		if c.hostOnly && string(c.domain) != s.host || !c.hostOnly && !domainMatch(s.host, s.ip, c.domain) {
			continue
		}
		// Insert i in order: longer paths first, then earlier creation.
		k := n
		for ; k > 0; k-- {
			p := &j.c[j.pick[k-1]]
			if len(p.path) > len(c.path) || len(p.path) == len(c.path) && p.seq < c.seq {
				break
			}
			j.pick[k] = j.pick[k-1]
		}
		j.pick[k] = uint8(i)
		n++
	}
	for k, i := range j.pick[:n] {
		if k > 0 {
			dst = append(dst, "; "...)
		}
		dst = append(dst, j.c[i].name...)
		dst = append(dst, '=')
		dst = append(dst, j.c[i].value...)
	}
	return dst
}

// domainMatch reports whether host domain-matches domain (RFC 6265 5.1.3),
// domain in any case.
func domainMatch(host string, ip bool, domain []byte) bool {
	if len(host) == len(domain) {
		return strings.EqualFold(host, string(domain))
	}
	if ip || len(host) < len(domain)+1 {
		return false
	}
	cut := len(host) - len(domain)
	return host[cut-1] == '.' && strings.EqualFold(host[cut:], string(domain))
}

// pathMatch reports whether a request path path-matches a cookie's path
// (RFC 6265 5.1.4).
func pathMatch(reqPath, cookiePath []byte) bool {
	if !bytes.HasPrefix(reqPath, cookiePath) {
		return false
	}
	return len(reqPath) == len(cookiePath) || cookiePath[len(cookiePath)-1] == '/' || reqPath[len(cookiePath)] == '/'
}

// defaultPath returns a cookie's path when Set-Cookie gives none: the
// request path up to its last slash, or "/" (RFC 6265 5.1.4).
func defaultPath(reqPath []byte) []byte {
	if len(reqPath) == 0 || reqPath[0] != '/' {
		return root
	}
	if i := bytes.LastIndexByte(reqPath, '/'); i > 0 {
		return reqPath[:i]
	}
	return root
}

var root = []byte("/")

// parseMaxAge parses a Max-Age value (RFC 6265 5.2.2): an optional minus
// and digits; a number too large saturates.
func parseMaxAge(v []byte) (int64, bool) {
	neg := len(v) > 0 && v[0] == '-'
	if neg {
		v = v[1:]
	}
	if len(v) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		if n < math.MaxInt64/10-1 {
			n = n*10 + int64(c-'0')
		}
	}
	if neg {
		return -n, true
	}
	return n, true
}

// addSeconds returns now plus d seconds, in Unix nanoseconds, saturated.
func addSeconds(now, d int64) int64 {
	if d >= (never-now)/int64(time.Second) {
		return never
	}
	return now + d*int64(time.Second)
}

// unixNano returns t in Unix nanoseconds, saturated at the ends.
func unixNano(t time.Time) int64 {
	s := t.Unix()
	switch {
	case s >= math.MaxInt64/int64(time.Second):
		return never
	case s <= math.MinInt64/int64(time.Second):
		return expiredAt
	}
	return s * int64(time.Second)
}

// is reports whether b is name, in any case (ASCII).
func is(b []byte, name string) bool {
	return len(b) == len(name) && strings.EqualFold(string(b), name)
}

// hasCTL reports whether b holds a control byte other than tab.
func hasCTL(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\t' || c == 0x7f {
			return true
		}
	}
	return false
}

func appendLower(dst, b []byte) []byte {
	for _, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// parseCookieDate parses an Expires value by the algorithm of RFC 6265
// 5.1.1, which accepts the date forms servers send (RFC 1123, RFC 850,
// asctime, and their variants).
func parseCookieDate(b []byte) (time.Time, bool) {
	var hour, minute, sec, day, month, year int
	var haveTime, haveDay, haveMonth, haveYear bool
	for len(b) > 0 {
		i := 0
		for i < len(b) && dateDelim(b[i]) {
			i++
		}
		b = b[i:]
		i = 0
		for i < len(b) && !dateDelim(b[i]) {
			i++
		}
		tok := b[:i]
		b = b[i:]
		if len(tok) == 0 {
			continue
		}
		if !haveTime {
			if h, m, s, ok := parseHMS(tok); ok {
				hour, minute, sec, haveTime = h, m, s, true
				continue
			}
		}
		if !haveDay {
			if d, ok := leadingDigits(tok, 1, 2); ok {
				day, haveDay = d, true
				continue
			}
		}
		if !haveMonth {
			if m := monthOf(tok); m > 0 {
				month, haveMonth = m, true
				continue
			}
		}
		if !haveYear {
			if y, ok := leadingDigits(tok, 2, 4); ok {
				year, haveYear = y, true
				continue
			}
		}
	}
	switch {
	case 70 <= year && year <= 99:
		year += 1900
	case 0 <= year && year <= 69:
		year += 2000
	}
	if !haveTime || !haveDay || !haveMonth || !haveYear || day < 1 || day > 31 || year < 1601 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	if t.Day() != day { // February 30th
		return time.Time{}, false
	}
	return t, true
}

// dateDelim reports whether c separates the tokens of a cookie date.
func dateDelim(c byte) bool {
	return c == 0x09 || 0x20 <= c && c <= 0x2f || 0x3b <= c && c <= 0x40 || 0x5b <= c && c <= 0x60 || 0x7b <= c && c <= 0x7e
}

// leadingDigits parses the lo to hi digits a token starts with, which
// must not be followed by another digit.
func leadingDigits(tok []byte, lo, hi int) (int, bool) {
	n, v := 0, 0
	for n < len(tok) && '0' <= tok[n] && tok[n] <= '9' {
		if n == hi {
			return 0, false
		}
		v = v*10 + int(tok[n]-'0')
		n++
	}
	return v, n >= lo
}

// parseHMS parses a time token: 1*2DIGIT ":" 1*2DIGIT ":" 1*2DIGIT, then
// anything but a digit.
func parseHMS(tok []byte) (h, m, s int, ok bool) {
	var parts [3]int
	for k := range parts {
		n, v := 0, 0
		for n < len(tok) && '0' <= tok[n] && tok[n] <= '9' {
			if n == 2 {
				return 0, 0, 0, false
			}
			v = v*10 + int(tok[n]-'0')
			n++
		}
		if n == 0 {
			return 0, 0, 0, false
		}
		parts[k], tok = v, tok[n:]
		if k < 2 {
			if len(tok) == 0 || tok[0] != ':' {
				return 0, 0, 0, false
			}
			tok = tok[1:]
		}
	}
	return parts[0], parts[1], parts[2], true
}

// monthOf returns the month a token's first three letters name (1–12),
// or 0.
func monthOf(tok []byte) int {
	if len(tok) < 3 {
		return 0
	}
	const months = "janfebmaraprmayjunjulaugsepoctnovdec"
	for m := 0; m < len(months); m += 3 {
		if tok[0]|0x20 == months[m] && tok[1]|0x20 == months[m+1] && tok[2]|0x20 == months[m+2] {
			return m/3 + 1
		}
	}
	return 0
}
