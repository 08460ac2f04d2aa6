package scenario

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// t0 is the jar tests' "now".
var t0 = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

// jarStep is a response to a request of url at t0+at, with its
// Set-Cookie values; when set is nil, it asks what the request sends and
// compares it with want.
type jarStep struct {
	url  string
	at   time.Duration
	set  []string
	want string
}

func sent(url string, at time.Duration, want string) jarStep {
	return jarStep{url: url, at: at, want: want}
}

func got(url string, at time.Duration, set ...string) jarStep {
	return jarStep{url: url, at: at, set: set}
}

// siteAndPath splits a URL as a step's request sees it.
func siteAndPath(t *testing.T, raw string) (site, []byte) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return siteOf(u.Scheme, u.Host), []byte(u.EscapedPath())
}

func TestJarFollowsRFC6265(t *testing.T) {
	const past = "Thu, 01 Jan 1970 00:00:00 GMT"
	inAnHour := t0.Add(time.Hour).Format(time.RFC1123)
	many := make([]string, 60)
	var last50 []string
	for i := range many {
		many[i] = fmt.Sprintf("c%d=%d", i, i)
		if i >= 10 {
			last50 = append(last50, many[i])
		}
	}
	const h = "http://shop.test"
	for _, tc := range []struct {
		name  string
		steps []jarStep
	}{
		{"express clearCookie deletes with a past Expires alone", []jarStep{
			got(h+"/login", 0, "sid=abc; Path=/; HttpOnly"),
			sent(h+"/orders", 0, "sid=abc"),
			got(h+"/logout", 0, "sid=; Path=/; Expires="+past),
			sent(h+"/orders", 0, ""),
		}},
		{"django delete_cookie sends Max-Age=0 and a past Expires", []jarStep{
			got(h+"/login", 0, "sessionid=abc; Path=/"),
			got(h+"/logout", 0, `sessionid=""; expires=`+past+`; Max-Age=0; Path=/`),
			sent(h+"/", 0, ""),
		}},
		{"an empty value is a cookie", []jarStep{
			got(h+"/", 0, "a=; Path=/", "b=1"),
			sent(h+"/x", 0, "a=; b=1"),
		}},
		{"Max-Age wins over a past Expires written after it", []jarStep{
			got(h+"/", 0, "a=1; Max-Age=60; Expires="+past),
			sent(h+"/", 59*time.Second, "a=1"),
			sent(h+"/", 60*time.Second, ""),
		}},
		{"Max-Age=0 wins over a future Expires written before it", []jarStep{
			got(h+"/", 0, "a=1"),
			got(h+"/", 0, "a=2; Expires="+inAnHour+"; Max-Age=0"),
			sent(h+"/", 0, ""),
		}},
		{"a negative Max-Age deletes; a bad one is ignored", []jarStep{
			got(h+"/", 0, "a=1", "b=1"),
			got(h+"/", 0, "a=2; Max-Age=-1", "b=2; Max-Age=1x"),
			sent(h+"/", 24*time.Hour, "b=2"),
		}},
		{"a future Expires stops being sent once it has passed", []jarStep{
			got(h+"/", 0, "a=1; Expires="+inAnHour),
			sent(h+"/", 59*time.Minute, "a=1"),
			sent(h+"/", time.Hour, ""),
		}},
		{"an unparsable Expires is ignored", []jarStep{
			got(h+"/", 0, "a=1; Expires=soon", "b=1; Expires=Thu, 31 Feb 2099 00:00:00 GMT"),
			sent(h+"/", 1000*time.Hour, "a=1; b=1"),
		}},
		{"a cookie set again keeps its place and takes the new value", []jarStep{
			got(h+"/", 0, "b=1", "c=1"),
			got(h+"/", 0, "b=2"),
			sent(h+"/", 0, "b=2; c=1"),
		}},
		{"Path scopes a cookie to a path and what is under it", []jarStep{
			got(h+"/api/login", 0, "t=1; Path=/api"),
			sent(h+"/api", 0, "t=1"),
			sent(h+"/api/items", 0, "t=1"),
			sent(h+"/apiary", 0, ""),
			sent(h+"/", 0, ""),
			sent(h+"/admin/api", 0, ""),
		}},
		{"a Path ending in a slash matches what starts with it", []jarStep{
			got(h+"/", 0, "t=1; Path=/admin/"),
			sent(h+"/admin/users", 0, "t=1"),
			sent(h+"/admin", 0, ""),
		}},
		{"without Path the default path is the request's directory", []jarStep{
			got(h+"/shop/cart/add?item=2", 0, "cart=2"),
			sent(h+"/shop/cart", 0, "cart=2"),
			sent(h+"/shop/cart/view", 0, "cart=2"),
			sent(h+"/shop", 0, ""),
			sent(h+"/shop/orders", 0, ""),
		}},
		{"a Path not starting with a slash is the default path", []jarStep{
			got(h+"/login", 0, "a=1; Path=api"),
			got(h+"/a/b", 0, "b=1; Path="),
			sent(h+"/x", 0, "a=1"),
			sent(h+"/a/c", 0, "b=1; a=1"),
		}},
		{"same name, different paths: two cookies, longer path first", []jarStep{
			got(h+"/", 0, "a=1; Path=/", "a=2; Path=/x"),
			sent(h+"/x/y", 0, "a=2; a=1"),
			sent(h+"/", 0, "a=1"),
			got(h+"/", 0, "a=; Path=/; Max-Age=0"),
			sent(h+"/x", 0, "a=2"),
		}},
		{"longer paths first, then the earlier created", []jarStep{
			got(h+"/", 0, "x=1; Path=/", "y=1; Path=/a/b", "z=1; Path=/a", "w=1; Path=/a/b"),
			sent(h+"/a/b/c", 0, "y=1; w=1; z=1; x=1"),
		}},
		{"Domain widens a cookie to the domain and its subdomains", []jarStep{
			got("http://www.example.com/", 0, "d=1; Domain=.Example.COM", "h=1"),
			sent("http://api.example.com/", 0, "d=1"),
			sent("http://example.com/", 0, "d=1"),
			sent("http://www.example.com/", 0, "d=1; h=1"),
			sent("http://otherexample.com/", 0, ""),
			sent("http://example.org/", 0, ""),
		}},
		{"a host-only cookie goes to its host alone", []jarStep{
			got("http://example.com/", 0, "h=1"),
			sent("http://example.com/", 0, "h=1"),
			sent("http://www.example.com/", 0, ""),
		}},
		{"a Domain the host is not in drops the cookie", []jarStep{
			got("http://www.example.com/", 0, "e=1; Domain=other.com", "f=1; Domain=api.example.com", "g=1; Domain=ww.example.com"),
			sent("http://other.com/", 0, ""),
			sent("http://api.example.com/", 0, ""),
			sent("http://www.example.com/", 0, ""),
		}},
		{"an empty Domain is ignored: host-only", []jarStep{
			got("http://www.example.com/", 0, "h=1; Domain="),
			sent("http://www.example.com/", 0, "h=1"),
			sent("http://a.www.example.com/", 0, ""),
		}},
		{"an IP address host is host-only, whatever its port", []jarStep{
			got("http://127.0.0.1:8080/", 0, "a=1; Domain=0.0.1", "b=1; Domain=127.0.0.1", "c=1"),
			sent("http://127.0.0.1:9090/", 0, "b=1; c=1"),
			sent("http://127.0.0.2:8080/", 0, ""),
			got("http://[::1]:8080/", 0, "v6=1; Domain=::1"),
			sent("http://[::1]/", 0, "v6=1"),
			sent("http://127.0.0.1:8080/", 0, "b=1; c=1"),
		}},
		{"Secure cookies never go over http", []jarStep{
			got("https://shop.test/", 0, "s=1; Secure", "p=1"),
			sent("https://shop.test/", 0, "s=1; p=1"),
			sent("http://shop.test/", 0, "p=1"),
		}},
		{"a deletion removes only the cookie of its domain and path", []jarStep{
			got(h+"/", 0, "a=x; Path=/x", "a=r; Path=/"),
			got("http://other.test/", 0, "a=o; Path=/"),
			got(h+"/", 0, "a=; Path=/; Expires="+past),
			sent(h+"/x", 0, "a=x"),
			sent(h+"/", 0, ""),
			sent("http://other.test/x", 0, "a=o"),
		}},
		{"a Domain cookie replaces the host-only one of the same domain and path", []jarStep{
			got(h+"/", 0, "a=host"),
			got("http://www.shop.test/", 0, "a=dom; Domain=shop.test"),
			sent(h+"/", 0, "a=dom"),
			sent("http://api.shop.test/", 0, "a=dom"),
		}},
		{"at most 50 cookies: the oldest go", []jarStep{
			got(h+"/", 0, many...),
			sent(h+"/", 0, strings.Join(last50, "; ")),
		}},
		{"an expired cookie makes room before the oldest goes", []jarStep{
			got(h+"/", 0, append([]string{"short=1; Max-Age=1"}, many[1:50]...)...),
			got(h+"/", 2*time.Second, "new=1"),
			sent(h+"/", 2*time.Second, strings.Join(append(many[1:50:50], "new=1"), "; ")),
		}},
		{"malformed cookies are ignored", []jarStep{
			got(h+"/", 0, "novalue", "=v", "a\x01=1", "b=1\x7f", " c = 1 ; Path = / "),
			sent(h+"/", 0, "c=1"),
		}},
		{"an oversized cookie is ignored", []jarStep{
			got(h+"/", 0, "big="+strings.Repeat("x", maxCookieBytes), "ok="+strings.Repeat("x", maxCookieBytes-2)),
			sent(h+"/", 0, "ok="+strings.Repeat("x", maxCookieBytes-2)),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := t0
			j := jar{now: func() time.Time { return now }}
			for i, st := range tc.steps {
				now = t0.Add(st.at)
				s, path := siteAndPath(t, st.url)
				if st.set != nil {
					var lines []byte
					for _, v := range st.set {
						lines = append(lines, "Set-Cookie: "+v+"\r\n"...)
					}
					j.update(append([]byte("Content-Type: text/plain\r\n"), lines...), s, path)
					continue
				}
				if h := j.header(nil, s, path); string(h) != st.want {
					t.Errorf("step %d: %s at +%v sends %q, want %q", i, st.url, st.at, h, st.want)
				}
			}
		})
	}
}

