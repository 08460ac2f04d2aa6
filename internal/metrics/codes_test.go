package metrics_test

import (
	"testing"
	"time"

	"github.com/surgeload/surge/internal/client"
	"github.com/surgeload/surge/internal/metrics"
)

func TestStatusCodesCountOnlyCompletedResponses(t *testing.T) {
	r := metrics.NewRecorder(10, 0)
	r.Record(0, metrics.Outcome{Latency: time.Millisecond, Code: 200, Class: client.OK, Proto: 1})
	r.Record(0, metrics.Outcome{Latency: time.Millisecond, Code: 503, Class: client.HTTP5xx, Proto: 1})
	// A 200 head whose body broke, or timed out: errors, not 200s.
	r.Record(0, metrics.Outcome{Code: 200, Class: client.ProtocolError, Proto: 1})
	r.Record(0, metrics.Outcome{Latency: time.Second, Code: 200, Class: client.Timeout, Proto: 1})
	r.Record(0, metrics.Outcome{Code: 200, Class: client.Reset, Proto: 1})
	r.Tick(time.Second, metrics.Gauges{}, true)
	tot := r.Totals()
	if tot.Requests != 5 || tot.Errors != 4 {
		t.Fatalf("requests %d errors %d, want 5 and 4", tot.Requests, tot.Errors)
	}
	if len(tot.Codes) != 2 || tot.Codes[200] != 1 || tot.Codes[503] != 1 {
		t.Fatalf("codes %v, want one 200 and one 503", tot.Codes)
	}
	if tot.HTTP1 != 2 {
		t.Fatalf("HTTP/1 responses %d, want the 2 that completed", tot.HTTP1)
	}
}
