package client_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/surgeload/surge/internal/client"
)

func TestHeadersThatWouldInjectAreRefused(t *testing.T) {
	bad := []struct{ name, value string }{
		{"A", "b\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x"},
		{"A", "b\r\nX-Injected: y"},
		{"A", "b\nX-Injected: y"},
		{"A", "b\rc"},
		{"A", "b\x00c"},
		{"A", "b\x01c"},
		{"A", "b\x7fc"},
		{"A b", "c"},
		{"A\r\nX", "c"},
		{"A:", "c"},
		{"Ä", "c"},
		{"(a)", "c"},
		{"", "c"},
	}
	for _, h := range bad {
		if err := client.CheckHeader(h.name, h.value); err == nil {
			t.Errorf("CheckHeader(%q, %q) = nil, want an error", h.name, h.value)
		}
		_, err := client.NewRequest("GET", "http://127.0.0.1:1/", http.Header{h.name: {h.value}}, nil)
		if err == nil {
			t.Errorf("NewRequest accepted header %q: %q", h.name, h.value)
		}
	}
	for _, h := range []struct{ name, value string }{
		{"X-Id", "{{id}}"}, {"A", "tab\tinside"}, {"A", ""}, {"Accept", "*/*"}, {"X!#$%&'*+-.^_`|~", "ü ok"},
	} {
		if err := client.CheckHeader(h.name, h.value); err != nil {
			t.Errorf("CheckHeader(%q, %q) = %v, want nil", h.name, h.value, err)
		}
	}
}

// lineServer records the request line and headers of each request it
// gets, and answers 204.
func lineServer(t *testing.T) (string, func() []string) {
	var mu sync.Mutex
	var lines []string
	u := rawServer(t, func(c net.Conn, br *bufio.Reader) {
		for {
			var head []string
			for {
				l, err := br.ReadString('\n')
				if err != nil {
					return
				}
				if l == "\r\n" {
					break
				}
				head = append(head, l)
			}
			mu.Lock()
			lines = append(lines, head...)
			mu.Unlock()
			c.Write([]byte("HTTP/1.1 204 No Content\r\n\r\n"))
		}
	})
	return u, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), lines...)
	}
}

func senders(c *client.Client, r *client.Request) map[string]*client.Bound {
	return map[string]*client.Bound{"fast": client.Bind(c, r, 0), "net/http": client.BindStd(c, r, 0)}
}

func TestRequestLineIsAlwaysWellFormed(t *testing.T) {
	for _, tc := range []struct {
		path, wantPath string
		query          url.Values
	}{
		{"/ünï?q=ä x", "/ünï", url.Values{"q": {"ä x"}}},
		{"/a b/c?x=1\x01&y=\"<>\"", "/a b/c", url.Values{"x": {"1\x01"}, "y": {`"<>"`}}},
		{"/ok%20already?q=a%2Bb", "/ok already", url.Values{"q": {"a+b"}}},
		{"/t/{{n}}?v=é {{n}}", "/t/1", url.Values{"v": {"é 1"}}},
	} {
		base, seen := lineServer(t)
		r, err := client.NewRequest("GET", base+tc.path, nil, nil)
		if err != nil {
			t.Fatalf("%q: %v", tc.path, err)
		}
		c := newClient(t, client.Config{})
		for name, s := range senders(c, r) {
			before := len(seen())
			if res := s.Do(context.Background()); res.Code != 204 {
				t.Fatalf("%s %q: %+v", name, tc.path, res)
			}
			line := seen()[before]
			// METHOD SP request-target SP HTTP/1.1 CRLF, all printable ASCII.
			parts := strings.Split(strings.TrimSuffix(line, "\r\n"), " ")
			if len(parts) != 3 || parts[0] != "GET" || parts[2] != "HTTP/1.1" {
				t.Fatalf("%s %q: request line %q", name, tc.path, line)
			}
			for _, b := range []byte(parts[1]) {
				if b <= ' ' || b >= 0x7f {
					t.Fatalf("%s %q: raw byte %#x in request line %q", name, tc.path, b, line)
				}
			}
			u, err := url.ParseRequestURI(parts[1])
			if err != nil {
				t.Fatalf("%s %q: %v", name, tc.path, err)
			}
			if u.Path != tc.wantPath || u.Query().Encode() != tc.query.Encode() {
				t.Errorf("%s %q: server decoded path %q query %v, want %q %v", name, tc.path, u.Path, u.Query(), tc.wantPath, tc.query)
			}
		}
	}
}

func TestUserinfoIsRedactedAndSentAsBasicAuth(t *testing.T) {
	base, seen := lineServer(t)
	withUser := strings.Replace(base, "://", "://alice:s3cr%2Fet@", 1)
	r, err := client.NewRequest("GET", withUser+"/p", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(r.URL.String(), "s3cr") || !strings.Contains(r.URL.String(), "alice:xxxxx@") {
		t.Fatalf("URL shown as %q", r.URL)
	}
	want := "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("alice:s3cr/et")) + "\r\n"
	c := newClient(t, client.Config{})
	for name, s := range senders(c, r) {
		before := len(seen())
		if res := s.Do(context.Background()); res.Code != 204 {
			t.Fatalf("%s: %+v", name, res)
		}
		head := strings.Join(seen()[before:], "")
		if !strings.Contains(head, want) || strings.Contains(head, "xxxxx") {
			t.Errorf("%s: head %q, want %q", name, head, want)
		}
	}
	// An explicit Authorization header wins.
	r, err = client.NewRequest("GET", withUser+"/p", http.Header{"Authorization": {"Bearer tok"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Header.Values("Authorization"); len(got) != 1 || got[0] != "Bearer tok" {
		t.Errorf("Authorization %q, want the explicit header only", got)
	}
	// Errors never show the password.
	for _, bad := range []string{"http://alice:pw0rd@127.0.0.1:99999/", "ftp://alice:pw0rd@127.0.0.1/", "http://alice:pw0rd@/x", "http://alice:pw0rd@127.0.0.{{n}}/"} {
		_, err := client.NewRequest("GET", bad, nil, nil)
		if err == nil || strings.Contains(err.Error(), "pw0rd") {
			t.Errorf("NewRequest(%q) = %v, want an error without the password", bad, err)
		}
	}
}

func TestURLRanges(t *testing.T) {
	for _, bad := range []string{"http://127.0.0.1:99999/", "http://127.0.0.1:0/", "http://user@/", "http://:80/", "http://127.0.0.1:65536/"} {
		if _, err := client.NewRequest("GET", bad, nil, nil); err == nil {
			t.Errorf("NewRequest(%q) accepted", bad)
		}
	}
	if _, err := client.NewRequest("GET", "http://127.0.0.1:65535/", nil, nil); err != nil {
		t.Errorf("port 65535: %v", err)
	}
}
