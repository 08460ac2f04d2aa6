//go:build linux

package lab_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/lab"
	"github.com/surgeload/surge/internal/probe"
)

// /gil runs a connection's requests on one OS thread, as a threaded Python
// server does: ten requests of 20 ms of CPU in turn on one keep-alive
// connection put most of their 200 ms on a single thread. (With a thread
// per request, no thread would hold more than 20 ms.)
func TestGILKeepsAThreadPerConnection(t *testing.T) {
	s, err := lab.New(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	addr, _, _, _ := serve(t, s)
	p, err := probe.Parse(fmt.Sprintf("pid=%d", os.Getpid()), nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	get := func() { getGIL(t, client, addr, 20) }
	get()                          // the connection and its thread exist before the first sample
	p.Sample(context.Background()) // the threads to compare with
	start := time.Now()
	for range 10 {
		get()
	}
	b, _ := p.Sample(context.Background())
	// The busiest thread's rate over the interval, times the interval:
	// its CPU seconds, whatever else the machine was doing.
	on := b.BusiestThread * time.Since(start).Seconds()
	if on < 0.15 {
		t.Fatalf("busiest thread ran %.0f ms of the 200 ms burned on one connection, want ≥ 150", 1000*on)
	}
}

// A connection's thread slot is taken at its first /gil request and given
// back when it closes; with every slot taken, /gil still answers, each
// request borrowing a thread.
func TestGILThreadSlots(t *testing.T) {
	s, err := lab.New(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	addr, _, _, _ := serve(t, s)
	get := func(c *http.Client) { getGIL(t, c, addr, 1) }
	var clients []*http.Client
	for range 3 {
		c := &http.Client{Transport: &http.Transport{}, Timeout: 30 * time.Second}
		clients = append(clients, c)
		get(c)
		get(c) // the same connection: no second slot
	}
	if n := s.GILThreads(); n != 3 {
		t.Fatalf("3 connections: %d thread slots taken, want 3", n)
	}
	for _, c := range clients {
		c.CloseIdleConnections()
	}
	// The server learns of the closes when it reads them: poll for it.
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for s.GILThreads() != 0 {
		select {
		case <-deadline:
			t.Fatalf("%d thread slots still taken 10 s after their connections closed", s.GILThreads())
		case <-tick.C:
		}
	}
	s.FillGILThreads()
	c := &http.Client{Transport: &http.Transport{}, Timeout: 30 * time.Second}
	defer c.CloseIdleConnections()
	get(c)
}

// getGIL asks addr's /gil for ms of CPU through c, and wants a 200.
func getGIL(t *testing.T, c *http.Client, addr string, ms int) {
	t.Helper()
	resp, err := c.Get(fmt.Sprintf("http://%s/gil?ms=%d", addr, ms))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/gil: status %d", resp.StatusCode)
	}
}
