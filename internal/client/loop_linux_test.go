//go:build linux

package client_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/surgeload/surge/internal/buildinfo"
	"github.com/surgeload/surge/internal/client"
)

// silentListener accepts nothing: connects complete in the kernel's
// backlog, requests are written into socket buffers, and no answer ever
// comes.
func silentListener(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return "http://" + l.Addr().String()
}

// fullListener's accept queue is full: a further connect gets no answer
// to its SYN and stays pending.
func fullListener(t *testing.T) string {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, _ := unix.Getsockname(fd)
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*unix.SockaddrInet4).Port)
	// Fill the queue: dial until a connect no longer completes.
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			break
		}
		t.Cleanup(func() { c.Close() })
		if i > 16 {
			t.Skip("the kernel keeps accepting connects past the backlog")
		}
	}
	return "http://" + addr
}

type outcome struct {
	i   int
	res client.Result
}

// expectAll waits for n outcomes on done, each of class want.
func expectAll(t *testing.T, done <-chan outcome, n int, want client.Class) {
	t.Helper()
	for range n {
		select {
		case o := <-done:
			if o.res.Class != want {
				t.Fatalf("sender %d: %+v, want class %v", o.i, o.res, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("senders did not all end (want class %v)", want)
		}
	}
}

// startAll starts one request on each of n new senders of c; their
// outcomes arrive on the channel returned.
func startAll(ctx context.Context, c *client.Client, req *client.Request, n int) <-chan outcome {
	done := make(chan outcome, n)
	for i := range n {
		client.Bind(c, req, i).Start(ctx, func(r client.Result) { done <- outcome{i, r} })
	}
	return done
}

// waitFor polls cond until it holds, or fails after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}

func TestWaitingSendersHoldNoGoroutine(t *testing.T) {
	// 300 requests wait for answers that never come. With one goroutine
	// per waiting user there would be 300 more goroutines; the event
	// loops hold them all.
	const n = 300
	url := silentListener(t)
	c := newClient(t, client.Config{Timeout: time.Minute})
	req := mustRequest(t, "GET", url+"/", nil, "")
	senders := make([]*client.Bound, n)
	for i := range senders {
		s := client.Bind(c, req, i)
		if !s.Starter() {
			t.Fatal("plain HTTP/1.1 sender is not a Starter on Linux")
		}
		senders[i] = s
	}
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan outcome, n)
	for i, s := range senders {
		s.Start(ctx, func(r client.Result) { done <- outcome{i, r} })
	}
	// Wait until every request is on the wire.
	wire := int64(len("GET / HTTP/1.1\r\nHost: " + strings.TrimPrefix(url, "http://") +
		"\r\nUser-Agent: surge/" + buildinfo.Version + "\r\n\r\n"))
	waitFor(t, "every request is written", func() bool { return c.Conns().BytesOut >= n*wire })
	if extra := runtime.NumGoroutine() - before; extra > 5 {
		t.Fatalf("%d requests in flight took %d goroutines", n, extra)
	}
	if open := c.Conns().Open; open != n {
		t.Fatalf("%d connections open, want %d", open, n)
	}
	// Ending the run's context ends every one of them, as canceled.
	cancel()
	expectAll(t, done, n, client.Canceled)
}

func TestConnectsBeyondTheCapWaitTheirTurn(t *testing.T) {
	// One connect at a time: 40 senders still all get their answer.
	url := rawServer(t, func(c net.Conn, br *bufio.Reader) {
		for {
			if _, err := readRequest(br); err != nil {
				return
			}
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	c := newClient(t, client.Config{})
	client.SetMaxConnecting(c, 1)
	req := mustRequest(t, "GET", url+"/", nil, "")
	const n = 40
	done := startAll(context.Background(), c, req, n)
	expectAll(t, done, n, client.OK)
	if cs := c.Conns(); cs.Dials != n || cs.Open != n {
		t.Fatalf("conns %+v, want %d dials, %d open", cs, n, n)
	}
}

func TestConnectTimesOutAndQueuedConnectsCancel(t *testing.T) {
	url := fullListener(t)
	c := newClient(t, client.Config{Timeout: 200 * time.Millisecond})
	req := mustRequest(t, "GET", url+"/", nil, "")
	start := time.Now()
	if res := client.Bind(c, req, 0).Do(context.Background()); res.Class != client.Timeout {
		t.Fatalf("connect to a full accept queue: %+v, want a timeout", res)
	}
	if d := time.Since(start); d < 200*time.Millisecond || d > 5*time.Second {
		t.Fatalf("timeout after %v, want 200ms", d)
	}
	if cs := c.Conns(); cs.DialErrors != 1 || cs.Open != 0 {
		t.Fatalf("conns %+v, want one failed dial and none open", cs)
	}

	// One connect at a time, stuck: the second sender, on the same loop,
	// waits in the queue, and ending the context ends both, as canceled.
	c2 := newClient(t, client.Config{Timeout: time.Minute})
	client.SetMaxConnecting(c2, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan outcome, 2)
	for _, i := range []int{0, client.Loops(c2)} {
		client.Bind(c2, req, i).Start(ctx, func(r client.Result) { done <- outcome{i, r} })
	}
	waitFor(t, "the first connect is under way", func() bool { return c2.Conns().Dials == 1 })
	cancel()
	expectAll(t, done, 2, client.Canceled)
	if cs := c2.Conns(); cs.Dials != 1 || cs.Open != 0 {
		t.Fatalf("conns %+v: want one connect tried (the other queued) and none open", cs)
	}
}

func TestLargeBodiesAcrossManyReads(t *testing.T) {
	// A megabyte, framed by length and by chunks, spans many reads of a
	// loop's 64 KB buffer: all of it is counted and checked.
	body := strings.Repeat("0123456789abcdef", 1<<16) + "THE-END"
	url := rawServer(t, func(c net.Conn, br *bufio.Reader) {
		for {
			req, err := readRequest(br)
			if err != nil {
				return
			}
			if req.URL.Path == "/chunked" {
				io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
				for rest := body; rest != ""; {
					n := min(len(rest), 70000)
					fmt.Fprintf(c, "%x\r\n%s\r\n", n, rest[:n])
					rest = rest[n:]
				}
				io.WriteString(c, "0\r\n\r\n")
				continue
			}
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		}
	})
	c := newClient(t, client.Config{MaxBody: 2 << 20})
	for _, path := range []string{"/length", "/chunked"} {
		r, err := client.Build(client.Spec{URL: url + path, KeepBody: true})
		if err != nil {
			t.Fatal(err)
		}
		s := client.Bind(c, r, 0)
		for i := range 2 {
			res := s.Do(context.Background())
			if res.Class != client.OK || res.Code != 200 {
				t.Fatalf("%s request %d: %+v", path, i, res)
			}
			if len(res.Body) != len(body) || !strings.HasSuffix(string(res.Body), "THE-END") {
				t.Fatalf("%s request %d: kept %d body bytes, want all %d", path, i, len(res.Body), len(body))
			}
		}
	}
	if cs := c.Conns(); cs.BytesIn < 4*int64(len(body)) || cs.Dials != 2 {
		t.Fatalf("conns %+v: want ≥ 4 bodies read over 2 connections", cs)
	}
}

// BenchmarkLoopExchange measures one exchange on the event loops, 50
// senders at a time, against an in-process loopback server that answers
// a fixed response (its goroutines share the CPUs: compare runs, not
// absolute figures). bench/compare.sh measures the whole binary.
func BenchmarkLoopExchange(b *testing.B) {
	url := rawServer(b, func(c net.Conn, _ *bufio.Reader) {
		buf := make([]byte, 4096)
		answer := []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		for {
			// Each read carries one whole request: the client sends the
			// next only after this answer.
			if _, err := c.Read(buf); err != nil {
				return
			}
			if _, err := c.Write(answer); err != nil {
				return
			}
		}
	})
	c, err := client.New(client.Config{Timeout: 10 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	req, err := client.NewRequest("GET", url+"/", nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	const senders = 50
	ss := make([]*client.Bound, senders)
	for i := range ss {
		ss[i] = client.Bind(c, req, i)
	}
	left := make(chan struct{}, b.N)
	for range b.N {
		left <- struct{}{}
	}
	close(left)
	done := make(chan struct{})
	var bad atomic.Int64
	var running atomic.Int64
	running.Store(senders)
	b.ReportAllocs()
	b.ResetTimer()
	for _, s := range ss {
		var next func(client.Result)
		next = func(r client.Result) {
			if r.Class != client.OK {
				bad.Add(1)
			}
			if _, ok := <-left; ok {
				s.Start(context.Background(), next)
			} else if running.Add(-1) == 0 {
				close(done)
			}
		}
		if _, ok := <-left; ok {
			s.Start(context.Background(), next)
		} else if running.Add(-1) == 0 {
			close(done)
		}
	}
	<-done
	b.StopTimer()
	if n := bad.Load(); n > 0 {
		b.Fatalf("%d exchanges failed", n)
	}
}

func TestRefusedConnectsThroughTheQueue(t *testing.T) {
	// Nothing listens: every connect is refused, at once or a moment
	// later. With one connect at a time, each refusal must hand the slot
	// on, and every sender ends as refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	l.Close()
	c := newClient(t, client.Config{})
	client.SetMaxConnecting(c, 1)
	req := mustRequest(t, "GET", url+"/", nil, "")
	const n = 50
	done := startAll(context.Background(), c, req, n)
	expectAll(t, done, n, client.Refused)
	if cs := c.Conns(); cs.Dials != n || cs.DialErrors != n || cs.Open != 0 {
		t.Fatalf("conns %+v, want %d dials, all failed, none open", cs, n)
	}
}

// The event loops time how long a response took from its first byte to
// its last. A server that writes its head, then its body after a pause
// (what Nagle's algorithm against a delayed ACK does, 40 ms on Linux; here
// a 30 ms sleep) gives a tail of the pause; one that writes both at once,
// a tail of about nothing. The second request on each connection is the
// one measured, as in a run (keep-alive).
func TestLoopTimesTheResponseTail(t *testing.T) {
	const pause = 30 * time.Millisecond
	answer := func(split bool) string {
		return rawServer(t, func(c net.Conn, br *bufio.Reader) {
			for {
				if _, err := readRequest(br); err != nil {
					return
				}
				if _, err := io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"); err != nil {
					return
				}
				if split {
					time.Sleep(pause)
				}
				if _, err := io.WriteString(c, "ok"); err != nil {
					return
				}
			}
		})
	}
	c, err := client.New(client.Config{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, split := range []bool{true, false} {
		req, err := client.NewRequest("GET", answer(split)+"/", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		b := client.Bind(c, req, 0)
		for i := range 2 {
			t0 := time.Now()
			r := b.Do(context.Background())
			took := time.Since(t0)
			if r.Class != client.OK || !r.HasTail {
				t.Fatalf("split %v, request %d: class %v, tail measured %v", split, i, r.Class, r.HasTail)
			}
			if split && (r.Tail < pause-2*time.Millisecond || r.Tail > took) {
				t.Errorf("head, %v pause, body: tail %v (the exchange took %v)", pause, r.Tail, took)
			}
			if !split && r.Tail > pause/3 {
				t.Errorf("head and body in one write: tail %v, want about nothing", r.Tail)
			}
		}
	}
}
