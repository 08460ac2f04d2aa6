package lab_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/surgeload/surge/internal/lab"
)

// benchLab is a lab with the default table size (100000 rows).
func benchLab(b *testing.B) *lab.Server {
	b.Helper()
	c := lab.DefaultConfig()
	c.Listen = "127.0.0.1:0"
	s, err := lab.New(c)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// benchHandler measures one request to path through the lab's handler,
// without the network.
func benchHandler(b *testing.B, path string) {
	h := benchLab(b).Handler()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("%s = %d", path, w.Code)
		}
	}
}

// BenchmarkScanRequest is the cost of one /scan request at the default
// Rows, the number docs/lab.md quotes.
func BenchmarkScanRequest(b *testing.B) { benchHandler(b, "/scan") }

// BenchmarkLookupRequest is the same answer through the index.
func BenchmarkLookupRequest(b *testing.B) { benchHandler(b, "/lookup") }

// BenchmarkFastRequest is the handler overhead every request pays.
func BenchmarkFastRequest(b *testing.B) { benchHandler(b, "/fast") }

// BenchmarkScan is the table scan alone.
func BenchmarkScan(b *testing.B) {
	s := benchLab(b)
	q := s.DefaultQ()
	for b.Loop() {
		if s.Scan(q) < 1 {
			b.Fatal("scan found nothing")
		}
	}
}
