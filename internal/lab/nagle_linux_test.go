//go:build linux

package lab_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/lab"
)

// /nagle answers like Java's HttpServer: on a keep-alive connection the
// body arrives a delayed ACK (40 ms on Linux) after the head, while /pool,
// answered in one write, arrives whole. Timed on the second request of a
// connection, as Linux acknowledges the first segments of a new one at
// once; read with a bare socket, as any client's kernel would.
func TestNagleStallsTheBodyForADelayedACK(t *testing.T) {
	s, err := lab.New(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	addr, _, _, _ := serve(t, s)
	gap := func(path string) time.Duration {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		br := bufio.NewReader(c)
		var last time.Duration
		for range 3 {
			if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: lab\r\n\r\n", path); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			head := time.Now()
			if _, err := io.ReadAll(resp.Body); err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			last = time.Since(head)
		}
		return last
	}
	if g := gap("/nagle?n=4&ms=1"); g < 30*time.Millisecond || g > 250*time.Millisecond {
		t.Errorf("/nagle: body %v after the head, want a delayed ACK's 40 ms", g)
	}
	if g := gap("/pool?n=4&ms=1"); g > 10*time.Millisecond {
		t.Errorf("/pool: body %v after the head, want it with the head", g)
	}
}
