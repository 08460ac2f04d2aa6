package client_test

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/client"
)

func TestFailedDialsBackOff(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens: every connect is refused
	for _, path := range []string{"fast", "net/http"} {
		c := newClient(t, client.Config{})
		r := mustRequest(t, "GET", "http://"+addr+"/", http.Header{}, "")
		s := senders(c, r)[path]
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		n := 0
		for ctx.Err() == nil {
			res := s.Do(ctx)
			if res.Class != client.Refused && res.Class != client.Canceled {
				t.Fatalf("%s: %+v", path, res)
			}
			n++
		}
		cancel()
		// Without backoff a refused loopback connect repeats ~50 000 times
		// in 0.5 s; with 10, 20, 40 … ms between tries, about 7 times.
		if n < 3 || n > 12 {
			t.Errorf("%s: %d requests to a closed port in 0.5 s, want 3 to 12 (backing off)", path, n)
		}
		if cs := c.Conns(); cs.DialErrors == 0 || cs.Open != 0 {
			t.Errorf("%s: conns %+v", path, cs)
		}
	}
}
