package client_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/surgeload/surge/internal/client"
)

func TestReadResponse(t *testing.T) {
	cases := []struct {
		name  string
		raw   string
		head  bool
		code  int
		close bool
		body  string
		err   error // nil, client.ErrMalformed or io.ErrUnexpectedEOF
	}{
		{"length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false, 200, false, "hello", nil},
		{"bare LF", "HTTP/1.1 200 OK\nContent-Length: 2\n\nhi", false, 200, false, "hi", nil},
		{"no reason", "HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n", false, 404, false, "", nil},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n", false, 200, false, "hello world", nil},
		{"chunked beats length", "HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", false, 200, false, "ok", nil},
		{"close header", "HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 1\r\n\r\nx", false, 200, true, "x", nil},
		{"http/1.0", "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", false, 200, true, "x", nil},
		{"http/1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx", false, 200, false, "x", nil},
		{"until close", "HTTP/1.1 200 OK\r\n\r\nall of it", false, 200, true, "all of it", nil},
		{"head", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", true, 200, false, "", nil},
		{"204", "HTTP/1.1 204 No Content\r\n\r\n", false, 204, false, "", nil},
		{"304", "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", false, 304, false, "", nil},
		{"100 then 200", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok", false, 201, false, "ok", nil},
		{"folded header", "HTTP/1.1 200 OK\r\nX-A: a\r\n  b\r\nContent-Length: 1\r\n\r\nz", false, 200, false, "z", nil},
		{"long header", "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("a", 10000) + "\r\nContent-Length: 1\r\n\r\nz", false, 200, false, "z", nil},
		{"same length twice", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nz", false, 200, false, "z", nil},

		{"not http", "SSH-2.0-OpenSSH\r\n\r\n", false, 0, false, "", client.ErrMalformed},
		{"bad code", "HTTP/1.1 2x0 OK\r\n\r\n", false, 0, false, "", client.ErrMalformed},
		{"http/2 line", "HTTP/2 200\r\n\r\n", false, 0, false, "", client.ErrMalformed},
		{"bad length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", false, 200, false, "", client.ErrMalformed},
		{"two lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nzz", false, 200, false, "", client.ErrMalformed},
		{"bad header", "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", false, 200, false, "", client.ErrMalformed},
		{"bad chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false, 200, false, "", client.ErrMalformed},
		{"gzip only", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", false, 200, false, "", client.ErrMalformed},
		{"switching", "HTTP/1.1 101 Switching Protocols\r\n\r\n", false, 101, false, "", client.ErrMalformed},
		{"short body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", false, 200, false, "short", io.ErrUnexpectedEOF},
		{"cut head", "HTTP/1.1 200 OK\r\nContent-Le", false, 200, false, "", io.ErrUnexpectedEOF},
		{"cut chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", false, 200, false, "hel", io.ErrUnexpectedEOF},
	}
	// The parser is fed what the socket gives: all at once, one byte at a
	// time (every line and chunk cut), or in halves.
	pieces := map[string]func(io.Reader) io.Reader{
		"whole":    func(r io.Reader) io.Reader { return r },
		"bytewise": iotest.OneByteReader,
		"halves":   iotest.HalfReader,
	}
	for _, tc := range cases {
		for how, cut := range pieces {
			t.Run(tc.name+"/"+how, func(t *testing.T) {
				var body bytes.Buffer
				br := bufio.NewReaderSize(cut(strings.NewReader(tc.raw)), 4096)
				code, closeConn, n, err := client.ReadResponse(br, tc.head, &body)
				if tc.err != nil {
					if !errors.Is(err, tc.err) {
						t.Fatalf("error %v, want %v", err, tc.err)
					}
					return
				}
				if err != nil {
					t.Fatalf("error %v", err)
				}
				if code != tc.code || closeConn != tc.close || body.String() != tc.body || n != int64(len(tc.body)) {
					t.Fatalf("code %d close %v body %q (%d), want %d %v %q", code, closeConn, body.String(), n, tc.code, tc.close, tc.body)
				}
			})
		}
	}
}

func TestReadResponseKeepsTheNextResponse(t *testing.T) {
	// Two responses back to back on one connection: the parser must stop
	// exactly at the end of the first.
	raw := "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\noneHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n"
	br := bufio.NewReader(strings.NewReader(raw))
	for _, want := range []string{"one", "two"} {
		var b bytes.Buffer
		if _, _, _, err := client.ReadResponse(br, false, &b); err != nil || b.String() != want {
			t.Fatalf("body %q err %v, want %q", b.String(), err, want)
		}
	}
	if br.Buffered() != 0 {
		t.Fatalf("%d bytes left over", br.Buffered())
	}
}

// FuzzReadResponseAgreesWithNetHTTP checks the parser against net/http's:
// whenever surge's parser accepts a response, net/http must read the same
// status and the same body.
func FuzzReadResponseAgreesWithNetHTTP(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"HTTP/1.0 404 Not Found\r\n\r\ngone",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.1 503 Busy\r\nConnection: close\r\nContent-Length: 2\r\n\r\nno",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		var ours bytes.Buffer
		code, _, _, err := client.ReadResponse(bufio.NewReader(strings.NewReader(raw)), false, &ours)
		if err != nil {
			return
		}
		// net/http's Transport skips interim 1xx responses the same way.
		br := bufio.NewReader(strings.NewReader(raw))
		resp, err := http.ReadResponse(br, nil)
		for err == nil && resp.StatusCode >= 100 && resp.StatusCode < 200 {
			resp, err = http.ReadResponse(br, nil)
		}
		if err != nil {
			t.Fatalf("surge accepted %q (code %d) but net/http says %v", raw, code, err)
		}
		theirs, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("surge accepted %q but net/http's body read failed: %v", raw, err)
		}
		if resp.StatusCode != code || !bytes.Equal(theirs, ours.Bytes()) {
			t.Fatalf("%q: surge %d %q, net/http %d %q", raw, code, ours.Bytes(), resp.StatusCode, theirs)
		}
	})
}
