package client

import (
	"testing"
)

var (
	lengthResponse  = []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: Mon, 23 Nov 2026 12:00:00 GMT\r\nContent-Length: 12\r\n\r\n{\"ok\":true}\n")
	chunkedResponse = []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
)

// parseIn feeds raw to p in pieces cut at each of cuts, and fails unless
// the response completes exactly at its end.
func parseIn(tb testing.TB, p *h1Parser, raw []byte, cuts ...int) {
	p.reset(false, nil)
	from := 0
	for i := 0; i <= len(cuts); i++ {
		to := len(raw)
		if i < len(cuts) {
			to = cuts[i]
		}
		n, done, err := p.feed(raw[from:to])
		if err != nil || n != to-from || done != (to == len(raw)) {
			tb.Fatalf("piece %d:%d: n %d done %v err %v", from, to, n, done, err)
		}
		from = to
	}
}

func TestParserDoesNotAllocate(t *testing.T) {
	// The parser runs for every response on the event loops: it must not
	// allocate, whether a response comes whole or cut inside a line (the
	// cut line is kept in a buffer the parser keeps for the next one).
	var p h1Parser
	allocs := testing.AllocsPerRun(1000, func() {
		parseIn(t, &p, lengthResponse)
		parseIn(t, &p, lengthResponse, 20, 60)
		parseIn(t, &p, chunkedResponse)
		parseIn(t, &p, chunkedResponse, 50, 55)
	})
	if allocs != 0 {
		t.Fatalf("%.1f allocations per round, want 0", allocs)
	}
}

func BenchmarkParseResponse(b *testing.B) {
	for name, raw := range map[string][]byte{"length": lengthResponse, "chunked": chunkedResponse} {
		b.Run(name, func(b *testing.B) {
			var p h1Parser
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				parseIn(b, &p, raw)
			}
		})
	}
}

// Retry-After is seen on the final head only, and forgotten between
// responses on the same connection.
func TestParserSeesRetryAfter(t *testing.T) {
	var p h1Parser
	parseIn(t, &p, []byte("HTTP/1.1 503 Service Unavailable\r\nretry-after: 1\r\nContent-Length: 0\r\n\r\n"))
	if p.resp.code != 503 || !p.resp.retryAfter {
		t.Fatalf("503 with Retry-After: %+v", p.resp)
	}
	parseIn(t, &p, []byte("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"))
	if p.resp.retryAfter {
		t.Fatal("a 503 without Retry-After after one with it: still marked")
	}
	parseIn(t, &p, []byte("HTTP/1.1 103 Early Hints\r\nRetry-After: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
	if p.resp.code != 200 || p.resp.retryAfter {
		t.Fatalf("Retry-After on an interim 103 only: %+v", p.resp)
	}
}