func TestCookieDate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // RFC 3339, or "" when the date is refused
	}{
		{"Sun, 06 Nov 1994 08:49:37 GMT", "1994-11-06T08:49:37Z"},   // RFC 1123
		{"Sunday, 06-Nov-94 08:49:37 GMT", "1994-11-06T08:49:37Z"},  // RFC 850
		{"Sun Nov  6 08:49:37 1994", "1994-11-06T08:49:37Z"},        // asctime
		{"Thu, 01-Jan-1970 00:00:01 GMT", "1970-01-01T00:00:01Z"},   // dashes, 4-digit year
		{"Wed, 09 Jun 2100 10:18:14 GMT", "2100-06-09T10:18:14Z"},   //
		{"Fri, 31 Dec 69 23:59:59 GMT", "2069-12-31T23:59:59Z"},     // 69 → 2069
		{"Thu, 01 Jan 70 00:00:00 GMT", "1970-01-01T00:00:00Z"},     // 70 → 1970
		{"06 nOvEmBeR 1994 8:9:7", "1994-11-06T08:09:07Z"},          // any case, one digit
		{"Sun, 06 Nov 1994 08:49:37 +0100", "1994-11-06T08:49:37Z"}, // zones are ignored
		{"Thu, 29 Feb 2024 00:00:00 GMT", "2024-02-29T00:00:00Z"},   // leap day
		{"", ""},
		{"soon", ""},
		{"Sun, 06 Nov 1994", ""},               // no time
		{"Sun, Nov 1994 08:49:37 GMT", ""},     // no day
		{"Sun, 06 1994 08:49:37 GMT", ""},      // no month
		{"Sun, 06 Nov 08:49:37 GMT", ""},       // no year
		{"Thu, 30 Feb 2023 00:00:00 GMT", ""},  // no such day
		{"Thu, 32 Jan 2023 00:00:00 GMT", ""},  // day out of range
		{"Thu, 01 Jan 1600 00:00:00 GMT", ""},  // before 1601
		{"Thu, 01 Jan 2023 24:00:00 GMT", ""},  // hour out of range
		{"Thu, 01 Jan 2023 23:60:00 GMT", ""},  // minute out of range
		{"Thu, 01 Jan 2023 123:00:00 GMT", ""}, // three-digit hour
		{"Thu, 001 Jan 2023 00:00:00 GMT", ""}, // three-digit day
	} {
		d, ok := parseCookieDate([]byte(tc.in))
		if s := d.Format(time.RFC3339); ok != (tc.want != "") || ok && s != tc.want {
			t.Errorf("%q: %s, %v; want %q", tc.in, s, ok, tc.want)
		}
	}
}

