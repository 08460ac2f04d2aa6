package hist_test

import (
	"fmt"
	"time"

	"github.com/surgeload/surge/internal/hist"
)

// Percentiles carry at most 0.1 % relative error: 50 ms reads back as the
// top of its bucket, 50.015 ms.
func Example() {
	h := hist.New()
	for i := 1; i <= 100; i++ {
		h.Record(time.Duration(i) * time.Millisecond)
	}
	fmt.Println(h.Count(), h.Quantile(0.5), h.Quantile(0.99), h.Max())
	// Output: 100 50.015ms 99.007ms 100ms
}
