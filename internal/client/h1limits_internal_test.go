package client

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestHostileHeadsAreCapped(t *testing.T) {
	for name, head := range map[string]string{
		"endless header line": "HTTP/1.1 200 OK\r\nX-Long: " + strings.Repeat("a", 1<<20),
		"endless status line": "HTTP/1.1 200 " + strings.Repeat("O", 1<<20),
		"many header lines":   "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-H: "+strings.Repeat("b", 1000)+"\r\n", 1000),
		"endless 1xx":         strings.Repeat("HTTP/1.1 100 Continue\r\n\r\n", 1000),
	} {
		t.Run(name, func(t *testing.T) {
			var p h1Parser
			p.reset(false, nil)
			b := []byte(head)
			var err error
			fed := 0
			for fed < len(b) && err == nil {
				piece := b[fed:min(fed+1500, len(b))] // as off a socket, in pieces
				var n int
				n, _, err = p.feed(piece)
				fed += n
				if cap(p.partial) > 2*maxHeadLine {
					t.Fatalf("after %d bytes the parser holds %d bytes", fed, cap(p.partial))
				}
			}
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err %v after %d bytes, want ErrMalformed", err, fed)
			}
			if fed > maxHeadBytes+maxHeadLine+1500 {
				t.Fatalf("the parser read %d bytes of a head before failing, want ≤ %d", fed, maxHeadBytes+maxHeadLine)
			}
			if p.partial != nil && cap(p.partial) > maxChunkLine {
				t.Fatalf("a failed head keeps a %d-byte buffer", cap(p.partial))
			}
		})
	}
	// A real head just under the caps still parses.
	var p h1Parser
	p.reset(false, nil)
	ok := "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("c", maxHeadLine-20) + "\r\nContent-Length: 0\r\n\r\n"
	if _, done, err := p.feed([]byte(ok)); err != nil || !done {
		t.Fatalf("a %d-byte head: done %v err %v", len(ok), done, err)
	}
	p.reset(false, nil)
	if _, done, err := p.feed(bytes.Repeat([]byte("HTTP/1.1 103 Early Hints\r\n\r\n"), maxInterim)); err != nil || done {
		t.Fatalf("%d interim responses: done %v err %v", maxInterim, done, err)
	}
}