// A user's jar costs no allocation in the common case: a few cookies on
// one host, set again and sent on every request.
func TestJarDoesNotAllocate(t *testing.T) {
	j := jar{now: func() time.Time { return t0 }}
	s := siteOf("http", "127.0.0.1:8080")
	path := []byte("/shop/orders")
	lines := []byte("Content-Type: application/json\r\nSet-Cookie: sid=s-ann; Path=/; HttpOnly\r\nSet-Cookie: csrf=x1; Max-Age=3600; Path=/shop\r\n")
	var dst []byte
	j.update(lines, s, path)
	dst = j.header(dst[:0], s, path)
	if string(dst) != "csrf=x1; sid=s-ann" {
		t.Fatalf("header %q", dst)
	}
	if n := testing.AllocsPerRun(100, func() {
		j.update(lines, s, path)
		dst = j.header(dst[:0], s, path)
	}); n != 0 {
		t.Fatalf("%v allocations per request", n)
	}
}

// Whatever a server sets, the jar stays bounded, never panics, and sends
// a Cookie header that cannot end its line.
func FuzzJar(f *testing.F) {
	f.Add("sid=1; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT", "/a/b", "www.example.com")
	f.Add("a=; Domain=.example.com; Max-Age=-5; Secure", "/", "127.0.0.1:80")
	f.Add("x=1; expires=Sun Nov  6 08:49:37 1994; path=/x", "/x/y?q", "[::1]:8080")
	f.Fuzz(func(t *testing.T, line, path, host string) {
		now := t0
		j := jar{now: func() time.Time { return now }}
		s := siteOf("https", host)
		for i := range 60 {
			now = now.Add(time.Duration(i) * time.Second)
			j.update([]byte("Set-Cookie: "+line+"\r\nset-cookie: "+fmt.Sprintf("n%d=%s", i, line)+"\r\n"), s, []byte(path))
		}
		h := j.header(nil, s, []byte(path))
		if len(j.c) > maxCookies || strings.ContainsAny(string(h), "\r\n") {
			t.Fatalf("%d cookies, header %q", len(j.c), h)
		}
		for _, c := range j.c {
			if len(c.name)+len(c.value) > maxCookieBytes || len(c.path) > maxAttrBytes && len(c.path) > len(path) {
				t.Fatalf("cookie %q=%q path %q kept", c.name, c.value, c.path)
			}
		}
	})
}
