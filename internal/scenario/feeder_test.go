package scenario

import (
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
)

func feeder(order FeederOrder, onEnd OnEnd, n int) *Feeder {
	f := &Feeder{Name: "f", Order: order, OnEnd: onEnd, Columns: []string{"i"}}
	for i := range n {
		f.Rows = append(f.Rows, []string{strconv.Itoa(i)})
	}
	return f
}

// takeAll calls Take from g goroutines, each until it gets ok == false
// or has taken per rows, and counts the rows handed out.
func takeAll(f *Feeder, g, per int) (counts map[string]int, refused int) {
	var mu sync.Mutex
	counts = map[string]int{}
	var wg sync.WaitGroup
	for w := range g {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for range per {
				row, ok := f.Take(rng)
				mu.Lock()
				if ok {
					counts[row[0]]++
				} else {
					refused++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return counts, refused
}

func TestTakeSequentialWrap(t *testing.T) {
	f := feeder(Sequential, Wrap, 10)
	counts, refused := takeAll(f, 8, 50) // 400 takes: each row exactly 40 times
	if refused != 0 {
		t.Fatalf("a wrapping feeder refused %d takes", refused)
	}
	for i := range 10 {
		if c := counts[strconv.Itoa(i)]; c != 40 {
			t.Errorf("row %d taken %d times, want 40", i, c)
		}
	}
}

func TestTakeSequentialInOrder(t *testing.T) {
	f := feeder(Sequential, Wrap, 3)
	var got []string
	for range 5 {
		row, _ := f.Take(nil)
		got = append(got, row[0])
	}
	if want := []string{"0", "1", "2", "0", "1"}; !equal(got, want) {
		t.Errorf("rows %v, want %v", got, want)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestTakeUniqueNeverRepeats(t *testing.T) {
	for _, f := range []*Feeder{feeder(Unique, EndRun, 100), feeder(Sequential, EndRun, 100)} {
		counts, refused := takeAll(f, 8, 20) // 160 takes of 100 rows
		if len(counts) != 100 || refused != 60 {
			t.Errorf("order %d: %d distinct rows and %d refusals, want 100 and 60", f.Order, len(counts), refused)
		}
		for row, c := range counts {
			if c != 1 {
				t.Errorf("order %d: row %s handed out %d times", f.Order, row, c)
			}
		}
	}
}

func TestTakeRandom(t *testing.T) {
	f := feeder(Random, Wrap, 5)
	counts, refused := takeAll(f, 4, 1000)
	if refused != 0 {
		t.Fatalf("a random feeder refused %d takes", refused)
	}
	for i := range 5 {
		// 4000 draws over 5 rows: each near 800; 600 is over 8 standard deviations away
		if c := counts[strconv.Itoa(i)]; c < 600 || c > 1000 {
			t.Errorf("row %d drawn %d times of 4000, want about 800", i, c)
		}
	}
	if _, ok := feeder(Random, Wrap, 0).Take(nil); ok {
		t.Error("an empty feeder handed out a row")
	}
}
