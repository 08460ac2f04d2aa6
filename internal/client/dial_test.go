package client

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestDialerBoundsDialsInFlight(t *testing.T) {
	const limit, dials = 3, 12
	release := make(chan struct{})
	var now, most atomic.Int64
	d := &dialer{slots: make(chan struct{}, limit), connect: func(ctx context.Context, _, _ string) (net.Conn, error) {
		n := now.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		<-release
		now.Add(-1)
		c1, c2 := net.Pipe()
		c2.Close()
		return c1, nil
	}}
	var wg sync.WaitGroup
	for range dials {
		wg.Go(func() {
			c, err := d.dial(context.Background(), "tcp", "127.0.0.1:1")
			if err != nil {
				t.Error(err)
				return
			}
			c.Close()
		})
	}
	// Wait until the limit is reached, then let every dial through.
	for now.Load() < limit {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if got := most.Load(); got != limit {
		t.Fatalf("at most %d dials ran at once, want exactly the limit %d", got, limit)
	}
}

func TestDialerWaitingForASlotEndsWithTheContext(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	d := &dialer{slots: make(chan struct{}, 1), connect: func(context.Context, string, string) (net.Conn, error) {
		<-release
		return nil, errors.New("released")
	}}
	go d.dial(context.Background(), "tcp", "127.0.0.1:1") // holds the only slot
	for len(d.slots) == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := d.dial(ctx, "tcp", "127.0.0.1:1"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("dial waiting for a slot returned %v, want the context's deadline", err)
	}
}
